// Types of synthetic-manifest.mjs (plain ESM shared by the tests, scripts/report-identity.mjs and the benches).
import type { FileRecord, Manifest, ManifestHeader } from '@sharemap/erofs';

interface ImageOptions {
  version: number;
  name: string;
  imageSize: number;
  blockSize: number;
  blocks: number;
  ishare: boolean;
  hashed: boolean;
  /** Default '' (not valid to the manifest parsers: a header that is parsed names one). */
  uuid?: string;
  /** Default none. */
  featureIncompat?: string[];
}

export function syntheticHeader(o: ImageOptions & { inodes: number; fileCount: number }): ManifestHeader;

export function manifestOfRecords(o: ImageOptions & { files: FileRecord[] }): Manifest;

export function bigTreeHeader(o: { name: string; files: number; uuid: string }): ManifestHeader;
