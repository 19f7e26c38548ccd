/** @sharemap/oci: OCI images, `docker save` archives and tars in, predicted EROFS manifests out (Node and browser). */
export { OciError, isOciError, type OciErrorCode } from './errors.js';
export { DEFAULT_OCI_LIMITS, resolveOciLimits, type OciLimits } from './limits.js';
export { readTar, parsePax, parseNumber, type TarEntry, type TarKind } from './tar.js';
export {
  readLayer,
  readLayerHashed,
  normalisePath,
  displayPath,
  type LayerMember,
  type PathKey,
  type ReadLayerOptions,
  type ReadLayerHashedOptions,
} from './layer.js';
export { TAR_HASH_CHUNK_BYTES, tarHashChunks, type TarHasher, type TarHasherFactory } from './tar-hasher.js';
export { applyMkfs, applyFlatten, newRoot, type Dentry, type Inode } from './tree.js';
export {
  treeToManifest,
  buildArgs,
  LAYER_BUILD,
  FLAT_BUILD,
  PREDICTED_TOOL,
  FINGERPRINT_XATTR,
  type BuildOptions,
  type PredictManifestOptions,
} from './manifest.js';
export { predictTar, mkfsTree, mkfsRoot, flattenLayers, type PredictTarOptions } from './predict.js';
export { compressionOf, looksLikeTar, decompress, type Compression } from './compress.js';
export { indexTar, tarFiles, rangeChunks, type ArchiveFile, type ArchiveFiles } from './tar-index.js';
export {
  loadImages,
  openArchive,
  parsePlatform,
  platformString,
  DEFAULT_PLATFORM,
  type Platform,
  type OciImage,
  type OciLayer,
  type ArchiveKind,
  type LoadOptions,
  type OpenedArchive,
} from './archive.js';
export {
  predictImage,
  predictLayer,
  imageFileName,
  layerImageName,
  type ImagePrediction,
  type LayerPrediction,
  type PredictImageOptions,
} from './image.js';
export {
  predictArchive,
  modelManifests,
  type DeploymentModel,
  type PredictArchiveOptions,
  type PredictedArchive,
} from './predict-archive.js';
