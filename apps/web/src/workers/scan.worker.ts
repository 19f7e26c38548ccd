/// <reference lib="webworker" />
/**
 * Scans an EROFS image in the browser (packages/erofs over a Blob): the image never leaves
 * the machine, only the manifest (paths, sizes, xattrs, content hashes) is sent back.
 */
import { isErofsError } from '@sharemap/erofs';
import { scanToNdjson } from '../lib/scan';

export interface ScanRequest {
  image: File;
  devices: File[];
}
export type ScanMessage =
  | { kind: 'progress'; files: number; bytesHashed: number }
  /** The manifest's NDJSON as a Blob of parts (lib/scan.ts): posted without a copy of its bytes. */
  | { kind: 'done'; ndjson: Blob; files: number }
  | { kind: 'error'; code: string; message: string };

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = async (e: MessageEvent<ScanRequest>) => {
  const { image, devices } = e.data;
  const post = (m: ScanMessage) => self.postMessage(m);
  try {
    const { ndjson, files } = await scanToNdjson(image, image.name, devices, (files, bytesHashed) =>
      post({ kind: 'progress', files, bytesHashed }),
    );
    post({ kind: 'done', ndjson, files });
  } catch (err) {
    post({
      kind: 'error',
      code: isErofsError(err) ? (err as { code: string }).code : 'error',
      message: (err as Error).message,
    });
  }
};
