/** Universal entry of @sharemap/erofs (browser, worker and Node). Node extras: `@sharemap/erofs/node`. */
export * from './manifest-types.js';
export { ErofsError, ManifestError, isErofsError, type ErofsErrorCode } from './errors.js';
export { DEFAULT_LIMITS, resolveLimits, type ErofsLimits } from './limits.js';
export {
  memorySource,
  blobSource,
  cachedSource,
  type ByteSource,
  type CachedSource,
  type CachedSourceOptions,
} from './source/index.js';
export {
  openImage,
  ErofsImage,
  makeStats,
  type OpenImageOptions,
  type ErofsStats,
  type ErofsDirent,
  type XattrRecord,
  type FileLayout,
  type LayoutExtent,
  type Inode,
  type Superblock,
} from './image.js';
export { walk, type WalkEntry, type WalkOptions } from './walk.js';
export {
  scanManifest,
  scanManifestTo,
  scanSharedTo,
  scanHeader,
  countPaths,
  type RootStepShare,
  type ManifestSink,
  type ManifestFieldSink,
  type HeaderLaterSink,
  type RecordBytesSink,
  MAX_HELD_BYTES,
  type RecordFields,
  recordOf,
  manifestToNdjson,
  ManifestStreamValidator,
  manifestToJson,
  manifestHeader,
  manifestSuperblock,
  parseManifest,
  parseManifestBytes,
  ManifestBytesParser,
  NdjsonManifestParser,
  StringTable,
  validManifestPath,
  nidText,
  inodeNumber,
  type ScanOptions,
  type ScanProgress,
  type ParseManifestOptions,
  type ManifestStringSink,
  ManifestColumns,
  manifestColumns,
  columnarManifest,
  FILE_TYPE_CODES,
  LAYOUT_CODES,
  TYPE_FILE,
  MAX_PREALLOCATED_RECORDS,
  PathStore,
  PATH_ASCII,
  PATH_UTF16,
  type PathBytes,
} from './manifest.js';
export { isGzip, isParquet } from './manifest-magic.js';
export {
  encodeManifestColumns,
  decodeManifestColumns,
  ManifestColumnsCodecError,
  COLUMNS_CODEC_MAGIC,
  COLUMNS_CODEC_VERSION,
  MAX_COLUMNS_STRING_UNITS,
  ManifestColumnsStreamEncoder,
  type ColumnsSectionSink,
  type ColumnsByteSource,
  type ColumnsStringInterner,
} from './manifest-columns-codec.js';
export { encodeRecord, recordBound } from './manifest-encode.js';
export { wasmSha256, type Hasher, type HasherFactory } from './hash.js';
export { requiredKernel, featureNames } from './disk/superblock.js';
export {
  setLz4Decoder,
  getLz4Decoder,
  lz4WasmAvailable,
  LZ4_WASM_MAX_MEMORY,
  type Lz4DecoderKind,
} from './decompress/index.js';
