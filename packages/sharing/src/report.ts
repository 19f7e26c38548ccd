/**
 * The report: what the sharing engine returns, what the server stores behind a link,
 * what the web UI renders and what the CLI summarises. Plain JSON-serialisable data.
 *
 * Design rules (see docs/metrics.md):
 *  - Every figure is computed in pages of `options.pageSize` and also given in bytes
 *    (pages * pageSize). The working-set fraction f is applied per file: a file of n
 *    pages contributes ceil(f * n) pages (any read touches at least one whole page), so
 *    per-instance, per-domain and per-image figures add up exactly to the totals.
 *  - "saved" is always `without - with`, never counted twice.
 *  - Domain ids are secrets (sharing-rules R11): a report carries only labels.
 *  - The per-file table is columnar (parallel arrays) so 2M rows stay compact.
 *  - Version 2 adds the compact file table (`FileTable.rowsOf`): instances whose every file has
 *    the fate of an earlier instance's share that instance's rows, so a fleet of many mounts of
 *    few images has rows per (image, file) and class, not per (instance, file)
 *    (docs/metrics.md#compact-file-table). A report without `rowsOf` is written as version 1.
 *
 * Owned by packages/sharing; changes must be additive within a REPORT_VERSION.
 */
import type { Manifest, ManifestPrediction } from '@sharemap/erofs';
import type { BackingFileAttributes, TrustModel } from './trust/types.js';

export const REPORT_KIND = 'sharemap-report';
/** The newest report version this sharemap writes and reads (it reads every version from 1). */
export const REPORT_VERSION = 2;
/** Report versions: 1, or 2 when the file table is compact (`FileTable.rowsOf`). */
export type ReportVersion = 1 | typeof REPORT_VERSION;

/** Address-space-operation class of a file on an instance (docs/format.md#sharing-key, R6). */
export type AopsClass = 'compressed' | 'block' | 'file-backed';

/** How an instance's image is attached: a block device (loop, dm-verity...) or an image file (file-backed mount). */
export type Backing = 'bdev' | 'file';

/** A domain as reports show it: an opaque label, never the raw domain_id (R11). */
export interface DomainLabel {
  /** Stable within one report: "D1", "D2", ... or a label the user gave. */
  label: string;
  /**
   * 'domain-id': the label a parser made for a `domain_id=` value (mounts/domains.ts); absent:
   * a label written by a user (plan `domain`, a domain assignment). The two namespaces never
   * meet: the engine refuses a label that stands for both (docs/sharing-rules.md#r11).
   */
  source?: 'domain-id';
}

export interface AnalysisOptions {
  /** Page size in bytes (R7); default 4096. */
  pageSize: number;
  /** Fraction of each file's pages assumed resident, 0 < f <= 1; default 1 (the static bound). */
  workingSetFraction: number;
}

/** Where a value in a report came from, for error and explanation messages. */
export interface SourceLocation {
  /** Input name, e.g. "fleet.fstab" or "plan.json". */
  file: string;
  line?: number;
  column?: number;
}

/** One mounted filesystem instance (superblock), the unit of page cache (R9). */
export interface InstanceInput {
  /** Stable id within the analysis, e.g. "i1". */
  id: string;
  /** Human label, usually the mount point. */
  label: string;
  /** Image (by ReportImage.id) this instance mounts. */
  imageId: string;
  /** Mount points that resolve to this superblock (several for double bdev mounts, R9). */
  mountPoints: string[];
  /** Mount source as written (path or device), for display. */
  source: string;
  backing: Backing;
  /**
   * null: unknown (mountinfo and /proc/mounts never show it, R11), unless
   * `options.domainIdGiven === false` or `domainKnown === true`, which say the configuration
   * has no domain_id at all.
   */
  domain: DomainLabel | null;
  /** Options as the kernel sees them (docs/format.md#ishare-mount). */
  options: {
    inodeShare: boolean;
    /**
     * Whether a `domain_id=` option was given. false with inodeShare: the mount fails (EINVAL, R2).
     * Optional: when absent, a non-null `domain` means given and a null one means unknown.
     */
    domainIdGiven?: boolean;
    dax: 'always' | 'never' | null;
    directio: boolean;
    cacheStrategy: 'disabled' | 'readahead' | 'readaround' | null;
    devices: string[];
    fsoffset: number;
  };
  /** Containers / overlay mounts that use this instance (from mountinfo context). */
  users?: string[];
  origin?: SourceLocation;
  /** Set when the instance is configured but never mounted (fstab `noauto`, a script stopped before it). */
  notMounted?: string | null;
  /**
   * Set by a parser when it knows the mount fails (EINVAL of R2, or a reason the engine cannot
   * see, e.g. an unaligned fsoffset). The engine also derives the R2 failures itself.
   */
  mountError?: string;
  /**
   * false when the input format never shows domain_id (mountinfo, /proc/mounts, R11); true when
   * it would show it, so `domain: null` means "no domain_id". Default: unknown when null.
   */
  domainKnown?: boolean;
  /**
   * Owner, mode and immutable attribute of the image file behind a file-backed mount, as a host
   * collector records them (the trust model's lifetime section, docs/trust.md). Absent: unknown.
   */
  backingFile?: BackingFileAttributes;
  /** For a mount of a loop device: whether the loop device uses direct I/O. Absent: unknown. */
  loopDirectIo?: boolean;
}

/** Why inode_share is (not) in effect on an instance. */
export type InodeShareState =
  | {
      effective: true;
      /**
       * inode_share is on but the domain is not known (R11). The report's figures put the
       * instance alone in a domain of its own (worst case) and `Report.bounds` gives the range.
       */
      domainUnknown?: boolean;
    }
  | {
      effective: false;
      reason:
        | 'not-requested' // no inode_share option (R2)
        | 'no-domain' // inode_share without domain_id: EINVAL, mount fails (R2)
        | 'dax' // inode_share with dax=always: EINVAL, mount fails (R2)
        | 'no-ishare-compat' // image lacks compat ISHARE_XATTRS: silently off (R3)
        | 'domain-unknown' // (not produced by the engine: unknown domains are `effective: true, domainUnknown: true`)
        | 'mount-failed' // the parser reported another mount failure (InstanceInput.mountError)
        | 'not-mounted'; // e.g. fstab noauto
      message: string;
    };

export interface ReportImage {
  id: string;
  name: string;
  sha256?: string;
  /** Free-form publisher label (used by the mixed-publisher finding). */
  publisher?: string;
  blockSize: number;
  ishare: boolean;
  fingerprintXattrName: string | null;
  requiredKernel: string;
  featureCompat: string[];
  featureIncompat: string[];
  hashed: boolean;
  fileCount: number;
  regularFiles: number;
  fingerprintedFiles: number;
  /** Set when the image's manifest was predicted from an OCI image or tar, not read from an image (docs/oci.md). */
  predicted?: ManifestPrediction;
}

export interface ReportInstance extends InstanceInput {
  inodeShare: InodeShareState;
  /** Set when the mount fails (EINVAL cases of R2); such instances hold no page cache. */
  mountError?: string;
}

export interface Totals {
  pagesWithoutSharing: number;
  pagesWithSharing: number;
  bytesWithoutSharing: number;
  bytesWithSharing: number;
  bytesSaved: number;
  /** bytesSaved / bytesWithoutSharing * 100, 0 when nothing is cached. */
  percentSaved: number;
}

/** Per-file fate on one instance (the rule that decided it). */
export type FileStatus =
  | 'shared' // member of a shared inode with at least one other member
  | 'shared-alone' // eligible, but the only member of its shared inode (no saving)
  | 'private-not-regular' // R1
  | 'private-no-inode-share' // R2/R3: instance does not share
  | 'private-no-fingerprint' // R4
  | 'private-size-mismatch' // R5
  | 'private-aops-mismatch' // R6
  | 'hardlink' // R10: another path of the same inode on this instance; counted once
  | 'not-mounted'; // mount failed or not mounted

/**
 * Columnar per-(instance, file) table. Row r describes image file `file[r]` (index into
 * that instance's image's `paths`) on instance `instance[r]` (index into `instances`).
 */
export interface FileTable {
  instance: number[];
  file: number[];
  status: FileStatus[];
  /**
   * Index into `groups`, or -1. Set for members of a shared inode with 2+ members and for
   * rows rejected by one (R5/R6). 'shared-alone' rows are not listed in `groups` (-1).
   */
  group: number[];
  /**
   * Pages this row contributes without sharing / with sharing (0 for the non-first members of
   * a shared inode), working-set fraction applied. Non-regular files, hard-link repeats and
   * rows of instances that are not mounted contribute 0 to both.
   */
  pagesWithout: number[];
  pagesWith: number[];
  /** i_size in bytes (0 for non-regular files). */
  size: number[];
  /** R10: `row[k]` is another path of the inode first seen at row `primary[k]` on the same instance. */
  hardlinks: { row: number[]; primary: number[] };
  /**
   * Compact file table (version 2, docs/metrics.md#compact-file-table); absent: every instance
   * has rows of its own. Per instance: the instance whose rows stand for it. An instance that
   * mounts the same image in the same domain, with the same aops class and mount state as an
   * earlier one (its "lead", `rowsOf[i] = lead < i`), has no rows of its own: each row r of
   * the lead is also its row, with the lead's status, except that 'shared-alone' reads
   * 'shared' and a member's `pagesWith` reads 0 (it is never a first member), and with the
   * lead's group. `rowsOf[i] = i` for an instance with rows. Group member lists and finding rows
   * name the lead's rows; `SharedGroup.memberCount` counts every instance.
   */
  rowsOf?: number[];
}

/** One shared anonymous inode (docs/format.md#sharing-key): a (fingerprint, domain, aops) key and its members. */
export interface SharedGroup {
  /** Hex of the fingerprint value. */
  fingerprint: string;
  domain: string;
  aops: AopsClass;
  /** i_size fixed by the first member (R5). */
  size: number;
  pages: number;
  /** Rows of `files` that are members (first member first). */
  members: number[];
  /** Rows with the same key that stayed private (size or aops mismatch). */
  rejected: number[];
  /**
   * Compact file table (`FileTable.rowsOf`): the members and rejected candidates counting each
   * instance a row stands for. Absent: `members.length`, `rejected.length`.
   */
  memberCount?: number;
  rejectedCount?: number;
  /** True when the candidates span several (size, aops) classes: another read order could pick another first member. */
  orderDependent?: boolean;
}

export interface UnsharedCacheLine {
  instanceId: string;
  /** R8: page cache never shared. */
  kind: 'backing-file' | 'metadata' | 'compressed-cache' | 'packed-inode';
  bytes: number;
  /** bytes / pageSize. */
  pages?: number;
  note: string;
}

export type FindingSeverity = 'error' | 'warning' | 'info';
export type FindingCode =
  | 'fingerprint-mismatch' // R12: fingerprint != sha256 of content
  | 'fingerprint-unverifiable' // fingerprint not of the form sha256:<digest> (e.g. serials)
  | 'mixed-publishers' // images of different publishers in one domain
  | 'unsharable-duplicate' // identical content that cannot share (domain, aops, missing fingerprints), bytes lost
  | 'inode-share-ineffective' // inode_share requested but off (R2, R3)
  | 'mount-failed' // EINVAL
  | 'order-dependent' // result depends on which member is read first (R5, R6)
  | 'domain-unknown' // instances without a known domain: figures are bounds
  | 'cross-domain-key-collision'; // fingerprint ++ domain id of two domains are equal bytes: one inode spans both (docs/format.md#sharing-key)

export interface Finding {
  code: FindingCode;
  severity: FindingSeverity;
  message: string;
  /** Bytes affected (lost savings, or bytes exposed). */
  bytes?: number;
  instanceIds?: string[];
  /**
   * Rows of `files` involved (at most MAX_FINDING_ROWS; `rowCount` has the full count). In a
   * compact file table a row is listed once and `rowCount` counts each instance it stands for.
   */
  rows?: number[];
  rowCount?: number;
  /** Images involved (ReportImage.id). */
  imageIds?: string[];
  /** Domain labels involved. */
  domains?: string[];
  /** For order-dependent and domain-unknown: the range of bytesWithSharing. */
  range?: { min: number; max: number };
}

export interface ScenarioResult {
  id:
    | 'merge-domains'
    | 'separate-domains'
    | 'rebuild-with-fingerprints'
    | 'consistent-compression'
    | 'drop-image'
    | string;
  title: string;
  description: string;
  totals: Totals;
  /** totals.bytesSaved - report.totals.bytesSaved */
  deltaBytesSaved: number;
  /** The scenario's host total with sharing (`cost.host.bytesWithSharing`: file data + never-shared caches). */
  hostBytesWithSharing?: number;
  /** hostBytesWithSharing - the report's: what the scenario changes in the host's page cache. */
  deltaHostBytes?: number;
}

export interface Report {
  kind: typeof REPORT_KIND;
  version: ReportVersion;
  createdAt: string;
  options: AnalysisOptions;
  images: ReportImage[];
  /** Paths of each image's files, by ReportImage.id, in manifest order. */
  paths: Record<string, string[]>;
  instances: ReportInstance[];
  /**
   * Domains as analysed. Instances with an unknown domain get a domain of their own labelled
   * `?<instance id>` (worst case, R11); `unknown` marks those. Instances that do not share
   * are listed under no domain.
   */
  domains: { label: string; instanceIds: string[]; unknown?: boolean }[];
  totals: Totals;
  /**
   * When some instance's domain is unknown (R11): `worst` = each unknown instance alone in a
   * domain of its own (= `totals`); `best` = all unknown instances in one domain, with the
   * luckiest first members where that mixes size or aops classes (order-independent).
   */
  bounds?: { best: Totals; worst: Totals };
  /**
   * When some key's candidates span several (size, aops) classes (R5, R6): the totals for the
   * luckiest and unluckiest first members, key by key. `totals` uses the documented order.
   */
  orderBounds?: { best: Totals; worst: Totals };
  perInstance: Record<string, Totals>;
  perDomain: Record<string, Totals>;
  perImage: Record<string, Totals>;
  files: FileTable;
  groups: SharedGroup[];
  unsharedCaches: UnsharedCacheLine[];
  findings: Finding[];
  scenarios: ScenarioResult[];
  /**
   * The measured working set, when the analysis had page-cache residency data
   * (`AnalysisInput.residency`): the same accounting as `totals` with each file's resident
   * pages in place of its static page count. docs/metrics.md, docs/working-set.md.
   */
  measured?: MeasuredWorkingSet;
  /** The trust model (docs/trust.md), set by `withTrust` where the manifests are at hand. */
  trust?: TrustModel;
  /**
   * What memory costs (model/cost.ts): the host total (file data + never-shared caches), fair
   * shares per instance and containers. Absent in reports made before it existed.
   */
  cost?: ReportCost;
}

/**
 * What memory costs (model/cost.ts, docs/metrics.md "Cost"): what the host's page cache holds
 * for these mounts, and who pays for a shared page. All in bytes (fair shares are whole bytes,
 * not whole pages).
 */
export interface ReportCost {
  host: HostTotal;
  /** Per instance id. */
  perInstance: Record<string, InstanceCost>;
  /** Containers (overlay mounts above the instances, `InstanceInput.users`), sorted by name. */
  containers: ContainerCost[];
  /** The fair shares of the measured working set, when the report has one (`Report.measured`). */
  measured?: MeasuredCost;
}

/**
 * Fair shares on the measured working set (model/cost.ts): each shared inode's measured pages
 * divided among its members like the static ones; they add up to
 * `measured.totals.bytesWithSharing`.
 */
export interface MeasuredCost {
  /** Per instance id. */
  perInstance: Record<string, { fairBytes: number }>;
  /** Per container, in the order of `ReportCost.containers`. */
  containers: { name: string; fairBytes: number }[];
}

/** The host's page cache for these mounts: file data (`totals`) + never-shared lines (R8). */
export interface HostTotal {
  /** totals.bytesWithoutSharing + unsharedBytes. */
  bytesWithoutSharing: number;
  /** totals.bytesWithSharing + unsharedBytes. */
  bytesWithSharing: number;
  /** Sum of `unsharedCaches` (the same with and without sharing). */
  unsharedBytes: number;
  /** Of which the backing files' page cache (file-backed mounts without `directio`). */
  backingFileBytes: number;
}

export interface InstanceCost {
  /** File data by fair share: each shared inode's bytes divided among its members (whole bytes). */
  fairBytes: number;
  /** This instance's never-shared lines (R8). */
  unsharedBytes: number;
  /** fairBytes + unsharedBytes: what this instance costs the host. */
  hostBytes: number;
}

export interface ContainerCost {
  /** Container name (from the overlay mount point, mounts/entry.ts `userFromMountPoint`). */
  name: string;
  /** Instances its overlay's lowerdirs reach, in report order. */
  instanceIds: string[];
  /** Sum of its instances' bytesWithoutSharing. */
  bytesWithoutSharing: number;
  /** Its instances' data with each shared inode they hold counted once (the container alone). */
  bytesWithSharing: number;
  /** Sum of its instances' fair shares; an instance used by n containers is split n ways. */
  fairBytes: number;
  /** The same split of its instances' host cost (fair share + never-shared lines). */
  hostBytes: number;
}

/**
 * Page-cache residency per instance, in pages of the report's page size: image path
 * ("/usr/lib/x.so") -> resident pages, or `all` for a file known to be read but not how much
 * (access lists). Built from residency inputs by `attributeResidency`.
 */
export interface ResidencyInput {
  instances: Record<string, Record<string, number | 'all'>>;
  /** Where the data came from (file names, snapshot times), for the report. */
  sources?: string[];
}

/** How much of the analysed files the residency data covered. */
export interface ResidencyCoverage {
  /** Non-empty regular files that hold page cache (one per instance and inode), and their bytes. */
  files: number;
  bytes: number;
  /** Of those, the ones the residency data named, and their bytes. */
  filesWithData: number;
  bytesWithData: number;
  /** Residency entries that named no such file of their instance (other files, typos, other mounts). */
  unmatchedEntries: number;
}

export interface MeasuredWorkingSet {
  /**
   * Resident pages without sharing (each instance's own) and with sharing (a shared inode's
   * once). Files without residency data count as not resident: a lower bound when coverage is
   * partial.
   */
  totals: Totals;
  /**
   * The same accounting with every file without residency data fully resident (its static
   * pages): the upper bound of the measured figures. Equal to `totals` at full coverage; absent
   * in reports made before it existed. docs/working-set.md "Coverage bounds".
   */
  upper?: Totals;
  perInstance: Record<string, Totals>;
  coverage: ResidencyCoverage;
  /** Per row of `files`: the row's measured pages without and with sharing (0 where no data). */
  pagesWithout: number[];
  pagesWith: number[];
  sources: string[];
}

/** What the engine takes: manifests plus instances (already parsed and redacted). */
export interface AnalysisInput {
  images: {
    image: Omit<ReportImage, 'fileCount' | 'regularFiles' | 'fingerprintedFiles'>;
    manifest: Manifest;
  }[];
  instances: InstanceInput[];
  options?: Partial<AnalysisOptions>;
  /** Report timestamp; default: now. Pass one for reproducible output. */
  createdAt?: string;
  /** Page-cache residency per instance: adds `Report.measured` (the measured working set). */
  residency?: ResidencyInput;
  /**
   * The file table's form (docs/metrics.md#compact-file-table): 'per-instance' (the default)
   * gives every instance rows of its own; 'compact' lets instances of one class share their
   * first instance's rows (`FileTable.rowsOf`, version 2); 'auto' is compact when the
   * per-instance table would pass COMPACT_FILE_TABLE_ROWS rows. With `residency` the table is
   * always per instance (each instance has its own resident pages).
   */
  fileTable?: 'per-instance' | 'compact' | 'auto';
  /**
   * The raw domain ids behind labels made by a parser (`source: 'domain-id'`), held in memory by
   * the domain redactor that made them (mounts/domains.ts) and never copied into a report. The
   * engine compares them to find sharing keys the kernel's concatenation makes equal across
   * two domains (docs/format.md#sharing-key, `cross-domain-key-collision`); without it that check is skipped.
   * Not serialisable: a function, so a stored input or a worker message cannot carry secrets.
   */
  domainSecrets?: DomainSecrets;
}

/** Access to the raw bytes of domain ids by label, for the engine only (R11). */
export interface DomainSecrets {
  /** UTF-8 bytes of the domain_id behind a parser-made label, undefined for any other label. */
  secretOf(label: string): Uint8Array | undefined;
}
