/**
 * Retention and garbage collection (docs/server.md#retention): expired rows first (unnamed
 * reports past SHAREMAP_REPORT_TTL_DAYS, uploads past SHAREMAP_UPLOAD_TTL_DAYS), then the
 * blobs no row names any more, past the grace period. Runs periodically
 * (SHAREMAP_GC_INTERVAL_MINUTES, schedule.ts) and on request (POST /api/admin/gc, route.ts);
 * one collection at a time per server.
 */
import type { AppContext } from '../context.js';
import { reportManifestBlobsJson } from '../storage/migration-data.js';

export interface GcResult {
  reportsExpired: number;
  imagesExpired: number;
  manifestsExpired: number;
  mountConfigsExpired: number;
  residencyInputsExpired: number;
  blobsCollected: number;
  bytesCollected: number;
}

/**
 * The `kind` label of sharemap_gc_rows_expired_total for each expiry count of a GcResult
 * (docs/server.md#operations): one table, so a new expiry is counted where it is reported.
 */
const EXPIRED_KINDS = [
  ['reports', 'reportsExpired'],
  ['images', 'imagesExpired'],
  ['manifests', 'manifestsExpired'],
  ['mount_configs', 'mountConfigsExpired'],
  ['residency_inputs', 'residencyInputsExpired'],
] as const satisfies readonly (readonly [string, keyof GcResult])[];

export type GcContext = Pick<AppContext, 'store' | 'blobs' | 'config' | 'metrics' | 'log'>;

/**
 * The collection running on each server (a second request joins it instead of racing it:
 * two collections would only repeat the same work).
 */
const running = new WeakMap<GcContext, Promise<GcResult>>();

/** Collect once, or join the collection running. `now`: the time expiry is measured from. */
export function collectGarbage(ctx: GcContext, now: number = Date.now()): Promise<GcResult> {
  const current = running.get(ctx);
  if (current) return current;
  const run = collect(ctx, now).finally(() => running.delete(ctx));
  running.set(ctx, run);
  return run;
}

async function collect(ctx: GcContext, now: number): Promise<GcResult> {
  const r = ctx.config.retention;
  const started = process.hrtime.bigint();
  const result: GcResult = {
    reportsExpired: 0,
    imagesExpired: 0,
    manifestsExpired: 0,
    mountConfigsExpired: 0,
    residencyInputsExpired: 0,
    blobsCollected: 0,
    bytesCollected: 0,
  };
  try {
    if (r.reportTtlMs !== null)
      result.reportsExpired = await ctx.store.retention.expireReports(iso(now - r.reportTtlMs));
    if (r.uploadTtlMs !== null) {
      const u = await ctx.store.retention.expireUploads(iso(now - r.uploadTtlMs));
      result.imagesExpired = u.images;
      result.manifestsExpired = u.manifests;
      result.mountConfigsExpired = u.mountConfigs;
      result.residencyInputsExpired = u.residencyInputs;
    }
    // The cutoff is taken before the rows are read (inside collect): see BlobStore.collect.
    const swept = await ctx.blobs.collect(Date.now() - r.gcGraceMs, () => liveBlobs(ctx));
    result.blobsCollected = swept.blobs;
    result.bytesCollected = swept.bytes;
  } catch (e) {
    ctx.metrics.gcRuns.inc({ outcome: 'failed' });
    throw e;
  }
  const m = ctx.metrics;
  m.gcRuns.inc({ outcome: 'done' });
  for (const [kind, field] of EXPIRED_KINDS) m.gcRowsExpired.inc({ kind }, result[field]);
  m.gcBlobs.inc(result.blobsCollected);
  m.gcBytes.inc(result.bytesCollected);
  ctx.log.info('garbage collected', {
    ...result,
    ms: Number((process.hrtime.bigint() - started) / 1_000_000n),
  });
  return result;
}

/**
 * Every blob a row names. A report's row names the manifest blobs its analysis input names
 * (`manifest_blobs`, docs/server.md#stored-manifests-and-analysis-inputs): an expired
 * upload's manifest row goes, but a report made from it still serves its input from that
 * blob; the row scan sees them, so no input blob is read. A row an older server inserted
 * without them (replicas upgraded one at a time) has its input read once and the row filled.
 */
async function liveBlobs(ctx: GcContext): Promise<Set<string>> {
  for (const { id, input_blob } of await ctx.store.retention.unfilledReports())
    await ctx.store.retention.setManifestBlobs(
      id,
      reportManifestBlobsJson(ctx.blobs.path(input_blob), input_blob),
    );
  return ctx.store.retention.liveBlobs();
}

const iso = (ms: number): string => new Date(ms).toISOString();
