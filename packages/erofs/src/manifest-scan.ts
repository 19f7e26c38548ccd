/**
 * Scanning an image into a manifest (docs/manifest.md): one record per path, in path byte
 * order, with the field names and encodings of the fixture oracles.
 */
import { compareBytes, compareUtf8, hex } from './disk/bytes.js';
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
 * it): `ino` on METABOX images, else the nid itself (spec §1.3).
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

/** Xattrs as listxattr shows them, name -> hex value, keys in byte order (the oracles' order). */
export function xattrMap(xs: readonly XattrRecord[]): Record<string, string> {
  const seen = new Map<string, string>();
  for (const x of xs) if (x.listed && x.name !== null && !seen.has(x.name)) seen.set(x.name, hex(x.value));
  const names = [...seen.keys()].sort(compareUtf8);
  const out: Record<string, string> = {};
  for (const n of names) out[n] = seen.get(n)!;
  return out;
}

interface PerInode {
  xattrs: Record<string, string>;
  fingerprint: string | null;
  target?: string;
  sha256?: string;
}

/** Shared by every record without xattrs; records are read-only once built. */
const NO_XATTRS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NO_EXTRAS: PerInode = Object.freeze({ xattrs: NO_XATTRS, fingerprint: null });

async function xattrInfo(image: ErofsImage, ino: Inode): Promise<PerInode> {
  const xs = await image.xattrsOf(ino);
  const fp = await image.fingerprintOf(ino, xs);
  return { xattrs: xattrMap(xs), fingerprint: fp ? hex(fp) : null };
}

async function hashInode(
  image: ErofsImage,
  ino: Inode,
  hasher: HasherFactory,
  onBytes: (n: number) => void,
): Promise<string> {
  const h = await hasher();
  for await (const chunk of image.streamData(ino)) {
    h.update(chunk);
    onBytes(chunk.length);
  }
  return h.digestHex();
}

/** Build the manifest of a whole image (one walk; hard links share per-inode work). */
export async function scanManifest(image: ErofsImage, opts: ScanOptions): Promise<Manifest> {
  const hasher = opts.hasher ?? wasmSha256;
  const every = Math.max(1, opts.progressEvery ?? 256);
  const rows: { key: Uint8Array; rec: FileRecord }[] = [];
  // The reader names inodes by their kernel inode number (disk/nid.ts); the manifest carries
  // the nid erofs-utils prints (bit 63 for METABOX inodes) and, on METABOX images, both.
  const metabox = image.hasMetabox;
  const shared = new Map<number, PerInode>(); // only inodes with nlink > 1
  let bytesHashed = 0;
  const walker = new TreeWalker(image);
  // Whole directories at a time; records are sorted at the end, so visiting order is free.
  const dirs: WalkEntry[] = [];
  const perInode = async (e: WalkEntry): Promise<PerInode> => {
    const ino = e.inode;
    try {
      const per: PerInode =
        ino.xattrIsize === 0 ? { xattrs: NO_XATTRS, fingerprint: null } : await xattrInfo(image, ino);
      if (ino.type === 'symlink') per.target = await image.readlinkInode(ino);
      if (opts.hash && ino.type === 'file')
        per.sha256 = await hashInode(image, ino, hasher, (n) => (bytesHashed += n));
      if (ino.nlink > 1) shared.set(ino.nid, per);
      return per;
    } catch (err) {
      throw err instanceof ErofsError ? err.withPath(e.path) : err;
    }
  };
  const record = (e: WalkEntry, per: PerInode): void => {
    const ino = e.inode;
    const rec = {
      path: e.path,
      nid: metabox ? nidText(nidOfKey(ino.nid, true)) : ino.nid,
      ...(metabox ? { ino: ino.nid } : {}),
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
    if (per.target !== undefined) rec.target = per.target;
    if (ino.rdev) rec.rdev = [ino.rdev[0], ino.rdev[1]];
    rec.xattrs = per.xattrs;
    rec.fingerprint = per.fingerprint;
    if (per.sha256 !== undefined) rec.sha256 = per.sha256;
    rows.push({ key: e.pathBytes, rec });
    if (opts.onProgress && rows.length % every === 0)
      opts.onProgress({ files: rows.length, bytesHashed, path: e.path });
  };
  // Most entries of an unhashed scan need no further reads: no promise for them.
  const readyPer = (ino: Inode): PerInode | undefined =>
    (ino.nlink > 1 ? shared.get(ino.nid) : undefined) ??
    (ino.xattrIsize === 0 && ino.type !== 'symlink' && !(opts.hash && ino.type === 'file')
      ? NO_EXTRAS
      : undefined);
  let batch = [walker.root];
  for (;;) {
    for (const e of batch) {
      walker.visit(e);
      record(e, readyPer(e.inode) ?? (await perInode(e)));
      if (e.inode.type === 'dir') dirs.push(e);
    }
    const dir = dirs.pop();
    if (!dir) break;
    batch = await walker.children(dir);
  }
  rows.sort((a, b) => compareBytes(a.key, b.key));
  const files = rows.map((r) => r.rec);
  opts.onProgress?.({ files: files.length, bytesHashed, path: '' });
  const image_: ManifestHeader['image'] = { name: opts.imageName, size: opts.imageSize };
  if (opts.imageSha256 !== undefined) image_.sha256 = opts.imageSha256;
  return {
    kind: MANIFEST_KIND,
    version: MANIFEST_VERSION,
    image: image_,
    superblock: manifestSuperblock(image),
    hashed: !!opts.hash,
    file_count: files.length,
    files,
  };
}
