/** Client of the analysis worker: one worker, requests matched by sequence number. */
import type { Report, ScenarioResult } from '@sharemap/sharing';
import type { AnalysisRequest } from '../workers/analysis.worker';

interface Reply {
  seq: number;
  ok: boolean;
  report?: Report;
  scenarios?: ScenarioResult[];
  contents?: Record<string, Int32Array>;
  error?: string;
  ms?: number;
}

type Request = AnalysisRequest extends infer R ? (R extends { seq: number } ? Omit<R, 'seq'> : never) : never;

let worker: Worker | null = null;
let seq = 0;
const pending = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();

function getWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('../workers/analysis.worker.ts', import.meta.url), {
    type: 'module',
    name: 'analysis',
  });
  worker.onmessage = (e: MessageEvent<Reply>) => {
    const p = pending.get(e.data.seq);
    if (!p) return;
    pending.delete(e.data.seq);
    if (e.data.ok) p.resolve(e.data);
    else p.reject(new Error(e.data.error ?? 'analysis failed'));
  };
  worker.onerror = (e) => {
    for (const p of pending.values()) p.reject(new Error(e.message || 'analysis worker failed'));
    pending.clear();
  };
  return worker;
}

/**
 * A request to the worker. Each names the analysis input by URL; the worker fetches it on the
 * first request and keeps it (`kind: 'input'` only loads it).
 */
export function runAnalysis(req: Request): Promise<Reply> {
  const w = getWorker();
  const id = ++seq;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.postMessage({ ...req, seq: id });
  });
}
