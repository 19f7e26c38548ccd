/**
 * The report embedded in a static HTML report (packages/report-wire `static.ts`): two
 * gzip+base64 parts in `<script type="application/octet-stream">` elements, decoded here with
 * `DecompressionStream`, without any fetch (the page opens from file:// with no network).
 */
import {
  assembleFilesSteps,
  decodeFiles,
  STATIC_FILES_ID,
  STATIC_SUMMARY_ID,
  type ReportSummaryDoc,
} from '@sharemap/report-wire';
import { numericSortKeys, type NumericColumns } from '../lib/derive';
import { sortRows } from '../lib/sort';
import type { LoadedFiles } from '../state/files';
import { DEFAULT_VIEW } from '../state/url';

function base64Bytes(text: string): Uint8Array {
  const from = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (from) return from(text);
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The decompressed bytes of the embedded part `id`. */
async function part(id: string): Promise<ArrayBuffer> {
  const el = document.getElementById(id);
  if (!el) throw new Error(`this page holds no report (no #${id} element): it is the template, not a report`);
  let bytes: Uint8Array;
  try {
    bytes = base64Bytes((el.textContent ?? '').trim());
  } catch (e) {
    throw new Error(`the report data in #${id} is not base64: ${(e as Error).message}`);
  }
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
      .stream()
      .pipeThrough(new DecompressionStream('gzip'));
    return await new Response(stream).arrayBuffer();
  } catch (e) {
    throw new Error(`the report data in #${id} is not gzip: ${(e as Error).message}`);
  }
}

export async function embeddedSummary(): Promise<ReportSummaryDoc> {
  const doc = JSON.parse(new TextDecoder().decode(await part(STATIC_SUMMARY_ID))) as ReportSummaryDoc;
  if (doc?.kind !== 'sharemap-report') throw new Error('the embedded summary is not a sharemap report');
  return doc;
}

/** Let the event loop run (rendering) between assembly steps. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(null);
  });
}

/** The per-file parts, decoded and assembled in steps, sorted as the files table starts. */
export async function embeddedFiles(): Promise<LoadedFiles> {
  const cols = decodeFiles(await part(STATIC_FILES_ID));
  const sort = DEFAULT_VIEW.sort;
  const desc = sort.startsWith('-');
  const keys = numericSortKeys(cols as unknown as NumericColumns, desc ? sort.slice(1) : sort);
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
