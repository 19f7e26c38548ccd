/**
 * Scanning an image into a manifest (docs/manifest.md): one record per path, in path byte
 * order, with the field names and encodings of the fixture oracles.
 */
import { compareUtf8, hex } from './disk/bytes.js';
import { FP_FOUND, FP_UNKNOWN, findInlineFingerprint, type ValueSpan } from './disk/xattr.js';
import type { Inode } from './disk/inode.js';
import { nidOfKey } from './disk/nid.js';
import { ErofsError } from './errors.js';
import type { ErofsImage, XattrRecord } from './image.js';
import { wasmSha256, type HasherFactory } from './hash.js';
import {
  MANIFEST_KIND,
  MANIFEST_VERSION,
  type FileRecord,
  type Manifest,
  type ManifestHeader,
  type ManifestSuperblock,
  type Nid,
} from './manifest-types.js';
import { TreeWalker, type WalkEntry } from './walk.js';

/**
 * Computes the SHA-256 of regular files' content away from the scan's thread (node.ts's
 * DigestPool). The scan asks for a digest as the walk reaches a file and writes the file's
 * record once it has arrived, in path order.
 */
export interface ContentDigester {
  /**
   * Compute the lower-case hex SHA-256 of `ino`'s full decompressed content and give it to
   * `target.digested` (or the reader's error as its second argument), later, once. A callback
   * rather than a promise: a promise per file was a large part of the scan's garbage.
   */
  digest(ino: Inode, target: DigestTarget): void;
  /** Called before the scan waits for a digest: start any work held back to batch it. */
  flush(): void;
  /** The most records a scan holds while their digests are computed (bounds its memory). */
  readonly maxPending: number;
  /** Files of at most this many bytes are hashed by the scan itself (by ScanOptions.hasher). */
  readonly inThreadBytes: number;
  /**
   * Work sharing (optional): a file given to digest() that no other thread has started, taken
   * back for the scan to hash itself (by ScanOptions.hasher) rather than wait idle for a digest;
   * undefined when there is none. The scan then delivers its digest to the job's target.
   */
  takeBack?(): DigestJob | undefined;
  /**
   * Optional: pass on to their targets, now, the digests computed since the last call (the
   * scan calls it before it would wait or take a file back).
   */
  poll?(): void;
}

/** A file whose digest was asked for (ContentDigester.takeBack). */
export interface DigestJob {
  ino: Inode;
  target: DigestTarget;
}

/** Where a ContentDigester delivers one file's digest. */
export interface DigestTarget {
  digested(sha256: string | undefined, error?: unknown): void;
}

export interface ScanProgress {
  files: number;
  bytesHashed: number;
  path: string;
}

export interface ScanOptions {
  imageName: string;
  imageSize: number;
  imageSha256?: string;
  /** Hash the full decompressed content of every regular file. */
  hash?: boolean;
  /** SHA-256 implementation; default hash-wasm (browser and Node). node.ts passes node:crypto. */
  hasher?: HasherFactory;
  /**
   * The lower-case hex SHA-256 of `data` at once, synchronously (node.ts: node:crypto's
   * one-shot hash). With it the walk hashes files of one block without a promise or a hasher
   * object per file (docs/reader.md#small-files-in-the-walking-thread); without it they go
   * through `hasher`.
   */
  hashNow?: (data: Uint8Array) => string;
  /**
   * With `hash`: content digests computed elsewhere (node.ts: worker threads, docs/reader.md#content-digests-on-worker-threads)
   * instead of by `hasher` in this thread. The walk then goes on while digests are computed,
   * holding at most `digester.maxPending` records that wait for theirs, and writes every
   * record in path order as before.
   */
  digester?: ContentDigester;
  onProgress?: (p: ScanProgress) => void;
  /** Report progress every this many records (default 256). */
  progressEvery?: number;
}

/** A 64-bit nid as erofs-utils prints it (`%llu`): a number up to 2^53 - 1, else its decimal string. */
export function nidText(nid: bigint): Nid {
  return nid <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(nid) : nid.toString();
}

/**
 * The kernel's inode number of a record (what `stat` shows, unique per inode: hard links share
 * it): `ino` on METABOX images, else the nid itself (docs/format.md#nid).
 */
export function inodeNumber(rec: Pick<FileRecord, 'nid' | 'ino'>): number {
  if (rec.ino !== undefined) return rec.ino;
  // parseManifest guarantees a number here: a string nid only occurs on METABOX images, whose
  // records always carry ino.
  return typeof rec.nid === 'number' ? rec.nid : Number(rec.nid);
}

export function manifestSuperblock(image: ErofsImage): ManifestSuperblock {
  const sb = image.superblock;
  const metabox = image.hasMetabox;
  const out: ManifestSuperblock = {
    block_size: sb.blockSize,
    blocks: sb.totalBlocks,
    meta_blkaddr: sb.metaBlkaddr,
    xattr_blkaddr: sb.xattrBlkaddr,
    root_nid: nidText(nidOfKey(sb.rootNid, metabox)),
    inodes: sb.inodes,
    sb_size: sb.sbSize,
    feature_compat: sb.compatNames,
    feature_incompat: sb.incompatNames,
    uuid: sb.uuid,
    build_time: sb.buildTime,
    ishare: image.fingerprintXattrName !== null || (sb.featureCompat & 0x20) !== 0,
    fingerprint_xattr_name: image.fingerprintXattrName,
    required_kernel: sb.requiredKernel,
    devices: sb.devices.map((d) => ({ tag: d.tag, blocks: d.blocks, mapped_blkaddr: d.mappedBlkaddr })),
  };
  if (sb.packedNid) out.packed_nid = nidText(nidOfKey(sb.packedNid, metabox));
  if (sb.metaboxNid && sb.sbSize >= 144) out.metabox_nid = sb.metaboxNid;
  return out;
}

/** Shared by every record without xattrs; records are read-only once built. */
const NO_XATTRS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Xattrs as listxattr shows them, name -> hex value, keys in byte order (the oracles' order). */
export function xattrMap(xs: readonly XattrRecord[]): Record<string, string> {
  if (!xs.some((x) => x.listed && x.name !== null)) return NO_XATTRS; // e.g. a fingerprint alone
  const seen = new Map<string, string>();
  for (const x of xs) if (x.listed && x.name !== null && !seen.has(x.name)) seen.set(x.name, hex(x.value));
  const names = [...seen.keys()].sort(compareUtf8);
  const out: Record<string, string> = {};
  for (const n of names) out[n] = seen.get(n)!;
  return out;
}

/**
 * What a record carries beyond its inode (shared by the names of a hard-linked inode): listed
 * xattrs (null: none), the fingerprint's bytes, a symlink's target, the content digest.
 */
interface PerInode {
  xattrs: Record<string, string> | null;
  fingerprint: Uint8Array | null;
  target?: string;
  sha256?: string;
}

const NO_EXTRAS: PerInode = Object.freeze({ xattrs: null, fingerprint: null });

function perInodeOf(xs: readonly XattrRecord[], fp: Uint8Array | null): PerInode {
  const xattrs = xattrMap(xs);
  return { xattrs: xattrs === NO_XATTRS ? null : xattrs, fingerprint: fp };
}

async function xattrInfo(image: ErofsImage, ino: Inode): Promise<PerInode> {
  const xs = await image.xattrsOf(ino);
  return perInodeOf(xs, await image.fingerprintOf(ino, xs));
}

async function hashInode(
  image: ErofsImage,
  ino: Inode,
  hasher: HasherFactory,
  scratch: Uint8Array,
  onBytes: (n: number) => void,
): Promise<string> {
  const h = await hasher();
  await image.forEachDataPiece(ino, scratch, (piece) => {
    h.update(piece);
    onBytes(piece.length);
  });
  return h.digestHex();
}

/**
 * One path's record as the scan has it, before any object or string is made of it: the
 * walk's entry (path as string and bytes, decoded inode) and what the record adds. A field
 * sink reads it during its call only: the scan reuses the object, and `fingerprint` may view
 * a buffer the next path overwrites. recordOf() makes the manifest record of it.
 */
export interface RecordFields {
  /** The path ("/" for the root) as the manifest writes it (names decoded as UTF-8,
   * docs/manifest.md). Made when first read: an ASCII path is written from its bytes. */
  readonly path: string;
  /** The path's raw bytes (names need not be UTF-8): a view of pathBuf, made when read. */
  readonly pathBytes: Uint8Array;
  /**
   * Where the path's bytes are, without a view per path: pathBuf[pathStart, pathStart +
   * pathLength) (the walk's slab, which later paths share).
   */
  pathBuf: Uint8Array;
  pathStart: number;
  pathLength: number;
  inode: Inode;
  /** The nid as erofs-utils prints it (see Nid). */
  nid: Nid;
  /** METABOX images only: the kernel's inode number. */
  ino: number | undefined;
  /** Listed xattrs, name -> hex value in the manifest's key order; null when none are listed. */
  xattrs: Record<string, string> | null;
  /** The fingerprint xattr's value (docs/format.md#fingerprints), or null. */
  fingerprint: Uint8Array | null;
  target: string | undefined;
  sha256: string | undefined;
}

/** The RecordFields a scan reuses from path to path; the path string only when read. */
class ScanFields implements RecordFields {
  pathBuf: Uint8Array;
  pathStart: number;
  pathLength: number;
  inode: Inode;
  nid: Nid = 0;
  ino: number | undefined = undefined;
  xattrs: Record<string, string> | null = null;
  fingerprint: Uint8Array | null = null;
  target: string | undefined = undefined;
  sha256: string | undefined = undefined;
  constructor(public entry: WalkEntry) {
    this.pathBuf = entry.pathBuf;
    this.pathStart = entry.pathStart;
    this.pathLength = entry.pathLength;
    this.inode = entry.inode;
  }
  get pathBytes(): Uint8Array {
    return this.pathBuf.subarray(this.pathStart, this.pathStart + this.pathLength);
  }
  get path(): string {
    return this.entry.path;
  }
}

/** The manifest record of a scan's fields (docs/manifest.md; the fixture oracles' field order). */
export function recordOf(f: RecordFields): FileRecord {
  const ino = f.inode;
  const rec = {
    path: f.path,
    nid: f.nid,
    ...(f.ino !== undefined ? { ino: f.ino } : {}),
    type: ino.type,
    mode: (ino.mode & 0o7777).toString(8).padStart(4, '0'),
    uid: ino.uid,
    gid: ino.gid,
    size: ino.size,
    nlink: ino.nlink,
    mtime: ino.mtime,
    mtime_nsec: ino.mtimeNsec,
    layout: ino.layoutName,
    inode_size: ino.inodeSize,
    xattr_isize: ino.xattrIsize,
  } as FileRecord;
  if (f.target !== undefined) rec.target = f.target;
  if (ino.rdev) rec.rdev = [ino.rdev[0], ino.rdev[1]];
  rec.xattrs = f.xattrs ?? NO_XATTRS;
  rec.fingerprint = f.fingerprint ? hex(f.fingerprint) : null;
  if (f.sha256 !== undefined) rec.sha256 = f.sha256;
  return rec;
}

/**
 * Where a streamed scan puts its output: the header (with file_count) first, then every record
 * in path byte order. A method may return a promise (a full output buffer waiting to drain):
 * the scan waits for it, and never otherwise, so a scan that writes nothing slow pays no
 * promise per record.
 */
export interface ManifestSink {
  header(h: ManifestHeader): void | Promise<void>;
  record(rec: FileRecord): void | Promise<void>;
}

/**
 * A ManifestSink that takes each path's fields instead of a record object (e.g. to write JSON
 * bytes straight from them, manifest-encode.ts): a scan of a million paths then builds no
 * object or string per path for its output. `f` is valid during the call only, and so is
 * `f.inode` (a scan without digest threads reuses its inode objects, walk.ts reuseEntries).
 */
export interface ManifestFieldSink {
  header(h: ManifestHeader): void | Promise<void>;
  file(f: RecordFields): void | Promise<void>;
}

/**
 * A ManifestFieldSink that can take records before their header (the CLI's NDJSON and JSON
 * writers): from holdUntilHeader() on it keeps their output, unwritten, and header() writes
 * the header and then them. scanManifestTo then needs no first pass over the directories to
 * count the paths for file_count: the walk's own count is it, once the walk ends
 * (docs/manifest.md#scanning-at-scale). A sink holds at most MAX_HELD_BYTES before the scan
 * counts the paths after all and gives the header.
 */
export interface HeaderLaterSink extends ManifestFieldSink {
  /** Hold the records given from now on until header(). */
  holdUntilHeader(): void;
  /** Bytes of records held (0 once the header has been given). */
  readonly heldBytes: number;
}

/**
 * A field sink that can also give a record's bytes in its form without writing them, and take
 * such bytes later (the CLI's NDJSON and JSON writers). With digest threads the scan then
 * encodes every record as the walk reaches it, a record whose digest is still being computed
 * with a placeholder that it overwrites once the digest has arrived, and hands the bytes on in
 * path order: it holds bytes and one small object per outstanding digest, not a record's
 * entry, inode and fields per path (docs/benchmarks.md, verify-walk2).
 */
export interface RecordBytesSink extends ManifestFieldSink {
  /** At most the bytes recordBytes() writes for `f`. */
  recordBound(f: RecordFields): number;
  /**
   * Write the record of `f` as file(f) would append it (separators included) into `out` at
   * `pos`; returns the position after it. The record's sha256, when it has one, is its last
   * field: its 64 hex digits end 2 bytes before the record's last "}".
   */
  recordBytes(f: RecordFields, out: Uint8Array, pos: number): number;
  /** Append bytes recordBytes() wrote, after the records given so far (copied: `b` is reused). */
  copyBytes(b: Uint8Array): void | Promise<void>;
}

/**
 * The most output a HeaderLaterSink holds before the scan counts the paths (a pass over the
 * directories) and gives the header: 32 MiB holds the NDJSON of about 80,000 paths (the
 * 56,126 of /usr/share: 21 MB) and bounds a larger image's scan as before plus this much.
 */
export const MAX_HELD_BYTES = 32 << 20;

/**
 * One step of the sorted walk inside a directory: a child's own record (key: its name) or, for
 * a child directory, its whole subtree (key: name + "/"). Sorting these steps by key is sorting
 * the paths below the directory by their bytes: "/a" < "/a.txt" < "/a/x", since "." (0x2e)
 * sorts before "/" (0x2f), so a directory's record and its subtree need not be adjacent.
 */
class Subtree {
  constructor(readonly entry: WalkEntry) {}
}
/** A child itself (its record), or a child directory's subtree: no object for the former. */
type Step = WalkEntry | Subtree;

/**
 * The steps of a directory in key order, without a sort. `children` come in strictly
 * increasing name byte order (the dirent checks refuse anything else, docs/format.md#dir-order),
 * so the only steps out of that order are subtrees: a child directory D's subtree (key D + "/")
 * goes right before the first later sibling whose name is not D followed by a byte below "/"
 * (e.g. "D-x" and "D.txt" come before "D/", "D0" after it). Directories whose subtree is still
 * to place wait on a stack: each one's name is a prefix of the next one's, so the top's goes
 * first. The same steps the comparison sort of key order gave (test/manifest-order.test.ts).
 */
function stepsOf(children: readonly WalkEntry[], steps: Step[], open: WalkEntry[]): Step[] {
  // Written by index into the caller's arrays (one per level of the walk, kept from one
  // directory to the next): new arrays grown step by step were ~50 MB of a 1M-path scan.
  let n = 0;
  let o = 0;
  for (let i = 0; i < children.length; i++) {
    const entry = children[i]!;
    while (o > 0 && subtreeFirst(open[o - 1]!, entry)) steps[n++] = new Subtree(open[--o]!);
    steps[n++] = entry;
    if (entry.inode.type === 'dir') open[o++] = entry;
  }
  while (o > 0) steps[n++] = new Subtree(open[--o]!);
  // `open` is empty again (o = 0); its stale slots are overwritten by the next directory.
  steps.length = n;
  return steps;
}

/** Whether the subtree key of directory `dir` (its path + "/") sorts before a later sibling's path. */
function subtreeFirst(dir: WalkEntry, later: WalkEntry): boolean {
  const a = dir.pathBuf;
  const b = later.pathBuf;
  const as = dir.pathStart;
  const bs = later.pathStart;
  const al = dir.pathLength;
  const bl = later.pathLength;
  const n = Math.min(al, bl);
  for (let i = 0; i < n; i++) if (a[as + i] !== b[bs + i]) return a[as + i]! < b[bs + i]!;
  // `later` sorts after `dir`, so here `dir` is a proper prefix of it.
  return al < bl && b[bs + al]! > SLASH;
}
const SLASH = 0x2f;

/**
 * The number of paths of an image (the header's file_count, which precedes the records), from
 * its directories alone: the dirent file type says which children are directories (docs/format.md#dirent),
 * so only directory inodes are read. Throws on anything the walk would refuse, and (EINVAL)
 * when `opts.stopped()` says so before a directory is read (a thread whose count is no longer
 * wanted ends on its own: docs/development.md#how-worker-threads-end).
 */
export async function countPaths(image: ErofsImage, opts: { stopped?: () => boolean } = {}): Promise<number> {
  const stopped = opts.stopped;
  const maxInodes = image.limits.maxInodesWalked;
  const visited = new Set<number>();
  const stack: Inode[] = [image.root];
  let count = 1;
  // Children that may be directories (by dirent type), read once the whole directory passed
  // its checks, as the walk reads them.
  const maybeDirs: number[] = [];
  let over = false;
  const visit = (nid: number, fileType: number, name: Uint8Array, start: number, end: number): void => {
    // "." and "..": not paths of their own
    if (name[start] === 0x2e && (end - start === 1 || (end - start === 2 && name[start + 1] === 0x2e)))
      return;
    if (++count > maxInodes) over = true;
    if (fileType === FT_DIR || fileType === 0) maybeDirs.push(nid);
  };
  while (stack.length) {
    const dir = stack.pop()!;
    if (visited.has(dir.nid)) throw new ErofsError('ECORRUPT', `directory cycle at nid ${dir.nid}`);
    if (stopped?.()) throw new ErofsError('EINVAL', 'the count was stopped');
    visited.add(dir.nid);
    maybeDirs.length = 0;
    await image.forEachDirent(dir, visit);
    if (over) throw new ErofsError('ELIMIT', `more than ${maxInodes} entries walked`);
    for (const nid of maybeDirs) {
      const ino = image.inodeNow(nid) ?? (await image.inode(nid));
      if (ino.type === 'dir') stack.push(ino);
    }
  }
  return count;
}
const FT_DIR = 2;

/**
 * Scan an image into `sink` without holding its records: the header (file_count from a first
 * pass over the directories), then one record per path, written as the walk reaches it. The
 * walk visits each directory's entries in path byte order (stepsOf), so the records come out
 * in exactly the order of the whole-manifest sort, one directory's entries in memory per level.
 * Hard links share per-inode work (xattrs, fingerprint, target, digest). A ManifestFieldSink
 * gets each path's fields, a ManifestSink its record object.
 */
export async function scanManifestTo(
  image: ErofsImage,
  opts: ScanOptions,
  sink: ManifestSink | ManifestFieldSink,
): Promise<ManifestHeader> {
  if ('holdUntilHeader' in sink) return scanHoldingHeader(image, opts, sink as HeaderLaterSink);
  let count: number;
  try {
    count = await countPaths(image);
  } catch (countError) {
    // A broken tree: the walk names the problem as a whole scan always has (with its path);
    // whatever the walk does not refuse, the count's error says.
    await walkRecords(image, opts, () => undefined, { max: Infinity });
    throw countError;
  }
  const header = scanHeader(image, opts, count);
  const h = sink.header(header);
  if (h) await h;
  const file =
    'file' in sink ? (f: RecordFields) => sink.file(f) : (f: RecordFields) => sink.record(recordOf(f));
  const written = await walkRecords(image, opts, file, { max: count });
  if (written !== count)
    throw new ErofsError('ECORRUPT', `the tree changed between passes: ${count} paths, then ${written}`);
  return header;
}

/** The header of a scan of `image` with `opts` that wrote `count` records. */
export function scanHeader(image: ErofsImage, opts: ScanOptions, count: number): ManifestHeader {
  const image_: ManifestHeader['image'] = { name: opts.imageName, size: opts.imageSize };
  if (opts.imageSha256 !== undefined) image_.sha256 = opts.imageSha256;
  return {
    kind: MANIFEST_KIND,
    version: MANIFEST_VERSION,
    image: image_,
    superblock: manifestSuperblock(image),
    hashed: !!opts.hash,
    file_count: count,
  };
}

/**
 * scanManifestTo into a sink that holds records until their header: the walk starts at once,
 * and file_count is the number of records it wrote, unless the sink came to hold
 * MAX_HELD_BYTES first (then the paths are counted there and then, as before the walk
 * otherwise). The same records, header and errors as counting first: a tree the count
 * refuses is one the walk refuses (the walk checks all the count does and more), and the
 * walk's error comes first as it does there; a walk that fails before the header was given
 * writes nothing (the held records are dropped).
 */
async function scanHoldingHeader(
  image: ErofsImage,
  opts: ScanOptions,
  sink: HeaderLaterSink,
): Promise<ManifestHeader> {
  sink.holdUntilHeader();
  let header: ManifestHeader | undefined;
  let countError: unknown;
  let counted = false;
  const limit = { max: Infinity };
  const countNow = async (): Promise<void> => {
    counted = true;
    let count: number;
    try {
      count = await countPaths(image);
    } catch (e) {
      // As when counting first: the walk goes on writing nothing, and its error comes first.
      countError = e;
      return;
    }
    limit.max = count;
    header = scanHeader(image, opts, count);
    const h = sink.header(header);
    if (h) await h;
  };
  const file = (f: RecordFields): void | Promise<void> => {
    if (countError !== undefined) return;
    const p = sink.file(f);
    if (!counted && sink.heldBytes > MAX_HELD_BYTES) return p ? p.then(countNow) : countNow();
    return p;
  };
  let later: RecordBytesSink | undefined;
  if ('recordBytes' in sink) {
    const s = sink as HeaderLaterSink & RecordBytesSink;
    later = {
      header: () => undefined,
      file,
      recordBound: (f) => s.recordBound(f),
      recordBytes: (f, out, pos) => s.recordBytes(f, out, pos),
      copyBytes: (b) => {
        if (countError !== undefined) return;
        const p = s.copyBytes(b);
        if (!counted && s.heldBytes > MAX_HELD_BYTES) return p ? p.then(countNow) : countNow();
        return p;
      },
    };
  }
  const written = await walkRecords(image, opts, file, limit, undefined, later);
  if (countError !== undefined) throw countError;
  if (header === undefined) {
    header = scanHeader(image, opts, written);
    const h = sink.header(header);
    if (h) await h;
  } else if (written !== header.file_count)
    throw new ErofsError(
      'ECORRUPT',
      `the tree changed between passes: ${header.file_count} paths, then ${written}`,
    );
  return header;
}

/**
 * A metadata scan shared between threads by the root directory's steps (stepsOf: a child's
 * record, or a child directory's whole subtree), in path byte order: concatenated in step
 * order, the records of the steps are the records of the whole scan after the root's own
 * (docs/manifest.md#scanning-on-two-threads). Each walk takes the steps `claim` gives it.
 */
export interface RootStepShare {
  /** Whether this walk writes the root's own record (the part that comes first). */
  readonly withRoot: boolean;
  /**
   * The index of the next root step this walk takes, of the `steps` the root has; undefined
   * when it takes no more. Every record until the next call belongs to that step.
   */
  claim(steps: number): number | undefined;
}

/**
 * The records of the root steps `share` gives this walk (and the root's, if it says so) in
 * order, into `file`, without a header or a count of the paths first: the part of one thread
 * in a scan shared between threads (RootStepShare). Returns the number of records written.
 * The walk checks what the whole scan's walk checks on its part; a tree whose fault lies
 * between parts (a directory reached from two of them) is one countPaths() refuses.
 */
export function scanSharedTo(
  image: ErofsImage,
  opts: ScanOptions,
  share: RootStepShare,
  file: (f: RecordFields) => void | Promise<void>,
): Promise<number> {
  return walkRecords(image, opts, file, { max: Infinity }, share);
}

/**
 * The sorted walk of scanManifestTo; returns the number of records written (at most
 * `limit.max`, which may be lowered while the walk runs: scanHoldingHeader's count).
 */
async function walkRecords(
  image: ErofsImage,
  opts: ScanOptions,
  file: (f: RecordFields) => void | Promise<void>,
  limit: { max: number },
  share?: RootStepShare,
  bytesSink?: RecordBytesSink,
): Promise<number> {
  const hasher = opts.hasher ?? wasmSha256;
  const digester = opts.hash ? opts.digester : undefined;
  // With digest threads and a sink that takes bytes: records encoded at once (see below).
  const later = digester ? bytesSink : undefined;
  // Files of this scan hashed here, in the walk (no digester).
  // With a digester, files of at most `digester.inThreadBytes` too: shipping a tiny file to
  // another thread and its digest back costs more than hashing it here.
  const hashHere = (ino: Inode): boolean =>
    !!opts.hash && ino.type === 'file' && (!digester || ino.size <= digester.inThreadBytes);
  const every = Math.max(1, opts.progressEvery ?? 256);
  // The reader names inodes by their kernel inode number (disk/nid.ts); the manifest carries
  // the nid erofs-utils prints (bit 63 for METABOX inodes) and, on METABOX images, both.
  const metabox = image.hasMetabox;
  const shared = new Map<number, PerInode>(); // only inodes with nlink > 1
  let bytesHashed = 0;
  let written = 0;
  let scratch: Uint8Array | undefined; // one read buffer for every hashed file (sequential)
  // One buffer for the inline xattr areas (the largest is 12 + 4 * 65535 bytes): the
  // fingerprint a path's fields view lives there until the next path.
  let xattrScratch = new Uint8Array(0);
  // The fingerprint's place in the area (findInlineFingerprint), and the buffer it is copied
  // to: `fields.fingerprint` until the next path.
  const fpSpan: ValueSpan = { start: 0, length: 0 };
  let fpScratch = new Uint8Array(0);
  // Without digest threads a record is written before the walk reads another directory, so
  // the walker may reuse its entries and their inodes (no object per path); with them, records
  // wait for their digests, holding their entries.
  // With `later` (below) records are encoded at once and only a file whose digest is
  // outstanding is held, by a copy of its inode: the walker may reuse its entries there too.
  const walker = new TreeWalker(image, { reuseEntries: !digester || !!later });
  const perInode = async (e: WalkEntry): Promise<PerInode> => {
    const ino = e.inode;
    try {
      const per: PerInode = ino.xattrIsize === 0 ? { ...NO_EXTRAS } : await xattrInfo(image, ino);
      if (ino.type === 'symlink') per.target = await image.readlinkInode(ino);
      if (hashHere(ino))
        per.sha256 = await hashInode(
          image,
          ino,
          hasher,
          (scratch ??= new Uint8Array(image.limits.streamChunkSize)),
          (n) => (bytesHashed += n),
        );
      if (ino.nlink > 1) shared.set(ino.nid, per);
      return per;
    } catch (err) {
      throw err instanceof ErofsError ? err.withPath(e.path) : err;
    }
  };
  const fields = new ScanFields(walker.root);
  // Most entries of an unhashed scan need no reads but their inline xattrs, and on a
  // fingerprinting image hold the fingerprint alone: fill `fields` without a promise or an
  // object for them (true), else leave it to perInode (false).
  const fpName = image.fingerprintXattrName;
  const prefixes = image.prefixes;
  const maxXattrs = image.limits.maxXattrCount;
  // Files the walk hashes itself at once (hashNow) when their content fits one block:
  // read with dataNow into this buffer, hashed in one call.
  const hashNow = opts.hashNow;
  const smallBytes = hashNow ? image.blockSize : -1;
  let smallScratch: Uint8Array | undefined;
  // The digest of a file hashHere() picks, when it can be had synchronously; else undefined.
  const digestNow = (ino: Inode): string | undefined => {
    if (ino.size > smallBytes) return undefined;
    const data = image.dataNow(ino, (smallScratch ??= new Uint8Array(smallBytes)));
    if (!data) return undefined;
    bytesHashed += data.length;
    return hashNow!(data);
  };
  const fillNow = (ino: Inode): boolean => {
    const known = ino.nlink > 1 ? shared.get(ino.nid) : undefined;
    if (known) {
      fields.xattrs = known.xattrs;
      fields.fingerprint = known.fingerprint;
      fields.target = known.target;
      fields.sha256 = known.sha256;
      return true;
    }
    if (ino.type === 'symlink') return false;
    const hashed = hashHere(ino);
    if (hashed && ino.size > smallBytes) return false;
    fields.target = undefined;
    fields.sha256 = undefined;
    if (ino.xattrIsize === 0) {
      fields.xattrs = null;
      fields.fingerprint = null;
      if (hashed) {
        // perInode's order: xattrs (none), then the content
        const sha = digestNow(ino);
        if (sha === undefined) return false;
        fields.sha256 = sha;
        if (ino.nlink > 1) shared.set(ino.nid, { xattrs: null, fingerprint: null, sha256: sha });
      }
      return true;
    }
    // Read where the block cache holds it (docs/reader.md#metadata-in-place), unless the
    // content is read next (digestNow), which may replace the cache block the fingerprint views.
    const at = hashed ? -1 : image.xattrAreaAt(ino);
    let area: Uint8Array;
    let found: number;
    if (at >= 0) {
      area = image.cachedBytes;
      found = findInlineFingerprint(area, maxXattrs, prefixes, fpName, at, ino.xattrIsize, fpSpan);
    } else {
      // Exactly the area's size (images repeat one size): the area is the buffer, not a view of it.
      if (xattrScratch.length !== ino.xattrIsize) xattrScratch = new Uint8Array(ino.xattrIsize);
      const read = image.xattrAreaNow(ino, xattrScratch);
      if (!read) return false;
      area = read;
      found = findInlineFingerprint(area, maxXattrs, prefixes, fpName, 0, area.length, fpSpan);
    }
    let per: PerInode;
    if (found !== FP_UNKNOWN) {
      let fp: Uint8Array | null = null;
      if (found === FP_FOUND) {
        // Copied into one buffer of the value's size (one size per image): no view per path.
        const { start, length } = fpSpan;
        if (fpScratch.length !== length) fpScratch = new Uint8Array(length);
        for (let i = 0; i < length; i++) fpScratch[i] = area[start + i]!;
        fp = fpScratch;
      }
      if (hashed) {
        const sha = digestNow(ino);
        if (sha === undefined) return false;
        fields.sha256 = sha;
      }
      fields.xattrs = null;
      fields.fingerprint = fp;
      if (ino.nlink <= 1) return true;
      per = { xattrs: null, fingerprint: fp && fp.slice(), sha256: fields.sha256 };
    } else {
      const xs = image.xattrsNow(ino);
      if (!xs) return false;
      // fingerprintOf(ino, xs), without its promise
      let value: Uint8Array | null = null;
      if (fpName !== null)
        for (const x of xs)
          if (x.name === fpName) {
            value = x.value;
            break;
          }
      per = perInodeOf(xs, value);
      if (hashed) {
        const sha = digestNow(ino);
        if (sha === undefined) return false;
        per.sha256 = sha;
      }
    }
    if (ino.nlink > 1) shared.set(ino.nid, per);
    fields.xattrs = per.xattrs;
    fields.fingerprint = per.fingerprint;
    fields.sha256 = per.sha256;
    return true;
  };
  // Writing a record: the sink gets `fields`, filled from the walk or from a waiting record.
  // Every step below returns a promise only when it must wait (a sink's full output buffer, a
  // digest not computed yet, perInode's reads): a promise per record was most of the walk's
  // garbage (docs/reader.md#small-files-in-the-walking-thread).
  const counted = (e: WalkEntry): void => {
    if (++written % every === 0) opts.onProgress?.({ files: written, bytesHashed, path: e.path });
  };
  const write = (e: WalkEntry): void | Promise<void> => {
    const p = file(fields);
    if (p) return p.then(() => counted(e));
    counted(e);
  };
  // With a digester: records that wait for a digest (theirs or an earlier record's), in path
  // order from `head`; a record goes out once every record before it has.
  const waiting: (Waiting | undefined)[] = [];
  let head = 0;
  // The first name's record of each hard-linked file whose digest was asked for, by inode:
  // later names take its digest (the first is written before them).
  const linkDigests = new Map<number, Waiting | Slot>();
  const onDigest = (n: number): void => {
    bytesHashed += n;
  };
  const writeWaiting = (w: Waiting): void | Promise<void> => {
    const e = w.entry;
    fields.entry = e;
    fields.pathBuf = e.pathBuf;
    fields.pathStart = e.pathStart;
    fields.pathLength = e.pathLength;
    fields.inode = e.inode;
    fields.nid = w.nid;
    fields.ino = w.ino;
    fields.xattrs = w.xattrs;
    fields.fingerprint = w.fingerprint;
    fields.target = w.target;
    fields.sha256 = w.link ? w.link.sha256 : w.sha256;
    return write(w.entry);
  };
  /**
   * The scan waits for `t`'s digest, outstanding: the digester flushed, then undefined when a
   * poll finds it done already (its thread's message comes only once this thread waits); else,
   * rather than wait idle, a file no thread has started hashed here, or a wait for the digest.
   */
  const waitForDigest = (t: Outstanding): Promise<void> | undefined => {
    digester!.flush();
    if (digester!.poll) {
      digester!.poll();
      if (t.state !== PENDING) return undefined;
    }
    const job = digester!.takeBack?.();
    if (job) return hashTakenBack(job);
    return new Promise<void>((resolve) => (t.wake = resolve));
  };
  /**
   * Write the waiting records that can go, as far as it can without waiting; a promise to await
   * before calling it again when it had to stop (a digest to wait for, with `all` or a full
   * queue; or a sink's write), undefined when done. With `all`, every record (end of the walk).
   */
  const drainNow = (all: boolean): Promise<void> | undefined => {
    while (head < waiting.length) {
      const w = waiting[head]!;
      if (w.state === PENDING) {
        // Wait only when the scan holds as many records as it may (or at the end).
        if (!all && waiting.length - head < digester!.maxPending) break;
        const p = waitForDigest(w);
        if (p) return p;
        continue;
      }
      if (w.state === FAILED) {
        const err = w.error;
        throw err instanceof ErofsError ? err.withPath(w.entry.path) : err;
      }
      waiting[head++] = undefined;
      const p = writeWaiting(w);
      if (p) return p;
    }
    if (head === waiting.length) {
      waiting.length = 0;
      head = 0;
    } else if (head > 4096) {
      waiting.splice(0, head);
      head = 0;
    }
    return undefined;
  };
  /** Hash a file taken back from the digester here and deliver its digest (or error) to it. */
  const hashTakenBack = async (job: DigestJob): Promise<void> => {
    let sha: string;
    try {
      sha = await hashInode(
        image,
        job.ino,
        hasher,
        (scratch ??= new Uint8Array(image.limits.streamChunkSize)),
        noBytes,
      );
    } catch (err) {
      job.target.digested(undefined, err);
      return;
    }
    job.target.digested(sha);
  };
  const drain = (all: boolean): void | Promise<void> => {
    const p = later ? sendLaterNow(all) : drainNow(all);
    if (p) return drainAfter(p, all);
  };
  const drainAfter = async (first: Promise<void>, all: boolean): Promise<void> => {
    let p: Promise<void> | undefined = first;
    while (p) {
      await p;
      p = later ? sendLaterNow(all) : drainNow(all);
    }
  };
  let emitted = 0;
  const emit = (e: WalkEntry): void | Promise<void> => {
    walker.visit(e);
    if (emitted >= limit.max)
      throw new ErofsError('ECORRUPT', `the tree changed between passes: more than ${limit.max} paths`);
    emitted++;
    const ino = e.inode;
    let ready: boolean;
    try {
      ready = fillNow(ino);
    } catch (err) {
      throw err instanceof ErofsError ? err.withPath(e.path) : err;
    }
    return ready ? emitFilled(e) : emitAfterReads(e);
  };
  /** emit() of a path whose extras need perInode's (asynchronous) reads. */
  const emitAfterReads = async (e: WalkEntry): Promise<void> => {
    const per = await perInode(e);
    fields.xattrs = per.xattrs;
    fields.fingerprint = per.fingerprint;
    fields.target = per.target;
    fields.sha256 = per.sha256;
    const p = emitFilled(e);
    if (p) await p;
  };
  /** The rest of emit() once `fields` holds the path's extras: write, or queue behind a digest. */
  const emitFilled = (e: WalkEntry): void | Promise<void> => {
    const ino = e.inode;
    fields.entry = e;
    fields.pathBuf = e.pathBuf;
    fields.pathStart = e.pathStart;
    fields.pathLength = e.pathLength;
    fields.inode = ino;
    if (metabox) {
      fields.nid = nidText(nidOfKey(ino.nid, true));
      fields.ino = ino.nid;
    } else fields.nid = ino.nid;
    let digest = false;
    let link: Waiting | Slot | undefined;
    if (digester && ino.type === 'file' && !hashHere(ino)) {
      link = ino.nlink > 1 ? linkDigests.get(ino.nid) : undefined;
      if (link && link.state === DONE) {
        fields.sha256 = link.sha256;
        link = undefined;
      } else if (!link) digest = true;
    }
    if (later) return emitLater(e, digest, link);
    // Nothing waits and nothing to wait for: straight out.
    if (!digest && !link && head === waiting.length) return write(e);
    const w = new Waiting(
      e,
      fields.nid,
      fields.ino,
      fields.xattrs,
      // may view the walk's xattr scratch, which the next path overwrites
      fields.fingerprint && fields.fingerprint.slice(),
      fields.target,
      fields.sha256,
      link as Waiting | undefined,
      digest ? onDigest : undefined,
    );
    waiting.push(w);
    if (digest) {
      if (ino.nlink > 1) linkDigests.set(ino.nid, w);
      digester!.digest(ino, w);
    }
    return drain(false);
  };
  // With `later` (a RecordBytesSink): while a digest is outstanding, every record is encoded
  // at once into `chunk` (the sink's form), a file whose digest is outstanding with
  // PLACEHOLDER_SHA256 and a Slot that says where its digest goes; the bytes go to the sink in
  // path order up to the first slot without its digest. The walk holds bytes and a Slot per
  // outstanding digest instead of a Waiting record (entry, inode, fingerprint copy) per path,
  // which was the walking thread's garbage (docs/benchmarks.md, verify-usr).
  let chunk: Uint8Array = new Uint8Array(0);
  let chunkUsed = 0;
  // Bytes encoded and not yet given to the sink: chunks[0] from `sentAt` to the last chunk's
  // `chunkUsed` (chunk is the last one).
  const chunks: Uint8Array[] = [];
  // Where each chunk but the last ends (its bytes after that were never written).
  const chunkEnds: number[] = [];
  let sentAt = 0;
  const spare: Uint8Array[] = [];
  // Records (and their bytes) encoded into the chunks, and of them given to the sink: the scan
  // holds at most LATER_HELD_BYTES and maxPending outstanding digests (sendLaterNow).
  let encodedCount = 0;
  let sentCount = 0;
  let encodedBytes = 0;
  let sentBytes = 0;
  const slots: (Slot | undefined)[] = [];
  let slotHead = 0;
  const emitLater = (
    e: WalkEntry,
    digest: boolean,
    link: Waiting | Slot | undefined,
  ): void | Promise<void> => {
    // Nothing held and nothing to wait for: straight out.
    if (!digest && !link && encodedCount === sentCount) return write(e);
    if (digest || link) fields.sha256 = PLACEHOLDER_SHA256;
    const bound = later!.recordBound(fields);
    if (chunkUsed + bound > chunk.length) {
      // A new chunk after the last one's bytes end (or in place of it, all sent).
      if (chunks.length === 1 && sentAt === chunkUsed) {
        chunks.length = 0;
        chunkEnds.length = 0;
        sentAt = 0;
        if (chunk.length === CHUNK_BYTES) spare.push(chunk);
      } else if (chunks.length > 0) chunkEnds[chunks.length - 1] = chunkUsed;
      const size = Math.max(CHUNK_BYTES, bound);
      chunk = (size === CHUNK_BYTES && spare.pop()) || new Uint8Array(size);
      chunkUsed = 0;
      chunks.push(chunk);
    }
    const start = chunkUsed;
    chunkUsed = later!.recordBytes(fields, chunk, start);
    encodedCount++;
    encodedBytes += chunkUsed - start;
    counted(e);
    if (!digest && !link) return drain(false);
    let brace = chunkUsed - 1;
    while (chunk[brace] !== 0x7d) brace--;
    // The entry and its inode are the walker's, reused for a later path: the slot keeps the
    // path (for an error) and the digester an inode of its own.
    const ino = e.inode;
    const s = new Slot(
      e.path,
      ino.size,
      chunk,
      start,
      brace - 65,
      encodedCount - 1,
      link as Slot | undefined,
      digest ? onDigest : undefined,
    );
    slots.push(s);
    if (!digest) return drain(false);
    if (ino.nlink > 1) linkDigests.set(ino.nid, s);
    const own = image.inodeNow(ino.nid);
    if (own) {
      digester!.digest(own, s);
      return drain(false);
    }
    return image.inode(ino.nid).then((i) => {
      digester!.digest(i, s);
      return drain(false);
    });
  };
  /**
   * drainNow() of the encoded records: give the sink the bytes before the first slot without
   * its digest (filling in the digests on the way), as far as it can without waiting.
   */
  const sendLaterNow = (all: boolean): Promise<void> | undefined => {
    while (slotHead < slots.length) {
      const s = slots[slotHead]!;
      if (s.state === PENDING) {
        // The bound on what the scan holds: maxPending outstanding digests (not records, which
        // are bytes here), and LATER_HELD_BYTES of encoded records.
        if (
          !all &&
          slots.length - slotHead < digester!.maxPending &&
          encodedBytes - sentBytes < LATER_HELD_BYTES
        )
          break;
        // Give the sink what can go before waiting (its buffer may fill meanwhile).
        const p = sendUpTo(s);
        if (p) return p;
        const q = waitForDigest(s);
        if (q) return q;
        continue;
      }
      if (s.state === FAILED) {
        const err = s.error;
        const thrown = err instanceof ErofsError ? err.withPath(s.path) : err;
        const p = sendUpTo(s);
        if (p)
          return p.then(() => {
            throw thrown;
          });
        throw thrown;
      }
      const sha = s.link ? s.link.sha256! : s.sha256!;
      const b = s.chunk;
      for (let i = 0, at = s.at; i < 64; i++) b[at + i] = sha.charCodeAt(i);
      slots[slotHead++] = undefined;
    }
    if (slotHead === slots.length) {
      slots.length = 0;
      slotHead = 0;
      return sendUpTo(undefined);
    } else if (slotHead > 4096) {
      slots.splice(0, slotHead);
      slotHead = 0;
    }
    // Not every time a slot is filled: the bytes go in runs of at least SEND_BYTES.
    const s = slots[slotHead]!;
    if (s.chunk !== chunks[0] || s.start - sentAt >= SEND_BYTES) return sendUpTo(s);
    return undefined;
  };
  /**
   * Give the sink the encoded bytes before slot `s` (all of them when undefined); a promise
   * when the sink must drain first (then call it again).
   */
  const sendUpTo = (s: Slot | undefined): Promise<void> | undefined => {
    sentCount = s ? s.ordinal : encodedCount;
    while (chunks.length > 0) {
      const c = chunks[0]!;
      const last = chunks.length === 1;
      const upToSlot = s !== undefined && s.chunk === c;
      const stop = upToSlot ? s.start : last ? chunkUsed : chunkEnds[0]!;
      if (stop > sentAt) {
        const from = sentAt;
        sentAt = stop;
        sentBytes += stop - from;
        const q = later!.copyBytes(c.subarray(from, stop));
        if (q) return q.then(() => sendUpTo(s));
      }
      if (upToSlot) break;
      if (last) {
        // All sent: the chunk is written again from its start.
        chunkUsed = 0;
        sentAt = 0;
        break;
      }
      chunks.shift();
      chunkEnds.shift();
      sentAt = 0;
      if (c.length === CHUNK_BYTES) spare.push(c);
    }
    return undefined;
  };
  // walkFrom's frames (one per level below the directory it starts at), its list of children
  // and its stack of directories whose subtree is still to place (stepsOf): kept across calls.
  const frames: { steps: Step[]; next: number }[] = [];
  const kids: WalkEntry[] = [];
  const open: WalkEntry[] = [];
  try {
    await walkTree();
  } catch (walkError) {
    // The records before the walk's error go out first, and an earlier file's digest error is
    // the one to report: exactly what the sequential scan writes and throws.
    if (digester) await drain(true);
    throw walkError;
  }
  if (digester) await drain(true);
  opts.onProgress?.({ files: written, bytesHashed, path: '' });
  return written;

  async function walkTree(): Promise<void> {
    if (share) return walkShared(share);
    const first = emit(walker.root);
    if (first) await first;
    if (walker.root.inode.type === 'dir') await walkFrom(walker.root);
  }

  /** walkTree() of the root's record if `share` says so and of the root steps it claims. */
  async function walkShared(share: RootStepShare): Promise<void> {
    if (share.withRoot) {
      const first = emit(walker.root);
      if (first) await first;
    } else walker.visit(walker.root);
    if (walker.root.inode.type !== 'dir') return;
    // The root's steps in arrays of their own: walkFrom reuses its frames' arrays.
    const steps = stepsOf(await walker.children(walker.root), [], []);
    for (let i = share.claim(steps.length); i !== undefined; i = share.claim(steps.length)) {
      const step = steps[i]!;
      if (step instanceof Subtree) await walkFrom(step.entry);
      else {
        const p = emit(step);
        if (p) await p;
      }
    }
  }

  /** The records of directory `dir`'s subtree (not its own), in key order. */
  async function walkFrom(dir: WalkEntry): Promise<void> {
    // One frame per directory on the path from `dir`: its steps and the next one to take.
    // Frames stay in `frames` when their directory is done, and the next directory at their
    // depth takes them, arrays included; one list of children serves every directory.
    let depth = 0;
    const enter = async (d: WalkEntry): Promise<void> => {
      const frame = (frames[depth] ??= { steps: [], next: 0 });
      stepsOf(await walker.children(d, kids), frame.steps, open);
      frame.next = 0;
      depth++;
    };
    await enter(dir);
    while (depth > 0) {
      const top = frames[depth - 1]!;
      if (top.next === top.steps.length) {
        depth--;
        continue;
      }
      const step = top.steps[top.next++]!;
      if (step instanceof Subtree) await enter(step.entry);
      else {
        const p = emit(step);
        if (p) await p;
      }
    }
  }
}

/** The sha256 of a record encoded before its digest arrived, overwritten in place (Slot). */
const PLACEHOLDER_SHA256 = '0'.repeat(64);
/** The scan's chunks of encoded records (RecordBytesSink). */
const CHUNK_BYTES = 1 << 20;
/** Encoded records go to the sink in runs of at least this many bytes (or up to a chunk's end). */
const SEND_BYTES = 64 << 10;
/** The most bytes of encoded records a scan holds (before the first slot still waiting). */
const LATER_HELD_BYTES = 16 << 20;

const PENDING = 0;
const DONE = 1;
const FAILED = 2;

/**
 * A digest the scan waits for (DigestTarget): its state, the digest or the error once it has
 * arrived, and the wake-up of a scan waiting for it. `size` is the file's byte count, added to
 * the scan's bytesHashed (`onDigest`) when the digest arrives. Slot and Waiting hold what
 * else their records need.
 */
abstract class Outstanding implements DigestTarget {
  error: unknown = undefined;
  sha256: string | undefined = undefined;
  state: typeof PENDING | typeof DONE | typeof FAILED;
  /** The scan waiting for this digest, if it is. */
  wake: (() => void) | undefined = undefined;
  constructor(
    private readonly size: number,
    /** Counts a delivered digest's bytes; undefined when this target asked for none. */
    private readonly onDigest: ((bytes: number) => void) | undefined,
  ) {
    this.state = onDigest ? PENDING : DONE;
  }

  digested(sha256: string | undefined, error?: unknown): void {
    if (this.state !== PENDING) return;
    if (sha256 !== undefined && error === undefined) {
      this.sha256 = sha256;
      this.state = DONE;
      this.onDigest?.(this.size);
    } else {
      this.error = error ?? new ErofsError('EIO', 'no digest');
      this.state = FAILED;
    }
    this.wake?.();
  }
}

/**
 * A record encoded before its digest (or its hard link's first name's) arrived: where in the
 * scan's chunks its digest's 64 hex digits go (RecordBytesSink). Done from the start when it
 * only takes its link's digest (no `onDigest`).
 */
class Slot extends Outstanding {
  constructor(
    readonly path: string,
    size: number,
    /** The chunk holding the record, its first byte, and its digest's first hex digit. */
    readonly chunk: Uint8Array,
    readonly start: number,
    readonly at: number,
    /** The record's place among the records the scan encoded. */
    readonly ordinal: number,
    /** A hard link's first name, whose digest this record takes. */
    readonly link: Slot | undefined,
    onDigest: ((bytes: number) => void) | undefined,
  ) {
    super(size, onDigest);
  }
}

/** hashInode's byte count for a file a digest's target counts itself (Outstanding.digested). */
const noBytes = (): void => undefined;

/**
 * A record held until its digest (or an earlier record's) has arrived (scan with a digester);
 * done from the start when it waits for none of its own (no `onDigest`): it holds `sha256`.
 */
class Waiting extends Outstanding {
  constructor(
    readonly entry: WalkEntry,
    readonly nid: Nid,
    readonly ino: number | undefined,
    readonly xattrs: Record<string, string> | null,
    readonly fingerprint: Uint8Array | null,
    readonly target: string | undefined,
    sha256: string | undefined,
    /** A hard link's first name, whose digest this record takes. */
    readonly link: Waiting | undefined,
    onDigest: ((bytes: number) => void) | undefined,
  ) {
    super(entry.inode.size, onDigest);
    this.sha256 = sha256;
  }
}

/** Build the manifest of a whole image in memory (scanManifestTo into an array). */
export async function scanManifest(image: ErofsImage, opts: ScanOptions): Promise<Manifest> {
  const files: FileRecord[] = [];
  const header = await scanManifestTo(image, opts, {
    header: () => undefined,
    record: (rec) => {
      files.push(rec);
    },
  });
  return { ...header, files };
}
