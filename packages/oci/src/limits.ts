/**
 * Named bounds of the predictor. Archives are untrusted input: a tar bomb (millions of
 * members, a member claiming petabytes, a PAX header of gigabytes) must fail with ELIMIT
 * before it costs memory or hours. Documented in docs/oci.md; each can be overridden per
 * call (`limits: { ... }`).
 */
export interface OciLimits {
  /** Members of one tar (layer or rootfs), counting every header block (PAX, GNU L/K too).
   * The largest distribution images have a few hundred thousand files. */
  maxEntries: number;
  /** Largest size of one member's data. The EROFS reader hashes at most 64 GiB per file
   * (erofs DEFAULT_LIMITS.maxContentSize); a member claiming more is not a real file. */
  maxMemberSize: number;
  /** Uncompressed bytes of one tar stream: bounds a decompression bomb's running time. */
  maxTarBytes: number;
  /** Data of one PAX extended header (x or g) or GNU long name/link member (held in memory). */
  maxExtendedHeader: number;
  /** Longest path or link name in bytes (Linux PATH_MAX, which mkfs.erofs also applies). */
  maxPathBytes: number;
  /** Largest JSON document (manifest.json, index.json, image manifest, config) parsed. */
  maxJsonBytes: number;
  /** Layers of one image (Docker's own limit is 127 for overlay2). */
  maxLayers: number;
  /** Paths of one predicted manifest (a flattened image or a layer), counted while its tree is
   * walked, before any record is built: the server sets its maxFilesPerImage here. */
  maxPaths: number;
}

export const DEFAULT_OCI_LIMITS: Readonly<OciLimits> = Object.freeze({
  maxEntries: 4_000_000,
  maxMemberSize: 64 * 2 ** 30,
  maxTarBytes: 2 ** 40,
  maxExtendedHeader: 1 << 20,
  maxPathBytes: 4096,
  maxJsonBytes: 16 << 20,
  maxLayers: 1000,
  maxPaths: 16_000_000,
});

export function resolveOciLimits(over: Partial<OciLimits> = {}): OciLimits {
  return { ...DEFAULT_OCI_LIMITS, ...over };
}
