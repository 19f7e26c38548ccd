/**
 * The CSV, Markdown and HTML renders of a stored report, made from its stored parts (report-wire:
 * the summary JSON and the columnar files encoding) instead of the report JSON, and written
 * to their gzip file as a stream: a report of millions of rows is never one string nor one
 * parsed JSON document (docs/server.md#renders).
 *
 * In memory at once: the summary (kilobytes), the decompressed files encoding (typed columns,
 * tens of bytes per row) with its decoded path table, and one chunk of output.
 */
import { open, rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { buffer } from 'node:stream/consumers';
import { createGunzip, createGzip } from 'node:zlib';
import {
  decodeFiles,
  streamStaticTemplate,
  type FilesColumns,
  type ReportSummaryDoc,
} from '@sharemap/report-wire';
import { csvLines, renderMarkdown, type CsvRows } from '@sharemap/sharing';
import { BlobStore } from '../storage/blobs.js';
import type { PartsResult, RenderResult, RenderTask } from './tasks.js';

/** Output characters gathered before a write: few writes, little memory. */
export const RENDER_CHUNK_CHARS = 64 * 1024;

/** The CSV's per-file values, read from the decoded columns (paths and fingerprints by index). */
export function columnsCsvRows(c: FilesColumns): CsvRows {
  const pathStart = new Map<string, number>();
  const pathCount = new Map<string, number>();
  let at = 0;
  for (const img of c.paths.images) {
    pathStart.set(img.id, at);
    pathCount.set(img.id, img.paths);
    at += img.paths;
  }
  const g = c.groups;
  const fps = g.fingerprints;
  const ends = g.fingerprintEnds;
  const latin1 = new TextDecoder('latin1');
  return {
    rows: c.rows,
    instance: c.instance,
    file: c.file,
    group: c.group,
    size: c.size,
    pagesWithout: c.pagesWithout,
    pagesWith: c.pagesWith,
    status: (r) => c.statuses[c.status[r]!]!,
    path: (imageId, file) => {
      const start = pathStart.get(imageId);
      if (start === undefined || file < 0 || file >= pathCount.get(imageId)!) return undefined;
      return c.paths.table[c.paths.index[start + file]!];
    },
    fingerprint: (k) => {
      if (k >= g.count) return undefined;
      const a = k === 0 ? 0 : ends[k - 1]!;
      const b = ends[k]!;
      return typeof fps === 'string' ? fps.slice(a, b) : latin1.decode(fps.subarray(a, b));
    },
  };
}

/** Strings joined into chunks of about RENDER_CHUNK_CHARS. */
function* chunked(parts: Iterable<string>): Generator<string> {
  let buf = '';
  for (const s of parts) {
    buf += s;
    if (buf.length >= RENDER_CHUNK_CHARS) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

async function readSummary(store: BlobStore, sha: string): Promise<ReportSummaryDoc> {
  return JSON.parse(await store.readGunzip(sha)) as ReportSummaryDoc;
}

async function readColumns(store: BlobStore, sha: string): Promise<FilesColumns> {
  const bytes = await buffer(store.createReadStream(sha).pipe(createGunzip()));
  // Sections are read as typed arrays at multiples of 8: give the decoder its own buffer.
  const own = new ArrayBuffer(bytes.length);
  new Uint8Array(own).set(bytes);
  return decodeFiles(own);
}

/**
 * Render `task` into its gzip file: written in tmp/ (`task.tmpFile`), then renamed to
 * `task.outFile`, so a reader of the cache sees a whole file or none.
 */
export async function renderToFile(task: RenderTask): Promise<RenderResult> {
  const store = new BlobStore(task.dataDir);
  const summary = await readSummary(store, task.summaryBlob);
  let text: Iterable<string>;
  if (task.format === 'csv') {
    const rows = columnsCsvRows(await readColumns(store, task.filesBlob));
    text = chunked(csvLines(summary, rows));
  } else {
    // The Markdown reads only the summary (its top shared files are the summary's topGroups).
    text = [renderMarkdown(summary, { url: task.url })];
  }
  // A FileHandle (not a bare fd): closed with the worker when a cancelled render is terminated.
  const fh = await open(task.tmpFile, 'w', 0o600);
  try {
    await pipeline(Readable.from(text), createGzip({ level: 6 }), fh.createWriteStream());
    const { size } = await stat(task.tmpFile);
    await rename(task.tmpFile, task.outFile);
    return { bytes: size };
  } catch (e) {
    await rm(task.tmpFile, { force: true });
    throw e;
  } finally {
    await fh.close().catch(() => undefined); // closed already when the stream finished
  }
}

/**
 * The HTML page of a report's stored parts, piece by piece (report-wire streamStaticTemplate):
 * the parts are the gzip bytes the page embeds, so the page is the template, base64 of the
 * blobs as they are read, 64 KiB of text at a time, and the template's end. Cheap enough for
 * the main thread, and never whole in memory (GET /api/reports/:id?format=html streams it).
 */
export function reportHtmlPieces(
  blobs: BlobStore,
  template: string,
  parts: PartsResult,
  title: string,
): AsyncGenerator<string> {
  // Each blob is opened when the page reaches it: a client gone before leaves no open file.
  const blob = (sha: string): AsyncIterable<Uint8Array> => ({
    [Symbol.asyncIterator]: () => blobs.createReadStream(sha)[Symbol.asyncIterator](),
  });
  return streamStaticTemplate(
    template,
    { summaryGzip: blob(parts.summaryBlob), filesGzip: blob(parts.filesBlob) },
    title,
  );
}
