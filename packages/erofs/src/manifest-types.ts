/**
 * The manifest: what `sharemap scan` prints, what the browser uploads and what the
 * server stores. Field names and encodings are those of the fixture oracles
 * (`testdata/erofs/*.expected.json`), so an oracle's `files` array is a valid list of
 * records. Documented in docs/manifest.md; bump MANIFEST_VERSION on any change a v1
 * reader could misread.
 *
 * Serialised forms:
 *  - JSON: `{ ...ManifestHeader, files: FileRecord[] }`
 *  - NDJSON: first line the ManifestHeader, then one FileRecord per line (streamable,
 *    gzip-friendly; the form for a million files).
 */
export const MANIFEST_KIND = 'sharemap-manifest';
/**
 * Version 2: `nid`/`root_nid`/`packed_nid` are the nids as erofs-utils prints them (bit 63 set
 * for METABOX inodes, a decimal string above 2^53) and METABOX records carry `ino`. Version 1
 * (nids of METABOX images were the kernel's inode numbers) is still read, and upgraded.
 */
export const MANIFEST_VERSION = 2;
/** Versions parseManifest reads. */
export const MANIFEST_VERSIONS_READ: readonly number[] = [1, 2];

/**
 * An on-disk nid as erofs-utils prints it (`dump.erofs --nid=N` takes it back): a JSON number
 * up to Number.MAX_SAFE_INTEGER, else its decimal string (METABOX inodes have bit 63 set,
 * docs/format.md#nid, so their nids are always strings).
 */
export type Nid = number | string;

export type FileType = 'file' | 'dir' | 'symlink' | 'chr' | 'blk' | 'fifo' | 'sock';
export type DataLayout =
  'flat_plain' | 'flat_inline' | 'compressed_full' | 'compressed_compact' | 'chunk_based';

export interface ManifestSuperblock {
  block_size: number;
  /** Total blocks: primary device plus device-table slots, as dump.erofs prints them (docs/format.md#root-nid). */
  blocks: number;
  meta_blkaddr: number;
  xattr_blkaddr: number;
  /** The root directory's nid as erofs-utils prints it (see Nid). */
  root_nid: Nid;
  packed_nid?: Nid;
  metabox_nid?: number;
  inodes: number;
  sb_size: number;
  /** Feature names as dump.erofs prints them (docs/format.md#feature-compat, docs/format.md#feature-incompat). */
  feature_compat: string[];
  feature_incompat: string[];
  uuid: string;
  /** Build time, seconds since the epoch. */
  build_time: number;
  /** Compat bit ISHARE_XATTRS (docs/format.md#fingerprints). */
  ishare: boolean;
  /** Full name of the fingerprint xattr (docs/format.md#fingerprints), or null without ISHARE_XATTRS. */
  fingerprint_xattr_name: string | null;
  /** Minimum Linux version the image's features need, as `dump.erofs -s` prints it ("required kernel");
   * null when dump.erofs prints none (no incompat feature). */
  required_kernel: string | null;
  /** Extra devices from the device table (docs/format.md#device-table). */
  devices: { tag: string; blocks: number; mapped_blkaddr: number }[];
}

/**
 * Present when the manifest was not read from an image but predicted from a tar (OCI layer,
 * `docker save`, `docker export`): what mkfs.erofs would build from it (docs/oci.md). nid,
 * layout and block addresses of such records are not on-disk values: `nid` is an inode
 * ordinal (names of one inode share it), `layout` the layout class the build options imply.
 */
export interface ManifestPrediction {
  /** The builder whose output is predicted, e.g. "mkfs.erofs 1.9.3". */
  tool: string;
  /** The build options assumed, as command-line arguments (e.g. ["--tar=f", "--xattr-inode-digest", "-T0", "--mkfs-time"]). */
  options: string[];
  /** What the manifest was predicted from, e.g. "rootfs tar", "layer sha256:...", "flattened image repo:tag". */
  source: string;
  /** Flattened OCI images: the image it was predicted from (the report's image detail, docs/oci.md). */
  image?: PredictedOciImage;
}

/**
 * Paths listed per layer and kind of change in PredictedLayer.paths (the counts are always
 * exact): bounds the manifest header of an image with huge layers (docs/manifest.md).
 */
export const MAX_LAYER_CHANGE_PATHS = 50;

/** One layer of a predicted OCI image and what it does to the layers below (OCI image-spec layer.md). */
export interface PredictedLayer {
  /** sha256 of the uncompressed tar (config rootfs.diff_ids). */
  diffId: string;
  /** Digest of the blob as stored. */
  digest: string;
  compression: string;
  /** Uncompressed tar bytes, and bytes as stored. */
  size: number;
  storedSize: number;
  /** Paths this layer adds (not in the layers below), changes (replaces or re-attributes) and deletes (whiteouts, opaque directories). */
  added: number;
  changed: number;
  deleted: number;
  /** The first MAX_LAYER_CHANGE_PATHS paths of each kind, sorted by bytes. */
  paths: { added: string[]; changed: string[]; deleted: string[] };
}

export interface PredictedOciImage {
  repoTags: string[];
  manifestDigest?: string;
  /** Empty for a rootfs tar. */
  configDigest: string;
  /** "os/arch[/variant]". */
  platform?: string;
  layers: PredictedLayer[];
}

export interface ManifestHeader {
  kind: typeof MANIFEST_KIND;
  version: typeof MANIFEST_VERSION;
  /** Image file name (basename) and size in bytes; sha256 of the image file when known. */
  image: { name: string; size: number; sha256?: string };
  superblock: ManifestSuperblock;
  /** Whether records carry `sha256` of the full decompressed content (`scan --hash`). */
  hashed: boolean;
  /** Number of records that follow (NDJSON) or are in `files` (JSON). */
  file_count: number;
  /** Set on predicted manifests only (see ManifestPrediction). */
  predicted?: ManifestPrediction;
}

export interface FileRecord {
  /** Absolute path, "/" for the root; records are sorted by path bytes. */
  path: string;
  /** The inode's nid as erofs-utils prints it (see Nid). */
  nid: Nid;
  /** METABOX images only: the kernel's inode number (`erofs_nid_to_ino64()`, what `stat` shows),
   * unique per inode. On other images the inode number is `nid` itself. */
  ino?: number;
  type: FileType;
  /** Octal permission bits including suid/sgid/sticky, 4 digits ("0755"). */
  mode: string;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  mtime: number;
  mtime_nsec: number;
  layout: DataLayout;
  inode_size: 32 | 64;
  xattr_isize: number;
  /** Symlink target. */
  target?: string;
  /** [major, minor] for chr/blk. */
  rdev?: [number, number];
  /** As listxattr reports them: full name -> hex value. The hidden fingerprint xattr is not listed. */
  xattrs: Record<string, string>;
  /** Hex of the whole fingerprint xattr value (docs/format.md#fingerprints), null when absent. */
  fingerprint: string | null;
  /** Hex sha256 of the full decompressed content (regular files, `--hash` only). */
  sha256?: string;
}

export interface Manifest extends ManifestHeader {
  files: FileRecord[];
}
