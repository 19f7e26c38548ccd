// Types of synthetic-manifest.mjs (plain ESM shared by model-fixtures.ts and scripts/report-identity.mjs).
import type { FileRecord, Manifest } from '@sharemap/erofs';

export function manifestOfRecords(o: {
  version: number;
  name: string;
  imageSize: number;
  blockSize: number;
  blocks: number;
  ishare: boolean;
  hashed: boolean;
  files: FileRecord[];
}): Manifest;
