/**
 * OCI images on the command line: `docker save` archives, OCI image layouts (directory or
 * tar) and root-filesystem tars, read with @sharemap/oci into predicted manifests of the
 * two deployment models (docs/oci.md). Node I/O lives here; the package has none.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Manifest } from '@sharemap/erofs';
import { nodeFileSource, nodeSha256 } from '@sharemap/erofs/node';
import {
  OciError,
  loadImages,
  modelManifests as ociModelManifests,
  parsePlatform,
  predictArchive,
  predictImage,
  type ArchiveFiles,
  type ImagePrediction,
  type OciLayer,
  type Platform,
} from '@sharemap/oci';
import { workerSha256, workerTarHasher } from '@sharemap/oci/node';
import { inputError, oneLine } from './errors.js';
import type { Model } from './model-options.js';

export { ARCHIVE_HEAD_BYTES, isArchive, isArchiveHead } from './archive-sniff.js';

/** One archive read: its images' predictions, or a rootfs tar's. */
export interface LoadedArchive {
  path: string;
  kind: 'docker-save' | 'oci-layout' | 'rootfs';
  images: ImagePrediction[];
}

function dirFiles(dir: string): ArchiveFiles {
  return {
    name: dir,
    get: async (rel) => {
      if (rel.split('/').some((c) => c === '..')) return undefined;
      const p = join(dir, rel);
      try {
        const st = await stat(p);
        if (!st.isFile()) return undefined;
        return {
          size: st.size,
          stream: () => createReadStream(p, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>,
        };
      } catch {
        return undefined;
      }
    },
  };
}

export interface LoadArchiveOptions {
  hash: boolean;
  platform?: string;
  /** Shared across the archives of one command: identical layers are read once. */
  layerCache?: Map<string, OciLayer>;
  layerManifests?: Map<string, Manifest>;
}

/** OciError (or a reader error) -> one line naming the archive, exit 2. */
function archiveError(path: string, e: unknown): Error {
  if (e instanceof OciError) return inputError(`${path}: ${oneLine(e.message)}`, e);
  return inputError(`${path}: ${oneLine((e as Error).message ?? String(e))}`, e);
}

export async function loadArchive(path: string, o: LoadArchiveOptions): Promise<LoadedArchive> {
  let platform: Platform | undefined;
  try {
    platform = o.platform ? parsePlatform(o.platform) : undefined;
  } catch (e) {
    throw inputError(`--platform: ${oneLine((e as Error).message)}`);
  }
  const popts = { hash: o.hash, ...(o.layerManifests ? { layerManifests: o.layerManifests } : {}) };
  const lopts = {
    hasher: nodeSha256,
    // Each layer's digests and its files' fingerprints on a second core (docs/oci.md#library).
    digestHasher: workerSha256,
    tarHasher: workerTarHasher,
    ...(platform ? { platform } : {}),
    ...(o.layerCache ? { layerCache: o.layerCache } : {}),
  };
  try {
    if ((await stat(path)).isDirectory()) {
      const { kind, images } = await loadImages(dirFiles(path), lopts);
      return { path, kind, images: images.map((i) => predictImage(i, popts)) };
    }
  } catch (e) {
    throw archiveError(path, e);
  }
  const src = await nodeFileSource(path);
  try {
    const { kind, images } = await predictArchive(src, basename(path), { ...lopts, ...popts });
    return { path, kind, images };
  } catch (e) {
    throw archiveError(path, e);
  } finally {
    await src.close();
  }
}

/** The manifests of one model: flattened = one per OCI image; layers = one per distinct diff id. */
export function modelManifests(archives: LoadedArchive[], model: Model): Manifest[] {
  return ociModelManifests(
    archives.flatMap((a) => a.images),
    model,
  );
}
