/**
 * Client of the files worker: the per-file parts of a report, fetched and decoded off the main
 * thread, then assembled here in short steps (the event loop runs between them), so the page
 * stays responsive while millions of rows arrive.
 */
import { assembleFilesSteps, type FilesColumns } from '@sharemap/report-wire';
import type { Report } from '@sharemap/sharing';
import { api, ApiError } from '../api/client';
import { seedRowOrder } from '../lib/derive';
import { timing } from '../lib/timing';
import { joinReport, type ReportFiles, type ReportHead } from '../lib/head';
import type { FilesReply, FilesRequest } from '../workers/files.worker';

let worker: Worker | null = null;
let seq = 0;
type Final =
  (Extract<FilesReply, { ok: true }> & { strings: string[][] }) | Extract<FilesReply, { ok: false }>;
const pending = new Map<number, { strings: string[][]; resolve(r: Final): void; reject(e: Error): void }>();

function getWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('../workers/files.worker.ts', import.meta.url), {
    type: 'module',
    name: 'files',
  });
  worker.onmessage = (e: MessageEvent<FilesReply>) => {
    const m = e.data;
    const p = pending.get(m.seq);
    if (!p) return;
    if ('strings' in m) {
      p.strings.push(m.strings);
      return;
    }
    pending.delete(m.seq);
    p.resolve(m.ok ? { ...m, strings: p.strings } : m);
  };
  worker.onerror = (e) => {
    for (const p of pending.values()) p.reject(new Error(e.message || 'files worker failed'));
    pending.clear();
    worker = null;
  };
  return worker;
}

/** Let the event loop run (input, rendering) between steps (a message: no timer clamping). */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(null);
  });
}

export interface LoadedFiles {
  parts: ReportFiles;
  /** Every row in the order of a sort (the default one), sorted by the worker. */
  order: { sort: string; rows: Uint32Array } | null;
}

/** The path table from the worker's parts (a part per step), then the Report's shapes. */
function* assemble(cols: FilesColumns, parts: string[][]): Generator<void, ReportFiles> {
  let total = 0;
  for (const part of parts) total += part.length;
  const table = new Array<string>(total);
  let at = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) table[at++] = part[i]!;
    yield;
  }
  cols.paths.table = table;
  return yield* assembleFilesSteps(cols);
}

/** The per-file parts of report `id`. */
export async function loadFiles(id: string): Promise<LoadedFiles> {
  const w = getWorker();
  const n = ++seq;
  const reply = await new Promise<Final>((resolve, reject) => {
    pending.set(n, { strings: [], resolve, reject });
    w.postMessage({ seq: n, url: api.filesUrl(id) } satisfies FilesRequest);
  });
  if (!reply.ok) throw new ApiError(reply.status, reply.error);
  // Timings for tools (the web benchmark): the worker's fetch and decode, each assembly step.
  const end = performance.now();
  timing('files:worker', end - reply.fetchMs - reply.decodeMs - reply.sortMs, {
    fetchMs: reply.fetchMs,
    decodeMs: reply.decodeMs,
    sortMs: reply.sortMs,
    bytes: reply.bytes,
  });
  const steps = assemble(reply.cols, reply.strings);
  for (let k = 0; ; k++) {
    await nextTask();
    const t = performance.now();
    const r = steps.next();
    if (performance.now() - t > 16) timing(`files:assemble:${k}`, t);
    if (r.done) {
      timing('files:assemble', end, { steps: k + 1 });
      return { parts: r.value, order: reply.order };
    }
  }
}

/** The whole report from its head and its loaded files (with the worker's row order). */
export function fullReport(head: ReportHead, loaded: LoadedFiles): Report {
  const r = joinReport(head, loaded.parts);
  if (loaded.order) seedRowOrder(r, loaded.order.sort, loaded.order.rows);
  return r;
}

/** A whole report (summary + files), e.g. the baseline of a comparison. */
export async function loadFullReport(id: string): Promise<Report> {
  const [head, loaded] = await Promise.all([api.summary(id), loadFiles(id)]);
  return fullReport(head, loaded);
}
