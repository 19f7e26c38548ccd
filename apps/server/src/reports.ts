/**
 * Report creation: images (scanned on the server) and manifests (uploaded), mount
 * configurations resolved into instances (or the default instances), domain assignments
 * and options -> an analysis in a worker -> an immutable snapshot (report JSON gzip blob,
 * AnalysisInput gzip blob, row). The row is inserted only once both blobs are durable.
 */
import { createHash } from 'node:crypto';
import type { ManifestHeader } from '@sharemap/erofs';
import {
  attributeResidency,
  DEFAULT_PAGE_SIZE,
  ResidencyMappingError,
  type ResidencySource,
  AnalysisInputError,
  buildAnalysisInput,
  imagesNeedingDigest,
  type AnalysisImageSource,
  type BuiltAnalysisInput,
  type InstanceInput,
  type MountConfig,
  type TrustPolicy,
} from '@sharemap/sharing';
import { reportRequestSchema, type ReportRequest as ApiReportRequest } from '@sharemap/api';
import { manifestBlobsOf } from './analysis-input.js';
import type { AppContext } from './context.js';
import { HttpError, unprocessable } from './errors.js';
import { ID_RE, newId } from './ids.js';
import { Metrics } from './metrics.js';
import { requestValidator, type RequestValidator } from './validate.js';
import { PoolBusyError, TaskError } from './scan/pool.js';
import { getImage, waitForScan } from './scan/scheduler.js';
import type { AnalyzeResult, AnalyzeTask, PartsResult, ReportSummary } from './scan/tasks.js';
import { nowIso } from './storage/db.js';
import { loadResidency } from './routes/residency.js';
import type { ReportRow } from './storage/store/repos.js';

/** A checked POST /api/reports body: every list and map present (empty when not given). */
export interface ReportRequest {
  images: string[];
  manifests: string[];
  mountConfigs: string[];
  mapping: Record<string, string>;
  domainAssignments: Record<string, string>;
  publishers: Record<string, string>;
  /** The reviewer's trust policy, evaluated on the report (docs/trust.md#policy). */
  trustPolicy?: TrustPolicy;
  options: { pageSize?: number; workingSetFraction?: number };
  title?: string;
  /** Residency inputs (POST /api/residency ids), each for one instance or mapped by mount point. */
  residency?: { id: string; instance?: string }[];
}

/** Residency inputs one report may name. */
export const MAX_RESIDENCY_PER_REPORT = 64;

type Limits = AppContext['config']['limits'];
const validators = new WeakMap<Limits, RequestValidator<ApiReportRequest>>();

/**
 * Validate the JSON body of POST /api/reports against its schema (packages/api
 * reportRequestSchema: 400 naming the field, 413 for too many entries), then the rules across
 * fields the schema does not state.
 */
export function parseReportRequest(body: unknown, limits: Limits): ReportRequest {
  let check = validators.get(limits);
  if (!check) {
    check = requestValidator(
      reportRequestSchema({ ...limits, maxResidencyPerReport: MAX_RESIDENCY_PER_REPORT }),
      'bad-report-request',
      { nullIsAbsent: true },
    );
    validators.set(limits, check);
  }
  const b = check(body);
  const images = b.images ?? [];
  const manifests = b.manifests ?? [];
  if (images.length + manifests.length === 0)
    throw new HttpError(
      400,
      'bad-report-request',
      'give at least one image or manifest id (images, manifests)',
    );
  if (images.length + manifests.length > limits.maxImagesPerReport)
    throw new HttpError(
      413,
      'too-large',
      `at most ${limits.maxImagesPerReport} images and manifests per report`,
    );
  // Objects without a prototype: a key such as "__proto__" is data, not a setter.
  const map = (m: Record<string, string> | undefined): Record<string, string> =>
    Object.assign(Object.create(null) as Record<string, string>, m);
  const req: ReportRequest = {
    images,
    manifests,
    mountConfigs: b.mountConfigs ?? [],
    mapping: map(b.mapping),
    domainAssignments: map(b.domainAssignments),
    publishers: map(b.publishers),
    options: { ...b.options },
    residency: b.residency ?? [],
  };
  if (b.trustPolicy !== undefined) req.trustPolicy = { ...b.trustPolicy };
  // eslint-disable-next-line no-control-regex
  if (b.title !== undefined) req.title = b.title.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return req;
}

export interface UnresolvedMount {
  source: string;
  mountPoint: string;
  origin: { file: string; line: number; column: number };
  reason: string;
}

export interface CreatedReport {
  id: string;
  summary: ReportSummary;
  unresolved: UnresolvedMount[];
  warnings: { code: string; message: string }[];
}

export async function createReport(ctx: AppContext, req: ReportRequest): Promise<CreatedReport> {
  const limits = ctx.config.limits;
  // 1. Images: wait for pending scans (bounded), then their manifests.
  const sources: { serverId: string; name: string; manifestId: string }[] = [];
  const waitMs = limits.scanTimeoutMs + 5_000;
  const rows = await Promise.all(req.images.map((id) => waitForScan(ctx, id, waitMs)));
  for (const [k, row] of rows.entries()) {
    const id = req.images[k]!;
    if (!row) throw unprocessable('bad-report-request', `image ${id} not found`, { imageId: id });
    if (row.status === 'failed')
      throw unprocessable(
        'bad-image',
        `image ${row.name} (${id}) could not be scanned: ${row.error_message ?? row.error_code}`,
        {
          imageId: id,
          reason: row.error_code,
        },
      );
    if (row.status !== 'ready' || !row.manifest_id)
      throw new HttpError(
        409,
        'not-ready',
        `image ${row.name} (${id}) is still being scanned; try again later`,
        { imageId: id },
      );
    sources.push({ serverId: id, name: row.name, manifestId: row.manifest_id });
  }
  for (const id of req.manifests) {
    const m = await ctx.store.manifests.get(id);
    if (!m) throw unprocessable('bad-report-request', `manifest ${id} not found`, { manifestId: id });
    sources.push({ serverId: id, name: m.name, manifestId: m.id });
  }
  // 2. Images in canonical order with their ids, and instances (packages/sharing
  // buildAnalysisInput): the report does not depend on request order or on which scan finished
  // first. Analysis ids are the names (readable reports), made unique.
  const configs: MountConfig[] = [];
  for (const id of req.mountConfigs) {
    const row = await ctx.store.mountConfigs.get(id);
    if (!row)
      throw unprocessable('bad-report-request', `mount configuration ${id} not found`, {
        mountConfigId: id,
      });
    configs.push(JSON.parse(row.config) as MountConfig);
  }
  const imageSources: AnalysisImageSource<string>[] = [];
  for (const s of sources) {
    const m = (await ctx.store.manifests.get(s.manifestId))!;
    imageSources.push({
      header: JSON.parse(m.header) as ManifestHeader,
      name: s.name,
      aliases: [s.serverId],
      payload: m.blob,
    });
  }
  // Refused up front what the analysis could not finish (docs/server.md#limits): a report
  // accepted must be usable, not a 503 after minutes of work.
  const records = imageSources.reduce((n, s) => n + s.header.file_count, 0);
  if (records > limits.maxReportRecords)
    throw new HttpError(
      413,
      'too-large',
      `the report's images and manifests hold ${records} file records, more than SHAREMAP_MAX_REPORT_RECORDS (${limits.maxReportRecords})`,
      { limit: 'SHAREMAP_MAX_REPORT_RECORDS', records },
    );
  // Images equal in name and header are ordered by the digest of their NDJSON form (the blob
  // holds exactly manifestToNdjson's text, gzipped), as the CLI orders them.
  for (const k of imagesNeedingDigest(imageSources)) {
    const text = await ctx.blobs.readGunzip(imageSources[k]!.payload);
    imageSources[k]!.digest = createHash('sha256').update(text).digest('hex');
  }
  let built: BuiltAnalysisInput<string>;
  try {
    built = buildAnalysisInput({
      images: imageSources,
      mountConfigs: configs,
      mapping: req.mapping,
      publishers: req.publishers,
      domainAssignments: req.domainAssignments,
    });
  } catch (e) {
    if (e instanceof AnalysisInputError) throw unprocessable('bad-report-request', e.message);
    throw e;
  }
  // A mapping names an image by its server id or its analysis id.
  const imageIds = new Set(built.images.flatMap((i) => [i.image.id, ...i.aliases]));
  if (configs.length > 0)
    for (const [src, target] of Object.entries(req.mapping))
      if (!imageIds.has(target))
        throw unprocessable(
          'bad-report-request',
          `mapping.${src}: ${target} is not one of the report's images`,
        );
  const images: AnalyzeTask['images'] = built.images.map((i) => ({
    image: i.image,
    manifestBlob: i.payload,
  }));
  const unresolved: UnresolvedMount[] = built.unresolved.map((u) => ({
    source: u.entry.source,
    mountPoint: u.entry.mountPoint,
    origin: u.entry.origin,
    reason: u.reason,
  }));
  const warnings: { code: string; message: string }[] = built.warnings.map((w) => ({
    code: w.code,
    message: w.message,
  }));
  const instances: InstanceInput[] = built.instances;
  if (configs.length > 0 && instances.length === 0)
    throw unprocessable(
      'bad-report-request',
      `no mount of the configurations matches an image of the report${unresolved[0] ? ` (e.g. ${unresolved[0].source}: ${unresolved[0].reason})` : ''}; give a mapping`,
      { unresolved: unresolved.slice(0, 20) },
    );
  // 4. Analysis in a worker; row after the blobs.
  const createdAt = nowIso();
  const task: AnalyzeTask = {
    kind: 'analyze',
    dataDir: ctx.config.dataDir,
    images,
    instances,
    options: req.options,
    createdAt,
  };
  if (req.title !== undefined) task.title = req.title;
  if (req.trustPolicy !== undefined) task.trustPolicy = req.trustPolicy;
  if (req.residency && req.residency.length > 0) {
    const sources: ResidencySource[] = [];
    for (const r of req.residency) {
      const data = await loadResidency(ctx, r.id);
      if (!data)
        throw unprocessable('bad-report-request', `residency input ${r.id} not found`, { residencyId: r.id });
      sources.push(r.instance === undefined ? { data } : { data, instance: r.instance });
    }
    try {
      const attributed = attributeResidency(sources, instances, req.options.pageSize ?? DEFAULT_PAGE_SIZE);
      task.residency = attributed.residency;
      for (const w of attributed.warnings) warnings.push({ code: 'residency-unmatched', message: w });
    } catch (e) {
      if (e instanceof ResidencyMappingError) throw unprocessable('bad-report-request', e.message);
      throw e;
    }
  }
  let result: AnalyzeResult;
  const analysisStart = process.hrtime.bigint();
  try {
    result = await ctx.analyze(task, limits.analysisTimeoutMs);
    ctx.metrics.reportCreation.observe({ outcome: 'created' }, Metrics.since(analysisStart));
  } catch (e) {
    ctx.metrics.reportCreation.observe({ outcome: 'failed' }, Metrics.since(analysisStart));
    if (e instanceof PoolBusyError) throw new HttpError(503, 'busy', e.message);
    if (e instanceof TaskError) {
      if (e.code === 'timeout')
        throw new HttpError(503, 'timeout', `the analysis took longer than ${limits.analysisTimeoutMs} ms`);
      if (e.code === 'RangeError')
        throw unprocessable('bad-report-request', `the analysis refused the input: ${e.message}`);
    }
    throw e;
  }
  const id = newId();
  await ctx.store.reports.insert({
    id,
    title: req.title ?? null,
    blob: result.reportBlob,
    input_blob: result.inputBlob,
    summary_blob: result.summaryBlob,
    files_blob: result.filesBlob,
    // The manifest blobs the input (a reference document) names: the collector keeps them
    // from this row alone (docs/server.md#stored-manifests-and-analysis-inputs).
    manifest_blobs: JSON.stringify(manifestBlobsOf(images)),
    summary: JSON.stringify(result.summary),
    created_at: createdAt,
  });
  ctx.log.info('report created', { reportId: id, images: images.length, instances: instances.length });
  return { id, summary: result.summary, unresolved, warnings };
}

/** A report's row; summary_blob and files_blob are null for reports created before the parts existed (see reportParts). */
export type { ReportRow };

export async function getReportRow(ctx: AppContext, id: string): Promise<ReportRow | undefined> {
  if (!ID_RE.test(id)) return undefined;
  return ctx.store.reports.get(id);
}

const deriving = new WeakMap<AppContext, Map<string, Promise<PartsResult>>>();

/**
 * The summary and files blobs of a report. Reports created before the parts existed get them
 * derived once from the report blob (in a worker; concurrent requests share the work), then
 * stored and named in the row. The report itself never changes.
 */
export async function reportParts(ctx: AppContext, row: ReportRow): Promise<PartsResult> {
  if (row.summary_blob && row.files_blob) return { summaryBlob: row.summary_blob, filesBlob: row.files_blob };
  let inflight = deriving.get(ctx);
  if (!inflight) deriving.set(ctx, (inflight = new Map()));
  let p = inflight.get(row.id);
  if (!p) {
    p = ctx.analyses
      .run<PartsResult>(
        { kind: 'parts', dataDir: ctx.config.dataDir, reportBlob: row.blob },
        { timeoutMs: ctx.config.limits.analysisTimeoutMs },
      )
      .then(async (parts) => {
        await ctx.store.reports.setParts(row.id, parts.summaryBlob, parts.filesBlob);
        ctx.log.info('report parts derived', { reportId: row.id });
        return parts;
      })
      .catch((e: unknown) => {
        if (e instanceof PoolBusyError) throw new HttpError(503, 'busy', e.message);
        if (e instanceof TaskError && e.code === 'timeout')
          throw new HttpError(
            503,
            'timeout',
            `deriving the report parts took longer than ${ctx.config.limits.analysisTimeoutMs} ms`,
          );
        // The report JSON is read as a stream (scan/report-read.ts), so only the Report itself
        // must fit the worker heap, as it did in the analysis that made it; a smaller heap
        // than then is refused with the limit named. The JSON itself stays available.
        if (e instanceof TaskError && e.code === 'out-of-memory')
          throw new HttpError(
            413,
            'too-large',
            `this report was stored before its parts existed and deriving them needs more than SHAREMAP_WORKER_HEAP_MB (${ctx.config.limits.workerHeapMb} MiB) of worker heap; raise it, or fetch the report as JSON`,
            { limit: 'SHAREMAP_WORKER_HEAP_MB' },
          );
        throw e;
      })
      .finally(() => inflight.delete(row.id));
    inflight.set(row.id, p);
  }
  return p;
}

export { getImage };
