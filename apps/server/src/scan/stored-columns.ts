/**
 * The columnar form of a stored manifest (docs/server.md#stored-columnar-manifests): beside the
 * manifest's gzip NDJSON blob, a file columns/<xx>/<manifest sha256> holding
 * encodeManifestColumns' bytes and their CRC-32, which report creation reads back instead of
 * parsing the NDJSON again (docs/benchmarks.md#server-2m-2m-records-end-to-end). It is a cache derived from the
 * manifest blob: written the first time a report reads the manifest (so manifests stored
 * before it existed get one too), deleted with the blob (BlobStore), and never trusted: a
 * missing, cut, damaged or other-version file is logged and the NDJSON is read instead (and the
 * file written again), so a report never depends on it being right.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import {
  columnarManifest,
  decodeManifestColumns,
  manifestColumns,
  manifestHeader,
  encodeManifestColumns,
  type Manifest,
  type StringTable,
} from '@sharemap/erofs';
import type { Logger } from '../log.js';
import type { BlobStore } from '../storage/blobs.js';
import { readStoredManifest, StoredBlobDamagedError } from './stored-manifest.js';

/** Bytes after the encoded form: its CRC-32 (zlib's), little-endian. */
const CRC_BYTES = 4;

/** Why a columnar file was not used, or null when it was. */
async function readColumns(
  store: BlobStore,
  sha256: string,
  strings: StringTable,
): Promise<{ manifest: Manifest } | { problem: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(store.columnsPath(sha256));
  } catch (e) {
    return { problem: (e as { code?: string }).code === 'ENOENT' ? 'missing' : (e as Error).message };
  }
  if (bytes.length < CRC_BYTES) return { problem: `${bytes.length} bytes` };
  const body = bytes.subarray(0, bytes.length - CRC_BYTES);
  const stored = bytes.readUInt32LE(bytes.length - CRC_BYTES);
  if (crc32(body) !== stored) return { problem: 'its CRC-32 does not match its bytes' };
  try {
    const { header, cols } = decodeManifestColumns(body, strings);
    return { manifest: columnarManifest(header, cols) };
  } catch (e) {
    return { problem: (e as Error).message };
  }
}

/** Writes the columnar file of a manifest read from its NDJSON (temp file, then rename: never half a file under its name). */
export async function writeColumns(store: BlobStore, sha256: string, manifest: Manifest): Promise<boolean> {
  const cols = manifestColumns(manifest);
  const pieces = cols ? encodeManifestColumns(manifestHeader(manifest), cols) : null;
  if (!pieces) return false;
  let crc = 0;
  for (const p of pieces) crc = crc32(p, crc);
  const trailer = Buffer.alloc(CRC_BYTES);
  trailer.writeUInt32LE(crc);
  const dest = store.columnsPath(sha256);
  const tmp = path.join(store.tmpDir, `${randomBytes(12).toString('hex')}.cols`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writev([...pieces, trailer]);
  } finally {
    await fh.close();
  }
  await mkdir(path.dirname(dest), { recursive: true });
  // The manifest's blob may have been deleted meanwhile (retention): then its columns go too.
  await rename(tmp, dest);
  if (!(await store.has(sha256))) await rm(dest, { force: true });
  return true;
}

/** Throws StoredBlobDamagedError unless the stored blob's bytes hash to its name. */
async function checkStoredBlobHash(store: BlobStore, sha256: string): Promise<void> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of store.createReadStream(sha256)) hash.update(chunk as Buffer);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    throw new StoredBlobDamagedError(sha256, err.code === 'ENOENT' ? 'missing' : (err.message ?? String(e)));
  }
  const actual = hash.digest('hex');
  if (actual !== sha256) throw new StoredBlobDamagedError(sha256, `its content hashes to ${actual}`);
}

/** Where a manifest for a report was read from. */
export type ManifestSource = 'columns' | 'ndjson';

/**
 * A stored manifest for report creation: from its columnar file when that is there and sound,
 * otherwise from its NDJSON blob (readStoredManifest, which checks the blob's hash), logging
 * why and writing the columnar file for the next report.
 */
export async function readManifestForReport(
  store: BlobStore,
  sha256: string,
  strings: StringTable,
  log?: Logger,
): Promise<{ manifest: Manifest; source: ManifestSource }> {
  const got = await readColumns(store, sha256, strings);
  if ('manifest' in got) {
    // The columns are a cache of the blob: a report is still refused when the blob itself no
    // longer hashes to its name (docs/server.md#stored-manifests-and-analysis-inputs), as the
    // NDJSON read would refuse it. Hashing the gzip bytes costs a fraction of reading them.
    await checkStoredBlobHash(store, sha256);
    return { manifest: got.manifest, source: 'columns' };
  }
  const manifest = await readStoredManifest(store, sha256, strings);
  if (got.problem === 'missing')
    log?.info('manifest has no columnar form yet: read its NDJSON', { manifest: sha256 });
  else
    log?.warn('columnar form of a manifest is damaged: read its NDJSON instead', {
      manifest: sha256,
      problem: got.problem,
    });
  try {
    await writeColumns(store, sha256, manifest);
  } catch (e) {
    log?.warn('could not write the columnar form of a manifest', { manifest: sha256, err: e });
  }
  return { manifest, source: 'ndjson' };
}
