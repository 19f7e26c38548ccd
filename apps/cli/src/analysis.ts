/** Offline analysis: manifests + mount configurations -> Report (the engine of packages/sharing). */
import { basename, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { manifestHeader, manifestToNdjson, type Manifest } from '@sharemap/erofs';
import {
  analyze,
  AnalysisInputError,
  attributeResidency,
  DEFAULT_PAGE_SIZE,
  MountConfigError,
  ResidencyMappingError,
  withTrust,
  type ResidencySource,
  buildAnalysisInput,
  imagesNeedingDigest,
  type AnalysisImageSource,
  createDomainRedactor,
  type AnalysisInput,
  type BuiltAnalysisInput,
  type MountConfig,
  type Report,
} from '@sharemap/sharing';
import { inputError, oneLine } from './errors.js';
import { readMountConfig, readResidencyFile } from './inputs.js';
import { splitResidencyArg } from './config.js';
import type { MountConfigRead } from './output/render.js';

export interface AnalysisRequest {
  manifests: Manifest[];
  mounts: string[];
  /** --residency values: `[INSTANCE=]FILE` (docs/working-set.md). */
  residency?: string[];
  /** Directory relative FILEs of `residency` are read from (default: the process's). */
  cwd?: string;
  mapping: Record<string, string>;
  publishers: Record<string, string>;
  pageSize?: number;
  workingSet?: number;
  createdAt?: string;
}

export interface AnalysisResult {
  report: Report;
  /** Human warnings (unresolved mounts, parser warnings), one line each. */
  warnings: string[];
  /** How each mount configuration was read (format detected from its name and content). */
  mountConfigs: MountConfigRead[];
}

export async function runAnalysis(req: AnalysisRequest): Promise<AnalysisResult> {
  const warnings: string[] = [];
  const mountConfigs: MountConfigRead[] = [];
  const configs: MountConfig[] = [];
  const residencySources: ResidencySource[] = [];
  let domainSecrets: AnalysisInput['domainSecrets'];
  if (req.mounts.length > 0) {
    const domains = createDomainRedactor();
    domainSecrets = domains; // the engine compares raw domain ids (key concatenation, docs/format.md#sharing-key); never in the report
    for (const path of req.mounts) {
      const { config, residency } = await readMountConfig(path, domains);
      configs.push(config);
      // A host snapshot given as a mount configuration brings its residency.
      if (residency) residencySources.push({ data: residency });
      // The format was detected from the name and the content: say which reading was used.
      mountConfigs.push({ file: basename(path), format: config.format, erofsMounts: config.entries.length });
    }
  }
  // Canonical order and ids (packages/sharing buildAnalysisInput): argument order does not matter.
  let built: BuiltAnalysisInput<Manifest>;
  try {
    const sources: AnalysisImageSource<Manifest>[] = req.manifests.map((m) => ({
      header: manifestHeader(m),
      payload: m,
    }));
    // Images equal in name and header are ordered by the digest of their NDJSON form.
    for (const k of imagesNeedingDigest(sources)) {
      const h = createHash('sha256');
      for (const line of manifestToNdjson(sources[k]!.payload)) h.update(line);
      sources[k]!.digest = h.digest('hex');
    }
    built = buildAnalysisInput({
      images: sources,
      mountConfigs: configs,
      mapping: req.mapping,
      publishers: req.publishers,
    });
  } catch (e) {
    // e.g. two images on one block device (R9): bad input, one line, exit 2.
    if (e instanceof AnalysisInputError || e instanceof MountConfigError)
      throw inputError(oneLine(e.message));
    throw e;
  }
  for (const w of built.warnings) {
    const loc = `${w.origin.file}:${w.origin.line}:${w.origin.column}`;
    const msg = oneLine(w.message);
    const line = msg.startsWith(loc) ? msg : `${loc}: ${msg}`;
    if (!warnings.includes(line) && !warnings.includes(msg)) warnings.push(line);
  }
  for (const u of built.unresolved) {
    const o = u.entry.origin;
    warnings.push(`${o.file}:${o.line}:${o.column}: ${u.entry.mountPoint} ignored: ${oneLine(u.reason)}`);
  }
  const images: AnalysisInput['images'] = built.images.map((x) => ({ image: x.image, manifest: x.payload }));
  if (configs.length > 0 && built.instances.length === 0) {
    const names = req.mounts.map((p) => basename(p)).join(', ');
    throw inputError(
      `no erofs mount in ${names} matches the images (${images.map((x) => x.image.name).join(', ')}); use --map SOURCE=IMAGE`,
    );
  }
  const instances = built.instances;
  for (const arg of req.residency ?? []) {
    const { instance, file } = splitResidencyArg(arg, req.cwd ?? process.cwd());
    const data = await readResidencyFile(resolve(req.cwd ?? process.cwd(), file));
    residencySources.push(instance === undefined ? { data } : { data, instance });
  }
  // 'auto': a fleet of many mounts of few images gets a compact file table (report version 2,
  // docs/metrics.md#compact-file-table) rather than a row per (instance, file).
  const input: AnalysisInput = { images, instances, options: {}, fileTable: 'auto' };
  if (residencySources.length > 0) {
    try {
      const attributed = attributeResidency(residencySources, instances, req.pageSize ?? DEFAULT_PAGE_SIZE);
      input.residency = attributed.residency;
      warnings.push(...attributed.warnings);
    } catch (e) {
      if (e instanceof ResidencyMappingError) throw inputError(e.message);
      throw e;
    }
  }
  if (domainSecrets !== undefined) input.domainSecrets = domainSecrets;
  if (req.pageSize !== undefined) input.options!.pageSize = req.pageSize;
  if (req.workingSet !== undefined) input.options!.workingSetFraction = req.workingSet;
  if (req.createdAt !== undefined) input.createdAt = req.createdAt;
  try {
    // The trust model (docs/trust.md) needs the manifests: it is built here, next to them.
    return { report: withTrust(analyze(input), input), warnings, mountConfigs };
  } catch (e) {
    throw inputError(`analysis failed: ${oneLine((e as Error).message)}`);
  }
}
