/**
 * What the paths thread does (paths-json-worker.ts loads it once the thread runs at its low
 * priority): one request, the stores' bytes (shared memory) and ends; an answer per list as it
 * is written, its JSON pieces (report-wire's pathsJsonBytes), transferred. The main thread
 * writes any list not answered when it needs it. The thread ends on its own once the lists are
 * written or the main thread says stop: its port closed (docs/development.md#how-worker-threads-end).
 */
import { parentPort } from 'node:worker_threads';
import { PathStore } from '@sharemap/erofs';
import { pathsJsonBytes } from '@sharemap/report-wire';
import type { PathsJsonReply, PathsJsonRequest } from './paths-json.js';

const port = parentPort!;
port.once('message', (req: PathsJsonRequest) => {
  const stop = new Int32Array(req.stop);
  for (const [index, s] of req.stores.entries()) {
    let reply: PathsJsonReply;
    const transfer: ArrayBuffer[] = [];
    try {
      const pieces: Uint8Array[] = [];
      for (const p of pathsJsonBytes(PathStore.fromBytes(s), req.chunkBytes)) {
        // Not wanted any more: the main thread has written the paths itself.
        if (Atomics.load(stop, 0) !== 0) break;
        pieces.push(p);
      }
      if (Atomics.load(stop, 0) !== 0) break;
      // Every piece is a view of a buffer of its own (the writer has no pool here).
      for (const p of pieces) transfer.push(p.buffer as ArrayBuffer);
      reply = { index, pieces };
    } catch (e) {
      reply = { index, error: (e as Error)?.message ?? String(e) };
    }
    port.postMessage(reply, transfer);
  }
  port.close();
});
