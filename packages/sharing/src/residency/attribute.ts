/**
 * Which instance each residency record belongs to, and its path inside the image: the
 * `ResidencyInput` the engine takes (docs/working-set.md "Mapping files to instances").
 *
 * - `INSTANCE=FILE` (an explicit instance, by id or label): every record is that instance's.
 *   An absolute path under one of its mount points loses that prefix; any other absolute path
 *   is taken as a path inside the image; a relative path (fincore run inside the mount) is
 *   relative to the image root.
 * - `FILE` alone: each record goes to the instance with the longest mount point that prefixes
 *   its (absolute) path, the rest being the path inside the image. Records under no mount
 *   point are counted and named in one warning.
 *
 * Counts convert from the tool's page size (when the input tells it) to the report's:
 * ceil(pages x toolPageSize / pageSize). Records of one instance and path from several inputs
 * keep the largest count (several snapshots of one workload: the pages it touched at least once).
 */
import type { InstanceInput, ResidencyInput } from '../report.js';
import type { ResidencyData } from './types.js';

export interface ResidencySource {
  data: ResidencyData;
  /** The explicit instance (id or label) of `INSTANCE=FILE`; absent to map by mount point. */
  instance?: string;
}

export interface AttributedResidency {
  residency: ResidencyInput;
  warnings: string[];
}

/** Thrown for an `INSTANCE=` that names no instance, or names several by label. */
export class ResidencyMappingError extends Error {
  override readonly name = 'ResidencyMappingError';
}

/** `/a//b/./c/` -> `/a/b/c`; relative paths become absolute at the root. */
export function normaliseImagePath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/');
}

/** The path inside a mount point, or null when `path` is not under it. */
function under(path: string, mountPoint: string): string | null {
  const mp = normaliseImagePath(mountPoint);
  if (mp === '/') return path;
  if (path === mp) return '/';
  return path.startsWith(mp + '/') ? path.slice(mp.length) : null;
}

export function findInstance(instances: readonly InstanceInput[], ref: string): InstanceInput {
  const byId = instances.find((i) => i.id === ref);
  if (byId) return byId;
  const byLabel = instances.filter((i) => i.label === ref || i.mountPoints.includes(ref));
  if (byLabel.length === 1) return byLabel[0]!;
  const known = instances.map((i) => (i.id === i.label ? i.id : `${i.id} (${i.label})`)).join(', ');
  throw new ResidencyMappingError(
    byLabel.length === 0
      ? `--residency ${ref}=...: no instance ${JSON.stringify(ref)} (instances: ${known})`
      : `--residency ${ref}=...: ${byLabel.length} instances are labelled ${JSON.stringify(ref)}; use an id (${byLabel.map((i) => i.id).join(', ')})`,
  );
}

export function attributeResidency(
  sources: readonly ResidencySource[],
  instances: readonly InstanceInput[],
  pageSize: number,
): AttributedResidency {
  const out: ResidencyInput = { instances: {}, sources: [] };
  const warnings: string[] = [];
  // Mount points, longest first, for the prefix match.
  const mounts = instances
    .flatMap((inst) => inst.mountPoints.map((mp) => ({ mp: normaliseImagePath(mp), inst })))
    .sort((a, b) => b.mp.length - a.mp.length);
  const put = (inst: InstanceInput, path: string, pages: number | 'all'): void => {
    const table = (out.instances[inst.id] ??= Object.create(null) as Record<string, number | 'all'>);
    const old = table[path];
    table[path] = old === undefined ? pages : old === 'all' || pages === 'all' ? 'all' : Math.max(old, pages);
  };
  for (const { data, instance } of sources) {
    out.sources!.push(data.file);
    const toolPage = data.pageSize ?? pageSize;
    const convert = (n: number | 'all'): number | 'all' =>
      n === 'all' || toolPage === pageSize ? n : Math.ceil((n * toolPage) / pageSize);
    if (instance !== undefined) {
      const inst = findInstance(instances, instance);
      for (const r of data.records) {
        let path = normaliseImagePath(r.path);
        if (r.path.startsWith('/'))
          for (const mp of inst.mountPoints) {
            const rest = under(path, mp);
            if (rest !== null) {
              path = rest;
              break;
            }
          }
        put(inst, path, convert(r.residentPages));
      }
      continue;
    }
    let outside = 0;
    let firstOutside = '';
    for (const r of data.records) {
      const abs = r.path.startsWith('/') ? normaliseImagePath(r.path) : null;
      let hit = false;
      if (abs !== null)
        for (const { mp, inst } of mounts) {
          const rest = under(abs, mp);
          if (rest === null) continue;
          put(inst, rest, convert(r.residentPages));
          hit = true;
          break;
        }
      if (!hit) {
        if (outside === 0) firstOutside = `${r.origin.file}:${r.origin.line}:${r.origin.column}: ${r.path}`;
        outside++;
      }
    }
    if (outside > 0)
      warnings.push(
        `${outside} residency record(s) of ${data.file} lie under no mount point of the analysis (first: ${firstOutside}); give INSTANCE=FILE for paths relative to one instance`,
      );
  }
  return { residency: out, warnings };
}
