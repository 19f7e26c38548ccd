// Test-only preload, loaded with `node --import` into a server's worker threads (a pool passes
// its Node flags on to its workers, pool.ts workerExecArgv): the parse of the mount
// configuration whose file name is SHAREMAP_TEST_SPIN_PARSE begins as usual (the worker tells
// the pool, which starts counting the parse's CPU budget) and then computes forever: a
// pathological input that only the budget (mountConfigParseTimeoutMs) ends. The shipped
// worker (src/scan/worker.ts) knows nothing of it.
import { isMainThread, parentPort } from 'node:worker_threads';

const SPIN_PARSE_OF = process.env.SHAREMAP_TEST_SPIN_PARSE;

if (!isMainThread && parentPort && SPIN_PARSE_OF !== undefined) {
  const port = parentPort;
  const on = port.on.bind(port);
  port.on = (event, listener) => {
    if (event !== 'message') return on(event, listener);
    return on(event, (task) => {
      const result = listener(task); // posts 'begin'; the parse itself is queued after this
      if (task?.kind !== 'mount-config' || task.file !== SPIN_PARSE_OF) return result;
      let x = 0;
      for (;;) x = (x * 31 + 7) | 0; // never returns: only terminate() ends the thread
    });
  };
}
