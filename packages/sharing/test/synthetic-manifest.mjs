// The manifest of a made-up image of records, as both the tests (model-fixtures.ts:
// syntheticManifest) and scripts/report-identity.mjs (its random fleets) build it: plain ESM so
// that the script, which runs without a TypeScript step, reads the same header as the tests.
// Key order is part of what report-identity hashes (the superblock reaches the report's JSON):
// change it and the fleets digest changes.

/**
 * A manifest of `files` for an image `name` of `imageSize` bytes, `blocks` blocks of
 * `blockSize`, as mkfs 1.9 with no compression gives it; `ishare`: built with fingerprints
 * (ishare_xattrs), `hashed`: the records carry sha256.
 */
export function manifestOfRecords({ version, name, imageSize, blockSize, blocks, ishare, hashed, files }) {
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
      inodes: files.length,
      sb_size: 128,
      feature_compat: ishare ? ['ishare_xattrs'] : [],
      feature_incompat: [],
      uuid: '',
      build_time: 0,
      ishare,
      fingerprint_xattr_name: ishare ? 'erofs.fingerprint.v1' : null,
      required_kernel: '7.0',
      devices: [],
    },
    hashed,
    file_count: files.length,
    files,
  };
}
