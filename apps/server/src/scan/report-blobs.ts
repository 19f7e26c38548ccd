/**
 * The blobs of a new report (docs/server.md#stored-manifests-and-analysis-inputs): its JSON,
 * and the web UI's parts (the summary, JSON, and the per-file columns in the sharemap-files
 * encoding), each gzip at SERVER_GZIP_LEVEL. The JSON is generated in pieces and the files
 * encoding handed over as views of its columns: nothing is held as one string or one buffer,
 * and zlib's asynchronous API compresses on libuv's thread pool while this thread generates
 * the next piece. The stored bytes are those of `gzipSync(JSON.stringify(report))` and
 * `gzipSync(encodeFiles(report))` (apps/server/test/scan/report-blobs.test.ts).
 */
import { encodeFilesPieces, reportSummary, type FilesEncoding } from '@sharemap/report-wire';
import type { Report } from '@sharemap/sharing';
import type { BlobStore, StoredBlob } from '../storage/blobs.js';
import type { PartsResult } from './tasks.js';

/**
 * Elements of a large array per piece of the report JSON: a piece of a 2M-row path list or of
 * the shared inodes is a few hundred kilobytes to a few megabytes, where the whole array was one
 * string of up to ~100 MB (and its copy into gzip's input).
 */
export const JSON_ARRAY_CHUNK = 1 << 14;

/** Levels of plain objects below the report whose members are generated one by one (files, paths). */
const JSON_OBJECT_DEPTH = 2;

/** A plain object (not an array, a typed array, a Date or anything with its own toJSON). */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * JSON of an array, a slice of JSON_ARRAY_CHUNK elements at a time: the text of
 * JSON.stringify(list). An array of numbers (a column of the file table) is written whole:
 * V8 writes one several times faster than its slices, and its text is a few bytes per row.
 */
function* arrayJson(list: readonly unknown[]): Generator<string> {
  if (list.length <= JSON_ARRAY_CHUNK || typeof list[0] === 'number') {
    yield JSON.stringify(list);
    return;
  }
  yield '[';
  for (let i = 0; i < list.length; i += JSON_ARRAY_CHUNK) {
    const text = JSON.stringify(list.slice(i, i + JSON_ARRAY_CHUNK));
    yield (i === 0 ? '' : ',') + text.slice(1, -1);
  }
  yield ']';
}

function* valueJson(v: unknown, depth: number): Generator<string> {
  if (Array.isArray(v)) yield* arrayJson(v);
  else if (depth > 0 && isPlainObject(v)) yield* objectJson(v, depth - 1);
  else yield JSON.stringify(v);
}

/** JSON of a plain object member by member, skipping what JSON.stringify skips. */
function* objectJson(o: Record<string, unknown>, depth: number): Generator<string> {
  let first = true;
  yield '{';
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    yield `${first ? '' : ','}${JSON.stringify(k)}:`;
    yield* valueJson(v, depth);
    first = false;
  }
  yield '}';
}

/**
 * JSON of a report in pieces of at most a few hundred kilobytes (no single giant string for
 * 2M-row tables): the text of JSON.stringify(report).
 */
export function reportJson(report: Report): Generator<string> {
  return objectJson(report as unknown as Record<string, unknown>, JSON_OBJECT_DEPTH);
}

/** The web UI's parts of a report, encoded (on this thread) and not yet stored. */
export interface EncodedParts {
  summary: string;
  files: FilesEncoding;
}

export function encodeParts(report: Report): EncodedParts {
  return { summary: JSON.stringify(reportSummary(report)), files: encodeFilesPieces(report) };
}

/** Store encoded parts: the files encoding streams into gzip a column at a time. */
export async function storeParts(store: BlobStore, parts: EncodedParts): Promise<PartsResult> {
  const [summary, files]: StoredBlob[] = await Promise.all([
    store.putGzipSync(parts.summary),
    store.putGzipBytes(parts.files.pieces()),
  ]);
  return { summaryBlob: summary!.sha256, filesBlob: files!.sha256 };
}

/**
 * The web UI's parts of a report: the summary (JSON gzip) and the per-file columns
 * (sharemap-files encoding, gzip), derived from the report and stored once.
 */
export async function writeParts(store: BlobStore, report: Report): Promise<PartsResult> {
  return storeParts(store, encodeParts(report));
}

/**
 * The report JSON and its parts, stored. The parts are encoded first (this thread); then their
 * compression (the thread pool) runs while this thread generates the JSON, whose compression
 * follows it piece by piece on another thread of the pool.
 */
export async function writeReportBlobs(
  store: BlobStore,
  report: Report,
  onEncoded: () => void = () => undefined,
): Promise<{ reportBlob: string } & PartsResult> {
  const parts = encodeParts(report);
  onEncoded();
  const [json, stored] = await Promise.all([store.putGzip(reportJson(report)), storeParts(store, parts)]);
  return { reportBlob: json.sha256, ...stored };
}
