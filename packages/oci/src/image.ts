/**
 * The two deployment models of one OCI image:
 *  - per layer (containerd's EROFS snapshotter): one EROFS image per layer, built with
 *    `--aufs` (whiteouts -> overlayfs whiteouts); identical diff ids are one image;
 *  - flattened: one EROFS image of the image's root filesystem (layers applied with the
 *    OCI whiteout rules, tree.ts applyFlatten).
 */
import type { Manifest } from '@sharemap/erofs';
import type { OciImage, OciLayer } from './archive.js';
import { FLAT_BUILD, LAYER_BUILD, treeToManifest, type BuildOptions } from './manifest.js';
import { flattenLayers, mkfsTree } from './predict.js';

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
  });
  o.layerManifests?.set(layer.diffId, m);
  return m;
}

export function predictImage(image: OciImage, o: PredictImageOptions = {}): ImagePrediction {
  const build = o.flatBuild ?? FLAT_BUILD;
  const flattened = treeToManifest(flattenLayers(image.layers.map((l) => l.members)), {
    build,
    imageName: imageFileName(image.name),
    imageSize: image.layers.reduce((s, l) => s + l.size, 0),
    hash: !!o.hash,
    source: `flattened image ${image.name}${image.manifestDigest ? ` (${image.manifestDigest})` : ''}`,
  });
  return {
    image,
    flattened,
    layers: image.layers.map((layer) => ({ layer, manifest: predictLayer(layer, o) })),
  };
}
