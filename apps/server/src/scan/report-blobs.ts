/**
 * The blobs of a new report (docs/server.md#stored-manifests-and-analysis-inputs): its JSON,
 * and the web UI's parts (the summary, JSON, and the per-file columns in the sharemap-files
 * encoding), each gzip at SERVER_GZIP_LEVEL. The JSON is generated as UTF-8 pieces of 256 KiB
 * (report-wire's jsonBytes: no string to encode again) and the files encoding handed over as
 * views of its columns: nothing is held as one string or one buffer, and zlib's asynchronous
 * API compresses on libuv's thread pool while this thread generates the next piece. The stored
 * bytes are those of `gzipSync(JSON.stringify(report))` and `gzipSync(encodeFiles(report))`
 * (apps/server/test/scan/report-blobs.test.ts).
 */
import {
  encodeFilesPieces,
  JSON_PIECE_BYTES,
  jsonBytes,
  PiecePool,
  reportSummary,
  type FilesEncoding,
} from '@sharemap/report-wire';
import type { Report } from '@sharemap/sharing';
import type { BlobStore, StoredBlob } from '../storage/blobs.js';
import type { PartsResult } from './tasks.js';

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
  // The JSON's pieces are filled again once zlib has taken them (a few dozen buffers instead of
  // one per 256 KiB: docs/benchmarks.md#server-overlap-the-report-jsons-pieces-filled-again-2026-12-07).
  const pool = new PiecePool(JSON_PIECE_BYTES);
  const [json, stored] = await Promise.all([
    store.putGzipBytes(jsonBytes(report, JSON_PIECE_BYTES, pool), (piece) => pool.give(piece)),
    storeParts(store, parts),
  ]);
  return { reportBlob: json.sha256, ...stored };
}
