// Test-only preload (docs/development.md#holding-a-scan), loaded with `node --import` into a
// server's scan worker threads (a pool passes its Node flags on to its workers, pool.ts
// workerExecArgv): the scan of the image named by SHAREMAP_TEST_HOLD_SCAN reports its start
// (the image reads `scanning`) and then waits: until the file SHAREMAP_TEST_RELEASE_SCAN
// exists (then the worker scans it as usual), or, without that variable, until the pool ends
// the thread (its time limit, a shutdown). So a test knows the scan is running, whatever the
// machine's load. The shipped worker (src/scan/worker.ts) knows nothing of it.
import { existsSync, watch } from 'node:fs';
import path from 'node:path';
import { isMainThread, parentPort } from 'node:worker_threads';

const HOLD_SCAN_OF = process.env.SHAREMAP_TEST_HOLD_SCAN;
const RELEASE_SCAN_FILE = process.env.SHAREMAP_TEST_RELEASE_SCAN;

function held() {
  // Without a release file: the port's message listener keeps this thread alive meanwhile.
  if (RELEASE_SCAN_FILE === undefined) return new Promise(() => undefined);
  const file = RELEASE_SCAN_FILE;
  return new Promise((resolve) => {
    // Watch first, then look: a file made in between is seen by one or the other.
    const watcher = watch(path.dirname(file), () => released());
    const released = () => {
      if (!existsSync(file)) return;
      watcher.close();
      resolve();
    };
    released();
  });
}

// This runs before the worker module: the task listener it registers is wrapped, so a held
// scan reaches it only once released (the pool posts one task at a time).
if (!isMainThread && parentPort && HOLD_SCAN_OF !== undefined) {
  const port = parentPort;
  const on = port.on.bind(port);
  port.on = (event, listener) => {
    if (event !== 'message') return on(event, listener);
    return on(event, (task) => {
      if (task?.kind !== 'scan' || task.image?.name !== HOLD_SCAN_OF) return listener(task);
      port.postMessage({ type: 'progress', files: 0, bytesHashed: 0, path: '' });
      void held().then(() => listener(task));
    });
  };
}
