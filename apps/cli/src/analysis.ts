/** Offline analysis: manifests + mount configurations -> Report (the engine of packages/sharing). */
import { basename } from 'node:path';
import type { Manifest } from '@sharemap/erofs';
import {
  analyze,
  createDomainRedactor,
  defaultInstances,
  imageEntryFromManifest,
  resolveInstances,
  type AnalysisInput,
  type InstanceInput,
  type MountConfig,
  type Report,
  type ResolvedInstance,
} from '@sharemap/sharing';
import { inputError, oneLine } from './errors.js';
import { readMountConfig } from './inputs.js';

export interface AnalysisRequest {
  manifests: Manifest[];
  mounts: string[];
  mapping: Record<string, string>;
  publishers: Record<string, string>;
  pageSize?: number;
  workingSet?: number;
  createdAt?: string;
}

/** Unique image ids: the image name, then "name#2", "name#3" for repeats. */
export function imageIds(manifests: Manifest[]): string[] {
  const seen = new Map<string, number>();
  return manifests.map((m) => {
    const n = (seen.get(m.image.name) ?? 0) + 1;
    seen.set(m.image.name, n);
    return n === 1 ? m.image.name : `${m.image.name}#${n}`;
  });
}

/** ResolvedInstance (configuration view) -> the engine's InstanceInput (without the parsed entries). */
export function toInstanceInput(r: ResolvedInstance): InstanceInput {
  const first = r.entries[0];
  const inst: InstanceInput = {
    id: r.id,
    label: r.label,
    imageId: r.imageId,
    mountPoints: [...r.mountPoints],
    source: r.source,
    backing: r.backing,
    domain: r.domain,
    options: { ...r.options },
    domainKnown: r.domainKnown,
  };
  // Formats that show domain_id (fstab, units, scripts, plan) say whether one was given;
  // mountinfo and /proc/mounts never do (R11): leave it unknown.
  if (r.domainKnown && first) inst.options.domainIdGiven = first.options.domainIdGiven;
  if (r.users) inst.users = [...r.users];
  if (r.origin) inst.origin = r.origin;
  if (r.notMounted) inst.notMounted = r.notMounted;
  if (r.mountError) inst.mountError = r.mountError;
  return inst;
}

export interface AnalysisResult {
  report: Report;
  /** Human warnings (unresolved mounts, parser warnings), one line each. */
  warnings: string[];
  /** How each mount configuration was read ("fleet.fstab: read as fstab, 7 erofs mounts"), one line each. */
  notes: string[];
}

const mountCount = (n: number): string => `${n} erofs mount${n === 1 ? '' : 's'}`;

export async function runAnalysis(req: AnalysisRequest): Promise<AnalysisResult> {
  const ids = imageIds(req.manifests);
  const images: AnalysisInput['images'] = req.manifests.map((m, k) => {
    const publisher = req.publishers[m.image.name] ?? req.publishers[ids[k]!];
    return {
      image: imageEntryFromManifest(m, { id: ids[k]!, ...(publisher !== undefined ? { publisher } : {}) }),
      manifest: m,
    };
  });
  const warnings: string[] = [];
  const notes: string[] = [];
  let instances: InstanceInput[];
  if (req.mounts.length === 0) {
    instances = defaultInstances(images.map((x) => x.image));
  } else {
    const domains = createDomainRedactor();
    const configs: MountConfig[] = [];
    for (const path of req.mounts) {
      const { config } = await readMountConfig(path, domains);
      configs.push(config);
      // The format was detected from the name and the content: say which reading was used.
      notes.push(`${basename(path)}: read as ${config.format}, ${mountCount(config.entries.length)}`);
    }
    for (const c of configs)
      for (const w of c.warnings) {
        const loc = `${w.origin.file}:${w.origin.line}:${w.origin.column}`;
        const msg = oneLine(w.message);
        warnings.push(msg.startsWith(loc) ? msg : `${loc}: ${msg}`);
      }
    const res = resolveInstances(
      configs,
      images.map((x) => ({ id: x.image.id, name: x.image.name })),
      { mapping: req.mapping },
    );
    for (const w of res.warnings)
      if (!warnings.includes(oneLine(w.message))) warnings.push(oneLine(w.message));
    for (const u of res.unresolved) {
      const o = u.entry.origin;
      warnings.push(`${o.file}:${o.line}:${o.column}: ${u.entry.mountPoint} ignored: ${oneLine(u.reason)}`);
    }
    if (res.instances.length === 0) {
      const names = req.mounts.map((p) => basename(p)).join(', ');
      throw inputError(
        `no erofs mount in ${names} matches the images (${images.map((x) => x.image.name).join(', ')}); use --map SOURCE=IMAGE`,
      );
    }
    instances = res.instances.map(toInstanceInput);
  }
  const input: AnalysisInput = { images, instances, options: {} };
  if (req.pageSize !== undefined) input.options!.pageSize = req.pageSize;
  if (req.workingSet !== undefined) input.options!.workingSetFraction = req.workingSet;
  if (req.createdAt !== undefined) input.createdAt = req.createdAt;
  try {
    return { report: analyze(input), warnings, notes };
  } catch (e) {
    throw inputError(`analysis failed: ${oneLine((e as Error).message)}`);
  }
}
