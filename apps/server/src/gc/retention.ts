/**
 * Retention settings (docs/server.md#retention): how long unnamed reports and uploads are
 * kept, how often the garbage collector runs, and the grace period that protects a blob
 * between its write and the row that will name it.
 */

export interface RetentionConfig {
  /** Unnamed reports older than this are deleted, ms; null: reports are kept (the default). */
  reportTtlMs: number | null;
  /**
   * Uploads older than this are deleted, ms (images whose scan ended, uploaded manifests no
   * image names, mount configurations, residency inputs); null: kept (the default).
   */
  uploadTtlMs: number | null;
  /** Interval of the periodic collection, ms; 0: no periodic collection. Default 1 hour. */
  gcIntervalMs: number;
  /**
   * A blob no row names is removed only when it was last written longer ago than this, ms
   * (default 1 hour): the time a writer has between storing a blob and committing the row
   * that names it (docs/server.md#garbage-collection).
   */
  gcGraceMs: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** Default interval of the periodic collection (SHAREMAP_GC_INTERVAL_MINUTES). */
export const DEFAULT_GC_INTERVAL_MINUTES = 60;
/** Default grace period of unnamed blobs (SHAREMAP_GC_GRACE_MINUTES). */
export const DEFAULT_GC_GRACE_MINUTES = 60;
/**
 * Largest TTL, interval and grace accepted from the environment: 100 years in days, and a
 * setTimeout delay must stay below 2^31 ms (about 24.8 days) for the interval.
 */
export const MAX_TTL_DAYS = 36_500;
export const MAX_GC_INTERVAL_MINUTES = 35_000;
export const MAX_GC_GRACE_MINUTES = 525_600;

export const DEFAULT_RETENTION: RetentionConfig = {
  reportTtlMs: null,
  uploadTtlMs: null,
  gcIntervalMs: DEFAULT_GC_INTERVAL_MINUTES * MINUTE_MS,
  gcGraceMs: DEFAULT_GC_GRACE_MINUTES * MINUTE_MS,
};

/** An integer setting from the environment in [min, max], or undefined when unset. */
function integer(
  env: Record<string, string | undefined>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new RangeError(`${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * The retention settings the environment sets: SHAREMAP_REPORT_TTL_DAYS and
 * SHAREMAP_UPLOAD_TTL_DAYS (0: keep), SHAREMAP_GC_INTERVAL_MINUTES (0: off),
 * SHAREMAP_GC_GRACE_MINUTES (at least 1: a grace of 0 would let the collector remove a blob
 * that a scan or an analysis has just stored and is about to name). Throws a RangeError
 * naming the variable for a value out of range.
 */
export function retentionFromEnv(env: Record<string, string | undefined>): Partial<RetentionConfig> {
  const out: Partial<RetentionConfig> = {};
  const reportDays = integer(env, 'SHAREMAP_REPORT_TTL_DAYS', 0, MAX_TTL_DAYS);
  if (reportDays !== undefined) out.reportTtlMs = reportDays === 0 ? null : reportDays * DAY_MS;
  const uploadDays = integer(env, 'SHAREMAP_UPLOAD_TTL_DAYS', 0, MAX_TTL_DAYS);
  if (uploadDays !== undefined) out.uploadTtlMs = uploadDays === 0 ? null : uploadDays * DAY_MS;
  const interval = integer(env, 'SHAREMAP_GC_INTERVAL_MINUTES', 0, MAX_GC_INTERVAL_MINUTES);
  if (interval !== undefined) out.gcIntervalMs = interval * MINUTE_MS;
  const grace = integer(env, 'SHAREMAP_GC_GRACE_MINUTES', 1, MAX_GC_GRACE_MINUTES);
  if (grace !== undefined) out.gcGraceMs = grace * MINUTE_MS;
  return out;
}

/** The defaults with the environment's settings on top (retentionFromEnv). */
export function resolveRetention(env: Record<string, string | undefined> = {}): RetentionConfig {
  return { ...DEFAULT_RETENTION, ...retentionFromEnv(env) };
}
