/**
 * The two deployment models of OCI images side by side (docs/oci.md): per layer (containerd's
 * EROFS snapshotter: one image per distinct layer, mounted once, a container is the overlay
 * of its layers' mounts) and flattened (one image per OCI image), each without and with
 * inode_share; and what the per-layer model gets for free from identical layers (a layer
 * shared by several images is cached once even without inode_share).
 */
import type { Manifest } from '@sharemap/erofs';
import type { OciLayer } from '@sharemap/oci';
import { formatBytes } from '@sharemap/sharing/format';
import { runAnalysis } from './analysis.js';
import { loadArchive } from './archives.js';
type OutputFormat = 'json' | 'markdown' | 'text';

export interface ModelFigures {
  images: number;
  bytesWithoutSharing: number;
  bytesWithSharing: number;
  bytesSaved: number;
  percentSaved: number;
}

export interface ModelComparison {
  kind: 'sharemap-model-comparison';
  predicted: true;
  ociImages: { name: string; layers: string[] }[];
  flattened: ModelFigures;
  layers: ModelFigures;
  /** Page cache the layers of all images would take if no layer were shared (each image's layers counted per image), minus the per-layer model without inode_share. */
  identicalLayersSaveForFree: number;
}

async function figures(manifests: Manifest[], pageSize?: number): Promise<ModelFigures> {
  const { report } = await runAnalysis({
    manifests,
    mounts: [],
    mapping: {},
    publishers: {},
    ...(pageSize ? { pageSize } : {}),
  });
  const t = report.totals;
  return {
    images: manifests.length,
    bytesWithoutSharing: t.bytesWithoutSharing,
    bytesWithSharing: t.bytesWithSharing,
    bytesSaved: t.bytesSaved,
    percentSaved: t.percentSaved,
  };
}

export async function compareModels(
  paths: string[],
  o: { hash: boolean; platform?: string; pageSize?: number },
): Promise<ModelComparison> {
  const layerCache = new Map<string, OciLayer>();
  const layerManifests = new Map<string, Manifest>();
  const archives = [];
  for (const p of paths)
    archives.push(
      await loadArchive(p, {
        hash: o.hash,
        layerCache,
        layerManifests,
        ...(o.platform ? { platform: o.platform } : {}),
      }),
    );
  const images = archives.flatMap((a) => a.images);
  const flat = await figures(
    images.map((i) => i.flattened),
    o.pageSize,
  );
  const unique = [...new Set(images.flatMap((i) => i.layers.map((l) => l.manifest)))];
  const layers = await figures(unique, o.pageSize);
  // Each distinct layer alone, then counted once per image that uses it.
  const alone = new Map<Manifest, number>();
  for (const m of unique) alone.set(m, (await figures([m], o.pageSize)).bytesWithoutSharing);
  const perImage = images.reduce((s, i) => s + i.layers.reduce((t, l) => t + alone.get(l.manifest)!, 0), 0);
  return {
    kind: 'sharemap-model-comparison',
    predicted: true,
    ociImages: images.map((i) => ({ name: i.image.name, layers: i.layers.map((l) => l.layer.diffId) })),
    flattened: flat,
    layers,
    identicalLayersSaveForFree: perImage - layers.bytesWithoutSharing,
  };
}

export function renderComparison(c: ModelComparison, format: OutputFormat): string {
  if (format === 'json') return JSON.stringify(c, null, 2) + '\n';
  const row = (name: string, f: ModelFigures) => [
    name,
    String(f.images),
    formatBytes(f.bytesWithoutSharing),
    formatBytes(f.bytesWithSharing),
    `${formatBytes(f.bytesSaved)} (${f.percentSaved.toFixed(1)} %)`,
  ];
  const head = [
    'model (predicted)',
    'EROFS images',
    'page cache without inode_share',
    'with inode_share',
    'inode_share saves',
  ];
  const rows = [
    row('flattened (one image per OCI image)', c.flattened),
    row('per layer (one image per distinct layer)', c.layers),
  ];
  const free = `Identical layers already share ${formatBytes(c.identicalLayersSaveForFree)} in the per-layer model without inode_share.`;
  const intro = `${c.ociImages.length} OCI image(s): ${c.ociImages.map((i) => `${i.name} (${i.layers.length} layers)`).join(', ')}. Predicted: mkfs.erofs --tar=f --xattr-inode-digest (docs/oci.md).`;
  if (format === 'markdown') {
    return [
      intro,
      '',
      `| ${head.join(' | ')} |`,
      `|${head.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      free,
      '',
    ].join('\n');
  }
  const w = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k]!.length)));
  const line = (r: string[]) =>
    r
      .map((x, k) => x.padEnd(w[k]!))
      .join('  ')
      .trimEnd();
  return [intro, '', line(head), ...rows.map(line), '', free, ''].join('\n');
}
