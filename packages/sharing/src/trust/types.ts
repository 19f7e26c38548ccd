/**
 * The trust model of a deployment (docs/trust.md): who can affect whose pages under page cache
 * sharing, what each image's fingerprints are bound to, what keeps shared pages alive, and a
 * reviewer's policy evaluated on it. Plain JSON-serialisable data carried as `Report.trust`.
 *
 * Every statement names the rule it rests on (R-codes of docs/sharing-rules.md, or a section
 * of the format reference, "docs/format.md#shared-runtime") and the rows of the report's file table behind it (at most
 * MAX_TRUST_ROWS; `rowCount` has the full count). Domains appear by label only (R11).
 */

export const TRUST_MODEL_VERSION = 1;
/** Most file-table rows a statement or cell carries (`rowCount` has the full count): the model travels in the report summary, which must stay small; the Files view recomputes a cell's rows uncapped (trustCellRows). */
export const MAX_TRUST_ROWS = 200;
/** Most cross-image shared inodes listed per domain (`crossImageInodeCount` has the full count). */
export const MAX_TRUST_INODES = 200;
/** How many example files ("image:path") a statement or cell quotes. */
export const TRUST_EXAMPLES = 3;
/**
 * Finding code of a key collision across domains (kernel key = fingerprint bytes || domain id
 * bytes, so "ab"+"c" and "a"+"bc" meet). Raised by the engine; the trust model lists such
 * findings as boundary breaks, looked up by code.
 */
export const CROSS_DOMAIN_KEY_COLLISION = 'cross-domain-key-collision';

/** A party that publishes images: a publisher label, or one image whose publisher is unknown. */
export interface TrustParty {
  /** `pub:<label>` or `image:<image id>` (unknown publisher: the image stands alone). */
  key: string;
  /** The publisher label, null when unknown. */
  publisher: string | null;
  /** What reports print: the label, or "unknown publisher of <image name>". */
  label: string;
  imageIds: string[];
}

/** A sentence of the write-up, with the rule it rests on and the files behind it. */
export interface TrustStatement {
  /** "R5", "R12", "docs/format.md#shared-runtime"... (several joined by ", "). */
  rule: string;
  text: string;
  /** Rows of the report's file table behind the statement (capped; see rowCount). */
  rows?: number[];
  rowCount?: number;
  /** Up to TRUST_EXAMPLES "image:path" of those rows. */
  examples?: string[];
  imageIds?: string[];
  instanceIds?: string[];
  /** For a statement about an image's fingerprints: the binding it describes. */
  binding?: FingerprintBinding;
  /** When the statement is about a matrix cell: its supplier and reader party keys. */
  cell?: { supplier: string; reader: string };
}

/** What a fingerprint value is bound to (docs/trust.md#what-the-fingerprints-are-bound-to). */
export type FingerprintBinding =
  /** `sha256:`+digest, and the scanned content's sha256 equals it (--hash). */
  | 'content-bound'
  /** `sha256:`+digest, and the scanned content's sha256 differs: forged or stale (R12). */
  | 'verified-mismatch'
  /** `sha256:`+digest, but the image was not scanned with --hash: the claim is unchecked. */
  | 'unverifiable'
  /** Any other value (serials, UUIDs): it means what the publisher says. */
  | 'publisher-defined';

export const FINGERPRINT_BINDINGS: readonly FingerprintBinding[] = [
  'content-bound',
  'verified-mismatch',
  'unverifiable',
  'publisher-defined',
];

export interface TrustImageFingerprints {
  imageId: string;
  name: string;
  publisher: string | null;
  hashed: boolean;
  /** Regular files with a usable fingerprint (R4), per binding. */
  counts: Record<FingerprintBinding, number>;
  /** Regular files without a usable fingerprint (R4): private, they cannot be affected. */
  none: number;
  /** Up to TRUST_EXAMPLES paths per binding. */
  examples: Partial<Record<FingerprintBinding, string[]>>;
  /** The weakest binding present (order: verified-mismatch, publisher-defined, unverifiable, content-bound), null when none. */
  weakest: FingerprintBinding | null;
  /** Domains its sharing instances are in. */
  domains: string[];
  statements: TrustStatement[];
}

/** A shared inode whose members come from more than one image. */
export interface CrossImageInode {
  /** Index into `Report.groups`. */
  group: number;
  /** "image:path" of the first member: whose bytes everyone reads (R5). */
  file: string;
  supplierImageId: string;
  /** Images of the other members, in member order. */
  readerImageIds: string[];
  /**
   * Member instance ids: all of them keep the pages alive (docs/format.md#shared-runtime).
   * Report version 1 only; a compact file table (version 2) gives `instanceClasses` and
   * `instanceCount` instead (`crossImageInodeInstanceIds()` lists the ids).
   */
  instanceIds?: string[];
  /**
   * Compact file table (version 2, docs/metrics.md#compact-file-table): the member instances'
   * classes, each by its lead's id, in member order; the members are every instance whose
   * `files.rowsOf` names one of them. Grows with classes, not instances.
   */
  instanceClasses?: string[];
  /** With `instanceClasses`: how many member instances they stand for. */
  instanceCount?: number;
  /** Bytes the other images' instances read from the supplier (pages per reading member). */
  bytes: number;
  orderDependent?: boolean;
}

export interface TrustDomain {
  label: string;
  /** The instance's domain is unknown (R11): it is alone in the figures, but may not be. */
  unknown?: boolean;
  instances: { id: string; label: string; imageId: string }[];
  images: { id: string; name: string; publisher: string | null }[];
  /** Party keys of the images, sorted. */
  parties: string[];
  crossImageInodeCount: number;
  /** Bytes read across images in this domain (sum of `CrossImageInode.bytes`). */
  crossImageBytes: number;
  /** The largest ones, at most MAX_TRUST_INODES. */
  crossImageInodes: CrossImageInode[];
  statements: TrustStatement[];
}

/** "Pages published by `supplier` are read by instances of `reader`" (cross-image reads only). */
export interface TrustMatrixCell {
  supplier: string;
  reader: string;
  /** Bytes the reader's instances read from the supplier's images (pagesWithout of the reading rows). */
  bytes: number;
  /** Reading rows (files of the reader's instances). */
  files: number;
  /** Shared inodes behind the cell. */
  inodes: number;
  domains: string[];
  /** The reading rows (capped at MAX_TRUST_ROWS; `files` is the full count). */
  rows: number[];
  examples: string[];
}

export interface TrustInstance {
  id: string;
  label: string;
  imageId: string;
  domain: string | null;
  /** Images whose pages it reads in the modelled order (first member's image, R5). */
  reads: { imageId: string; files: number; bytes: number }[];
  /**
   * Every other image with a member in one of its shared inodes: any of them can fill a page
   * it reads (the first reader at run time, or any live member on a cache miss, docs/format.md#shared-runtime).
   */
  trustsImplicitly: string[];
  /** Shared inodes it holds together with another instance (their pages live while any member is mounted). */
  sharedInodesHeld: number;
}

/** Backing-file attributes as a host collector records them; absent fields are unknown. */
export interface BackingFileAttributes {
  uid?: number;
  gid?: number;
  /** Permission bits (e.g. 0o644). */
  mode?: number;
  /** `chattr +i` (FS_IMMUTABLE_FL). */
  immutable?: boolean;
}

export type BackingFileState =
  /** The immutable attribute is set: not even root writes it without clearing it first. */
  | 'immutable'
  /** Some write permission bit is set and the file is not immutable. */
  | 'writable'
  /** No write bit and not immutable: its owner (or root) can make it writable. */
  | 'not-immutable'
  /** Attributes not recorded (collect them on the host). */
  | 'unknown';

export interface TrustBackingFile {
  instanceId: string;
  source: string;
  attributes: BackingFileAttributes | null;
  state: BackingFileState;
}

export interface TrustLoopDevice {
  instanceId: string;
  source: string;
  /** null: not recorded. */
  directIo: boolean | null;
}

export interface TrustLifetime {
  /** Shared inodes with members on two or more instances: each member keeps the pages alive (docs/format.md#shared-runtime). */
  sharedInodesHeldByMany: number;
  backingFiles: TrustBackingFile[];
  loopDevices: TrustLoopDevice[];
  statements: TrustStatement[];
}

/** A finding that breaks the domain boundary (e.g. CROSS_DOMAIN_KEY_COLLISION). */
export interface TrustBoundaryBreak {
  code: string;
  severity: string;
  message: string;
  domains: string[];
  imageIds: string[];
  instanceIds: string[];
  rows: number[];
  rowCount: number;
}

/** A reviewer's rules (`.sharemap.yml` `trust:`); absent keys are not checked. */
export interface TrustPolicy {
  /** `one-per-publisher`: every domain holds images of one known publisher; `any`: not checked. */
  domains?: 'one-per-publisher' | 'any';
  /** false: no sharing image may carry publisher-defined fingerprints (serials...). */
  allowPublisherDefinedFingerprints?: boolean;
  /** true: every sha256-form fingerprint of a sharing image is verified (--hash) and matches. */
  requireVerified?: boolean;
}

export type TrustPolicyRule = keyof TrustPolicy;

export interface TrustPolicyCheck {
  /** `trust.<rule>` as in .sharemap.yml. */
  id: string;
  rule: TrustPolicyRule;
  ok: boolean;
  message: string;
  /** The R-code the rule protects. */
  ruleRef: string;
  imageIds?: string[];
  domains?: string[];
  instanceIds?: string[];
  rows?: number[];
  rowCount?: number;
}

export interface TrustPolicyResult {
  policy: TrustPolicy;
  passed: boolean;
  checks: TrustPolicyCheck[];
}

export interface TrustModel {
  version: typeof TRUST_MODEL_VERSION;
  parties: TrustParty[];
  domains: TrustDomain[];
  matrix: TrustMatrixCell[];
  instances: TrustInstance[];
  fingerprints: TrustImageFingerprints[];
  lifetime: TrustLifetime;
  boundaryBreaks: TrustBoundaryBreak[];
  /** Set when a policy was evaluated (CLI `.sharemap.yml` `trust:`). */
  policy?: TrustPolicyResult;
}
