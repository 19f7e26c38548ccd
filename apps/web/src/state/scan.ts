/** Client of the scan worker: one worker per image scanned in the browser. */
import type { ScanMessage } from '../workers/scan.worker';
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
