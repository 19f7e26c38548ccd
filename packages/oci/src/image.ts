/**
 * The two deployment models of one OCI image:
 *  - per layer (containerd's EROFS snapshotter): one EROFS image per layer, built with
 *    `--aufs` (whiteouts -> overlayfs whiteouts); identical diff ids are one image;
 *  - flattened: one EROFS image of the image's root filesystem (layers applied with the
 *    OCI whiteout rules, tree.ts applyFlatten).
 */
import {
  MAX_LAYER_CHANGE_PATHS,
  type Manifest,
  type PredictedLayer,
  type PredictedOciImage,
} from '@sharemap/erofs';
import { platformString, type OciImage, type OciLayer } from './archive.js';
import { displayPath, type PathKey } from './layer.js';
import { FLAT_BUILD, LAYER_BUILD, treeToManifest, type BuildOptions } from './manifest.js';
import { flattenLayers, mkfsTree } from './predict.js';
import type { LayerChange } from './tree.js';

/**
 * What each layer adds, changes and deletes, collected while flattening (tree.ts applyFlatten).
 * Within one layer a path keeps its first change, except that a path deleted (opaque
 * directory) and written again by the same layer is changed.
 */
class LayerChanges {
  private readonly byLayer: Map<string, { kind: LayerChange; path: PathKey[] }>[] = [];

  on(layer: number) {
    const m = (this.byLayer[layer] ??= new Map());
    return (kind: LayerChange, path: PathKey[]) => {
      const key = path.join('/');
      const was = m.get(key);
      if (!was) m.set(key, { kind, path });
      else if (was.kind === 'deleted' && kind !== 'deleted') was.kind = 'changed';
    };
  }

  layer(i: number, l: OciLayer): PredictedLayer {
    const rows = [...(this.byLayer[i]?.entries() ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const out: PredictedLayer = {
      diffId: l.diffId,
      digest: l.digest,
      compression: l.compression,
      size: l.size,
      storedSize: l.storedSize,
      added: 0,
      changed: 0,
      deleted: 0,
      paths: { added: [], changed: [], deleted: [] },
    };
    for (const [, { kind, path }] of rows) {
      out[kind]++;
      if (out.paths[kind].length < MAX_LAYER_CHANGE_PATHS) out.paths[kind].push(displayPath(path));
    }
    return out;
  }
}

export interface LayerPrediction {
  layer: OciLayer;
  manifest: Manifest;
}

export interface ImagePrediction {
  image: OciImage;
  flattened: Manifest;
  layers: LayerPrediction[];
}

export interface PredictImageOptions {
  hash?: boolean;
  flatBuild?: BuildOptions;
  layerBuild?: BuildOptions;
  /** Per-layer manifests already made, by diff id (identical layers are one image). */
  layerManifests?: Map<string, Manifest>;
  /** OciLimits.maxPaths: checked while each manifest's tree is walked. */
  maxPaths?: number;
}

/** A manifest image name (no "/"): "repo_name:tag". */
export function imageFileName(name: string): string {
  return name.replace(/[/\0]/g, '_') || 'image';
}

/** Per-layer image name: the diff id, which identifies the layer (and its EROFS image). */
export function layerImageName(diffId: string): string {
  return `layer-${diffId.replace(/^sha256:/, '').slice(0, 16)}`;
}

export function predictLayer(layer: OciLayer, o: PredictImageOptions = {}): Manifest {
  const cached = o.layerManifests?.get(layer.diffId);
  if (cached) return cached;
  const build = o.layerBuild ?? LAYER_BUILD;
  const m = treeToManifest(mkfsTree(layer.members, build), {
    build,
    imageName: layerImageName(layer.diffId),
    imageSize: layer.size,
    hash: !!o.hash,
    source: `layer ${layer.diffId}`,
    ...(o.maxPaths !== undefined ? { maxPaths: o.maxPaths } : {}),
  });
  o.layerManifests?.set(layer.diffId, m);
  return m;
}

export function predictImage(image: OciImage, o: PredictImageOptions = {}): ImagePrediction {
  const build = o.flatBuild ?? FLAT_BUILD;
  const changes = new LayerChanges();
  const root = flattenLayers(
    image.layers.map((l) => l.members),
    (i) => changes.on(i),
  );
  const flattened = treeToManifest(root, {
    build,
    imageName: imageFileName(image.name),
    imageSize: image.layers.reduce((s, l) => s + l.size, 0),
    hash: !!o.hash,
    source: `flattened image ${image.name}${image.manifestDigest ? ` (${image.manifestDigest})` : ''}`,
    ...(o.maxPaths !== undefined ? { maxPaths: o.maxPaths } : {}),
  });
  const detail: PredictedOciImage = {
    repoTags: image.repoTags,
    configDigest: image.configDigest,
    layers: image.layers.map((l, i) => changes.layer(i, l)),
  };
  if (image.manifestDigest) detail.manifestDigest = image.manifestDigest;
  if (image.platform) detail.platform = platformString(image.platform);
  flattened.predicted!.image = detail;
  return {
    image,
    flattened,
    layers: image.layers.map((layer) => ({ layer, manifest: predictLayer(layer, o) })),
  };
}
