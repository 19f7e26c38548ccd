/**
 * An OCI archive Blob (`docker save`, tarred OCI layout, rootfs tar) -> its predicted EROFS
 * manifests as NDJSON, with @sharemap/oci over the Blob (Blob.slice reads, hash-wasm sha256):
 * what "predict in this browser" uploads instead of the archive (docs/oci.md). The archive
 * worker runs it off the main thread; the start slice's tests run it in Node. It imports the
 * OCI code statically, so only the worker (a chunk of its own) and tests may import it.
 */
import { blobSource, manifestToNdjson, wasmSha256 } from '@sharemap/erofs';
import { modelManifests, predictArchive, type DeploymentModel } from '@sharemap/oci';

export interface PredictedNdjson {
  kind: 'docker-save' | 'oci-layout' | 'rootfs';
  /** OCI images in the archive. */
  images: number;
  /** One per OCI image (flattened) or per distinct layer (layers). */
  manifests: { name: string; ndjson: string; files: number }[];
}

export async function predictToNdjson(
  archive: Blob,
  name: string,
  model: DeploymentModel,
  onProgress: (bytes: number) => void,
): Promise<PredictedNdjson> {
  const a = await predictArchive(blobSource(archive), name, {
    hasher: wasmSha256,
    hash: true,
    layerCache: new Map(),
    layerManifests: new Map(),
    onProgress,
  });
  return {
    kind: a.kind,
    images: a.images.length,
    manifests: modelManifests(a.images, model).map((m) => {
      let ndjson = '';
      for (const line of manifestToNdjson(m)) ndjson += line;
      return { name: m.image.name, ndjson, files: m.files.length };
    }),
  };
}
