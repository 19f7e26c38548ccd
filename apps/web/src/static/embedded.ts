/**
 * The report embedded in a static HTML report (packages/report-wire `static.ts`): two
 * gzip+base64 parts in `<script type="application/octet-stream">` elements, decoded here with
 * `DecompressionStream`, without any fetch (the page opens from file:// with no network).
 */
import {
  assembleFilesSteps,
  base64Bytes,
  decodeFiles,
  STATIC_FILES_PART,
  STATIC_PART_ATTR,
  STATIC_SUMMARY_PART,
  type ReportSummaryDoc,
} from '@sharemap/report-wire';
import { columnRows, numericSortKeys, type NumericColumns } from '../lib/derive';
import { sortRows } from '../lib/sort';
import { nextTask, type LoadedFiles } from '../state/files';
import { DEFAULT_VIEW } from '../state/url';

/** The decompressed bytes of the embedded part `name` (its elements' text, in order). */
async function part(name: string): Promise<ArrayBuffer> {
  const els = document.querySelectorAll(`script[${STATIC_PART_ATTR}="${name}"]`);
  if (els.length === 0)
    throw new Error(`this page holds no report (no ${name} data): it is the template, not a report`);
  let bytes: Uint8Array;
  try {
    bytes = base64Bytes(Array.from(els, (el) => el.textContent ?? '').join(''));
  } catch (e) {
    throw new Error(`the report's ${name} data is not base64: ${(e as Error).message}`);
  }
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
      .stream()
      .pipeThrough(new DecompressionStream('gzip'));
    return await new Response(stream).arrayBuffer();
  } catch (e) {
    throw new Error(`the report's ${name} data is not gzip: ${(e as Error).message}`);
  }
}

let summary: Promise<ReportSummaryDoc> | null = null;

export function embeddedSummary(): Promise<ReportSummaryDoc> {
  summary ??= part(STATIC_SUMMARY_PART).then((buf) => {
    const doc = JSON.parse(new TextDecoder().decode(buf)) as ReportSummaryDoc;
    if (doc?.kind !== 'sharemap-report') throw new Error('the embedded summary is not a sharemap report');
    return doc;
  });
  return summary;
}

/** After the next frame is painted (a task queued from a frame callback runs after the paint). */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => void nextTask().then(resolve)));
}

/**
 * The per-file parts, decoded and assembled in steps, sorted as the files table starts. There
 * is no worker here (a page from file:// cannot start one from a file), so decoding and sorting
 * millions of rows holds the main thread: it starts once the headline is on screen.
 */
export async function embeddedFiles(): Promise<LoadedFiles> {
  await embeddedSummary().catch(() => undefined);
  await afterPaint();
  // The app runs while the parser still reads the file table after it (an async module).
  if (document.readyState === 'loading')
    await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
  const cols = decodeFiles(await part(STATIC_FILES_PART));
  const sort = DEFAULT_VIEW.sort;
  const desc = sort.startsWith('-');
  // A compact table's rows are not the per-instance rows the table lists: the page sorts those.
  const keys = cols.rowsOf
    ? null
    : numericSortKeys(columnRows(cols as unknown as NumericColumns), desc ? sort.slice(1) : sort);
  let order: LoadedFiles['order'] = null;
  if (keys) {
    const all = new Uint32Array(cols.rows);
    for (let i = 0; i < all.length; i++) all[i] = i;
    order = { sort, rows: sortRows(all, keys, desc) };
  }
  const steps = assembleFilesSteps(cols);
  for (;;) {
    await nextTask();
    const r = steps.next();
    if (r.done) return { parts: r.value, order };
  }
}
