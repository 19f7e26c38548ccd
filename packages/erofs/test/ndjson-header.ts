/** A synthetic manifest's NDJSON header line, for the tests that write record lines after it. */
import { syntheticHeader } from '../../sharing/test/synthetic-manifest.mjs';

/**
 * The header of a one-block image with fingerprints (`ishare`) that declares `fileCount`
 * records, their regular files with sha256 when `hashed`; `inodes` is the superblock's count.
 */
export function ndjsonHeaderLine(fileCount: number, hashed: boolean, inodes = fileCount): string {
  return JSON.stringify(
    syntheticHeader({
      version: 2,
      name: 'x.erofs',
      imageSize: 4096,
      blockSize: 4096,
      blocks: 1,
      inodes,
      fileCount,
      ishare: true,
      hashed,
      uuid: '00000000-0000-4000-8000-000000000000',
    }),
  );
}
