/**
 * The files worker (scan/report-blobs.ts `storeFilesOnWorker`): a thread of its own for one
 * report's sharemap-files encoding. It takes the report's columns as a handover
 * (report-wire's `filesHandover`: strings already codes and bytes, every buffer transferred,
 * nothing copied on the way), encodes them (`encodeFilesHandover`: each column's narrowest
 * form, the layout) and stores the encoding gzip-compressed and hashed (`BlobStore.putGzipBytes`),
 * while the analysis thread writes the report JSON. It answers once, `{ sha256 }` or
 * `{ error }`, and ends.
 */
import { parentPort } from 'node:worker_threads';
import { encodeFilesHandover, type FilesHandover } from '@sharemap/report-wire/files-layout';
import { BlobStore } from '../storage/blobs.js';

/** What the files worker is posted: the blob folder and the handover. */
export interface FilesWorkerTask {
  dataDir: string;
  handover: FilesHandover;
}

/** Its one answer. */
export type FilesWorkerAnswer = { sha256: string } | { error: { name: string; message: string } };

const port = parentPort!;
port.once('message', (task: FilesWorkerTask) => {
  const answer = (a: FilesWorkerAnswer): void => port.postMessage(a);
  Promise.resolve()
    .then(() => new BlobStore(task.dataDir).putGzipBytes(encodeFilesHandover(task.handover).pieces()))
    .then(
      (blob) => answer({ sha256: blob.sha256 }),
      (e: unknown) => {
        const err = e as Error | undefined;
        answer({ error: { name: err?.name ?? 'Error', message: err?.message ?? String(e) } });
      },
    );
});
