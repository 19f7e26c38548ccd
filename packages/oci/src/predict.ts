/**
 * Prediction entry points for one tar: the members -> the mkfs.erofs tree -> the manifest.
 */
import type { HasherFactory, Manifest } from '@sharemap/erofs';
import { readLayer, readLayerHashed, type LayerMember } from './layer.js';
import { resolveOciLimits, type OciLimits } from './limits.js';
import { treeToManifest, type BuildOptions } from './manifest.js';
import type { TarHasherFactory } from './tar-hasher.js';
import { applyFlatten, applyMkfs, newRoot, type Dentry, type OnLayerChange } from './tree.js';

export interface PredictTarOptions {
  hasher: HasherFactory;
  /** Hashes the stream and its files' data in one pass instead of `hasher` (readLayerHashed). */
  tarHasher?: TarHasherFactory;
  build: BuildOptions;
  imageName: string;
  imageSize: number;
  hash?: boolean;
  source?: string;
  limits?: Partial<OciLimits>;
  /** uid/gid of the mkfs.erofs process: the owner of a root with no "./" member (rule 5). Default 0. */
  rootOwner?: number;
}

/** Rule 5: a tar without "./" gets a 0777 root owned by the mkfs process, mtime = build time. */
export function mkfsRoot(build: BuildOptions, owner = 0): Dentry {
  return newRoot(0o777, owner, owner, build.buildTime);
}

/** The tree mkfs.erofs builds from one tar's members. */
export function mkfsTree(members: LayerMember[], build: BuildOptions, rootOwner = 0): Dentry {
  const root = mkfsRoot(build, rootOwner);
  for (const m of members) applyMkfs(root, m, build.aufs);
  return root;
}

/**
 * The root of a flattened image: an image's layers have no "./" member, so the exporter's
 * root (`docker export`, containerd's snapshot) is 0755 root:root; a layer's "./" member overrides it.
 */
export function flattenLayers(layers: LayerMember[][], onChange?: (layer: number) => OnLayerChange): Dentry {
  const root = newRoot(0o755, 0, 0, 0);
  layers.forEach((members, i) => {
    const on = onChange?.(i);
    for (const m of members) applyFlatten(root, m, i, on);
  });
  return root;
}

/** Predict the manifest of `mkfs.erofs <build options> IMG TAR` from a tar stream. */
export async function predictTar(chunks: AsyncIterable<Uint8Array>, o: PredictTarOptions): Promise<Manifest> {
  const limits = resolveOciLimits(o.limits);
  const members = o.tarHasher
    ? (await readLayerHashed(chunks, { tarHasher: o.tarHasher, limits })).members
    : await readLayer(chunks, { hasher: o.hasher, limits });
  return treeToManifest(mkfsTree(members, o.build, o.rootOwner), {
    build: o.build,
    imageName: o.imageName,
    imageSize: o.imageSize,
    hash: !!o.hash,
    source: o.source ?? 'tar',
  });
}
