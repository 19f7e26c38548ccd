/// <reference lib="webworker" />
/**
 * Scans an EROFS image in the browser (packages/erofs over a Blob): the image never leaves
 * the machine, only the manifest (paths, sizes, xattrs, content hashes) is sent back.
 */
import { isErofsError } from '@sharemap/erofs';
import { scanToNdjson } from '../lib/scan';
import { fileReaderSync, syncBlobSource } from '../lib/sync-blob-source';

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
    // Read the image synchronously where the worker can (lib/sync-blob-source.ts says why).
    const Reader = fileReaderSync();
    const { ndjson, files } = await scanToNdjson(
      image,
      image.name,
      devices,
      (files, bytesHashed) => post({ kind: 'progress', files, bytesHashed }),
      Reader ? { source: (b) => syncBlobSource(b, Reader) } : {},
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
