/**
 * One archive in, its predicted manifests out: from the bytes of a `docker save` archive, a
 * tarred OCI image layout or a root-filesystem tar (kind told by the bytes, archive.ts
 * openArchive) to the manifests of both deployment models (docs/oci.md). Shared by the CLI
 * (`sharemap scan|analyze|upload ARCHIVE`) and the server's archive uploads, so both predict
 * the same manifest from the same bytes.
 */
import type { ByteSource, HasherFactory, Manifest } from '@sharemap/erofs';
import { loadImages, openArchive, type ArchiveKind, type OciLayer, type Platform } from './archive.js';
import { layerImageName, predictImage, type ImagePrediction } from './image.js';
import { readLayer, readLayerHashed } from './layer.js';
import { resolveOciLimits, type OciLimits } from './limits.js';
import { FLAT_BUILD, LAYER_BUILD, treeToManifest, type BuildOptions } from './manifest.js';
import { mkfsTree } from './predict.js';
import type { TarHasherFactory } from './tar-hasher.js';

/** The two deployment models (docs/oci.md): one EROFS image per distinct layer, or per OCI image. */
export type DeploymentModel = 'layers' | 'flattened';

export interface PredictArchiveOptions {
  hasher: HasherFactory;
  /** Hashes whole layer blobs (LoadOptions.digestHasher); default `hasher`. */
  digestHasher?: HasherFactory;
  /** Hashes each tar stream and its files' data in one pass (LoadOptions.tarHasher). */
  tarHasher?: TarHasherFactory;
  /** Add each regular file's content sha256 to the records. */
  hash?: boolean;
  /** Platform picked from a multi-platform index (default linux/amd64). */
  platform?: Platform;
  limits?: Partial<OciLimits>;
  /** Shared across the archives of one analysis: identical layers are read once. */
  layerCache?: Map<string, OciLayer>;
  layerManifests?: Map<string, Manifest>;
  /** Uncompressed tar bytes read so far (a progress display: image archives can be gigabytes). */
  onProgress?: (bytes: number) => void;
}

export interface PredictedArchive {
  kind: ArchiveKind;
  images: ImagePrediction[];
}

/**
 * Predict every image of an archive held in `source` (`name` names it in messages and is the
 * image name of a rootfs tar). Throws OciError for anything mkfs.erofs or the OCI specs refuse.
 */
export async function predictArchive(
  source: ByteSource,
  name: string,
  o: PredictArchiveOptions,
): Promise<PredictedArchive> {
  const { maxPaths } = resolveOciLimits(o.limits);
  const popts = {
    hash: !!o.hash,
    maxPaths,
    ...(o.layerManifests ? { layerManifests: o.layerManifests } : {}),
  };
  const a = await openArchive(source, name, o.limits);
  if (a.kind !== 'rootfs') {
    // Bytes of the layers read before this one, plus the current layer's.
    let done = 0;
    let current = 0;
    let layer = '';
    const onProgress = o.onProgress;
    const { images } = await loadImages(a.files, {
      ...(onProgress
        ? {
            onProgress: (p: { layer: string; bytes: number }) => {
              if (p.layer !== layer) {
                done += current;
                layer = p.layer;
              }
              current = p.bytes;
              onProgress(done + current);
            },
          }
        : {}),
      hasher: o.hasher,
      ...(o.digestHasher ? { digestHasher: o.digestHasher } : {}),
      ...(o.tarHasher ? { tarHasher: o.tarHasher } : {}),
      ...(o.limits ? { limits: o.limits } : {}),
      ...(o.platform ? { platform: o.platform } : {}),
      ...(o.layerCache ? { layerCache: o.layerCache } : {}),
    });
    return { kind: a.kind, images: images.map((i) => predictImage(i, popts)) };
  }
  // A rootfs tar (docker export): one tar, read once, built both ways.
  const limits = resolveOciLimits(o.limits);
  const onData = o.onProgress ? { onData: o.onProgress } : {};
  const members = o.tarHasher
    ? (await readLayerHashed(a.stream(), { tarHasher: o.tarHasher, limits, ...onData })).members
    : await readLayer(a.stream(), { hasher: o.hasher, limits, ...onData });
  const mk = (build: BuildOptions, imageName: string): Manifest =>
    treeToManifest(mkfsTree(members, build), {
      build,
      imageName,
      imageSize: source.size,
      hash: !!o.hash,
      source: `rootfs tar ${name}`,
      maxPaths,
    });
  const layer: OciLayer = {
    diffId: '',
    digest: '',
    compression: a.compression,
    storedSize: source.size,
    size: source.size,
    members,
  };
  return {
    kind: 'rootfs',
    images: [
      {
        image: { name, repoTags: [], configDigest: '', layers: [layer] },
        flattened: mk(FLAT_BUILD, name),
        layers: [{ layer, manifest: mk(LAYER_BUILD, layerImageName(name)) }],
      },
    ],
  };
}

/**
 * The manifests of one model: flattened = one per OCI image; layers = one per distinct layer
 * (identical diff ids are one EROFS image, mounted once: containerd's EROFS snapshotter).
 */
export function modelManifests(images: ImagePrediction[], model: DeploymentModel): Manifest[] {
  if (model === 'flattened') return images.map((i) => i.flattened);
  const seen = new Set<Manifest>();
  const out: Manifest[] = [];
  for (const i of images)
    for (const l of i.layers)
      if (!seen.has(l.manifest)) {
        seen.add(l.manifest);
        out.push(l.manifest);
      }
  return out;
}
