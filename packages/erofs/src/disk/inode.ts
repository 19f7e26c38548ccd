/** Inodes (docs/format.md#inodes): compact (32 B) and extended (64 B) forms. Pure decoders. */
import { ErofsError } from '../errors.js';
import type { DataLayout, FileType } from '../manifest-types.js';
import { le16, le32, le64 } from './bytes.js';

export const LAYOUT_FLAT_PLAIN = 0;
export const LAYOUT_COMPRESSED_FULL = 1;
export const LAYOUT_FLAT_INLINE = 2;
export const LAYOUT_COMPRESSED_COMPACT = 3;
export const LAYOUT_CHUNK_BASED = 4;
export const LAYOUT_NAMES: readonly DataLayout[] = [
  'flat_plain',
  'compressed_full',
  'flat_inline',
  'compressed_compact',
  'chunk_based',
];

export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

const TYPE_BY_FMT = new Map<number, FileType>([
  [S_IFREG, 'file'],
  [S_IFDIR, 'dir'],
  [S_IFLNK, 'symlink'],
  [S_IFCHR, 'chr'],
  [S_IFBLK, 'blk'],
  [S_IFIFO, 'fifo'],
  [S_IFSOCK, 'sock'],
]);

/** What the superblock contributes to inode decoding. */
export interface InodeContext {
  epoch: number;
  fixedNsec: number;
}

export interface Inode {
  /** The inode's key (disk/nid.ts): its nid, or with METABOX the kernel's inode number. */
  nid: number;
  /** Byte offset of the inode in its container: the primary device, or the metabox data. */
  offset: number;
  /** The inode lives in the metabox inode's data (nid bit 63, docs/format.md#nid); so do its xattrs,
   * inline tail, chunk table and compressed index area (everything at `offset`..`dataOffset`). */
  inMetabox: boolean;
  format: number;
  extended: boolean;
  inodeSize: 32 | 64;
  layout: number;
  layoutName: DataLayout;
  /** i_format bit 4 for directories (docs/format.md#dir-order). */
  dotOmitted: boolean;
  xattrIcount: number;
  /** Xattr area bytes (docs/format.md#xattr-isize). */
  xattrIsize: number;
  mode: number;
  type: FileType;
  nlink: number;
  size: number;
  mtime: number;
  mtimeNsec: number;
  uid: number;
  gid: number;
  /** Raw i_u (offset 16). */
  rawU: number;
  /** High address bits (i_nb) where they apply (docs/format.md#i-u). */
  hi: number;
  /** For FLAT_*: first data block (hi<<32 | i_u). For compressed: physical block count. */
  startBlk: number;
  /** For FLAT_PLAIN: the whole file is a hole (startblk all ones under the address mask). */
  hole: boolean;
  /** CHUNK_BASED: chunk format (docs/format.md#chunk-based). */
  chunkFormat: number;
  /** chr/blk: [major, minor] (docs/format.md#i-u). */
  rdev: [number, number] | null;
  /** Offset just past inode + xattrs: `P` of docs/format.md#inode-tail. */
  dataOffset: number;
}

export function decodeXattrIsize(icount: number): number {
  return icount === 0 ? 0 : 12 + 4 * (icount - 1); // docs/format.md#xattr-isize
}

/** The first two bytes decide the inode size. */
export function inodeSizeOf(format: number): 32 | 64 {
  return format & 1 ? 64 : 32;
}

/**
 * Decode an inode (docs/format.md#inode-compact, docs/format.md#inode-extended) from `b`, which holds at least `inodeSizeOf(i_format)` bytes
 * from index `at` on (a block cache's memory: no copy), the bytes at the inode's `offset` in
 * its container (the metabox data when `inMetabox`).
 */
export function decodeInode(
  b: Uint8Array,
  nid: number,
  offset: number,
  ctx: InodeContext,
  inMetabox = false,
  at = 0,
  into?: Inode,
): Inode {
  const format = le16(b, at);
  // docs/format.md#i-format: bits 5-15 reserved.
  if (format & ~0x1f)
    throw new ErofsError('ENOTSUP', `unsupported i_format 0x${format.toString(16)}`, { nid, offset });
  const extended = (format & 1) === 1;
  const inodeSize: 32 | 64 = extended ? 64 : 32;
  if (b.length - at < inodeSize)
    throw new ErofsError('EIO', `inode needs ${inodeSize} bytes, have ${b.length - at}`, { nid, offset });
  const layout = (format >> 1) & 7;
  if (layout > LAYOUT_CHUNK_BASED)
    throw new ErofsError('ENOTSUP', `unsupported/invalid data layout ${layout}`, { nid, offset });
  const xattrIcount = le16(b, at + 2);
  const mode = le16(b, at + 4);
  const type = TYPE_BY_FMT.get(mode & S_IFMT);
  if (!type)
    throw new ErofsError('ECORRUPT', `bogus i_mode 0${mode.toString(8)}`, { nid, offset: offset + 4 });
  const bit4 = (format & 0x10) !== 0;
  const iNb = le16(b, at + 6);
  const rawU = le32(b, at + 16);
  let nlink: number,
    size: number,
    mtime: number,
    mtimeNsec: number,
    uid: number,
    gid: number,
    hi: number,
    addrBits: number;
  if (extended) {
    size = le64(b, at + 8);
    if (Number.isNaN(size))
      throw new ErofsError('ECORRUPT', `i_size ${le32(b, at + 12)}<<32 too large`, {
        nid,
        offset: offset + 8,
      });
    uid = le32(b, at + 24);
    gid = le32(b, at + 28);
    // i_mtime is signed 64-bit in the kernel.
    const lo = le32(b, at + 32);
    const hiT = le32(b, at + 36) | 0;
    mtime = hiT * 0x1_0000_0000 + lo;
    mtimeNsec = le32(b, at + 40);
    nlink = le32(b, at + 44);
    hi = iNb;
    addrBits = 48;
  } else {
    size = le32(b, at + 8);
    mtime = ctx.epoch + le32(b, at + 12); // docs/format.md#inode-times
    mtimeNsec = ctx.fixedNsec;
    uid = le16(b, at + 24);
    gid = le16(b, at + 26);
    const nlink1 = bit4 && type !== 'dir';
    nlink = nlink1 ? 1 : iNb;
    hi = nlink1 ? iNb : 0;
    addrBits = nlink1 ? 48 : 32;
  }
  const startBlk = hi * 0x1_0000_0000 + rawU;
  const addrMask = 2 ** addrBits - 1;
  const hole = layout === LAYOUT_FLAT_PLAIN && startBlk % 2 ** addrBits === addrMask; // docs/format.md#i-u
  let rdev: [number, number] | null = null;
  if (type === 'chr' || type === 'blk') {
    rdev = [(rawU >>> 8) & 0xfff, (rawU & 0xff) | ((rawU >>> 12) & 0xfff00)];
  }
  if (into instanceof DecodedInode) {
    // A walk's reused inode (reusableInode()): the same fields, no object per path.
    into.nid = nid;
    into.offset = offset;
    into.inMetabox = inMetabox;
    into.format = format;
    into.layout = layout;
    into.xattrIsize = decodeXattrIsize(xattrIcount);
    into.mode = mode;
    into.type = type;
    into.nlink = nlink;
    into.size = size;
    into.mtime = mtime;
    into.mtimeNsec = mtimeNsec;
    into.uid = uid;
    into.gid = gid;
    into.rawU = rawU;
    into.hi = hi;
    into.hole = hole;
    into.rdev = rdev;
    return into;
  }
  return new DecodedInode(
    nid,
    offset,
    inMetabox,
    format,
    layout,
    decodeXattrIsize(xattrIcount),
    mode,
    type,
    nlink,
    size,
    mtime,
    mtimeNsec,
    uid,
    gid,
    rawU,
    hi,
    hole,
    rdev,
  );
}

/**
 * decodeInode's result: the fields read from disk are its own, the ones that follow from them
 * are getters. A metadata scan decodes one inode per path (a million for fp-1m.img), and 27 own
 * fields per inode were the largest part of the walk's garbage (docs/reader.md#inode-objects).
 */
class DecodedInode implements Inode {
  constructor(
    public nid: number,
    public offset: number,
    public inMetabox: boolean,
    public format: number,
    public layout: number,
    public xattrIsize: number,
    public mode: number,
    public type: FileType,
    public nlink: number,
    public size: number,
    public mtime: number,
    public mtimeNsec: number,
    public uid: number,
    public gid: number,
    public rawU: number,
    public hi: number,
    public hole: boolean,
    public rdev: [number, number] | null,
  ) {}
  get extended(): boolean {
    return (this.format & 1) === 1;
  }
  get inodeSize(): 32 | 64 {
    return this.format & 1 ? 64 : 32;
  }
  get layoutName(): DataLayout {
    return LAYOUT_NAMES[this.layout]!;
  }
  get dotOmitted(): boolean {
    return this.type === 'dir' && (this.format & 0x10) !== 0;
  }
  get xattrIcount(): number {
    return this.xattrIsize === 0 ? 0 : (this.xattrIsize - 12) / 4 + 1;
  }
  get startBlk(): number {
    return this.hi * 0x1_0000_0000 + this.rawU;
  }
  get chunkFormat(): number {
    return this.layout === LAYOUT_CHUNK_BASED ? this.rawU & 0xffff : 0;
  }
  get dataOffset(): number {
    return this.offset + this.inodeSize + this.xattrIsize;
  }
}

/**
 * An inode object for decodeInode's `into`: a walk that holds each directory's entries only
 * until the next directory at that depth (TreeWalker's reuseEntries) decodes each path's inode
 * into one of these instead of a new object per path (docs/reader.md#inode-objects).
 */
export function reusableInode(): Inode {
  return new DecodedInode(0, 0, false, 0, 0, 0, 0, 'file', 0, 0, 0, 0, 0, 0, 0, 0, false, null);
}

export function isCompressedLayout(layout: number): boolean {
  return layout === LAYOUT_COMPRESSED_FULL || layout === LAYOUT_COMPRESSED_COMPACT;
}
