/** Client of the analysis worker: one worker, requests matched by sequence number. */
import type { Report, ScenarioResult } from '@sharemap/sharing';
import type { AnalysisRequest } from '../workers/analysis.worker';

interface Reply {
  seq: number;
  ok: boolean;
  report?: Report;
  scenarios?: ScenarioResult[];
  error?: string;
  ms?: number;
}

let worker: Worker | null = null;
let seq = 0;
const pending = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();
/** The input is sent once per worker; later requests reference it. */
let sentInput: unknown = null;

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

export function runAnalysis(req: Omit<AnalysisRequest, 'seq'>): Promise<Reply> {
  const w = getWorker();
  const id = ++seq;
  const msg = { ...req, seq: id } as AnalysisRequest & { input: AnalysisRequest['input'] | null };
  if (sentInput === req.input) (msg as { input: unknown }).input = null;
  else sentInput = req.input;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.postMessage(msg);
  });
}
