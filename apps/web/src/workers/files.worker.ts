/// <reference lib="webworker" />
/**
 * Fetches and decodes a report's per-file columns (`GET /api/reports/:id/files`, the
 * sharemap-files encoding) off the main thread, and hands the typed arrays over without
 * copying them (transfer). The main thread only assembles the Report's shapes, step by step.
 */
import { decodeFiles, transferables, type FilesColumns } from '@sharemap/report-wire';
import { errorOf, type ApiErrorBody } from '../api/client';
import { columnRows, numericSortKeys, type NumericColumns } from '../lib/derive';
import { sortRows } from '../lib/sort';
import { DEFAULT_VIEW } from '../state/url';

export interface FilesRequest {
  seq: number;
  url: string;
}

/**
 * Replies: the distinct paths first, in parts (`strings`: each part's copy into the main
 * thread is a short task), then the columns with an empty path table (`ok`), or an error.
 */
export type FilesReply =
  | { seq: number; strings: string[] }
  | {
      seq: number;
      ok: true;
      cols: FilesColumns;
      /** Every row in the order of the files table's default sort (sorted here, off the main thread). */
      order: { sort: string; rows: Uint32Array } | null;
      fetchMs: number;
      decodeMs: number;
      sortMs: number;
      bytes: number;
    }
  | { seq: number; ok: false; status: number; error: ApiErrorBody };

const STRINGS_PER_MESSAGE = 1 << 16;

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = async (e: MessageEvent<FilesRequest>) => {
  const { seq, url } = e.data;
  const fail = (status: number, error: ApiErrorBody) =>
    self.postMessage({ seq, ok: false, status, error } satisfies FilesReply);
  let res: Response;
  const t0 = performance.now();
  try {
    res = await fetch(url);
  } catch (err) {
    fail(0, { code: 'network', message: `cannot reach the server: ${(err as Error).message}` });
    return;
  }
  if (!res.ok) {
    const err = await errorOf(res);
    fail(err.status, err.body);
    return;
  }
  try {
    const buf = await res.arrayBuffer();
    const t1 = performance.now();
    const cols = decodeFiles(buf);
    const table = cols.paths.table;
    for (let i = 0; i < table.length; i += STRINGS_PER_MESSAGE)
      self.postMessage({ seq, strings: table.slice(i, i + STRINGS_PER_MESSAGE) } satisfies FilesReply);
    cols.paths.table = [];
    const t2 = performance.now();
    const sort = DEFAULT_VIEW.sort;
    const desc = sort.startsWith('-');
    // A compact table's rows are not the per-instance rows the table lists: the page sorts those.
    const keys = cols.rowsOf
      ? null
      : numericSortKeys(columnRows(cols as unknown as NumericColumns), desc ? sort.slice(1) : sort);
    let order: { sort: string; rows: Uint32Array } | null = null;
    if (keys) {
      const all = new Uint32Array(cols.rows);
      for (let i = 0; i < all.length; i++) all[i] = i;
      order = { sort, rows: sortRows(all, keys, desc) };
    }
    const reply: FilesReply = {
      seq,
      ok: true,
      cols,
      order,
      fetchMs: t1 - t0,
      decodeMs: t2 - t1,
      sortMs: performance.now() - t2,
      bytes: buf.byteLength,
    };
    self.postMessage(reply, [...transferables(cols), ...(order ? [order.rows.buffer as ArrayBuffer] : [])]);
  } catch (err) {
    fail(0, { code: 'bad-files', message: `cannot read the file table: ${(err as Error).message}` });
  }
};
