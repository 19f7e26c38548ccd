/** Clients of the scan and archive workers: one worker per image or archive read in the browser. */
import type { DeploymentModel } from '@sharemap/oci';
import type { ArchiveMessage } from '../workers/archive.worker';
import type { ScanMessage } from '../workers/scan.worker';
import type { PredictedNdjson } from '../lib/archive';
import { codedMessage } from '../lib/errors';

/** Scan `file` (with its devices) in a worker; resolves with the manifest as NDJSON. */
export function scanInWorker(
  file: File,
  devices: File[],
  onProgress: (files: number, bytes: number) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('../workers/scan.worker.ts', import.meta.url), {
      type: 'module',
      name: 'scan',
    });
    w.onmessage = (e: MessageEvent<ScanMessage>) => {
      const m = e.data;
      if (m.kind === 'progress') onProgress(m.files, m.bytesHashed);
      else {
        w.terminate();
        if (m.kind === 'done') resolve(m.ndjson);
        else reject(new Error(codedMessage(m.code, m.message)));
      }
    };
    w.onerror = (e) => {
      w.terminate();
      reject(new Error(e.message || 'scan worker failed'));
    };
    w.postMessage({ image: file, devices });
  });
}

/** Predict an OCI archive's manifests in a worker (only they are uploaded, never the archive). */
export function predictInWorker(
  file: File,
  model: DeploymentModel,
  onProgress: (bytes: number) => void,
): Promise<PredictedNdjson> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('../workers/archive.worker.ts', import.meta.url), {
      type: 'module',
      name: 'archive',
    });
    w.onmessage = (e: MessageEvent<ArchiveMessage>) => {
      const m = e.data;
      if (m.kind === 'progress') onProgress(m.bytes);
      else {
        w.terminate();
        if (m.kind === 'done') resolve(m.result);
        else reject(new Error(codedMessage(m.code, m.message)));
      }
    };
    w.onerror = (e) => {
      w.terminate();
      reject(new Error(e.message || 'archive worker failed'));
    };
    w.postMessage({ archive: file, model });
  });
}
