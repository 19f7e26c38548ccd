// Interface between the core reader and the compressed-data reader (layouts 1 and 3, docs/format.md#compressed).
//
// The core reader parses the superblock and the inode, then hands a CompressedFileContext to
// openCompressedFile() (compressed/index.ts). Everything below the inode body (map header,
// lcluster indexes or encoded extents, inline tail pcluster, pclusters) is read by this module.

/** Superblock feature_incompat bits this module looks at (docs/format.md#feature-incompat). */
export const INCOMPAT_ZERO_PADDING = 0x0001; // LZ4_0PADDING
export const INCOMPAT_COMPR_CFGS = 0x0002;
export const INCOMPAT_BIG_PCLUSTER = 0x0002; // same bit as COMPR_CFGS (docs/format.md#feature-incompat)
export const INCOMPAT_CHUNKED_FILE = 0x0004;
export const INCOMPAT_DEVICE_TABLE = 0x0008;
export const INCOMPAT_ZTAILPACKING = 0x0010;
export const INCOMPAT_FRAGMENTS = 0x0020;
export const INCOMPAT_DEDUPE = 0x0020;
export const INCOMPAT_48BIT = 0x0080;

/** Compression algorithm ids (docs/format.md#compressed-fs). */
export const ALG_LZ4 = 0;
export const ALG_LZMA = 1;
export const ALG_DEFLATE = 2;
export const ALG_ZSTD = 3;

export interface CompressedFileContext {
  /** Inode number (for error messages; bit 63 = metabox inode). */
  nid: number;
  /** 1 = COMPRESSED_FULL, 3 = COMPRESSED_COMPACT (docs/format.md#i-format). */
  layout: 1 | 3;
  /** i_size in bytes. */
  size: number;
  /**
   * Byte offset of the inode inside its container: the main device for ordinary nids, the
   * decompressed metabox data when `readMeta` is given (docs/format.md#nid, docs/format.md#containers).
   */
  inodeOffset: number;
  inodeSize: 32 | 64;
  /** Bytes of the inline xattr area following the inode (docs/format.md#xattr-isize); 0 if none. */
  xattrIsize: number;
  /** Raw i_u (offset 16) of the inode: informational block count for compressed inodes (docs/format.md#i-u). */
  iU: number;
  blockSizeBits: number;
  /** Raw superblock feature_incompat bitmask. */
  featureIncompat: number;
  /**
   * Effective algorithm bitmask per docs/format.md#compressed-fs: the superblock `available_compr_algs` when
   * COMPR_CFGS is set; otherwise 0x1 (LZ4) if the image counts as LZ4-compressed (LZ4_0PADDING
   * or lz4_max_distance != 0), else 0 (plain filesystem; compressed inodes are rejected).
   */
  availableComprAlgs: number;
  /** Compression configuration records (docs/format.md#compr-cfgs) in on-disk order; may be empty. */
  comprConfigs: { algorithm: number; raw: Uint8Array }[];
  /**
   * Superblock `lz4_max_distance` (offset 84) when COMPR_CFGS is clear (docs/format.md#compressed-fs); with
   * COMPR_CFGS the LZ4 record's `max_distance` applies instead. 0 or absent = 64 KiB.
   */
  lz4MaxDistance?: number;
  /** Superblock packed_nid when FRAGMENTS is set (docs/format.md#fragments). */
  packedNid?: number;
  /** Bytes of device 0 (absolute offsets). Must throw if the range is outside the device. */
  readMain(offset: number, length: number): Promise<Uint8Array>;
  /**
   * readMain() into `target` (its length is the length read), synchronously, when the device
   * reads synchronously (an image file, memory): the sequential pass (forEachPiece) then reads
   * pcluster runs into one reused buffer instead of a new one per read. Must throw if the range
   * is outside the device or the read comes back short.
   */
  readMainInto?(offset: number, target: Uint8Array): void;
  /**
   * Size of device 0 in bytes, when known. Every pcluster is then checked against it when the
   * file is opened, so an out-of-range block address is reported as ECORRUPT up front.
   */
  mainDeviceSize?: number;
  /**
   * Bytes of the container that holds the inode (metabox data for bit-63 nids). The map header,
   * indexes and the inline (ztailpacking) pcluster are read through this; defaults to readMain.
   */
  readMeta?(offset: number, length: number): Promise<Uint8Array>;
  /** Decompressed bytes of the packed inode (fragments, docs/format.md#fragments). Must throw when out of range. */
  readPacked?(offset: number, length: number): Promise<Uint8Array>;
  /**
   * i_size of the packed inode, when known. Every fragment extent is then checked against it
   * when the file is opened (docs/format.md#validate-compressed, rule 11), so a fragment offset
   * past the packed data is reported as ECORRUPT up front, never left to readPacked to refuse.
   */
  packedSize?: number;
  limits: {
    /** Largest pcluster accepted, bytes (kernel: 1 MiB, docs/format.md#compression-terms). */
    maxPclusterBytes: number;
    /** Largest i_size accepted. */
    maxFileSize: number;
    /** Largest number of extents/lclusters per file this reader will index. */
    maxExtents: number;
  };
}

export type ZExtentKind =
  'lz4' | 'lzma' | 'deflate' | 'zstd' | 'shifted' | 'interlaced' | 'fragment' | 'hole';

/** One logical extent of a compressed file (docs/format.md#map-lookup, docs/format.md#encoded-extents). */
export interface ZExtent {
  /** Logical (decompressed) start byte. */
  logicalStart: number;
  logicalLength: number;
  /** Physical byte address of the pcluster (device 0, or inode container when `inline`); 0 for holes/fragments. */
  physicalAddr: number;
  physicalLength: number;
  kind: ZExtentKind;
  /** Extent covers only a prefix of the pcluster's decoded output (PARTIAL_REF, docs/format.md#dedupe). */
  partial: boolean;
  /** ztailpacking: pcluster stored inline after the indexes (docs/format.md#ztailpacking). */
  inline: boolean;
  /** For kind 'fragment': byte offset in the packed inode's data of `logicalStart`. */
  fragmentOffset?: number;
}

export interface CompressedFile {
  size: number;
  /** All extents in logical order (covering [0, size)). */
  extents(): Promise<ZExtent[]>;
  /** Read `length` bytes at `offset` (clipped to size). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Feed the whole content [0, size) to `sink` in order, the same bytes as read(0, size), one
   * decoded extent at a time: no output buffer of the file's size, no copy out of the decoded
   * pcluster (hashing, `scan --hash`). A piece is valid only during the call.
   */
  forEachPiece(sink: (piece: Uint8Array) => void): Promise<void>;
}

export const DEFAULT_COMPRESSED_LIMITS: CompressedFileContext['limits'] = {
  maxPclusterBytes: 1 << 20, // Z_EROFS_PCLUSTER_MAX_SIZE, the kernel's 1 MiB ceiling (docs/format.md#compression-terms)
  maxFileSize: 2 ** 40,
  // 4 Mi lclusters = 16 GiB at 4 KiB lclusters; the index table costs 16 bytes per lcluster
  maxExtents: 1 << 22,
};
