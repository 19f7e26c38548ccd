/**
 * analyze(): manifests + instances in, Report out. Pure and synchronous; the web UI reruns it
 * live. Rules R1-R12 (docs/sharing-rules.md), docs/format.md#ishare-mount to docs/format.md#page-cache.
 */
import type { AnalysisInput, Report, ReportImage, Totals, UnsharedCacheLine } from '../report.js';
import { REPORT_KIND, REPORT_VERSION } from '../report.js';
import type { Prepared } from './core.js';
import { backingFileCachePages, normaliseOptions, PageSums, totalsOf } from './accounting.js';
import { prepareImages, runCore } from './core.js';
import { assignDomains, checkDomainLabelNamespaces, NOT_SHARING_LABEL } from './domains.js';
import type { AnalysisContext } from './analysis-context.js';
import { costOf } from './cost.js';
import { computeFindings } from './findings.js';
import { keyAliases } from './key-collisions.js';
import { unknownDomainBounds } from './unknown-bounds.js';
import { isMounted, resolveInstanceState } from './input.js';
import { measureWorkingSet } from './residency.js';
import { attachGroupColumns } from './group-columns.js';
import { keepBindings } from './engine-bindings.js';
import { reportPaths } from './report-paths.js';

export function analyze(input: AnalysisInput): Report {
  const options = normaliseOptions(input.options);
  const { pageSize, workingSetFraction } = options;
  const prepared = prepareImages(input.images);

  checkDomainLabelNamespaces(input.instances);
  const seen = new Set<string>();
  const instances = input.instances.map((inst) => {
    if (seen.has(inst.id)) throw new Error(`duplicate instance id ${JSON.stringify(inst.id)}`);
    seen.add(inst.id);
    return resolveInstanceState(inst, prepared.byId.get(inst.imageId)?.entry);
  });

  const worst = assignDomains(instances);
  worst.keyAlias = keyAliases(prepared, worst.labels, input.domainSecrets);
  // A compact table where no instance repeats another's class is the per-instance one (runCore).
  const core = runCore(prepared, instances, worst, options, compactTable(input, prepared));
  const totals = totalsOf(core.pagesWithout, core.pagesWith, pageSize);
  const domainLabelOf = instances.map((_, i) =>
    worst.domainOf[i]! >= 0 ? worst.labels[worst.domainOf[i]!]! : null,
  );

  // Unknown domains (R11): the report's figures put each unknown instance alone in its own
  // domain, in the documented order; the bounds range over every domain each could be in
  // (known ones included) and every read order (unknown-bounds.ts).
  let bounds: Report['bounds'];
  let unknownBounds: ReturnType<typeof unknownDomainBounds> | undefined;
  if (worst.unknown.some((u) => u)) {
    unknownBounds = unknownDomainBounds(
      prepared,
      instances,
      worst,
      options,
      core.files.instance.length,
      input.domainSecrets,
    );
    bounds = {
      best: totalsOf(core.pagesWithout, unknownBounds.bestWith, pageSize),
      worst: totalsOf(core.pagesWithout, unknownBounds.worstWith, pageSize),
    };
  }
  let orderBounds: Report['orderBounds'];
  if (core.orderDependentKeys > 0) {
    orderBounds = {
      best: totalsOf(core.pagesWithout, core.orderBestWith, pageSize),
      worst: totalsOf(core.pagesWithout, core.orderWorstWith, pageSize),
    };
  }

  // Accounting: a shared inode's pages are charged to its first member's instance.
  const perInstance = new PageSums();
  const perDomain = new PageSums();
  const perImage = new PageSums();
  const { instancePagesWithout: instWithout, instancePagesWith: instWith } = core;
  for (const img of prepared.images) perImage.touch(img.entry.id);
  instances.forEach((inst, i) => {
    perInstance.add(inst.id, instWithout[i]!, instWith[i]!);
    perDomain.add(domainLabelOf[i] ?? NOT_SHARING_LABEL, instWithout[i]!, instWith[i]!);
    if (prepared.byId.has(inst.imageId)) perImage.add(inst.imageId, instWithout[i]!, instWith[i]!);
  });

  const images: ReportImage[] = prepared.images.map((p) => ({
    ...p.entry,
    fileCount: p.n,
    regularFiles: p.regularFiles,
    fingerprintedFiles: p.fingerprintedFiles,
  }));
  // The manifests' paths that are bytes stay bytes until read (reportPaths).
  const paths = reportPaths(
    prepared.images.map((p) => ({ id: p.entry.id, store: p.pathStore, list: () => p.paths })),
  );

  const instanceIdsOfDomain = worst.labels.map((): string[] => []);
  instances.forEach((inst, i) => {
    const d = worst.domainOf[i]!;
    if (d >= 0) instanceIdsOfDomain[d]!.push(inst.id);
  });
  const domains: Report['domains'] = worst.labels.map((label, d) => ({
    label,
    instanceIds: instanceIdsOfDomain[d]!,
    ...(worst.unknown[d] ? { unknown: true } : {}),
  }));

  const unsharedCaches: UnsharedCacheLine[] = [];
  const countedBacking = new Set<string>();
  instances.forEach((inst, i) => {
    const ii = core.imageOf[i]!;
    if (ii < 0 || !isMounted(inst) || inst.backing !== 'file' || inst.options.directio) return;
    const img = prepared.images[ii]!;
    const bytes =
      img.manifest.image.size > 0
        ? img.manifest.image.size
        : img.manifest.superblock.blocks * img.entry.blockSize;
    // One backing file per image file: mounts of the same source share its cache.
    const key = `${inst.imageId}\u0000${inst.source}`;
    const repeat = countedBacking.has(key);
    countedBacking.add(key);
    const pages = repeat ? 0 : backingFileCachePages(bytes, pageSize, workingSetFraction);
    unsharedCaches.push({
      instanceId: inst.id,
      kind: 'backing-file',
      bytes: pages * pageSize,
      pages,
      note: repeat
        ? `raw image bytes of ${img.entry.name}: already counted for another mount of the same file`
        : `raw image bytes of ${img.entry.name} in the backing file system's page cache (file-backed mount without directio, R8)`,
    });
  });

  const ctx: AnalysisContext = {
    prepared,
    instances,
    core,
    domainLabelOf,
    pageSize,
    keysCollide: worst.keyAlias !== null,
  };
  if (unknownBounds) ctx.unknownBounds = unknownBounds;
  const report: Report = {
    kind: REPORT_KIND,
    // Only a compact table needs version 2: other reports stay readable by version-1 readers.
    version: core.files.rowsOf ? REPORT_VERSION : 1,
    createdAt: input.createdAt ?? new Date().toISOString(),
    options,
    images,
    paths,
    instances,
    domains,
    totals,
    perInstance: perInstance.toRecord(pageSize),
    perDomain: perDomain.toRecord(pageSize),
    perImage: perImage.toRecord(pageSize),
    files: core.files,
    groups: [], // the core's columns, attached below: objects only when read (group-columns.ts)
    unsharedCaches,
    findings: [],
    scenarios: [],
  };
  attachGroupColumns(report, core.groups);
  if (bounds) report.bounds = bounds;
  if (orderBounds) report.orderBounds = orderBounds;
  // The measured working set: an accounting step over the core's rows and groups (residency.ts).
  if (input.residency)
    report.measured = measureWorkingSet(
      input.residency,
      prepared,
      instances,
      core.imageOf,
      core.files,
      core.groups,
      pageSize,
    );
  report.findings = computeFindings(ctx, report);
  // Host total, fair shares, containers: an accounting step over the result (cost.ts).
  report.cost = costOf(report);
  // For the trust model (withTrust): each file's fingerprint binding, found by the R12 check.
  keepBindings(report, prepared.images);
  return report;
}

/**
 * Rows of the per-instance file table past which `fileTable: 'auto'` makes it compact
 * (docs/metrics.md#compact-file-table): about 100 MB of report JSON, and ~70 bytes of heap per row.
 */
export const COMPACT_FILE_TABLE_ROWS = 1_000_000;

/** Whether the analysis gets a compact file table (AnalysisInput.fileTable). */
function compactTable(input: AnalysisInput, prepared: Prepared): boolean {
  const form = input.fileTable ?? 'per-instance';
  if (form === 'per-instance' || input.residency) return false;
  if (form === 'compact') return true;
  let rows = 0;
  for (const inst of input.instances) rows += prepared.byId.get(inst.imageId)?.n ?? 0;
  return rows > COMPACT_FILE_TABLE_ROWS;
}

/** Totals only (no findings kept): for scenarios and property tests. */
export function analyzeTotals(input: AnalysisInput): Totals {
  return analyze(input).totals;
}
