// The manifest of a made-up image of records, as the tests (model-fixtures.ts: syntheticManifest;
// the erofs and CLI tests' NDJSON headers) and the scripts and benches (scripts/report-identity.mjs'
// random fleets, bench/fleet.mjs, bench/scale-analyze.bench.mjs' inputs) build it: plain ESM so that
// the scripts, which run without a TypeScript step, write the same header as the tests.
// Key order is part of what report-identity hashes (the superblock reaches the report's JSON) and
// of the bench inputs' bytes: change it and the fleets digest and the cached inputs change.

/**
 * The header of a manifest (everything but `files`) for an image `name` of `imageSize` bytes,
 * `blocks` blocks of `blockSize` and `inodes` inodes, listing `fileCount` records, as mkfs 1.9
 * with no compression gives it; `ishare`: built with fingerprints (ishare_xattrs), `hashed`: the
 * records carry sha256. `uuid` defaults to '' (the in-memory manifests of report-identity and
 * model-fixtures; the manifest parsers want a UUID, so a header that is parsed names one) and
 * `featureIncompat` to none. The first line of an NDJSON manifest is this header's JSON.
 */
export function syntheticHeader({
  version,
  name,
  imageSize,
  blockSize,
  blocks,
  inodes,
  fileCount,
  ishare,
  hashed,
  uuid = '',
  featureIncompat = [],
}) {
  return {
    kind: 'sharemap-manifest',
    version,
    image: { name, size: imageSize },
    superblock: {
      block_size: blockSize,
      blocks,
      meta_blkaddr: 0,
      xattr_blkaddr: 0,
      root_nid: 36,
      inodes,
      sb_size: 128,
      feature_compat: ishare ? ['ishare_xattrs'] : [],
      feature_incompat: featureIncompat,
      uuid,
      build_time: 0,
      ishare,
      fingerprint_xattr_name: ishare ? 'erofs.fingerprint.v1' : null,
      required_kernel: '7.0',
      devices: [],
    },
    hashed,
    file_count: fileCount,
  };
}

/** A manifest of `files`: syntheticHeader's, with one inode and one record a file. */
export function manifestOfRecords({ files, ...header }) {
  return {
    ...syntheticHeader({ ...header, inodes: files.length, fileCount: files.length }),
    files,
  };
}

/**
 * The header of a made-up tree of `files` regular files, 1,000 a directory under the root, one
 * 4 KiB block an inode, with fingerprints and without sha256s (the big manifests of
 * bench/scale-analyze.bench.mjs and the manifest-threads tests).
 */
export function bigTreeHeader({ name, files, uuid }) {
  const inodes = files + Math.ceil(files / 1000) + 1;
  return syntheticHeader({
    version: 2,
    name,
    imageSize: 4096 * inodes,
    blockSize: 4096,
    blocks: inodes,
    inodes,
    fileCount: inodes,
    ishare: true,
    hashed: false,
    uuid,
    featureIncompat: ['xattr_prefixes'],
  });
}
