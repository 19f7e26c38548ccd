/**
 * Tree -> the manifest `sharemap scan` would read from the image mkfs.erofs builds, in every
 * field except the on-disk ones (nid, layout, block addresses): see ManifestPrediction in
 * @sharemap/erofs. Sizes, nlink, inode and xattr area sizes follow erofs-utils 1.9.3.
 */
import {
  MANIFEST_KIND,
  MANIFEST_VERSION,
  type DataLayout,
  type FileRecord,
  type Manifest,
  type ManifestSuperblock,
} from '@sharemap/erofs';
import { OciError } from './errors.js';
import { displayKey, type PathKey } from './layer.js';
import type { Dentry, Inode } from './tree.js';

export const PREDICTED_TOOL = 'mkfs.erofs 1.9.3';
/** Name of the fingerprint xattr `--xattr-inode-digest` writes by default (rule 8). */
export const FINGERPRINT_XATTR = 'erofs.fingerprint.v1';
const BLOCK_SIZE = 4096;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
/** hex of "sha256:" - the fingerprint value is this prefix and the 32 raw digest bytes (rule 8). */
const FP_PREFIX_HEX = '7368613235363a';

export interface BuildOptions {
  /** `-T N`: the build time. Without `mkfsTime` every inode's mtime becomes N (default --all-time, rule 10). */
  buildTime: number;
  /** `--mkfs-time`: keep the tar mtimes (rule 10). */
  mkfsTime: boolean;
  /** `--aufs`: whiteouts become overlayfs whiteouts (rules 13-15). */
  aufs: boolean;
  /** `-Enoinline_data`: no tail packing (flat_plain everywhere); what containerd passes. */
  noInlineData: boolean;
  /** `-z ALG` (e.g. "lz4hc"): compressed files use other address-space operations (R6). */
  compression?: string;
}

/** What containerd's EROFS differ runs per layer (README.fixtures.md, "How the per-layer images were made"). */
export const LAYER_BUILD: BuildOptions = { buildTime: 0, mkfsTime: true, aufs: true, noInlineData: true };
/** A flattened image or rootfs tar, reproducibly: `-T0 --mkfs-time` keeps the tar mtimes. */
export const FLAT_BUILD: BuildOptions = { buildTime: 0, mkfsTime: true, aufs: false, noInlineData: false };

export function buildArgs(o: BuildOptions): string[] {
  const a = ['--tar=f'];
  if (o.aufs) a.push('--aufs');
  if (o.noInlineData) a.push('-Enoinline_data');
  a.push('--xattr-inode-digest', `-T${o.buildTime}`);
  if (o.mkfsTime) a.push('--mkfs-time');
  if (o.compression) a.push(`-z${o.compression}`);
  return a;
}

/** The standard xattr name prefixes EROFS stores as an index (docs/format.md#xattr-short-prefixes, EROFS_XATTR_INDEX_*). */
const XATTR_PREFIXES = [
  'user.',
  'system.posix_acl_access',
  'system.posix_acl_default',
  'trusted.',
  'lustre.',
  'security.',
];

const utf8Encoder = new TextEncoder();

/** On-disk size of one inline xattr entry: 4-byte header, name suffix, value, padded to 4 (docs/format.md#xattr-entry). */
function xattrEntrySize(name: string, valueLen: number): number {
  const nameLen = utf8Encoder.encode(name).length;
  const p = XATTR_PREFIXES.find((x) => name.startsWith(x));
  const suffix = p ? nameLen - p.length : nameLen;
  return (4 + suffix + valueLen + 3) & ~3;
}

/** i_xattr_isize: 12-byte header plus every inline entry (rule 9: no shared xattrs in tar mode), plus the 44-byte fingerprint entry. */
function xattrIsize(ino: Inode, fingerprinted: boolean): number {
  if (ino.xattrs.length === 0 && !fingerprinted) return 0;
  let n = 12;
  for (const [k, v] of ino.xattrs) n += xattrEntrySize(k, v.length);
  // The fingerprint's name lives entirely in a long-prefix table entry: 4 + 0 + 39 -> 44 bytes.
  if (fingerprinted) n += 44;
  return n;
}

/** Directory i_size as erofs_prepare_dir_file lays dirents out: ".", "..", children sorted by name bytes; a dirent never straddles a block. */
function dirSize(names: PathKey[]): number {
  let size = 0;
  for (const n of ['.', '..', ...names]) {
    const len = 12 + n.length;
    if ((size % BLOCK_SIZE) + len > BLOCK_SIZE) size = Math.ceil(size / BLOCK_SIZE) * BLOCK_SIZE;
    size += len;
  }
  return size;
}

/** `mode` as the reader prints it (4 octal digits), precomputed for every permission value (mode & 07777). */
const MODE_TEXT: string[] = Array.from({ length: 0o10000 }, (_, m) => m.toString(8).padStart(4, '0'));

/** Whether a key (binary string, one char per byte) has 7-bit bytes only: then its display path is the key itself. */
function asciiOnly(key: string): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** hex of an xattr value. */
function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

function layoutOf(ino: Inode, size: number, o: BuildOptions): DataLayout {
  if (o.compression && ino.type === 'file' && size > BLOCK_SIZE) return 'compressed_compact';
  if (
    o.noInlineData ||
    size % BLOCK_SIZE === 0 ||
    ino.type === 'chr' ||
    ino.type === 'blk' ||
    ino.type === 'fifo'
  )
    return 'flat_plain';
  return 'flat_inline';
}

export interface PredictManifestOptions {
  build: BuildOptions;
  /** Image name shown (e.g. "rootfs.tar", "sha256:abcd... (layer 2)"). */
  imageName: string;
  /** Size of the archive or layer it was predicted from. */
  imageSize: number;
  /** Add `sha256` to records (`scan --hash`). */
  hash: boolean;
  source: string;
  /** More paths than this: ELIMIT, found while walking the tree (OciLimits.maxPaths). */
  maxPaths?: number;
}

/** The predicted manifest of a tree (see the module comment). */
export function treeToManifest(root: Dentry, o: PredictManifestOptions): Manifest {
  const rows: { key: PathKey; ino: Inode }[] = [];
  const names = new Map<Inode, number>();
  const maxPaths = o.maxPaths ?? Infinity;
  const walk = (d: Dentry, key: string) => {
    if (rows.length >= maxPaths)
      throw new OciError(
        'ELIMIT',
        `predicted image ${o.imageName} has more than ${maxPaths} paths (maxPaths)`,
        { member: o.source },
      );
    rows.push({ key, ino: d.inode });
    // Names of a non-directory = its nlink (hard links); a directory's nlink counts subdirectories.
    if (d.inode.children)
      for (const [k, c] of d.inode.children) walk(c, key.length > 1 ? key + '/' + k : '/' + k);
    else names.set(d.inode, (names.get(d.inode) ?? 0) + 1);
  };
  walk(root, '/');
  // Records sorted by path bytes (binary strings compare by byte).
  rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const ordinal = new Map<Inode, number>();
  const b = o.build;
  const files: FileRecord[] = rows.map(({ key, ino }) => {
    if (!ordinal.has(ino)) ordinal.set(ino, ordinal.size + 1);
    let size: number;
    let nlink: number;
    if (ino.children) {
      const kids = [...ino.children.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      size = dirSize(kids);
      let subdirs = 0;
      for (const c of ino.children.values()) if (c.inode.children) subdirs++;
      nlink = 2 + subdirs; // rule 12
    } else {
      size =
        ino.type === 'symlink'
          ? ino.symlink!.length
          : ino.type === 'file' || ino.type === 'chr'
            ? ino.size
            : 0;
      nlink = names.get(ino)!;
    }
    const mtime = b.mkfsTime ? ino.mtime : b.buildTime;
    const mtimeNsec = b.mkfsTime ? ino.mtimeNsec : 0;
    const fingerprinted = ino.type === 'file' && size > 0 && ino.sha256 !== undefined;
    // erofs_should_use_inode_extended: a compact inode has no room for a size >= 2^32,
    // ids > 65535, nlink > 65535, or an mtime other than the build time.
    const extended =
      size > 0xffffffff ||
      ino.uid > 0xffff ||
      ino.gid > 0xffff ||
      nlink > 0xffff ||
      mtime !== b.buildTime ||
      mtimeNsec !== 0;
    const xattrs: Record<string, string> = {};
    for (const [k, v] of ino.xattrs) if (!(k in xattrs)) xattrs[k] = hex(v); // the first of duplicate names wins (rule 3)
    // One object literal in the field order the output has had since the first release
    // (target/rdev/sha256 after xattrs/fingerprint): a spread copy per record cost more
    // than building it (docs/benchmarks.md#oci-predicting-from-a-docker-save-archive).
    const rec: FileRecord = {
      path: asciiOnly(key) ? key : '/' + key.slice(1).split('/').map(displayKey).join('/'),
      nid: ordinal.get(ino)!,
      type: ino.type,
      mode: MODE_TEXT[ino.mode] ?? ino.mode.toString(8).padStart(4, '0'),
      uid: ino.uid,
      gid: ino.gid,
      size,
      nlink,
      mtime,
      mtime_nsec: mtimeNsec,
      layout: layoutOf(ino, size, b),
      inode_size: extended ? 64 : 32,
      xattr_isize: xattrIsize(ino, fingerprinted),
      xattrs,
      fingerprint: fingerprinted ? FP_PREFIX_HEX + ino.sha256 : null,
    };
    if (ino.type === 'symlink') rec.target = displayKey(ino.symlink!);
    if (ino.rdev) rec.rdev = ino.rdev;
    if (o.hash && ino.type === 'file') rec.sha256 = ino.sha256 ?? EMPTY_SHA256;
    return rec;
  });
  const superblock: ManifestSuperblock = {
    block_size: BLOCK_SIZE,
    blocks: 0,
    meta_blkaddr: 0,
    xattr_blkaddr: 0,
    root_nid: 0,
    inodes: ordinal.size,
    sb_size: 128,
    feature_compat: ['sb_csum', 'mtime', 'xattr_filter', 'plain_xattr_pfx', 'ishare_xattrs'],
    feature_incompat: b.compression?.startsWith('lz4')
      ? ['lz4_0padding', 'xattr_prefixes']
      : ['xattr_prefixes'],
    uuid: NIL_UUID,
    build_time: b.buildTime,
    ishare: true,
    fingerprint_xattr_name: FINGERPRINT_XATTR,
    required_kernel: '6.4',
    devices: [],
  };
  return {
    kind: MANIFEST_KIND,
    version: MANIFEST_VERSION,
    image: { name: o.imageName, size: o.imageSize },
    superblock,
    hashed: o.hash,
    file_count: files.length,
    predicted: { tool: PREDICTED_TOOL, options: buildArgs(b), source: o.source },
    files,
  };
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
