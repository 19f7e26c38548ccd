/**
 * Named bounds of the reader. An EROFS image is untrusted input (docs/format.md#validation): every loop
 * and allocation driven by on-disk values is capped by one of these. Each can be
 * overridden per image through `openImage(src, { limits: { ... } })`.
 */
export interface ErofsLimits {
  /** Deepest directory nesting followed by walk() and path lookup. Linux's PATH_MAX (4096)
   * allows at most ~2048 components ("a/"); real images are far shallower. */
  maxPathDepth: number;
  /** Longest path string accepted by lookups (Linux PATH_MAX). */
  maxPathLength: number;
  /** Entries in one directory. A 4 GiB directory of 12+1 byte entries could claim
   * ~330 M entries; 1 M keeps readdir's array bounded while covering real images. */
  maxDirEntries: number;
  /** Inodes visited by one whole-tree walk (distinct paths, hard links counted per path). */
  maxInodesWalked: number;
  /** Longest file name: EROFS_NAME_LEN in the kernel and erofs-utils (docs/format.md#dirent). */
  maxNameLength: number;
  /** Largest file readFile() materialises in memory; use createReadStream() for more. */
  maxReadFileSize: number;
  /** Largest i_size whose content is read at all (readData/streams/hashing). Sparse and hole
   * files can claim any size without occupying blocks; hashing 2^50 zero bytes would never
   * finish. 64 GiB is far above any file of a container image. */
  maxContentSize: number;
  /** Largest directory size (i_size) read at once. */
  maxDirSize: number;
  /** Xattr entries on one inode (inline + shared). mkfs allows at most 255 shared ids, and an
   * inline area is at most 12 + 4*65534 bytes, i.e. < 65536 minimal entries. */
  maxXattrCount: number;
  /** Xattr area size: i_xattr_icount is u16, so at most 12 + 4*65534 bytes (docs/format.md#xattr-isize). */
  maxXattrIsize: number;
  /** Symlink target length: the kernel reads targets of at most one page (docs/format.md#symlinks). */
  maxSymlinkSize: number;
  /** Wall-clock budget (ms) of one walk/scan; 0 disables. Guards against pathological images. */
  maxWalkMillis: number;
  /** Chunk bytes streamed per createReadStream() iteration (bounded memory). */
  streamChunkSize: number;
}

export const DEFAULT_LIMITS: Readonly<ErofsLimits> = Object.freeze({
  maxPathDepth: 1024,
  maxPathLength: 4096,
  maxDirEntries: 1 << 20,
  maxInodesWalked: 10_000_000,
  maxNameLength: 255,
  maxReadFileSize: 512 * 1024 * 1024,
  maxContentSize: 64 * 1024 ** 3,
  maxDirSize: 256 * 1024 * 1024,
  maxXattrCount: 65_536,
  maxXattrIsize: 12 + 4 * 65_534,
  maxSymlinkSize: 4095,
  maxWalkMillis: 0,
  streamChunkSize: 1024 * 1024,
});

/** Superblock-level constants fixed by the format (docs/format.md#superblock). */
export const EROFS_SUPER_OFFSET = 1024;
export const EROFS_SUPER_MAGIC = 0xe0f5e1e2;
/** blkszbits range: erofs-utils allows 9..12, kernels on 64 KiB-page machines up to 16 (docs/format.md#geometry). */
export const MIN_BLKSZBITS = 9;
export const MAX_BLKSZBITS = 16;
/** sb_size must fit in the first page after the 1024-byte boot area (docs/format.md#sb-size). */
export const MAX_SB_SIZE = 4096 - 1024;
/** At most 128 long xattr prefixes (the index has 7 bits, docs/format.md#xattr-long-prefixes). */
export const MAX_XATTR_PREFIXES = 128;
/** Compression configuration records are at most 65536 bytes each (docs/format.md#compr-cfgs). */
export const MAX_COMPR_CFG_SIZE = 65_536;
/** Extra devices: u16 on disk; a table larger than this is rejected as implausible. */
export const MAX_EXTRA_DEVICES = 4096;

export function resolveLimits(overrides?: Partial<ErofsLimits>): ErofsLimits {
  const l: ErofsLimits = { ...DEFAULT_LIMITS };
  if (overrides) {
    for (const [k, v] of Object.entries(overrides) as [keyof ErofsLimits, number | undefined][]) {
      if (v !== undefined) {
        if (typeof v !== 'number' || !(v >= 0))
          throw new TypeError(`limit ${k} must be a non-negative number`);
        l[k] = v;
      }
    }
  }
  return l;
}
