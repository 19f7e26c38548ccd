/**
 * The thread `sharemap analyze --json` writes its report's path lists on while the main thread
 * runs the analysis (paths-json.ts): one request, the stores' bytes (shared memory) and ends;
 * one answer, each list's JSON pieces (report-wire's pathsJsonBytes), transferred. Then it
 * ends on its own, its port closed (docs/development.md#how-worker-threads-end).
 */
import { parentPort } from 'node:worker_threads';
import { PathStore } from '@sharemap/erofs';
import { pathsJsonBytes } from '@sharemap/report-wire';
import type { PathsJsonReply, PathsJsonRequest } from './paths-json.js';

const port = parentPort!;
port.once('message', (req: PathsJsonRequest) => {
  let reply: PathsJsonReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const pieces = req.stores.map((s) => [...pathsJsonBytes(PathStore.fromBytes(s), req.chunkBytes)]);
    // Every piece is a view of a buffer of its own (the writer has no pool here).
    for (const list of pieces) for (const p of list) transfer.push(p.buffer as ArrayBuffer);
    reply = { pieces };
  } catch (e) {
    reply = { error: (e as Error)?.message ?? String(e) };
  }
  port.postMessage(reply, transfer);
  port.close();
});
