/// <reference lib="webworker" />
/**
 * Scans an EROFS image in the browser (packages/erofs over a Blob): the image never leaves
 * the machine, only the manifest (paths, sizes, xattrs, content hashes) is sent back.
 */
import { blobSource, isErofsError, manifestToNdjson, openImage, scanManifest } from '@sharemap/erofs';

export interface ScanRequest {
  image: File;
  devices: File[];
}
export type ScanMessage =
  | { kind: 'progress'; files: number; bytesHashed: number }
  | { kind: 'done'; ndjson: string; files: number }
  | { kind: 'error'; code: string; message: string };

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = async (e: MessageEvent<ScanRequest>) => {
  const { image, devices } = e.data;
  const post = (m: ScanMessage) => self.postMessage(m);
  try {
    const img = await openImage(blobSource(image), { devices: devices.map((d) => blobSource(d)) });
    const manifest = await scanManifest(img, {
      imageName: image.name,
      imageSize: image.size,
      hash: true,
      onProgress: (p) => post({ kind: 'progress', files: p.files, bytesHashed: p.bytesHashed }),
    });
    let ndjson = '';
    for (const line of manifestToNdjson(manifest)) ndjson += line;
    post({ kind: 'done', ndjson, files: manifest.files.length });
  } catch (err) {
    post({
      kind: 'error',
      code: isErofsError(err) ? (err as { code: string }).code : 'error',
      message: (err as Error).message,
    });
  }
};
