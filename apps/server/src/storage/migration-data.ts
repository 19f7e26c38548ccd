/**
 * The values migrations compute outside SQL (schema.ts `MigrationData`), from a data folder's
 * blobs: read synchronously, as SQLite migrates inside a synchronous transaction.
 */
import path from 'node:path';
import { manifestBlobsOf, readAnalysisInputRefSync } from '../analysis-input.js';
import type { MigrationData } from './schema.js';

/** A blob name: 64 lowercase hex digits (a sha256), as BlobStore names them. */
const SHA_RE = /^[0-9a-f]{64}$/;

/** The MigrationData of the data folder `dataDir` (its blobs in blobs/<2 hex>/<sha256>, blobs.ts). */
export function migrationData(dataDir: string): MigrationData {
  return {
    reportManifestBlobs: (inputBlob) =>
      SHA_RE.test(inputBlob)
        ? reportManifestBlobsJson(path.join(dataDir, 'blobs', inputBlob.slice(0, 2), inputBlob), inputBlob)
        : '[]',
  };
}

/**
 * `reports.manifest_blobs` of a report whose analysis input is the blob file `file`: the
 * manifest blobs its reference document names (JSON array), `[]` for an input stored in full
 * (it holds its manifests) and for a missing or damaged one (GET /input answers that error;
 * there is nothing to keep for it).
 */
export function reportManifestBlobsJson(file: string, inputBlob: string): string {
  let images;
  try {
    images = readAnalysisInputRefSync(file, inputBlob)?.images;
  } catch {
    images = undefined;
  }
  return JSON.stringify(manifestBlobsOf(images));
}
