// Test-only host thread (apps/server/test/scan/files-worker.test.ts) standing for an analysis
// worker: it takes a report as JSON and stores its blobs with the server's built
// writeReportBlobs, the files encoding always on the files worker, and says when that worker
// has started (its threadId), so that the test can end this thread mid-report as the pool's
// shutdown does (worker.terminate()).
import { parentPort } from 'node:worker_threads';
import { writeReportBlobs } from '../../dist/scan/report-blobs.js';
import { BlobStore } from '../../dist/storage/blobs.js';

parentPort.once('message', ({ dataDir, reportJson }) => {
  const report = JSON.parse(reportJson);
  writeReportBlobs(new BlobStore(dataDir), report, undefined, {
    filesWorkerMinRows: 0,
    onFilesWorker: (w) => parentPort.postMessage({ filesWorker: w.threadId }),
  }).then(
    (blobs) => parentPort.postMessage({ blobs }),
    (e) => parentPort.postMessage({ error: String(e) }),
  );
});
