/**
 * Scan an EROFS image held in a Blob (packages/erofs over blobSource) into its manifest as
 * NDJSON: what "scan in this browser" uploads instead of the image. The scan worker runs it off
 * the main thread; the start slice's tests run it in Node.
 */
import { blobSource, manifestToNdjson, openImage, scanManifest } from '@sharemap/erofs';

export async function scanToNdjson(
  image: Blob,
  name: string,
  devices: Blob[],
  onProgress: (files: number, bytesHashed: number) => void,
): Promise<{ ndjson: string; files: number }> {
  const img = await openImage(blobSource(image), { devices: devices.map((d) => blobSource(d)) });
  const manifest = await scanManifest(img, {
    imageName: name,
    imageSize: image.size,
    hash: true,
    onProgress: (p) => onProgress(p.files, p.bytesHashed),
  });
  let ndjson = '';
  for (const line of manifestToNdjson(manifest)) ndjson += line;
  return { ndjson, files: manifest.files.length };
}
