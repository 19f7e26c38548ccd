/** Clients of the scan and archive workers: one worker per image or archive read in the browser. */
import type { DeploymentModel } from '@sharemap/oci';
import type { ArchiveMessage } from '../workers/archive.worker';
import type { ScanMessage } from '../workers/scan.worker';
import type { PredictedNdjson } from '../lib/archive';
import { codedMessage } from '../lib/errors';

type Reply = { kind: 'progress' } | { kind: 'done' } | { kind: 'error'; code: string; message: string };

/** Post one request to a worker made for it; progress until done or error, then terminate it. */
function runWorker<M extends Reply, R>(
  w: Worker,
  request: unknown,
  what: string,
  onProgress: (m: Extract<M, { kind: 'progress' }>) => void,
  done: (m: Extract<M, { kind: 'done' }>) => R,
): Promise<R> {
  return new Promise((resolve, reject) => {
    w.onmessage = (e: MessageEvent<M>) => {
      const m = e.data;
      if (m.kind === 'progress') return onProgress(m as Extract<M, { kind: 'progress' }>);
      w.terminate();
      if (m.kind === 'done') resolve(done(m as Extract<M, { kind: 'done' }>));
      else {
        const err = m as Extract<Reply, { kind: 'error' }>;
        reject(new Error(codedMessage(err.code, err.message)));
      }
    };
    w.onerror = (e) => {
      w.terminate();
      reject(new Error(e.message || `${what} worker failed`));
    };
    w.postMessage(request);
  });
}

/** Scan `file` (with its devices) in a worker; resolves with the manifest as NDJSON (a Blob). */
export function scanInWorker(
  file: File,
  devices: File[],
  onProgress: (files: number, bytes: number) => void,
): Promise<Blob> {
  // The URL is spelled out here: the bundler makes the worker chunk from it.
  const w = new Worker(new URL('../workers/scan.worker.ts', import.meta.url), {
    type: 'module',
    name: 'scan',
  });
  return runWorker<ScanMessage, Blob>(
    w,
    { image: file, devices },
    'scan',
    (m) => onProgress(m.files, m.bytesHashed),
    (m) => m.ndjson,
  );
}

/** Predict an OCI archive's manifests in a worker (only they are uploaded, never the archive). */
export function predictInWorker(
  file: File,
  model: DeploymentModel,
  onProgress: (bytes: number) => void,
): Promise<PredictedNdjson> {
  const w = new Worker(new URL('../workers/archive.worker.ts', import.meta.url), {
    type: 'module',
    name: 'archive',
  });
  return runWorker<ArchiveMessage, PredictedNdjson>(
    w,
    { archive: file, model },
    'archive',
    (m) => onProgress(m.bytes),
    (m) => m.result,
  );
}
