/**
 * An opened EROFS image with a `node:fs/promises`-like surface (readdir, stat, lstat,
 * readFile, createReadStream, getxattr, listxattr, readlink) plus inspection (superblock,
 * inode(nid), layoutOf). Decoding of on-disk structures lives in disk/; this file does
 * the I/O, the address mapping and the caching of decoded metadata.
 */
import QuickLRU from 'quick-lru';
import { CompressedDataError } from './compressed/errors.js';
import type { CompressedFile, CompressedFileContext, ZExtent } from './compressed/context.js';
import { DEFAULT_COMPRESSED_LIMITS } from './compressed/context.js';
import { openCompressedFile } from './compressed/file.js';
import { compareBytes, decodeName, roundUp } from './disk/bytes.js';
import { chunkGeometry, decodeChunkEntry, type ChunkGeometry } from './disk/chunk.js';
import { FT_NAMES, forEachDirent, type RawDirent } from './disk/dirent.js';
import {
  decodeInode,
  inodeSizeOf,
  isCompressedLayout,
  LAYOUT_CHUNK_BASED,
  LAYOUT_FLAT_INLINE,
  LAYOUT_FLAT_PLAIN,
  type Inode,
} from './disk/inode.js';
import { le16 } from './disk/bytes.js';
import { decodeNid, nidLocation, nidOfKey } from './disk/nid.js';
import {
  COMPAT_ISHARE_XATTRS,
  COMPAT_PLAIN_XATTR_PFX,
  COMPAT_SHARED_EA_IN_METABOX,
  COMPAT_XATTR_FILTER,
  INCOMPAT_FRAGMENTS,
  INCOMPAT_METABOX,
  readSuperblock,
  checkNotTruncated,
  type Superblock,
} from './disk/superblock.js';
import {
  entryBodyLength,
  filterBit,
  parseXattrArea,
  readLongPrefixes,
  resolveName,
  SHORT_PREFIXES,
  splitName,
  XATTR_ENTRY_HEADER,
  type LongPrefix,
  type XattrEntry,
} from './disk/xattr.js';
import { ErofsError } from './errors.js';
import type { FileType } from './manifest-types.js';
import { resolveLimits, type ErofsLimits } from './limits.js';
import {
  cachedSource,
  type BlockView,
  type CachedSource,
  type CachedSourceOptions,
} from './source/cached.js';
import { checkRange, type ByteSource } from './source/types.js';

export type { Inode } from './disk/inode.js';
export type { Superblock } from './disk/superblock.js';

export interface OpenImageOptions {
  /** Extra devices in device-table order (docs/format.md#device-table): `--blobdev` blobs, the tar of `--tar=i`. */
  devices?: ByteSource[];
  limits?: Partial<ErofsLimits>;
  /** Block cache in front of the primary source; `false` to read it directly. */
  cache?: CachedSourceOptions | false;
}

/** An xattr as the reader sees it: full name (null if its prefix is unknown) and raw value. */
export interface XattrRecord {
  name: string | null;
  /** Shown by listxattr (known, non-empty namespace prefix, docs/format.md#xattr-names). */
  listed: boolean;
  value: Uint8Array;
  shared: boolean;
  base: number;
  rest: Uint8Array;
}

export interface ErofsStats {
  nid: number;
  /** st_ino as the kernel derives it (docs/format.md#nid); the same number as `nid` (see disk/nid.ts). */
  ino: number;
  type: FileType;
  /** Full st_mode (type and permission bits). */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds and nanoseconds; atime and ctime equal mtime (docs/format.md#inode-times). */
  mtime: number;
  mtimeNsec: number;
  mtimeMs: number;
  rdev: [number, number] | null;
  layout: Inode['layoutName'];
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

export interface ErofsDirent {
  name: string;
  /** Raw name bytes (names need not be valid UTF-8). */
  nameBytes: Uint8Array;
  nid: number;
  /** From the directory entry (docs/format.md#file-types); 'unknown' for type 0. */
  type: FileType | 'unknown';
  parentPath: string;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/** One piece of a file's physical layout (inspection API). */
export interface LayoutExtent {
  logicalStart: number;
  logicalLength: number;
  /** 'data' = stored bytes, 'inline' = tail in the inode's block, 'hole' = zeros, else a compressed kind. */
  kind: 'data' | 'inline' | 'hole' | ZExtent['kind'];
  device: number;
  /** Absolute byte offset on `device` (null for holes, fragments and data inside the metabox). */
  physicalAddr: number | null;
  physicalLength: number;
}

export interface FileLayout {
  nid: number;
  layout: Inode['layoutName'];
  size: number;
  chunkSize?: number;
  extents: LayoutExtent[];
}

const FT_TO_TYPE: Record<(typeof FT_NAMES)[number], FileType | 'unknown'> = {
  unknown: 'unknown',
  file: 'file',
  dir: 'dir',
  chr: 'chr',
  blk: 'blk',
  fifo: 'fifo',
  sock: 'sock',
  symlink: 'symlink',
};

const MAX_SYMLINK_HOPS = 40; // Linux MAXSYMLINKS
const EMPTY_BYTES = new Uint8Array(0);

function inodeReadError(e: unknown, nid: number, offset: number): unknown {
  if (e instanceof ErofsError && e.code === 'EIO')
    // The inner error's problem only: its code is this error's code (never "EIO: ... EIO: ...").
    return new ErofsError('EIO', `failed to read inode: ${e.detail}`, { nid, offset, cause: e });
  return e;
}

/** Errors out of the compressed-data module become ErofsErrors; anything unexpected from a
 * decompressor (untrusted input reaching third-party code) is reported as corruption. */
function toErofsError(e: unknown, nid: number): ErofsError {
  if (e instanceof ErofsError) return e;
  if (e instanceof CompressedDataError) {
    return new ErofsError(e.code, e.message, {
      ...(e.offset >= 0 ? { offset: e.offset } : {}),
      nid: e.nid >= 0 ? e.nid : nid,
      cause: e,
    });
  }
  return new ErofsError('ECORRUPT', `compressed data: ${e instanceof Error ? e.message : String(e)}`, {
    nid,
    cause: e,
  });
}

/**
 * CompressedFileContext.readMainInto for an image whose device 0 is the image itself (no extra
 * devices given: mapDevice's offset is then the address) and reads synchronously (`direct`, the
 * source's own readInto): pcluster runs bypass the block cache, whose slots they would only
 * churn, and land in the compressed reader's reused buffer. Nothing otherwise.
 */
export class ErofsImage {
  readonly superblock: Superblock;
  readonly source: ByteSource;
  readonly devices: readonly ByteSource[];
  readonly limits: ErofsLimits;
  /** What open() reads with the instance itself (the root inode is an inode like any other,
   * the prefix table may sit in the packed inode or the metabox): set once, before open()
   * returns the image, so every method a caller can reach sees it. */
  private opened: { root: Inode; prefixes: LongPrefix[]; fp: string | null } | null = null;

  // Inodes read asynchronously (a Blob, the metabox); synchronous sources decode from the block
  // cache instead. quick-lru, not a Map re-inserted on every hit: V8's ordered hash tables keep
  // deleted entries until a rehash, so evicting via keys().next() skips ever more holes (a
  // 55k-inode walk spent a quarter of its time there).
  private readonly inodeCache = new QuickLRU<number, Inode>({ maxSize: 8192 });
  /** Parsed directories, or the error a directory failed with: the image is immutable, so a
   * corrupt directory is parsed once, not once per lookup through it. */
  private readonly dirCache = new QuickLRU<number, RawDirent[] | ErofsError>({ maxSize: 256 });
  private readonly inodeScratch = new Uint8Array(64);
  private readonly zfileCache = new QuickLRU<number, Promise<CompressedFile>>({ maxSize: 64 });
  /** The superblock's compression configurations as every compressed file's context has them (read only). */
  private readonly zConfigs: CompressedFileContext['comprConfigs'];
  /** The limits every compressed file's context has (read only). */
  private readonly zLimits: CompressedFileContext['limits'];
  private packed: Inode | null = null;
  /** The metabox inode (METABOX, docs/format.md#packed-metabox) and a block-cached source over its data. */
  private metabox: Inode | null = null;
  private metaSource: ByteSource | null = null;
  /** The uncached source's synchronous read, when it has one: whole-file reads (hashing) go
   * straight to it, past the block cache, whose blocks they would only evict. */
  private directRead: ((offset: number, target: Uint8Array) => void) | null = null;
  /** The primary source's block cache read in place, when it reads synchronously. */
  private blockView: BlockView | null = null;
  /** Byte offset of nid 0 (docs/format.md#nid) on an image without METABOX, else -1. */
  private readonly inodeBase: number;

  private constructor(init: {
    sb: Superblock;
    source: ByteSource;
    devices: ByteSource[];
    limits: ErofsLimits;
  }) {
    this.superblock = init.sb;
    this.source = init.source;
    this.devices = init.devices;
    this.limits = init.limits;
    this.inodeBase = this.hasMetabox ? -1 : init.sb.metaBlkaddr * init.sb.blockSize;
    this.zConfigs = init.sb.comprCfgs.map((c) => ({ algorithm: c.alg, raw: c.payload }));
    this.zLimits = {
      ...DEFAULT_COMPRESSED_LIMITS,
      maxFileSize: Math.min(DEFAULT_COMPRESSED_LIMITS.maxFileSize, init.limits.maxContentSize),
    };
  }

  private get openState(): { root: Inode; prefixes: LongPrefix[]; fp: string | null } {
    if (this.opened === null) throw new Error('ErofsImage used before open() finished'); // unreachable: open() returns it only when set
    return this.opened;
  }

  /** Root directory inode. */
  get root(): Inode {
    return this.openState.root;
  }

  /** Long xattr name prefixes (docs/format.md#xattr-long-prefixes). */
  get prefixes(): readonly LongPrefix[] {
    return this.openState.prefixes;
  }

  /** Full name of the fingerprint xattr (docs/format.md#fingerprints) or null without ISHARE_XATTRS. */
  get fingerprintXattrName(): string | null {
    return this.openState.fp;
  }

  /**
   * Container 2 of docs/format.md#containers: the decompressed data of the metabox inode, with a block cache
   * (every inode, xattr area and index table in the metabox is read through it). A read past
   * its end means a nid or address pointing outside the metabox: corruption.
   */
  private setMetabox(metabox: Inode): void {
    this.metabox = metabox;
    const size = metabox.size;
    const raw: ByteSource = { size, read: (o, l) => this.readData(metabox, o, l, true) };
    const cached = cachedSource(raw, { blockSize: 4096, maxBytes: 4 << 20 });
    this.metaSource = {
      size,
      read: (offset, length) =>
        offset + length > size
          ? Promise.reject(
              new ErofsError(
                'ECORRUPT',
                `read of ${length} bytes at ${offset} past the end of the ${size}-byte metabox data`,
                { nid: metabox.nid, offset },
              ),
            )
          : cached.read(offset, length),
    };
  }

  /** The byte container of an inode and of everything stored next to it (docs/format.md#nid). */
  private containerOf(ino: Inode): ByteSource {
    if (!ino.inMetabox) return this.source;
    return this.metaSource!; // inode() only decodes metabox inodes when there is a metabox
  }

  /** The container of the shared xattr area (docs/format.md#xattr-shared): the metabox with SHARED_EA_IN_METABOX. */
  private sharedXattrSource(nid: number): ByteSource {
    if (!(this.superblock.featureCompat & COMPAT_SHARED_EA_IN_METABOX)) return this.source;
    if (!this.metaSource)
      throw new ErofsError(
        'ECORRUPT',
        'shared xattrs in the metabox (SHARED_EA_IN_METABOX) without METABOX',
        {
          nid,
        },
      );
    return this.metaSource;
  }

  /** Open sequence of docs/format.md#open-sequence. */
  static async open(src: ByteSource, opts: OpenImageOptions = {}): Promise<ErofsImage> {
    const limits = resolveLimits(opts.limits);
    const source = opts.cache === false ? src : cachedSource(src, opts.cache ?? {});
    const sb = await readSuperblock(source);
    checkNotTruncated(sb, source.size);
    const devices = opts.devices ?? [];
    if (devices.length && devices.length !== sb.extraDevices) {
      throw new ErofsError(
        'EINVAL_SUPERBLOCK',
        `extra devices don't match: image has ${sb.extraDevices}, ${devices.length} given`,
        { offset: 1024 + 86 },
      );
    }
    // The image reads its own special inodes and prefix table (they are inodes and data like
    // any other), then becomes usable once `opened` is set.
    const image = new ErofsImage({ sb, source, devices, limits });
    if (src.readInto) image.directRead = src.readInto.bind(src);
    if (opts.cache !== false) image.blockView = (source as CachedSource).blocks ?? null;
    let packed: Inode | null = null;
    if (sb.featureIncompat & INCOMPAT_FRAGMENTS && sb.packedNid !== 0) {
      packed = await image.inode(sb.packedNid);
      image.packed = packed;
    }
    // docs/format.md#open-sequence step 4, docs/format.md#packed-metabox: the metabox inode is an ordinary inode on the primary device
    // (readSuperblock rejected a metabox_nid with bit 63); its data holds the bit-63 inodes.
    if (sb.featureIncompat & INCOMPAT_METABOX) {
      image.setMetabox(await image.inode(decodeNid(BigInt(sb.metaboxNid), true, 'metabox nid', 1024 + 128)));
    }
    const root = await image.inode(sb.rootNid);
    if (root.type !== 'dir')
      throw new ErofsError(
        'EINVAL_SUPERBLOCK',
        `root inode is not a directory (mode 0${root.mode.toString(8)})`,
        { nid: root.nid, offset: root.offset },
      );
    // docs/format.md#xattr-long-prefixes: table placement (plain on the device, else metabox, else packed inode)
    let prefixes: LongPrefix[] = [];
    if (sb.xattrPrefixCount > 0) {
      const start = sb.xattrPrefixStart * 4;
      const plain = (sb.featureCompat & COMPAT_PLAIN_XATTR_PFX) !== 0;
      let read = (p: number, l: number) => source.read(p, l);
      const meta = image.metaSource;
      if (!plain && meta) read = (p, l) => meta.read(p, l);
      else if (!plain && packed !== null) read = (p, l) => image.readData(packed, p, l, true);
      prefixes = await readLongPrefixes(read, start, sb.xattrPrefixCount);
    }
    let fp: string | null = null;
    if (sb.featureCompat & COMPAT_ISHARE_XATTRS) {
      const p = prefixes[sb.ishareXattrPrefixId];
      const short = p ? SHORT_PREFIXES.get(p.base) : undefined;
      if (p && short !== undefined) fp = short + decodeName(p.infix);
    }
    image.opened = { root, prefixes, fp };
    return image;
  }

  // ------------------------------------------------------------------ addressing

  get blockSize(): number {
    return this.superblock.blockSize;
  }

  /** Whether nids may have bit 63 and keys are the kernel's inode numbers (disk/nid.ts). */
  get hasMetabox(): boolean {
    return (this.superblock.featureIncompat & INCOMPAT_METABOX) !== 0;
  }

  /** Where inode `nid` (a key, disk/nid.ts) lives: its container and byte offset (docs/format.md#nid). */
  inodeLocation(nid: number): { inMetabox: boolean; offset: number } {
    const { slot, inMetabox } = nidLocation(nid, this.hasMetabox);
    return inMetabox
      ? { inMetabox, offset: slot * 32 }
      : { inMetabox, offset: this.superblock.metaBlkaddr * this.blockSize + slot * 32 };
  }

  /** Offset of inode `nid` in its container (the primary device unless it is in the metabox). */
  inodeOffset(nid: number): number {
    return this.inodeLocation(nid).offset;
  }

  /**
   * Map (device id, byte address) to a source and offset; works like erofs_map_dev in
   * the Linux kernel (docs/format.md#device-map): separate devices when the caller supplied them, else
   * the flat model on the primary image.
   */
  mapDevice(
    deviceId: number,
    addr: number,
    nid?: number,
  ): { src: ByteSource; offset: number; device: number } {
    const sb = this.superblock;
    const bs = this.blockSize;
    if (this.devices.length) {
      if (deviceId === 0) {
        for (const d of sb.devices) {
          if (
            d.mappedBlkaddr !== 0 &&
            addr >= d.mappedBlkaddr * bs &&
            addr < (d.mappedBlkaddr + d.blocks) * bs
          ) {
            return { src: this.devices[d.id - 1]!, offset: addr - d.mappedBlkaddr * bs, device: d.id };
          }
        }
        return { src: this.source, offset: addr, device: 0 };
      }
      const src = this.devices[deviceId - 1];
      if (!src)
        throw new ErofsError('ENODEV', `no device ${deviceId} (image has ${sb.extraDevices} extra devices)`, {
          nid,
        });
      return { src, offset: addr, device: deviceId };
    }
    if (deviceId === 0) return { src: this.source, offset: addr, device: 0 };
    const slot = sb.devices[deviceId - 1];
    if (!slot)
      throw new ErofsError('ENODEV', `no device ${deviceId} (image has ${sb.extraDevices} extra devices)`, {
        nid,
      });
    return { src: this.source, offset: addr + slot.mappedBlkaddr * bs, device: 0 };
  }

  private async readDev(deviceId: number, addr: number, length: number, nid: number): Promise<Uint8Array> {
    const m = this.mapDevice(deviceId, addr, nid);
    try {
      return await m.src.read(m.offset, length);
    } catch (e) {
      // A byte source's error knows the offset (m.offset) but not the inode, nor which extra
      // device it is (device 0, the image itself, needs no name).
      if (e instanceof ErofsError && e.nid === undefined) {
        throw new ErofsError(e.code, m.device === 0 ? e.detail : `${e.detail} (device ${m.device})`, {
          nid,
          offset: m.offset,
          cause: e,
        });
      }
      throw e;
    }
  }

  // ------------------------------------------------------------------ inodes

  /** Load and decode inode `nid` (docs/format.md#inodes). */
  async inode(nid: number): Promise<Inode> {
    const now = this.inodeNow(nid);
    if (now) return now;
    const { src, offset, inMetabox } = this.inodeSource(nid);
    let b: Uint8Array;
    try {
      b = await src.read(offset, 32);
      if (inodeSizeOf(le16(b, 0)) === 64) b = await src.read(offset, 64);
    } catch (e) {
      throw inodeReadError(e, nid, offset);
    }
    const ino = this.decodeInodeAt(b, nid, offset, inMetabox);
    this.inodeCache.set(nid, ino);
    return ino;
  }

  /**
   * inode(nid) without waiting: decoded straight from the block cache when the inode's
   * container reads synchronously (an image file or memory; not a Blob, not the metabox), else
   * from the inode cache; undefined when only an asynchronous read would do. A walk calls it
   * first: a promise (and an inode-cache entry) per inode was a large part of a scan's time.
   * With `into` (from reusableInode()), a decoded inode is written into it and it is returned
   * (an inode from the inode cache is returned as it is, `into` untouched).
   */
  inodeNow(nid: number, into?: Inode): Inode | undefined {
    let src: ByteSource, offset: number, inMetabox: boolean;
    if (this.inodeBase >= 0) {
      // inodeSource's answer without its objects (three per inode): no METABOX, so every
      // inode is on the primary device.
      if (!Number.isSafeInteger(nid) || nid < 0) throw new ErofsError('ECORRUPT', `invalid nid ${nid}`);
      src = this.source;
      offset = this.inodeBase + nid * 32;
      inMetabox = false;
    } else ({ src, offset, inMetabox } = this.inodeSource(nid));
    if (!src.readInto) return this.inodeCache.get(nid);
    const view = inMetabox ? null : this.blockView;
    if (view) {
      // Decoded where the block cache holds it (docs/reader.md#metadata-in-place); an inode
      // across two cache blocks (an extended one at a block's last 32 bytes) is copied below.
      let at: number;
      try {
        at = view.at(offset, 32);
        if (at >= 0 && inodeSizeOf(le16(view.bytes, at)) === 64) at = view.at(offset, 64);
      } catch (e) {
        throw inodeReadError(e, nid, offset);
      }
      if (at >= 0) return this.decodeInodeAt(view.bytes, nid, offset, inMetabox, at, into);
    }
    // Decoding copies every field out, so one scratch buffer serves all inodes.
    let b = this.inodeScratch.subarray(0, 32);
    try {
      src.readInto(offset, b);
      if (inodeSizeOf(le16(b, 0)) === 64) src.readInto(offset, (b = this.inodeScratch));
    } catch (e) {
      throw inodeReadError(e, nid, offset);
    }
    return this.decodeInodeAt(b, nid, offset, inMetabox, 0, into);
  }

  private inodeSource(nid: number): { src: ByteSource; offset: number; inMetabox: boolean } {
    if (!Number.isSafeInteger(nid) || nid < 0) throw new ErofsError('ECORRUPT', `invalid nid ${nid}`);
    const { inMetabox, offset } = this.inodeLocation(nid);
    // docs/format.md#nid, docs/format.md#validate-inodes: a bit-63 nid needs the metabox (loaded at open with METABOX)
    const src = inMetabox ? this.metaSource : this.source;
    if (!src)
      throw new ErofsError(
        'ECORRUPT',
        `nid 0x${nidOfKey(nid, true).toString(16)} is in the metabox, which is not loaded yet`,
        { nid },
      );
    return { src, offset, inMetabox };
  }

  private decodeInodeAt(
    b: Uint8Array,
    nid: number,
    offset: number,
    inMetabox: boolean,
    at = 0,
    into?: Inode,
  ): Inode {
    const ino = decodeInode(b, nid, offset, this.superblock, inMetabox, at, into);
    if (isCompressedLayout(ino.layout) && !this.superblock.compressed) {
      throw new ErofsError('ECORRUPT', `compressed inode is invalid in a plain filesystem`, { nid, offset }); // docs/format.md#compressed-fs
    }
    if (ino.xattrIsize > this.limits.maxXattrIsize)
      throw new ErofsError('ELIMIT', `xattr area ${ino.xattrIsize} > ${this.limits.maxXattrIsize}`, {
        nid,
        offset,
      });
    return ino;
  }

  // ------------------------------------------------------------------ data

  /** A compressed file, kept in zfileCache for the reads that come back to it (readData). */
  private compressedFile(ino: Inode): Promise<CompressedFile> {
    let p = this.zfileCache.get(ino.nid);
    if (!p) {
      p = this.openCompressed(ino).catch((e: unknown) => {
        this.zfileCache.delete(ino.nid);
        throw e;
      });
      this.zfileCache.set(ino.nid, p);
    }
    return p;
  }

  /**
   * Open a compressed file (its map header and extent table read and checked), not kept:
   * forEachDataPiece reads each file once, and the last 64 files kept in zfileCache (their
   * contexts and extents) lived across scavenges and were promoted instead of dying young
   * (docs/benchmarks.md#verify-lz4e-the-digest-threads-compressed-path-2026-12-07).
   */
  private openCompressed(ino: Inode): Promise<CompressedFile> {
    const sb = this.superblock;
    const packed = this.packed;
    const isPacked = packed !== null && ino.nid === packed.nid;
    // Every field in the literal, those a file does not use undefined: one object shape for
    // every file, so the compressed reader's optimized code is never thrown away for a new
    // one (docs/benchmarks.md#verify-lz4c-compiled-code-kept-a-smaller-digest-thread-2026-12-07).
    const ctx: CompressedFileContext = {
      nid: ino.nid,
      layout: ino.layout as 1 | 3,
      size: ino.size,
      inodeOffset: ino.offset,
      inodeSize: ino.inodeSize,
      xattrIsize: ino.xattrIsize,
      iU: ino.rawU,
      blockSizeBits: sb.blkszbits,
      featureIncompat: sb.featureIncompat,
      availableComprAlgs: sb.availableComprAlgs,
      comprConfigs: this.zConfigs,
      lz4MaxDistance: sb.lz4MaxDistance,
      readMain: (offset, length) => this.readDev(0, offset, length, ino.nid),
      readMainInto: this.devices.length === 0 ? (this.directRead ?? undefined) : undefined,
      readMeta: ino.inMetabox
        ? (offset: number, length: number) => this.metaSource!.read(offset, length)
        : undefined,
      readPacked:
        packed && !isPacked ? (offset, length) => this.readData(packed, offset, length, true) : undefined,
      packedSize: packed && !isPacked ? packed.size : undefined,
      packedNid: sb.featureIncompat & INCOMPAT_FRAGMENTS ? sb.packedNid : undefined,
      limits: this.zLimits,
    };
    return openCompressedFile(ctx).catch((e: unknown) => {
      throw toErofsError(e, ino.nid);
    });
  }

  /**
   * Read `length` bytes of an inode's content at `offset` (docs/format.md#flat-data for uncompressed
   * layouts, docs/format.md#compressed through the compressed module). Reads are clipped to i_size unless
   * `exact` is set, in which case a short range is an error.
   */
  async readData(ino: Inode, offset: number, length: number, exact = false): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) {
      throw new ErofsError('EINVAL', `invalid range ${offset}+${length}`, { nid: ino.nid });
    }
    if (ino.size > this.limits.maxContentSize) {
      throw new ErofsError(
        'ELIMIT',
        `i_size ${ino.size} exceeds maxContentSize ${this.limits.maxContentSize}`,
        { nid: ino.nid, offset: ino.offset + 8 },
      );
    }
    const end = Math.min(ino.size, offset + length);
    if (exact && end - offset !== length) {
      throw new ErofsError('ECORRUPT', `read of ${length} bytes at ${offset} beyond i_size ${ino.size}`, {
        nid: ino.nid,
      });
    }
    if (end <= offset) return new Uint8Array(0);
    const len = end - offset;
    if (isCompressedLayout(ino.layout)) {
      const f = await this.compressedFile(ino);
      try {
        const out = await f.read(offset, len);
        if (out.length !== len)
          throw new ErofsError('ECORRUPT', `compressed read returned ${out.length} of ${len} bytes`, {
            nid: ino.nid,
          });
        return out;
      } catch (e) {
        throw toErofsError(e, ino.nid);
      }
    }
    const bs = this.blockSize;
    switch (ino.layout) {
      case LAYOUT_FLAT_PLAIN:
        if (ino.hole) return new Uint8Array(len);
        return this.readDev(0, ino.startBlk * bs + offset, len, ino.nid);
      case LAYOUT_FLAT_INLINE: {
        // docs/format.md#flat-inline: body blocks then the tail right after the xattrs.
        const nblocks = Math.ceil(ino.size / bs);
        const tailStart = (nblocks - 1) * bs;
        const tailLen = ino.size - tailStart;
        if ((ino.dataOffset % bs) + tailLen > bs) {
          throw new ErofsError(
            'ECORRUPT',
            `inline data across blocks (tail ${tailLen} bytes at block offset ${ino.dataOffset % bs})`,
            { nid: ino.nid, offset: ino.dataOffset },
          );
        }
        const parts: Uint8Array[] = [];
        if (offset < tailStart)
          parts.push(
            await this.readDev(0, ino.startBlk * bs + offset, Math.min(end, tailStart) - offset, ino.nid),
          );
        if (end > tailStart) {
          const s = Math.max(offset, tailStart) - tailStart;
          parts.push(await this.containerOf(ino).read(ino.dataOffset + s, end - tailStart - s));
        }
        return parts.length === 1 ? parts[0]! : concat(parts, len);
      }
      case LAYOUT_CHUNK_BASED:
        return this.readChunked(ino, offset, len);
      default:
        throw new ErofsError('ENOTSUP', `unsupported data layout ${ino.layout}`, {
          nid: ino.nid,
          offset: ino.offset,
        });
    }
  }

  private chunkTable(ino: Inode): { g: ChunkGeometry; tableOffset: number } {
    const g = chunkGeometry(ino.chunkFormat, this.superblock.blkszbits, ino.size, ino.nid);
    return { g, tableOffset: roundUp(ino.dataOffset, g.unit) }; // docs/format.md#chunk-based
  }

  private async readChunked(ino: Inode, offset: number, len: number): Promise<Uint8Array> {
    const { g, tableOffset } = this.chunkTable(ino);
    const end = offset + len;
    const first = Math.floor(offset / g.chunkSize);
    const last = Math.floor((end - 1) / g.chunkSize);
    const table = await this.containerOf(ino).read(tableOffset + first * g.unit, (last - first + 1) * g.unit);
    const out = new Uint8Array(len);
    for (let k = first; k <= last; k++) {
      const e = decodeChunkEntry(
        table.subarray((k - first) * g.unit, (k - first + 1) * g.unit),
        g,
        this.superblock.deviceIdMask,
      );
      const cStart = k * g.chunkSize;
      const s = Math.max(offset, cStart);
      const t = Math.min(end, cStart + g.chunkSize);
      if (e.blkaddr === null) continue; // hole: zeros
      const data = await this.readDev(e.deviceId, e.blkaddr * this.blockSize + (s - cStart), t - s, ino.nid);
      out.set(data, s - offset);
    }
    return out;
  }

  /** Physical layout of a file (inspection). */
  async layoutOfInode(ino: Inode): Promise<FileLayout> {
    const bs = this.blockSize;
    const out: FileLayout = { nid: ino.nid, layout: ino.layoutName, size: ino.size, extents: [] };
    if (ino.size === 0) return out;
    if (isCompressedLayout(ino.layout)) {
      const f = await this.compressedFile(ino);
      let ext: ZExtent[];
      try {
        ext = await f.extents();
      } catch (e) {
        throw toErofsError(e, ino.nid);
      }
      for (const x of ext) {
        out.extents.push({
          logicalStart: x.logicalStart,
          logicalLength: x.logicalLength,
          kind: x.kind,
          device: 0,
          physicalAddr:
            x.kind === 'hole' || x.kind === 'fragment' || (x.inline && ino.inMetabox) ? null : x.physicalAddr,
          physicalLength: x.physicalLength,
        });
      }
      return out;
    }
    if (ino.layout === LAYOUT_CHUNK_BASED) {
      const { g, tableOffset } = this.chunkTable(ino);
      out.chunkSize = g.chunkSize;
      if (g.count > this.limits.maxDirEntries)
        throw new ErofsError(
          'ELIMIT',
          `${g.count} chunks exceed the inspection limit ${this.limits.maxDirEntries}`,
          { nid: ino.nid },
        );
      const table = await this.containerOf(ino).read(tableOffset, g.count * g.unit);
      for (let k = 0; k < g.count; k++) {
        const e = decodeChunkEntry(
          table.subarray(k * g.unit, (k + 1) * g.unit),
          g,
          this.superblock.deviceIdMask,
        );
        const l = Math.min(g.chunkSize, ino.size - k * g.chunkSize);
        out.extents.push(
          e.blkaddr === null
            ? {
                logicalStart: k * g.chunkSize,
                logicalLength: l,
                kind: 'hole',
                device: 0,
                physicalAddr: null,
                physicalLength: 0,
              }
            : {
                logicalStart: k * g.chunkSize,
                logicalLength: l,
                kind: 'data',
                device: e.deviceId,
                physicalAddr: e.blkaddr * bs,
                physicalLength: roundUp(l, bs),
              },
        );
      }
      return out;
    }
    if (ino.layout === LAYOUT_FLAT_PLAIN) {
      out.extents.push(
        ino.hole
          ? {
              logicalStart: 0,
              logicalLength: ino.size,
              kind: 'hole',
              device: 0,
              physicalAddr: null,
              physicalLength: 0,
            }
          : {
              logicalStart: 0,
              logicalLength: ino.size,
              kind: 'data',
              device: 0,
              physicalAddr: ino.startBlk * bs,
              physicalLength: roundUp(ino.size, bs),
            },
      );
      return out;
    }
    const nblocks = Math.ceil(ino.size / bs);
    const tailStart = (nblocks - 1) * bs;
    if (tailStart > 0)
      out.extents.push({
        logicalStart: 0,
        logicalLength: tailStart,
        kind: 'data',
        device: 0,
        physicalAddr: ino.startBlk * bs,
        physicalLength: tailStart,
      });
    out.extents.push({
      logicalStart: tailStart,
      logicalLength: ino.size - tailStart,
      kind: 'inline',
      device: 0,
      physicalAddr: ino.inMetabox ? null : ino.dataOffset,
      physicalLength: ino.size - tailStart,
    });
    return out;
  }

  // ------------------------------------------------------------------ directories

  /** Raw directory entries of a directory inode, including "." and ".." (docs/format.md#directories). */
  async dirents(ino: Inode): Promise<RawDirent[]> {
    if (ino.type !== 'dir') throw new ErofsError('ENOTDIR', 'not a directory', { nid: ino.nid });
    const cached = this.dirCache.get(ino.nid);
    if (cached instanceof ErofsError) throw cached;
    if (cached) return cached;
    try {
      const out = await this.parseDirents(ino);
      this.dirCache.set(ino.nid, out);
      return out;
    } catch (e) {
      // I/O errors may be transient (a network source); everything else is in the bytes.
      if (e instanceof ErofsError && e.code !== 'EIO') this.dirCache.set(ino.nid, e);
      throw e;
    }
  }

  private async parseDirents(ino: Inode): Promise<RawDirent[]> {
    const out: RawDirent[] = [];
    await this.visitDirents(ino, (nid, fileType, bytes, start, end) => {
      out.push({ nid, name: bytes.subarray(start, end), fileType });
    });
    return out;
  }

  /**
   * The raw entries of a directory ("." and ".." included) handed to `visit` one by one, name
   * = bytes[start..end), with every check of dirents() but no object per entry, and nothing
   * cached: for a pass over every directory that only counts (a scan's file_count). `visit`
   * must only take note: a corrupt block throws after some of its entries were visited.
   */
  async forEachDirent(
    ino: Inode,
    visit: (nid: number, fileType: number, bytes: Uint8Array, start: number, end: number) => void,
  ): Promise<void> {
    if (ino.type !== 'dir') throw new ErofsError('ENOTDIR', 'not a directory', { nid: ino.nid });
    const cached = this.dirCache.get(ino.nid);
    if (cached instanceof ErofsError) throw cached;
    if (cached) {
      for (const d of cached) visit(d.nid, d.fileType, d.name, 0, d.name.length);
      return;
    }
    await this.visitDirents(ino, visit);
  }

  private async visitDirents(
    ino: Inode,
    visit: (nid: number, fileType: number, bytes: Uint8Array, start: number, end: number) => void,
  ): Promise<void> {
    if (ino.size > this.limits.maxDirSize)
      throw new ErofsError(
        'ELIMIT',
        `directory of ${ino.size} bytes exceeds maxDirSize ${this.limits.maxDirSize}`,
        { nid: ino.nid },
      );
    const bs = this.blockSize;
    const data = await this.readData(ino, 0, ino.size, true);
    const flatBase = ino.layout === LAYOUT_FLAT_PLAIN && !ino.hole ? ino.startBlk * bs : undefined;
    // The last name of the blocks so far and the first of the current one, as bounds in `data`.
    let lastStart = -1;
    let lastEnd = -1;
    let firstStart = -1;
    let firstEnd = -1;
    let count = 0;
    for (let lblk = 0; lblk * bs < ino.size; lblk++) {
      const base = lblk * bs;
      const block = data.subarray(base, Math.min(ino.size, base + bs));
      let offset: number | undefined;
      if (flatBase !== undefined) offset = flatBase + base;
      else if (ino.layout === LAYOUT_FLAT_INLINE && (lblk + 1) * bs >= ino.size)
        offset = ino.inMetabox ? undefined : ino.dataOffset;
      else if (ino.layout === LAYOUT_FLAT_INLINE) offset = ino.startBlk * bs + base;
      let inBlock = 0;
      let blockLastStart = -1;
      let blockLastEnd = -1;
      forEachDirent(
        block,
        bs,
        { nid: ino.nid, lblk, ...(offset !== undefined ? { offset } : {}) },
        this.limits.maxNameLength,
        this.hasMetabox,
        (nid, fileType, start, end) => {
          if (inBlock++ === 0) {
            firstStart = base + start;
            firstEnd = base + end;
          }
          blockLastStart = base + start;
          blockLastEnd = base + end;
          visit(nid, fileType, data, base + start, base + end);
        },
      );
      if (lastStart >= 0 && inBlock > 0) {
        if (compareBytes(data.subarray(lastStart, lastEnd), data.subarray(firstStart, firstEnd)) >= 0)
          throw new ErofsError(
            'ECORRUPT',
            `directory entries not sorted across blocks ${lblk - 1} and ${lblk}`,
            { nid: ino.nid, ...(offset !== undefined ? { offset } : {}) },
          );
      }
      if (inBlock > 0) {
        lastStart = blockLastStart;
        lastEnd = blockLastEnd;
      }
      count += inBlock;
      if (count > this.limits.maxDirEntries)
        throw new ErofsError('ELIMIT', `directory has more than ${this.limits.maxDirEntries} entries`, {
          nid: ino.nid,
        });
    }
  }

  /** Find `name` in a directory (the kernel binary-searches; the parsed block list is cached). */
  async lookupChild(dir: Inode, name: Uint8Array): Promise<RawDirent | null> {
    const ents = await this.dirents(dir);
    let lo = 0;
    let hi = ents.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = compareBytes(ents[mid]!.name, name);
      if (c === 0) return ents[mid]!;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return null;
  }

  // ------------------------------------------------------------------ paths

  /**
   * Resolve a path to an inode. Paths are absolute or relative to the root; "." and ".."
   * are handled lexically against the walked chain (never trusting on-disk ".."); symlinks
   * in intermediate components are followed, the last one only with `follow`.
   */
  async resolve(path: string, follow = true): Promise<Inode> {
    if (typeof path !== 'string') throw new ErofsError('EINVAL', 'path must be a string');
    if (path.length > this.limits.maxPathLength)
      throw new ErofsError('ELIMIT', `path longer than ${this.limits.maxPathLength}`, { path });
    const enc = new TextEncoder();
    let hops = 0;
    const chain: Inode[] = [this.root];
    let pending = path.split('/').filter((c) => c !== '' && c !== '.');
    try {
      while (pending.length) {
        const comp = pending.shift()!;
        if (comp === '..') {
          if (chain.length > 1) chain.pop();
          continue;
        }
        const dir = chain[chain.length - 1]!;
        if (dir.type !== 'dir') throw new ErofsError('ENOTDIR', `not a directory`, { path, nid: dir.nid });
        const nameBytes = enc.encode(comp);
        if (nameBytes.length > this.limits.maxNameLength)
          throw new ErofsError('ENOENT', `name longer than ${this.limits.maxNameLength} bytes`, { path });
        const de = await this.lookupChild(dir, nameBytes);
        if (!de) throw new ErofsError('ENOENT', `no such file or directory`, { path });
        const ino = await this.inode(de.nid);
        if (ino.type === 'symlink' && (pending.length > 0 || follow)) {
          if (++hops > MAX_SYMLINK_HOPS)
            throw new ErofsError('ELIMIT', `too many levels of symbolic links`, { path });
          const target = await this.readlinkInode(ino);
          if (target.startsWith('/')) chain.length = 1;
          pending = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...pending];
          continue;
        }
        chain.push(ino);
        if (chain.length > this.limits.maxPathDepth)
          throw new ErofsError('ELIMIT', `path deeper than ${this.limits.maxPathDepth}`, { path });
      }
    } catch (e) {
      if (e instanceof ErofsError) throw e.withPath(path);
      throw e;
    }
    return chain[chain.length - 1]!;
  }

  // ------------------------------------------------------------------ fs-like API

  async stat(path: string): Promise<ErofsStats> {
    return makeStats(await this.resolve(path, true));
  }

  async lstat(path: string): Promise<ErofsStats> {
    return makeStats(await this.resolve(path, false));
  }

  async readdir(path: string): Promise<string[]>;
  async readdir(path: string, opts: { withFileTypes: true }): Promise<ErofsDirent[]>;
  async readdir(path: string, opts?: { withFileTypes?: boolean }): Promise<string[] | ErofsDirent[]>;
  async readdir(path: string, opts: { withFileTypes?: boolean } = {}): Promise<string[] | ErofsDirent[]> {
    const dir = await this.resolve(path, true);
    if (dir.type !== 'dir') throw new ErofsError('ENOTDIR', 'not a directory', { path, nid: dir.nid });
    const ents = (
      await this.dirents(dir).catch((e: unknown) => {
        throw e instanceof ErofsError ? e.withPath(path) : e;
      })
    ).filter((e) => !isDotOrDotDot(e.name));
    if (!opts.withFileTypes) return ents.map((e) => decodeName(e.name));
    return ents.map((e) => makeDirent(e, path));
  }

  async readFile(path: string): Promise<Uint8Array> {
    const ino = await this.resolve(path, true);
    if (ino.type === 'dir') throw new ErofsError('EISDIR', 'is a directory', { path, nid: ino.nid });
    if (ino.size > this.limits.maxReadFileSize) {
      throw new ErofsError(
        'ELIMIT',
        `file of ${ino.size} bytes exceeds maxReadFileSize ${this.limits.maxReadFileSize}; use createReadStream`,
        { path, nid: ino.nid },
      );
    }
    const data = await this.readData(ino, 0, ino.size, true);
    return data.slice();
  }

  /** Stream a file in chunks of at most `chunkSize` bytes (bounded memory). */
  createReadStream(
    path: string,
    opts: { start?: number; end?: number; chunkSize?: number } = {},
  ): AsyncIterable<Uint8Array> {
    return {
      [Symbol.asyncIterator]: () => this.streamInode(path, opts)[Symbol.asyncIterator](),
    };
  }

  private async *streamInode(
    path: string,
    opts: { start?: number; end?: number; chunkSize?: number },
  ): AsyncGenerator<Uint8Array> {
    const ino = await this.resolve(path, true);
    if (ino.type === 'dir') throw new ErofsError('EISDIR', 'is a directory', { path, nid: ino.nid });
    yield* this.streamData(ino, opts);
  }

  /**
   * Feed an inode's whole content to `sink` in order, in pieces of at most `scratch.length`
   * bytes (hashing a file, `scan --hash`). A piece may alias `scratch` and is valid only during
   * the call. The body blocks of a flat inode on a synchronous source (docs/format.md#flat-data)
   * are read straight into `scratch` with one positional read per piece: no block cache, no
   * new buffer, no concatenation with the inline tail. Everything else goes through readData,
   * with its checks.
   */
  async forEachDataPiece(ino: Inode, scratch: Uint8Array, sink: (piece: Uint8Array) => void): Promise<void> {
    const bs = this.blockSize;
    // Bytes of body blocks read directly: all of a FLAT_PLAIN file, all but the last
    // (inline) block of a FLAT_INLINE one; -1 when the direct path does not apply.
    const body =
      ino.layout === LAYOUT_FLAT_PLAIN && !ino.hole
        ? ino.size
        : ino.layout === LAYOUT_FLAT_INLINE && ino.size > 0
          ? (Math.ceil(ino.size / bs) - 1) * bs
          : -1;
    if (isCompressedLayout(ino.layout) && ino.size <= this.limits.maxContentSize) {
      const f = await (this.zfileCache.get(ino.nid) ?? this.openCompressed(ino));
      try {
        await f.forEachPiece(sink);
      } catch (e) {
        throw toErofsError(e, ino.nid);
      }
      return;
    }
    const direct = this.directRead;
    if (!direct || body < 0 || this.devices.length > 0 || ino.size > this.limits.maxContentSize) {
      for await (const piece of this.streamData(ino, { chunkSize: scratch.length })) sink(piece);
      return;
    }
    const start = ino.startBlk * bs;
    for (let pos = 0; pos < body; pos += scratch.length) {
      const piece = scratch.length <= body - pos ? scratch : scratch.subarray(0, body - pos);
      try {
        checkRange(this.source.size, start + pos, piece.length, 'image'); // as the block cache words it
        direct(start + pos, piece);
      } catch (e) {
        throw e instanceof ErofsError && e.nid === undefined
          ? new ErofsError(e.code, e.detail, { nid: ino.nid, offset: start + pos, cause: e })
          : e;
      }
      sink(piece);
    }
    if (body < ino.size) sink(await this.readData(ino, body, ino.size - body, true));
  }

  /**
   * The whole content of a small uncompressed file read synchronously into `scratch` (the
   * result is a view of it, valid until the next call), for hashing it without a promise
   * (`scan --hash`'s files of one block, docs/reader.md#small-files-in-the-walking-thread).
   * The bytes are exactly what readData(ino, 0, size) returns (docs/format.md#flat-data: body
   * blocks, then the inline tail after the xattrs). Undefined whenever only readData will do:
   * content longer than `scratch`, a compressed, chunk-based or hole layout, extra devices, a
   * source without synchronous reads, or anything readData refuses (it then names the problem).
   */
  dataNow(ino: Inode, scratch: Uint8Array): Uint8Array | undefined {
    const size = ino.size;
    if (size > scratch.length || size > this.limits.maxContentSize || this.devices.length > 0)
      return undefined;
    const layout = ino.layout;
    if (layout !== LAYOUT_FLAT_PLAIN && layout !== LAYOUT_FLAT_INLINE) return undefined;
    const out = scratch.subarray(0, size);
    if (size === 0) return out; // readData reads nothing for an empty file, whatever its fields
    const bs = this.blockSize;
    const src = this.source;
    // Body blocks past the block cache, as forEachDataPiece reads them: file data would only
    // evict the metadata the walk reads next. (Set exactly when the source reads synchronously.)
    const body = this.directRead;
    if (!body) return undefined;
    if (layout === LAYOUT_FLAT_PLAIN) {
      const at = ino.startBlk * bs;
      if (ino.hole || at + size > src.size) return undefined;
      body(at, out);
      return out;
    }
    const tailStart = (Math.ceil(size / bs) - 1) * bs;
    const tailLen = size - tailStart;
    const container = this.containerOf(ino);
    if (
      (ino.dataOffset % bs) + tailLen > bs || // readData's "inline data across blocks"
      !container.readInto ||
      ino.dataOffset + tailLen > container.size ||
      // i_u means nothing when the tail is the whole file (mkfs.erofs leaves it all ones)
      (tailStart > 0 && ino.startBlk * bs + tailStart > src.size)
    )
      return undefined;
    if (tailStart > 0) body(ino.startBlk * bs, out.subarray(0, tailStart));
    container.readInto(ino.dataOffset, tailStart === 0 ? out : out.subarray(tailStart));
    return out;
  }

  /** Stream an inode's content; `end` is inclusive like fs.createReadStream. */
  async *streamData(
    ino: Inode,
    opts: { start?: number; end?: number; chunkSize?: number } = {},
  ): AsyncGenerator<Uint8Array> {
    const chunk = Math.max(1, opts.chunkSize ?? this.limits.streamChunkSize);
    const start = Math.max(0, opts.start ?? 0);
    const stop = Math.min(ino.size, opts.end !== undefined ? opts.end + 1 : ino.size);
    for (let pos = start; pos < stop; pos += chunk) {
      yield await this.readData(ino, pos, Math.min(chunk, stop - pos), true);
    }
  }

  async readlink(path: string): Promise<string> {
    const ino = await this.resolve(path, false);
    if (ino.type !== 'symlink') throw new ErofsError('EINVAL', 'not a symbolic link', { path, nid: ino.nid });
    return this.readlinkInode(ino);
  }

  /** Symlink target (docs/format.md#symlinks): 1..maxSymlinkSize bytes, no NUL. */
  async readlinkInode(ino: Inode): Promise<string> {
    const raw = await this.readlinkBytes(ino);
    return decodeName(raw);
  }

  async readlinkBytes(ino: Inode): Promise<Uint8Array> {
    if (ino.size < 1 || ino.size > this.limits.maxSymlinkSize) {
      throw new ErofsError('ECORRUPT', `invalid symlink size ${ino.size}`, {
        nid: ino.nid,
        offset: ino.offset + 8,
      });
    }
    const raw = await this.readData(ino, 0, ino.size, true);
    if (raw.includes(0)) throw new ErofsError('ECORRUPT', `symlink target contains NUL`, { nid: ino.nid });
    return raw;
  }

  /** All xattrs of an inode (inline first, then shared, docs/format.md#xattr-shared), names resolved (docs/format.md#xattr-names). */
  async xattrsOf(ino: Inode): Promise<XattrRecord[]> {
    if (ino.xattrIsize === 0) return [];
    // docs/format.md#xattr-isize: i_xattr_icount 1 (header only) is "not supported yet" in the kernel.
    if (ino.xattrIcount === 1)
      throw new ErofsError('ENOTSUP', 'i_xattr_icount 1 (xattr header without entries) is not supported', {
        nid: ino.nid,
        offset: ino.offset + 2,
      });
    const areaOff = ino.offset + ino.inodeSize;
    const area = await this.containerOf(ino).read(areaOff, ino.xattrIsize);
    const h = parseXattrArea(area, areaOff, ino.nid, this.limits.maxXattrCount);
    const entries: XattrEntry[] = [...h.inline];
    const sharedBase = this.superblock.xattrBlkaddr * this.blockSize;
    const shared = h.sharedIds.length ? this.sharedXattrSource(ino.nid) : this.source;
    for (const id of h.sharedIds) {
      const off = sharedBase + 4 * id;
      const head = await shared.read(off, XATTR_ENTRY_HEADER);
      const body = await shared.read(off + XATTR_ENTRY_HEADER, entryBodyLength(head));
      entries.push({
        nameIndex: head[1]!,
        suffix: body.subarray(0, head[0]!),
        value: body.subarray(head[0]!),
        offset: off,
        shared: true,
      });
    }
    return entries.map((e) => {
      const r = resolveName(e, this.prefixes);
      return { name: r.full, listed: r.listed, value: e.value, shared: e.shared, base: r.base, rest: r.rest };
    });
  }

  /**
   * xattrsOf(ino) without waiting, for the common case of a scan: inline xattrs only, read
   * through a container that reads synchronously (an image file or memory). Undefined when
   * only xattrsOf will do (shared xattrs, a Blob, an i_xattr_icount xattrsOf refuses). A
   * promise per fingerprinted inode was the largest cost left in a metadata scan.
   */
  xattrsNow(ino: Inode): XattrRecord[] | undefined {
    if (ino.xattrIsize === 0) return [];
    const area = this.xattrAreaNow(ino, new Uint8Array(ino.xattrIsize));
    if (!area) return undefined;
    const areaOff = ino.offset + ino.inodeSize;
    const h = parseXattrArea(area, areaOff, ino.nid, this.limits.maxXattrCount);
    if (h.sharedIds.length) return undefined;
    return h.inline.map((e) => {
      const r = resolveName(e, this.prefixes);
      return { name: r.full, listed: r.listed, value: e.value, shared: e.shared, base: r.base, rest: r.rest };
    });
  }

  /**
   * The raw inline xattr area of an inode (docs/format.md#xattr-ibody), read synchronously into
   * `scratch` (at least xattrIsize bytes; the result is a view of it), or undefined when only
   * xattrsOf will do (a Blob or the metabox, an i_xattr_icount xattrsOf refuses). Unvalidated:
   * parseXattrArea or inlineFingerprint decides what it holds.
   */
  xattrAreaNow(ino: Inode, scratch: Uint8Array): Uint8Array | undefined {
    const src = this.containerOf(ino);
    if (ino.xattrIcount === 1 || !src.readInto || scratch.length < ino.xattrIsize) return undefined;
    const area = scratch.length === ino.xattrIsize ? scratch : scratch.subarray(0, ino.xattrIsize);
    src.readInto(ino.offset + ino.inodeSize, area);
    return area;
  }

  /**
   * xattrAreaNow without the copy: the index of the inline xattr area in `cachedBytes` (the
   * block cache's memory, docs/reader.md#metadata-in-place), valid until the image's next
   * read; -1 when xattrAreaNow must copy it (an area across two cache blocks) or undefined
   * would come of it.
   */
  xattrAreaAt(ino: Inode): number {
    const view = this.blockView;
    if (ino.xattrIcount === 1 || ino.inMetabox || !view) return -1;
    return view.at(ino.offset + ino.inodeSize, ino.xattrIsize);
  }

  /** The memory xattrAreaAt's indexes point into. */
  get cachedBytes(): Uint8Array {
    return this.blockView ? this.blockView.bytes : EMPTY_BYTES;
  }

  /** listxattr(2): visible names, first occurrence wins. */
  async listxattrInode(ino: Inode): Promise<string[]> {
    const seen = new Set<string>();
    for (const x of await this.xattrsOf(ino)) if (x.listed && x.name !== null) seen.add(x.name);
    return [...seen];
  }

  async listxattr(path: string): Promise<string[]> {
    return this.listxattrInode(await this.resolve(path, false));
  }

  /**
   * getxattr(2) by full name (docs/format.md#xattr-names). The bloom filter (docs/format.md#xattr-filter) is consulted only to
   * skip the scan when its bit says "definitely absent", as the kernel does.
   * Throws ENODATA when absent.
   */
  async getxattrInode(ino: Inode, name: string): Promise<Uint8Array> {
    if (new TextEncoder().encode(name).length > 255)
      throw new ErofsError('EINVAL', `xattr name longer than 255 bytes (ERANGE)`, { nid: ino.nid });
    const sb = this.superblock;
    if (ino.xattrIsize >= 12 && sb.featureCompat & COMPAT_XATTR_FILTER && sb.xattrFilterReserved === 0) {
      const { base, rest } = splitName(name);
      const area = await this.containerOf(ino).read(ino.offset + ino.inodeSize, 4);
      const filter = (area[0]! | (area[1]! << 8) | (area[2]! << 16) | (area[3]! << 24)) >>> 0;
      if (filter & (1 << filterBit(base, new TextEncoder().encode(rest))))
        throw new ErofsError('ENODATA', `no xattr ${JSON.stringify(name)}`, { nid: ino.nid });
    }
    for (const x of await this.xattrsOf(ino)) if (x.name === name) return x.value.slice();
    throw new ErofsError('ENODATA', `no xattr ${JSON.stringify(name)}`, { nid: ino.nid });
  }

  async getxattr(path: string, name: string): Promise<Uint8Array> {
    const ino = await this.resolve(path, false);
    return this.getxattrInode(ino, name).catch((e: unknown) => {
      throw e instanceof ErofsError ? e.withPath(path) : e;
    });
  }

  /** The fingerprint xattr value (docs/format.md#fingerprints) of an inode, or null (also null without ISHARE_XATTRS). */
  async fingerprintOf(ino: Inode, xattrs?: XattrRecord[]): Promise<Uint8Array | null> {
    const fp = this.fingerprintXattrName;
    if (fp === null || ino.xattrIsize === 0) return null;
    for (const x of xattrs ?? (await this.xattrsOf(ino))) if (x.name === fp) return x.value;
    return null;
  }

  /** Inspection: physical layout of the file at `path` (not following a final symlink). */
  async layoutOf(pathOrNid: string | number): Promise<FileLayout> {
    const ino =
      typeof pathOrNid === 'number' ? await this.inode(pathOrNid) : await this.resolve(pathOrNid, false);
    return this.layoutOfInode(ino);
  }

  async close(): Promise<void> {
    await this.source.close?.();
    for (const d of this.devices) await d.close?.();
  }
}

export function isDotOrDotDot(name: Uint8Array): boolean {
  return (
    (name.length === 1 && name[0] === 0x2e) || (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e)
  );
}

function concat(parts: Uint8Array[], len: number): Uint8Array {
  const out = new Uint8Array(len);
  let p = 0;
  for (const x of parts) {
    out.set(x, p);
    p += x.length;
  }
  return out;
}

export function makeStats(ino: Inode): ErofsStats {
  return {
    nid: ino.nid,
    ino: ino.nid,
    type: ino.type,
    mode: ino.mode,
    nlink: ino.nlink,
    uid: ino.uid,
    gid: ino.gid,
    size: ino.size,
    mtime: ino.mtime,
    mtimeNsec: ino.mtimeNsec,
    mtimeMs: ino.mtime * 1000 + Math.floor(ino.mtimeNsec / 1e6),
    rdev: ino.rdev,
    layout: ino.layoutName,
    isFile: () => ino.type === 'file',
    isDirectory: () => ino.type === 'dir',
    isSymbolicLink: () => ino.type === 'symlink',
  };
}

function makeDirent(e: RawDirent, parentPath: string): ErofsDirent {
  const type = FT_TO_TYPE[FT_NAMES[e.fileType]!];
  return {
    name: decodeName(e.name),
    nameBytes: e.name,
    nid: e.nid,
    type,
    parentPath,
    isFile: () => type === 'file',
    isDirectory: () => type === 'dir',
    isSymbolicLink: () => type === 'symlink',
  };
}

/** Open an EROFS image from a byte source (docs/format.md#open-sequence). */
export function openImage(source: ByteSource, opts: OpenImageOptions = {}): Promise<ErofsImage> {
  return ErofsImage.open(source, opts);
}
