/**
 * A report's analysis input, stored as references (docs/server.md#stored-manifests-and-analysis-inputs): the
 * instances, options and time of the analysis, and for each image its entry and the stored
 * manifest blob it was read from, by content hash, instead of a second copy of every record.
 * `GET /api/reports/:id/input` rebuilds from it the same JSON (same bytes once decompressed)
 * that reports created before stored in full: the manifest blobs hold the canonical NDJSON
 * lines the analysis parsed, so each record is its line as stored.
 *
 * Used by the analysis worker (writes the reference) and the main thread (serves the input).
 */
import { constants, gunzipSync } from 'node:zlib';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { AnalysisOptions, ImageEntry, InstanceInput } from '@sharemap/sharing';
import type { BlobStore } from './storage/blobs.js';
import { StoredBlobDamagedError, storedBlobLines } from './scan/stored-manifest.js';

/** `kind` of a reference document; a full input (reports made before) starts `{"images":`. */
export const INPUT_REF_KIND = 'sharemap-analysis-input-ref';
/** Version of the reference document (a newer one is refused rather than misread). */
export const INPUT_REF_VERSION = 1;

export interface AnalysisInputRef {
  kind: typeof INPUT_REF_KIND;
  version: typeof INPUT_REF_VERSION;
  images: { image: ImageEntry; manifestBlob: string }[];
  instances: InstanceInput[];
  options: Partial<AnalysisOptions>;
  createdAt?: string;
}

/** The reference document as stored (JSON; `kind` first, so a prefix tells the two forms apart). */
export function analysisInputRefJson(ref: Omit<AnalysisInputRef, 'kind' | 'version'>): string {
  const doc: AnalysisInputRef = {
    kind: INPUT_REF_KIND,
    version: INPUT_REF_VERSION,
    images: ref.images.map(({ image, manifestBlob }) => ({ image, manifestBlob })),
    instances: ref.instances,
    options: ref.options,
  };
  if (ref.createdAt !== undefined) doc.createdAt = ref.createdAt;
  return JSON.stringify(doc);
}

/** Stored bytes read to tell a reference from a full input (the gzip header and `{"kind":...`). */
const PREFIX_BYTES = 4096;
const REF_PREFIX = `{"kind":${JSON.stringify(INPUT_REF_KIND)}`;

/**
 * The reference document stored in `sha256`, or null when the blob holds a full input (a report
 * created before references). Throws StoredBlobDamagedError on a reference that does not parse.
 */
export async function readAnalysisInputRef(
  store: BlobStore,
  sha256: string,
): Promise<AnalysisInputRef | null> {
  const fh = await open(store.path(sha256), 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(PREFIX_BYTES);
    const { bytesRead } = await fh.read(buf, 0, PREFIX_BYTES, 0);
    head = gunzipHead(buf.subarray(0, bytesRead));
  } catch (e) {
    throw badGzip(sha256, e);
  } finally {
    await fh.close();
  }
  if (!isRefHead(head)) return null;
  let text: string;
  try {
    text = await store.readGunzip(sha256);
  } catch (e) {
    throw notARef(sha256, e);
  }
  return parseRef(sha256, text);
}

/**
 * readAnalysisInputRef of the blob file `file` (named `sha256`), synchronously: for the
 * migration that fills `reports.manifest_blobs` (storage/schema.ts, version 5), which runs
 * inside SQLite's synchronous transaction. Only a reference document is read whole (a few
 * KiB); a full input is told apart by its first bytes.
 */
export function readAnalysisInputRefSync(file: string, sha256: string): AnalysisInputRef | null {
  const fd = openSync(file, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(PREFIX_BYTES);
    const bytesRead = readSync(fd, buf, 0, PREFIX_BYTES, 0);
    head = gunzipHead(buf.subarray(0, bytesRead));
  } catch (e) {
    throw badGzip(sha256, e);
  } finally {
    closeSync(fd);
  }
  if (!isRefHead(head)) return null;
  let text: string;
  try {
    text = gunzipSync(readFileSync(file)).toString('utf8');
  } catch (e) {
    throw notARef(sha256, e);
  }
  return parseRef(sha256, text);
}

/**
 * The manifest blobs an analysis input names, each once, in order: a reference document's
 * `images[].manifestBlob`; none for an input stored in full (its manifests are inside it).
 * What a report row keeps in `manifest_blobs`, so the garbage collector sees them without
 * reading the input (docs/server.md#stored-manifests-and-analysis-inputs).
 */
export function manifestBlobsOf(images: readonly { manifestBlob: string }[] | undefined): string[] {
  return [...new Set((images ?? []).map((i) => i.manifestBlob))];
}

/** The start of a gzip stream decoded (a partial stream: Z_SYNC_FLUSH decodes what is there). */
const gunzipHead = (bytes: Buffer): Buffer => gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });

const badGzip = (sha256: string, e: unknown): StoredBlobDamagedError =>
  new StoredBlobDamagedError(sha256, `gzip: ${(e as Error).message}`);

const isRefHead = (head: Buffer): boolean =>
  head.toString('utf8', 0, REF_PREFIX.length).startsWith(REF_PREFIX);

const notARef = (sha256: string, e: unknown): StoredBlobDamagedError =>
  new StoredBlobDamagedError(sha256, `not a reference document: ${(e as Error).message}`);

/** The reference document from the blob's whole text, checked. */
function parseRef(sha256: string, text: string): AnalysisInputRef {
  let doc: AnalysisInputRef;
  try {
    doc = JSON.parse(text) as AnalysisInputRef;
  } catch (e) {
    throw notARef(sha256, e);
  }
  if (doc.version !== INPUT_REF_VERSION)
    throw new StoredBlobDamagedError(
      sha256,
      `reference document version ${String(doc.version)}, this server reads ${INPUT_REF_VERSION}`,
    );
  return doc;
}

/**
 * The analysis input's JSON, piece by piece (never one string: at millions of records it is
 * past V8's string limit), as `inputJson` of the worker wrote it before references: for each
 * image its entry and its manifest (the stored header with `"files":[` and the stored record
 * lines joined by commas), then the instances, options and time. Each manifest blob is
 * checked against its name as it is read (storedBlobLines): a damaged one ends the stream
 * with StoredBlobDamagedError.
 */
export async function* analysisInputJson(store: BlobStore, ref: AnalysisInputRef): AsyncGenerator<string> {
  yield '{"images":[';
  for (const [k, { image, manifestBlob }] of ref.images.entries()) {
    yield `${k ? ',' : ''}{"image":${JSON.stringify(image)},"manifest":`;
    let header = true;
    let records = 0;
    for await (const line of storedBlobLines(store, manifestBlob)) {
      if (header) {
        // `{...header}` -> `{...header,"files":[` (what JSON.stringify({ ...header, files: [] }) starts with).
        if (!line.startsWith('{') || !line.endsWith('}'))
          throw new StoredBlobDamagedError(manifestBlob, 'the first line is not a manifest header');
        yield line.slice(0, -1) + ',"files":[';
        header = false;
      } else yield (records++ ? ',' : '') + line;
    }
    if (header) throw new StoredBlobDamagedError(manifestBlob, 'empty');
    yield ']}}';
  }
  yield `],"instances":${JSON.stringify(ref.instances)},"options":${JSON.stringify(ref.options ?? {})}`;
  if (ref.createdAt !== undefined) yield `,"createdAt":${JSON.stringify(ref.createdAt)}`;
  yield '}';
}
