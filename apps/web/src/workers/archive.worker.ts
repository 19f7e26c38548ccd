/// <reference lib="webworker" />
/**
 * Predicts an OCI archive's EROFS manifests in the browser (lib/archive.ts): the archive never
 * leaves the machine, only the predicted manifests (paths, sizes, xattrs, content hashes) are
 * sent back. A chunk of its own, so the OCI code is not part of the page's initial JS.
 */
import { isOciError, type DeploymentModel } from '@sharemap/oci';
import { predictToNdjson, type PredictedNdjson } from '../lib/archive';

export interface ArchiveRequest {
  archive: File;
  model: DeploymentModel;
}
export type ArchiveMessage =
  | { kind: 'progress'; bytes: number }
  | { kind: 'done'; result: PredictedNdjson }
  | { kind: 'error'; code: string; message: string };

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = async (e: MessageEvent<ArchiveRequest>) => {
  const { archive, model } = e.data;
  const post = (m: ArchiveMessage) => self.postMessage(m);
  try {
    const out = await predictToNdjson(archive, archive.name, model, (bytes) =>
      post({ kind: 'progress', bytes }),
    );
    post({ kind: 'done', result: out });
  } catch (err) {
    post({
      kind: 'error',
      code: isOciError(err) ? (err as { code: string }).code : 'error',
      message: (err as Error).message,
    });
  }
};
