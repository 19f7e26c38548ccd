/**
 * The sharing core (docs/format.md#sharing-key): one pass over every (instance, file) pair in a fixed order
 * that applies the kernel's fill-inode check to each file as it comes (key lookup, then the
 * first member's aops class (R6) and size (R5)), then one pass to list each key's members.
 *
 * Sized for fleets of millions of records (docs/benchmarks.md#sharing-analyze-the-engine-at-fleet-scale: 200 images x 10,000 files in under 2 s,
 * `pnpm bench sharing-analyze`): every string a record carries is read once, in
 * `prepareImage`, and turned into integer ids (fingerprint, content); everything after that
 * works on flat arrays indexed by file, row or key, and allocates only the report itself.
 *
 * External memory: a typed array's bytes live outside V8's heap, and once such memory grows by
 * 64 MiB since the last full GC, V8 starts another one, which marks the whole heap, the
 * caller's manifests included (0.2-0.3 s at 2M records). So the typed arrays stay small: about
 * 7 bytes per file and 4 per row plus per-key tables (~40 MiB at 2M rows); a wider per-file
 * column (size) is a plain array, and the report's own columns double as scratch space.
 *
 * Order ("first member"): instances in input order, and within an instance the manifest's
 * file order (sorted by path bytes). The kernel's real order is the run-time order in which
 * inodes are first loaded; where that can change a result the key is marked order-dependent
 * and the best and worst first members are computed key by key.
 */
import {
  inodeNumber,
  LAYOUT_CODES,
  manifestColumns,
  TYPE_FILE,
  type Manifest,
  type PathStore,
  type StringTable,
} from '@sharemap/erofs';
import type { AnalysisOptions, FileStatus, FileTable, ReportInstance } from '../report.js';
import { FINGERPRINT_BINDINGS } from '../trust/types.js';
import { pagesOf, workingSetPages } from './accounting.js';
import { type SharedGroupColumns } from './group-columns.js';
import type { ImageEntry } from './input.js';
import { isMounted } from './input.js';
import {
  fingerprintDigest,
  fingerprintMatchesSha256,
  fingerprintState,
  SHA256_FINGERPRINT_HEX_LENGTH,
  SHA256_FINGERPRINT_PREFIX_HEX,
} from './keys.js';

/** aops class codes (R6): indices into group-columns' AOPS_CLASSES. */
const AOPS_COMPRESSED = 0;
const AOPS_BLOCK = 1;
const AOPS_FILE_BACKED = 2;
/** Length of the digest (hex) a `sha256:` + 32-byte fingerprint claims. */
const DIGEST_HEX_LENGTH = SHA256_FINGERPRINT_HEX_LENGTH - SHA256_FINGERPRINT_PREFIX_HEX.length;
/** Binding codes (indices into FINGERPRINT_BINDINGS) that prepareImage gives the trust model. */
const BOUND = FINGERPRINT_BINDINGS.indexOf('content-bound');
const UNVERIFIABLE = FINGERPRINT_BINDINGS.indexOf('unverifiable');
const PUBLISHER_DEFINED = FINGERPRINT_BINDINGS.indexOf('publisher-defined');
/** PreparedImage.binding of a file that is not a regular file. */
export const BINDING_NOT_REGULAR = -1;
/** PreparedImage.binding of a regular file without a usable fingerprint (R4). */
export const BINDING_NONE = -2;
/** PreparedImage.binding of a file the trust model classifies itself (see PreparedImage.binding). */
export const BINDING_ASK = -3;
/** Largest fingerprints x domains key space looked up through a dense Int32Array (64 MiB). */
const DENSE_KEY_LIMIT = 1 << 24;
/** How many candidate rows of order-dependent keys the `order-dependent` finding lists at most. */
export const MAX_ORDER_ROWS = 10_000;

/** One image's files as flat arrays, computed once however often the image is mounted. */
export interface PreparedImage {
  index: number;
  entry: ImageEntry;
  manifest: Manifest;
  /** Number of file records. */
  n: number;
  /**
   * Path of each file, in manifest order: the report's `paths[image id]` (made on first access
   * when the manifest's paths are bytes: use pathAt for a few).
   */
  readonly paths: string[];
  /** Path of file f (one string). */
  pathAt(f: number): string;
  /** The manifest's paths as bytes (ManifestColumns.pathStore), when they are. */
  pathStore: PathStore | null;
  regular: Uint8Array;
  compressed: Uint8Array;
  /**
   * i_size of each file; read for regular files only (runCore and contentIdOf count the others
   * as 0). A columnar manifest's own `size` column (no copy: a 1M-entry plain array per image
   * was ~40 ms of fresh pages and a store per file); for record objects a plain array, 0 for the
   * files that are not regular (see external memory above).
   */
  size: ArrayLike<number>;
  /** Inode number (nid) of the files with nlink > 1, by file index: only hard links need it (R10). */
  nid: Map<number, number>;
  /** Interned fingerprint id, or -1 when the file cannot share (R1, R4). */
  fpId: Int32Array;
  /** 1 when nlink > 1 (a possible hard link, R10). */
  multiLink: Uint8Array;
  /**
   * Content id (keys.contentIdentity) of non-empty regular files whose identity is their own
   * sha256, not the digest their fingerprint claims (no usable fingerprint, R12 mismatch); -1
   * for the others, whose identity follows from their fingerprint (see contentIdOf). null when
   * the image has no such file (the usual case).
   */
  ownContentId: Int32Array | null;
  /** Files whose sha256 fingerprint does not match their sha256 (R12). */
  mismatched: number[];
  /** Files whose fingerprint is not of the sha256 form (serials...). */
  unverifiable: number[];
  regularFiles: number;
  fingerprintedFiles: number;
  /**
   * Each file's fingerprint binding as the trust model classifies it (trust/model.ts
   * fingerprintsOf: an index into FINGERPRINT_BINDINGS), found by the R12 check above at no
   * extra string comparison: content-bound, unverifiable or publisher-defined for lower-hex
   * fingerprints (what validated manifests carry); BINDING_ASK for the rest (mismatches, other
   * fingerprint forms), which the trust model classifies again; BINDING_NONE and
   * BINDING_NOT_REGULAR for files without one. 1 byte per file.
   */
  binding: Int8Array;
  /**
   * How many regular files have each `binding` code, at `code - BINDING_ASK` (BINDING_ASK,
   * BINDING_NONE, then FINGERPRINT_BINDINGS' indices): counted as the codes are set, so that
   * the trust model, when no file is BINDING_ASK, needs no pass over the files to count them.
   */
  bindingCounts: Int32Array;
}

export interface Prepared {
  images: PreparedImage[];
  byId: Map<string, PreparedImage>;
  /** Interned fingerprint values (hex, compared as given; manifests use lower case), by fpId. */
  fingerprints: string[];
  /** Content id of each fingerprint id: what a non-empty file with it and no other sha256 holds. */
  fpContentId: Int32Array;
  /** Number of distinct content identities: content ids are 0 .. contentCount - 1. */
  contentCount: number;
  /** Every value of `fingerprints` is lower-case hex (SharedGroupColumns.plainFingerprints). */
  lowerHexFingerprints: boolean;
}

/**
 * Fingerprint values and content identities interned to dense integer ids, for all images of
 * one analysis. A Map lookup on a string costs far more than the rest of a record's work
 * (hashing and comparing ~70 characters), so each record pays at most one, its fingerprint's,
 * and most records none (fingerprintIdAt).
 */
class Interner {
  private readonly fpIndex = new Map<string, number>();
  /**
   * Fingerprint values by id (hex, compared as given; manifests use lower case): the first
   * `count` entries (reserveIds may make room for more; `finish` trims the rest).
   */
  fingerprints: string[] = [];
  /** How many fingerprint ids there are. */
  private count = 0;
  /**
   * By fingerprint id: its value's lowerHexForm (NOT_LOWER_HEX, LOWER_HEX_OTHER, LOWER_HEX_SHA256),
   * 1 byte per id, reserved with `fingerprints`.
   */
  private form: Uint8Array = new Uint8Array(0);
  /**
   * By fingerprint id: the digest (lower-case hex) a `sha256:` + 32-byte value claims, once a
   * string of it is made (digestAt); null for a value that claims none and is not lower-case hex.
   * Once a record's sha256 equals it, that record's string object stands for it (see prepareImage).
   * Unset (undefined): a lower-hex `sha256:` value whose digest string is not made yet (its tail,
   * made by digestOf), or a lower-hex value of another form (form says it claims none). The array
   * itself is made at the first digest: an analysis of lower-hex manifests without sha256 never
   * makes one, and ~1M 64-character copies would be ~100 MB of heap; nor a 2M-entry array reserved
   * for them (~50 ms of fresh pages for nothing, docs/benchmarks.md#analyze-core4-post-read-allocations-and-digits-2026-12-07).
   */
  private digests: (string | null | undefined)[] | null = null;
  /** How many fingerprint values are not lower-case hex (what validated manifests carry, docs/manifest.md). */
  private notLowerHex = 0;
  private readonly contentIndex = new Map<string, number>();
  /**
   * By file position (index in a manifest): the fingerprint id last found there, and the one
   * before it; -1 for none. Consecutive images are often versions of one another and list
   * their files in path order, so file f often has a fingerprint file f had lately (the same,
   * or the previous one when files go back and forth between versions from image to image).
   */
  private lastAt: Int32Array = new Int32Array(0);
  private beforeAt: Int32Array = new Int32Array(0);

  /**
   * Room for up to n fingerprint ids (the files of all images) in `fingerprints` and `form`
   * at once: 1.1M pushes to each (two 1M-record manifests) regrow and copy them some 30 times
   * and took ~0.2 s; one allocation of the bound, trimmed once all images are read, about half
   * (docs/benchmarks.md#analyze-core3-fewer-tables-and-copies-after-the-read-2026-12-07). More ids than that still append.
   */
  reserveIds(n: number): void {
    if (this.count > 0 || n <= 0) return;
    this.fingerprints = new Array<string>(n);
    this.form = new Uint8Array(n);
  }

  /** Trims the room reserveIds made to the ids given (before fingerprintContentIds). */
  finish(): void {
    this.fingerprints.length = this.count;
    if (this.digests !== null && this.digests.length > this.count) this.digests.length = this.count;
  }

  /** Makes room for an image of n files in the per-position memory. */
  reservePositions(n: number): void {
    if (n <= this.lastAt.length) return;
    const grow = (old: Int32Array): Int32Array => {
      const out = new Int32Array(n).fill(-1);
      out.set(old);
      return out;
    };
    this.lastAt = grow(this.lastAt);
    this.beforeAt = grow(this.beforeAt);
  }

  /**
   * Id of a usable fingerprint found at file position f. The fingerprints lately found there
   * are compared first (Object.is: by reference, then by characters), so most records skip the
   * Map lookup, which costs far more (hashing, then a few cache misses in a large table).
   */
  fingerprintIdAt(f: number, fingerprint: string): number {
    const last = this.lastAt[f]!;
    if (last >= 0 && Object.is(this.fingerprints[last], fingerprint)) return last;
    const before = this.beforeAt[f]!;
    const id =
      before >= 0 && Object.is(this.fingerprints[before], fingerprint)
        ? before
        : this.fingerprintId(fingerprint);
    this.beforeAt[f] = last;
    this.lastAt[f] = id;
    return id;
  }

  private fingerprintId(fingerprint: string): number {
    let id = this.fpIndex.get(fingerprint);
    if (id === undefined) {
      id = this.newFingerprint(fingerprint);
      this.fpIndex.set(fingerprint, id);
    }
    return id;
  }

  private newFingerprint(fingerprint: string): number {
    const id = this.count++;
    this.fingerprints[id] = fingerprint;
    if (id >= this.form.length) {
      const grown = new Uint8Array(Math.max(1024, 2 * this.form.length));
      grown.set(this.form);
      this.form = grown;
    }
    // A lower-hex value is its own lower case: its digest, if it claims one, is its tail, made
    // on demand (digestOf). Others (rare) go through keys.fingerprintDigest now.
    const form = lowerHexForm(fingerprint);
    this.form[id] = form;
    if (form === NOT_LOWER_HEX) {
      this.notLowerHex++;
      this.setDigest(id, fingerprintDigest(fingerprint));
    }
    return id;
  }

  /** Whether fingerprint id `id`'s value is lower-case hex (validated manifests' values all are). */
  isLowerHex(id: number): boolean {
    return this.form[id] !== NOT_LOWER_HEX;
  }

  /**
   * The digest fingerprint id `id` claims: null for none; undefined for a lower-hex `sha256:`
   * value whose digest string is not made yet (its tail: digestOf makes it).
   */
  digestAt(id: number): string | null | undefined {
    if (this.form[id] === LOWER_HEX_OTHER) return null;
    return this.digests === null ? undefined : this.digests[id];
  }

  /** Keeps `digest` as the string of fingerprint id `id`'s digest (digestAt). */
  setDigest(id: number, digest: string | null): void {
    (this.digests ??= new Array<string | null | undefined>(this.fingerprints.length))[id] = digest;
  }

  /** The digest fingerprint id `id` claims (digestAt), made now if it was not yet; null for none. */
  digestOf(id: number): string | null {
    let digest = this.digestAt(id);
    if (digest === undefined)
      this.setDigest(id, (digest = this.fingerprints[id]!.slice(SHA256_FINGERPRINT_PREFIX_HEX.length)));
    return digest;
  }

  /**
   * Every image's columns carry their fingerprints' indices in this one StringTable
   * (ManifestColumns.fingerprintIndex): fingerprint ids come from them (fingerprintIdOfIndex), and
   * no fingerprint is hashed again (docs/manifest.md#fingerprint-ids). Set by prepareImages
   * before the first image, or never (then fingerprintIdAt's Map).
   */
  private table: StringTable | null = null;
  /** By StringTable index: the fingerprint id given to it, -1 for none yet. */
  private idOfIndex: Int32Array = new Int32Array(0);

  get usesTableIndices(): boolean {
    return this.table !== null;
  }

  useTableIndices(table: StringTable): void {
    this.table = table;
    this.idOfIndex = new Int32Array(table.size).fill(-1);
  }

  /**
   * Id of the usable fingerprint at StringTable index `index` (useTableIndices): ids are given
   * in order of first appearance, as fingerprintIdAt gives them, so both ways number alike.
   */
  fingerprintIdOfIndex(index: number, fingerprint: string): number {
    if (index >= this.idOfIndex.length) {
      // The table grew after useTableIndices (another analysis sharing it): room for it all.
      const grown = new Int32Array(Math.max(this.table!.size, index + 1)).fill(-1);
      grown.set(this.idOfIndex);
      this.idOfIndex = grown;
    }
    if (index < 0)
      throw new Error(`fingerprint ${JSON.stringify(fingerprint)} is not in the manifest's StringTable`);
    let id = this.idOfIndex[index]!;
    if (id < 0) this.idOfIndex[index] = id = this.newFingerprint(fingerprint);
    return id;
  }

  /** Content id of an identity string (keys.contentIdentity). */
  contentId(identity: string): number {
    let c = this.contentIndex.get(identity);
    if (c === undefined) this.contentIndex.set(identity, (c = this.contentIndex.size));
    return c;
  }

  /** Content id of each fingerprint id: of the digest it claims, else of `fp:` + its value. */
  fingerprintContentIds(): Int32Array {
    const ids = new Int32Array(this.fingerprints.length);
    // Without content ids of files' own sha256 yet (the usual case) and with lower-case hex values
    // (what validated manifests carry), distinct fingerprints have distinct identities (a digest,
    // or `fp:` + a value, which has a ':' no digest has): content id = fingerprint id, and the
    // ~1M digests need no Map.
    if (this.contentIndex.size === 0 && this.notLowerHex === 0) {
      for (let id = 0; id < ids.length; id++) ids[id] = id;
      this.plainContentIds = ids.length;
      return ids;
    }
    for (let id = 0; id < ids.length; id++)
      ids[id] = this.contentId(this.digestOf(id) ?? 'fp:' + this.fingerprints[id]!);
    return ids;
  }

  /** Set when fingerprintContentIds took the fingerprint ids as content ids: how many there are. */
  private plainContentIds = -1;

  /** Every fingerprint value so far is lower-case hex. */
  get allLowerHex(): boolean {
    return this.notLowerHex === 0;
  }

  get contentCount(): number {
    return this.plainContentIds >= 0 ? this.plainContentIds : this.contentIndex.size;
  }
}

export function prepareImages(images: readonly { image: ImageEntry; manifest: Manifest }[]): Prepared {
  const interner = new Interner();
  const table = sharedStringTable(images.map((i) => i.manifest));
  if (table !== null) interner.useTableIndices(table);
  const byId = new Map<string, PreparedImage>();
  const out: PreparedImage[] = [];
  // At most one new fingerprint per file: room for that many ids before the first.
  let files = 0;
  for (const { manifest } of images) files += manifestColumns(manifest)?.n ?? manifest.files.length;
  interner.reserveIds(files);
  for (const { image, manifest } of images) {
    if (byId.has(image.id)) throw new Error(`duplicate image id ${JSON.stringify(image.id)}`);
    const p = prepareImage(out.length, image, manifest, interner);
    byId.set(image.id, p);
    out.push(p);
  }
  interner.finish();
  const fpContentId = interner.fingerprintContentIds();
  return {
    images: out,
    byId,
    fingerprints: interner.fingerprints,
    fpContentId,
    contentCount: interner.contentCount,
    lowerHexFingerprints: interner.allLowerHex,
  };
}

/**
 * The StringTable every manifest's fingerprints were interned in, when they all were interned
 * in one and their columns carry the indices (ManifestColumns.internedIn); else null. One
 * id space for every image, or none: a fingerprint must get one id whichever image shows it.
 */
export function sharedStringTable(manifests: readonly Manifest[]): StringTable | null {
  let table: StringTable | null = null;
  for (const m of manifests) {
    const cols = manifestColumns(m);
    if (!cols?.fingerprintIndex || !cols.strings) return null;
    if (table !== null && cols.strings !== table) return null;
    table = cols.strings;
  }
  return table;
}

/**
 * Content id (keys.contentIdentity) of file f of an image, -1 when unknown (empty or not a
 * regular file, neither fingerprint nor sha256). Resolved on demand rather than per record in
 * prepareImage: only rows that hold pages ask (findings), often a fraction of all rows.
 */
export function contentIdOf(prepared: Prepared, img: PreparedImage, f: number): number {
  const own = img.ownContentId?.[f] ?? -1;
  if (own >= 0 || img.regular[f] === 0 || !(img.size[f]! > 0)) return own;
  const fp = img.fpId[f]!;
  return fp >= 0 ? prepared.fpContentId[fp]! : -1;
}

/**
 * Reads every record of one image once: flat per-file arrays, fingerprint ids, and the R12
 * checks. A record's content identity normally follows from its fingerprint id, since a hashed
 * record's sha256 is the digest its fingerprint claims (checked per record); only records
 * without a usable fingerprint or with a mismatching one look their sha256 up.
 */
function prepareImage(
  index: number,
  image: ImageEntry,
  manifest: Manifest,
  interner: Interner,
): PreparedImage {
  // A columnar manifest (docs/manifest.md#columnar-in-memory-form) is read from its columns, a
  // manifest of record objects from its records: each field read below picks one or the other.
  const cols = manifestColumns(manifest);
  const files = cols ? null : manifest.files;
  /** StringTable indices of the fingerprints, when prepareImages found one table for all images. */
  const fpIndex = interner.usesTableIndices ? cols!.fingerprintIndex! : null;
  const n = cols ? cols.n : files!.length;
  const blockSize = image.blockSize;
  if (fpIndex === null) interner.reservePositions(n);
  const paths = cols ? null : new Array<string>(n);
  const regular = new Uint8Array(n);
  const compressed = new Uint8Array(n);
  const size: ArrayLike<number> = cols ? cols.size : new Array<number>(n).fill(0);
  const nid = new Map<number, number>();
  const fpId = new Int32Array(n).fill(-1);
  const multiLink = new Uint8Array(n);
  let ownContentId: Int32Array | null = null;
  const mismatched: number[] = [];
  const unverifiable: number[] = [];
  const binding = new Int8Array(n).fill(BINDING_NOT_REGULAR);
  const bindingCounts = new Int32Array(FINGERPRINT_BINDINGS.length - BINDING_ASK);
  let regularFiles = 0;
  let fingerprintedFiles = 0;
  for (let f = 0; f < n; f++) {
    const rec = files?.[f];
    if (rec) paths![f] = rec.path;
    if (rec ? rec.type !== 'file' : cols!.type[f] !== TYPE_FILE) continue; // R1
    regular[f] = 1;
    regularFiles++;
    if ((rec ? rec.nlink : cols!.nlink[f]!) > 1) {
      multiLink[f] = 1;
      // hard links share the inode number (nids may be strings)
      nid.set(f, rec ? inodeNumber(rec) : cols!.inodeNumber(f));
    }
    const bytes = rec ? rec.size : cols!.size[f]!;
    if (rec) (size as number[])[f] = bytes;
    const layout = rec ? rec.layout : LAYOUT_CODES[cols!.layout[f]!]!;
    if (layout === 'compressed_full' || layout === 'compressed_compact') compressed[f] = 1;
    const fingerprint = rec ? rec.fingerprint : cols!.fingerprint[f]!;
    const sha = rec ? rec.sha256 : cols!.sha256?.[f];
    let id = -1;
    /** The record's sha256 is exactly the digest its fingerprint claims. */
    let shaIsClaimedDigest = false;
    binding[f] = BINDING_NONE;
    if (fingerprintState(fingerprint, blockSize) === 'ok') {
      // R4: a usable fingerprint.
      fingerprintedFiles++;
      id =
        fpIndex !== null
          ? interner.fingerprintIdOfIndex(fpIndex[f]!, fingerprint!)
          : interner.fingerprintIdAt(f, fingerprint!);
      fpId[f] = id;
      const digest = interner.digestAt(id);
      // The trust model's binding, where the check below settles it as the trust model would:
      // for a lower-hex value, `sha256:` + 32 bytes (a digest claimed) is its isSha256Form.
      const lowerHex = interner.isLowerHex(id);
      binding[f] = BINDING_ASK;
      // R12: a sha256 fingerprint is checked against the content; other values cannot be.
      if (digest === null) {
        unverifiable.push(f);
        if (lowerHex) binding[f] = PUBLISHER_DEFINED;
      } else if (sha === undefined) {
        if (lowerHex) binding[f] = UNVERIFIABLE;
      } else {
        // Records of different images often share one string object per digest (one file in
        // many images). Object.is compares references before characters (=== on strings first
        // reads both), and keeping the last matching record's string as the digest makes the
        // next record with that same string object a reference comparison. A digest not made
        // yet (undefined) is the lower-hex fingerprint's tail: compared in place.
        if (
          digest === undefined
            ? sha.length === DIGEST_HEX_LENGTH && fingerprint!.endsWith(sha)
            : Object.is(sha, digest)
        ) {
          shaIsClaimedDigest = true;
          interner.setDigest(id, sha);
          // A sha256 equal to the digest claimed, which is the fingerprint's tail: endsWith.
          if (lowerHex) binding[f] = BOUND;
        } else if (!fingerprintMatchesSha256(fingerprint!, sha)) mismatched.push(f);
      }
    }
    bindingCounts[binding[f]! - BINDING_ASK]!++;
    // Content identity (keys.contentIdentity) of non-empty files: their sha256, when it is not
    // the digest their fingerprint claims (else the fingerprint's: contentIdOf).
    if (bytes > 0 && sha !== undefined && sha !== null && !shaIsClaimedDigest) {
      ownContentId ??= new Int32Array(n).fill(-1);
      ownContentId[f] = interner.contentId(sha);
    }
  }
  return {
    index,
    entry: image,
    manifest,
    n,
    // The columns' paths are made only when read (ManifestColumns.paths).
    get paths(): string[] {
      return paths ?? cols!.paths;
    },
    pathAt: paths ? (f) => paths[f]! : (f) => cols!.pathAt(f),
    pathStore: cols ? cols.pathStore : null,
    regular,
    compressed,
    size,
    nid,
    fpId,
    multiLink,
    ownContentId,
    mismatched,
    unverifiable,
    regularFiles,
    fingerprintedFiles,
    binding,
    bindingCounts,
  };
}

/** Which domain each instance shares in: index into `labels`, -1 when it does not share. */
export interface DomainAssignment {
  domainOf: Int32Array;
  labels: string[];
  unknown: boolean[];
  /**
   * Keys (fpId * labels.length + domain) whose bytes equal another key's under the kernel's
   * concatenation, mapped to one representative (key-collisions.ts); null or absent: none.
   */
  keyAlias?: Map<number, number> | null;
}

export interface CoreResult {
  files: FileTable;
  /** The shared inodes (`Report.groups`), as columns. */
  groups: SharedGroupColumns;
  /** Image of each instance (index into prepared.images), -1 when unknown. */
  imageOf: Int32Array;
  /** Rows of instance i are rowStart[i] .. rowStart[i + 1] - 1 (rows go instance by instance). */
  rowStart: Int32Array;
  /** Sums of `files.pagesWithout` / `files.pagesWith` over each instance's rows. */
  instancePagesWithout: Float64Array;
  instancePagesWith: Float64Array;
  pagesWithout: number;
  pagesWith: number;
  /** pagesWith for the luckiest / unluckiest first member of every order-dependent key. */
  orderBestWith: number;
  orderWorstWith: number;
  orderDependentKeys: number;
  /** Rows of order-dependent keys' candidates. */
  orderRows: number[];
  /**
   * Compact file table (`files.rowsOf`): per instance, how many instances its rows stand for
   * (1 + the instances whose lead it is; 0 for those without rows). null: one per instance.
   */
  copies: Int32Array | null;
}

/**
 * Runs the sharing rules for one domain assignment. `compact`: instances of one class (same
 * image, domain, plain aops class and mount state) after the first get no rows of their own
 * (`files.rowsOf`, docs/metrics.md#compact-file-table).
 */
export function runCore(
  prepared: Prepared,
  instances: readonly ReportInstance[],
  domains: DomainAssignment,
  { pageSize, workingSetFraction }: AnalysisOptions,
  compact = false,
): CoreResult {
  const nInst = instances.length;
  const nDomains = Math.max(1, domains.labels.length);
  const imageOf = new Int32Array(nInst).fill(-1);
  const rowStart = new Int32Array(nInst + 1);
  let classes = compact ? instanceClasses(prepared, instances, domains) : null;
  // A compact table where no instance repeats another's class is the per-instance one (engine.ts
  // reports it so): known before the row pass, which then keeps no per-row counts beside the
  // per-instance ones (two 1M-file images are 2M rows, past COMPACT_FILE_TABLE_ROWS).
  if (classes !== null && classes.rowsOf.every((lead, i) => lead === i)) classes = null;
  const rowsOf = classes?.rowsOf ?? null;
  const copies = classes?.copies ?? null;
  let totalRows = 0;
  for (let i = 0; i < nInst; i++) {
    rowStart[i] = totalRows;
    const img = prepared.byId.get(instances[i]!.imageId);
    if (img) {
      imageOf[i] = img.index;
      if (rowsOf === null || rowsOf[i] === i) totalRows += img.n;
    }
  }
  rowStart[nInst] = totalRows;
  // Preallocated packed arrays (plain arrays: the report must stay JSON-serialisable).
  const files: FileTable = {
    instance: new Array<number>(totalRows).fill(0),
    file: new Array<number>(totalRows).fill(0),
    status: new Array<FileStatus>(totalRows).fill('not-mounted'),
    group: new Array<number>(totalRows).fill(-1),
    pagesWithout: new Array<number>(totalRows).fill(0),
    pagesWith: new Array<number>(totalRows).fill(0),
    size: new Array<number>(totalRows).fill(0),
    hardlinks: { row: [], primary: [] },
  };
  if (rowsOf !== null) files.rowsOf = rowsOf;
  const {
    instance: colInstance,
    file: colFile,
    status: colStatus,
    group: colGroup,
    pagesWithout: colWithout,
    pagesWith: colWith,
    size: colSize,
  } = files;
  const instancePagesWithout = new Float64Array(nInst);
  const instancePagesWith = new Float64Array(nInst);

  // Keys (docs/format.md#sharing-key: fingerprint ++ domain, here (fpId, domain index)) in order of first
  // appearance: a "slot" per key, holding what the first member fixed and how many joined.
  // Key -> slot goes through a dense table when the key space is small (the common case), else a Map.
  const keySpace = prepared.fingerprints.length * nDomains;
  const dense = keySpace <= DENSE_KEY_LIMIT ? new Int32Array(keySpace).fill(-1) : null;
  const slotOfKey = new Map<number, number>();
  // Fixed-size slot tables: there are at most as many keys as rows, and as (fingerprint, domain) pairs.
  const maxSlots = Math.min(totalRows, keySpace);
  /** Keys the kernel's fingerprint ++ domain-id concatenation makes equal (rare; usually null). */
  const keyAlias = domains.keyAlias ?? null;
  let nSlots = 0;
  const slotFirstRow = new Int32Array(maxSlots);
  // The first member's size, fingerprint and domain are read from its row (slotFirstRow) when
  // needed rather than kept per slot: three tables less to fill (~18 MB at 1.1M keys).
  const slotAops = new Uint8Array(maxSlots);
  /** Rows with the slot's key (members and rejected). */
  const slotCandidates = new Int32Array(maxSlots);
  /** Members, the first one included. */
  const slotMembers = new Int32Array(maxSlots);
  // With a compact table a row stands for `copies` instances: the counts above count instances,
  // these count rows (the lengths of the member and rejected lists).
  const slotCandidateRows = copies !== null ? new Int32Array(maxSlots) : slotCandidates;
  const slotMemberRows = copies !== null ? new Int32Array(maxSlots) : slotMembers;
  /** Per instance with rows: pages of its rows that are first members (its copies hold none of them). */
  const firstMemberPages = copies !== null ? new Float64Array(nInst) : null;

  for (let i = 0; i < nInst; i++) {
    const ii = imageOf[i]!;
    if (ii < 0) continue;
    if (rowsOf !== null && rowsOf[i] !== i) continue; // a copy: accounted for below
    /** Instances each row of this instance stands for (compact table), else 1. */
    const mult = copies !== null ? copies[i]! : 1;
    let firstPages = 0;
    const inst = instances[i]!;
    const img = prepared.images[ii]!;
    const mounted = isMounted(inst);
    const dom = domains.domainOf[i]!;
    const plainAops = plainAopsOf(inst);
    const nidRow = new Map<number, number>();
    const { regular, nid, fpId, compressed, multiLink, size: sizes } = img;
    let sumWithout = 0;
    let sumWith = 0;
    for (let f = 0, row = rowStart[i]!; f < img.n; f++, row++) {
      colInstance[row] = i;
      colFile[row] = f;
      const size = regular[f] === 0 ? 0 : sizes[f]!;
      colSize[row] = size;
      if (!mounted) continue; // 'not-mounted', 0 pages
      if (regular[f] === 0) {
        colStatus[row] = 'private-not-regular'; // R1
        continue;
      }
      if (multiLink[f] === 1) {
        // R10: another path of an inode already seen on this instance counts once.
        const inode = nid.get(f)!;
        const primary = nidRow.get(inode);
        if (primary !== undefined) {
          colStatus[row] = 'hardlink';
          files.hardlinks.row.push(row);
          files.hardlinks.primary.push(primary);
          continue;
        }
        nidRow.set(inode, row);
      }
      const pw = workingSetPages(pagesOf(size, pageSize), workingSetFraction); // R7
      colWithout[row] = pw;
      sumWithout += pw;
      const fp = fpId[f]!;
      if (dom < 0 || fp < 0) {
        colStatus[row] = dom < 0 ? 'private-no-inode-share' : 'private-no-fingerprint'; // R2/R3, R4
        colWith[row] = pw;
        sumWith += pw;
        continue;
      }
      const aops = compressed[f] === 1 ? AOPS_COMPRESSED : plainAops;
      let key = fp * nDomains + dom;
      if (keyAlias !== null) key = keyAlias.get(key) ?? key;
      let slot = dense !== null ? dense[key]! : (slotOfKey.get(key) ?? -1);
      if (slot < 0) {
        // First member: creates the shared inode and fixes its aops class and size.
        slot = nSlots++;
        if (dense !== null) dense[key] = slot;
        else slotOfKey.set(key, slot);
        slotFirstRow[slot] = row;
        slotAops[slot] = aops;
        slotCandidates[slot] = mult;
        slotMembers[slot] = mult;
        if (copies !== null) {
          slotCandidateRows[slot] = 1;
          slotMemberRows[slot] = 1;
        }
        // With copies (compact table), the first member's class already makes two members.
        colStatus[row] = mult > 1 ? 'shared' : 'shared-alone';
        colWith[row] = pw;
        sumWith += pw;
        firstPages += pw;
      } else {
        // The kernel checks aops before size (docs/format.md#sharing-key).
        slotCandidates[slot] = slotCandidates[slot]! + mult;
        if (copies !== null) slotCandidateRows[slot] = slotCandidateRows[slot]! + 1;
        if (aops !== slotAops[slot]) {
          colStatus[row] = 'private-aops-mismatch'; // R6
          colWith[row] = pw;
          sumWith += pw;
        } else if (size !== colSize[slotFirstRow[slot]!]) {
          colStatus[row] = 'private-size-mismatch'; // R5
          colWith[row] = pw;
          sumWith += pw;
        } else {
          // A member: its pages are the first member's (pagesWith stays 0).
          colStatus[row] = 'shared';
          const before = slotMembers[slot]!;
          slotMembers[slot] = before + mult;
          if (copies !== null) slotMemberRows[slot] = slotMemberRows[slot]! + 1;
          if (before === 1) colStatus[slotFirstRow[slot]!] = 'shared';
        }
      }
      // The row's group is known once every key has all its candidates: until then the
      // group column holds the row's slot (rather than 8 MiB more of typed arrays at 2M rows:
      // see external memory at the top).
      colGroup[row] = slot;
    }
    instancePagesWithout[i] = sumWithout;
    instancePagesWith[i] = sumWith;
    if (firstMemberPages !== null) firstMemberPages[i] = firstPages;
  }
  // Copies (compact table): the lead's files and fates, but never a first member, so the pages
  // the lead holds as first members are the only difference.
  if (rowsOf !== null && firstMemberPages !== null)
    for (let i = 0; i < nInst; i++) {
      const lead = rowsOf[i]!;
      if (lead === i || imageOf[i]! < 0) continue;
      instancePagesWithout[i] = instancePagesWithout[lead]!;
      instancePagesWith[i] = instancePagesWith[lead]! - firstMemberPages[lead]!;
    }

  // Groups: keys with two or more candidates, in order of first appearance. Their rows are
  // gathered by one sequential pass over the rows into two flat lists, members and rejected,
  // where each group has a range sized by its counts (a counting sort by group), then copied
  // out group by group: this keeps the per-row work off the 100k+ small group arrays.
  const groupOfSlot = new Int32Array(nSlots).fill(-1);
  let nGroups = 0;
  let nMemberRows = 0;
  let nRejectedRows = 0;
  for (let s = 0; s < nSlots; s++) {
    if (slotCandidates[s]! < 2) continue; // alone: stays 'shared-alone', in no group
    groupOfSlot[s] = nGroups++;
    nMemberRows += slotMemberRows[s]!;
    nRejectedRows += slotCandidateRows[s]! - slotMemberRows[s]!;
  }
  /** Group g's members are memberRows[memberStart[g] .. memberStart[g + 1] - 1]; likewise rejected. */
  const memberStart = new Int32Array(nGroups + 1);
  const rejectedStart = new Int32Array(nGroups + 1);
  for (let s = 0; s < nSlots; s++) {
    const g = groupOfSlot[s]!;
    if (g < 0) continue;
    memberStart[g + 1] = memberStart[g]! + slotMemberRows[s]!;
    rejectedStart[g + 1] = rejectedStart[g]! + slotCandidateRows[s]! - slotMemberRows[s]!;
  }
  const memberRows = new Int32Array(nMemberRows);
  const rejectedRows = new Int32Array(nRejectedRows);
  const memberFill = memberStart.slice(0, nGroups);
  const rejectedFill = rejectedStart.slice(0, nGroups);
  for (let row = 0; row < totalRows; row++) {
    const s = colGroup[row]!; // the row's slot (row pass), or -1
    if (s < 0) continue;
    const g = groupOfSlot[s]!;
    colGroup[row] = g;
    if (g < 0) continue;
    // The first member is 'shared', or 'shared-alone' when every other candidate was rejected.
    const status = colStatus[row];
    if (status === 'shared' || status === 'shared-alone') memberRows[memberFill[g]!++] = row;
    else rejectedRows[rejectedFill[g]!++] = row;
  }
  // The groups' own columns, in group order (the slot tables are sized for every key).
  const groupFp = new Int32Array(nGroups);
  const groupDomain = new Int32Array(nGroups);
  const groupAops = new Uint8Array(nGroups);
  const groupSize = new Float64Array(nGroups);
  const groupPages = new Float64Array(nGroups);
  const groupMemberCount = copies !== null ? new Int32Array(nGroups) : null;
  const groupRejectedCount = copies !== null ? new Int32Array(nGroups) : null;
  for (let s = 0; s < nSlots; s++) {
    const g = groupOfSlot[s]!;
    if (g < 0) continue;
    const first = slotFirstRow[s]!;
    const i = colInstance[first]!;
    groupFp[g] = prepared.images[imageOf[i]!]!.fpId[colFile[first]!]!;
    groupDomain[g] = domains.domainOf[i]!;
    groupAops[g] = slotAops[s]!;
    groupSize[g] = colSize[first]!;
    groupPages[g] = colWithout[first]!;
    if (groupMemberCount !== null && groupRejectedCount !== null) {
      groupMemberCount[g] = slotMembers[s]!;
      groupRejectedCount[g] = slotCandidates[s]! - slotMembers[s]!;
    }
  }
  const groupOrderDependent = new Uint8Array(nGroups);
  const groups: SharedGroupColumns = {
    count: nGroups,
    fingerprint: groupFp,
    fingerprints: prepared.fingerprints,
    plainFingerprints: prepared.lowerHexFingerprints,
    domain: groupDomain,
    domainLabels: domains.labels,
    aops: groupAops,
    size: groupSize,
    pages: groupPages,
    memberStart,
    memberRows,
    rejectedStart,
    rejectedRows,
    memberCount: groupMemberCount,
    rejectedCount: groupRejectedCount,
    orderDependent: groupOrderDependent,
  };

  // Order dependence (R5, R6): candidates in several (aops, size) classes; whichever class
  // reads first wins, so the saving of the key is between the best and worst class.
  const aopsOfRow = (r: number): number => {
    const i = colInstance[r]!;
    const compressed = prepared.images[imageOf[i]!]!.compressed[colFile[r]!] === 1;
    return compressed ? AOPS_COMPRESSED : plainAopsOf(instances[i]!);
  };
  const orderRows: number[] = [];
  let orderBestDelta = 0;
  let orderWorstDelta = 0;
  let orderDependentKeys = 0;
  for (let gi = 0; gi < nGroups; gi++) {
    const rejectedFrom = rejectedStart[gi]!;
    const rejectedTo = rejectedStart[gi + 1]!;
    if (rejectedTo === rejectedFrom) continue; // no rejected candidate
    const candidates = mergeSorted(
      memberRows,
      memberStart[gi]!,
      memberStart[gi + 1]!,
      rejectedRows,
      rejectedFrom,
      rejectedTo,
    );
    const sizeClasses = new Map<string, { count: number; pages: number }>();
    for (const r of candidates) {
      const k = `${aopsOfRow(r)}:${colSize[r]}`;
      const n = copies !== null ? copies[colInstance[r]!]! : 1;
      const c = sizeClasses.get(k);
      if (c) c.count += n;
      else sizeClasses.set(k, { count: n, pages: colWithout[r]! });
    }
    const members =
      groupMemberCount !== null ? groupMemberCount[gi]! : memberStart[gi + 1]! - memberStart[gi]!;
    const actual = (members - 1) * groupPages[gi]!;
    let best = actual;
    let worst = actual;
    for (const c of sizeClasses.values()) {
      const saving = (c.count - 1) * c.pages;
      if (saving > best) best = saving;
      if (saving < worst) worst = saving;
    }
    // A rejected candidate alone does not make the key order-dependent: only a read order that
    // changes the key's saving does (e.g. two classes of one file each save 0 whichever reads
    // first), so keys whose every class saves the same are left out (docs/sharing-rules.md#r6).
    if (best === worst) continue;
    for (const r of candidates) if (orderRows.length < MAX_ORDER_ROWS) orderRows.push(r);
    orderBestDelta += best - actual;
    orderWorstDelta += actual - worst;
    orderDependentKeys++;
    groupOrderDependent[gi] = 1;
  }

  let pagesWithoutTotal = 0;
  let pagesWithTotal = 0;
  for (let i = 0; i < nInst; i++) {
    pagesWithoutTotal += instancePagesWithout[i]!;
    pagesWithTotal += instancePagesWith[i]!;
  }
  return {
    files,
    groups,
    imageOf,
    rowStart,
    instancePagesWithout,
    instancePagesWith,
    pagesWithout: pagesWithoutTotal,
    pagesWith: pagesWithTotal,
    orderBestWith: pagesWithTotal - orderBestDelta,
    orderWorstWith: pagesWithTotal + orderWorstDelta,
    orderDependentKeys,
    orderRows,
    copies,
  };
}

/**
 * Instance classes of a compact file table (docs/metrics.md#compact-file-table): instances with
 * the same image, domain (R2, R11: unknown domains are each their own), plain aops class (R6:
 * block device or file-backed) and mount state see every file the same way, and none after the
 * first of its class is ever a first member (instances go in input order), so their rows are
 * the first one's. `rowsOf[i]`: the class's first instance; `copies[lead]`: the class's size.
 */
function instanceClasses(
  prepared: Prepared,
  instances: readonly ReportInstance[],
  domains: DomainAssignment,
): { rowsOf: number[]; copies: Int32Array } {
  const n = instances.length;
  const rowsOf = new Array<number>(n);
  const copies = new Int32Array(n);
  const leadOf = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const inst = instances[i]!;
    const img = prepared.byId.get(inst.imageId);
    const key =
      img === undefined
        ? null
        : isMounted(inst)
          ? `${img.index}:${domains.domainOf[i]}:${plainAopsOf(inst)}`
          : `${img.index}:not-mounted`;
    let lead = key === null ? undefined : leadOf.get(key);
    if (lead === undefined) {
      lead = i;
      if (key !== null) leadOf.set(key, i);
    }
    rowsOf[i] = lead;
    copies[lead] = copies[lead]! + 1;
  }
  return { rowsOf, copies };
}

/** aops class (R6) of an instance's files with an uncompressed layout: by how it attaches the image. */
function plainAopsOf(instance: ReportInstance): number {
  return instance.backing === 'bdev' ? AOPS_BLOCK : AOPS_FILE_BACKED;
}

/** lowerHexForm's answers. */
const NOT_LOWER_HEX = 0;
const LOWER_HEX_OTHER = 1;
const LOWER_HEX_SHA256 = 2;
/** Strings of lower-case hex digits only ('' included). */
const LOWER_HEX = /^[0-9a-f]*$/;

/**
 * Whether every character of a fingerprint is a lower-case hex digit (0-9, a-f; true of ''),
 * and if so whether it has the `sha256:` + 32-byte form. It runs once per distinct fingerprint
 * (1.1M for two 1M-record manifests): V8's compiled regular expression took half the time of a
 * table lookup per character in a JS loop, which itself took half that of two range comparisons
 * (docs/benchmarks.md#analyze-core4-post-read-allocations-and-digits-2026-12-07).
 */
function lowerHexForm(s: string): number {
  if (!LOWER_HEX.test(s)) return NOT_LOWER_HEX;
  return s.length === SHA256_FINGERPRINT_HEX_LENGTH && s.startsWith(SHA256_FINGERPRINT_PREFIX_HEX)
    ? LOWER_HEX_SHA256
    : LOWER_HEX_OTHER;
}

/** The union of two ascending runs of distinct numbers, a[aFrom .. aTo - 1] and b[bFrom .. bTo - 1], ascending. */
function mergeSorted(
  a: Int32Array,
  aFrom: number,
  aTo: number,
  b: Int32Array,
  bFrom: number,
  bTo: number,
): number[] {
  const out: number[] = [];
  let i = aFrom;
  let j = bFrom;
  while (i < aTo || j < bTo) {
    if (j >= bTo || (i < aTo && a[i]! < b[j]!)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}
