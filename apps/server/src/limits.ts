/**
 * Every bound the server enforces, with its documented default (docs/server.md). Each can be
 * overridden by an environment variable (`SHAREMAP_<NAME>` in upper snake case, e.g.
 * `SHAREMAP_MAX_UPLOAD_BYTES`) or by `createApp({ limits: { ... } })`.
 */
export interface Limits {
  /** Largest image or device upload, bytes (default 4 GiB). */
  maxUploadBytes: number;
  /** Extra devices (blobs, tarballs) per image (default 16). */
  maxDevicesPerImage: number;
  /** Most files (inodes walked) in one scanned image (default 2,000,000). */
  maxFilesPerImage: number;
  /** Scans running at once, each in its own worker thread (default 2). */
  maxConcurrentScans: number;
  /** Scans waiting for a worker; more uploads get 503 (default 1000). */
  maxQueuedScans: number;
  /**
   * CPU budget of one scan, ms (default 10 minutes): CPU time of its worker thread and digest
   * threads from when the scan begins (docs/server.md#time-limits).
   */
  scanTimeoutMs: number;
  /** Heap of one scan or analysis worker, MiB (default 2048). */
  workerHeapMb: number;
  /** JSON request bodies (report creation), bytes (default 1 MiB). */
  maxJsonBodyBytes: number;
  /** Mount configuration text, bytes (default 4 MiB). */
  maxMountConfigBytes: number;
  /** Manifest upload after decompression, bytes (default 1 GiB). */
  maxManifestBytes: number;
  /**
   * Decompressed bytes per compressed byte of a gzip upload, checked past its first MiB
   * (default 200; manifests compress 3-30 times, decompression bombs 1000 times).
   */
  maxDecompressionRatio: number;
  /** Records in an uploaded manifest (default 2,000,000). */
  maxManifestRecords: number;
  /** Images plus manifests in one report (default 64). */
  maxImagesPerReport: number;
  /** Mount configurations in one report (default 32). */
  maxMountConfigsPerReport: number;
  /**
   * File records of all images and manifests of one report (their headers' file_count),
   * checked before the analysis starts, so a report too big to analyse is refused up front
   * with 413 instead of failing after minutes (default 2,000,000: the largest report
   * measured end to end, `pnpm bench server-2m`,
   * docs/benchmarks.md#server-2m-2m-records-end-to-end).
   */
  maxReportRecords: number;
  /**
   * CPU budget of one analysis (report creation), ms (CPU time of its worker thread from when
   * it begins, docs/server.md#time-limits; default 15 minutes: a report of
   * maxReportRecords took 4.6 minutes on a loaded 2-core machine,
   * docs/benchmarks.md#server-2m-2m-records-end-to-end).
   */
  analysisTimeoutMs: number;
  /** Time to receive a request's headers, ms (default 30 s; Node answers 408 beyond). */
  headersTimeoutMs: number;
  /**
   * Window of the body rate check, ms (default 30 s): a request body that delivers fewer than
   * minBodyBytesPerWindow bytes in one window (silent or trickling) gets 408 and is closed.
   */
  bodyTimeoutMs: number;
  /** Bytes a request body must deliver in each bodyTimeoutMs window (default 1024). */
  minBodyBytesPerWindow: number;
  /** Open connections at once; more get 503 and are closed (default 512, below a 1024 fd ulimit). */
  maxConnections: number;
  /**
   * CPU budget of parsing one mount configuration, ms (default 10 s): CPU time of its worker
   * thread from when the parse begins, not the wait or the thread's start
   * (docs/server.md#time-limits).
   */
  mountConfigParseTimeoutMs: number;
  /** CSV/Markdown renders running at once, in their own worker pool (default 1). */
  maxConcurrentRenders: number;
  /** Renders waiting for a worker; more export requests get 503 (default 16). */
  maxQueuedRenders: number;
  /**
   * Graceful shutdown (SIGTERM), ms (default 10 s): requests in flight and running scans may
   * finish within it; scans still running then are ended and handed back (queued again).
   */
  shutdownGraceMs: number;
  /**
   * Lease of a job of the shared queue (PostgreSQL, several replicas), ms (default 11 minutes:
   * longer than scanTimeoutMs, so a live replica's scan never outlasts it). A job whose
   * replica died is run again by another replica once its lease has expired
   * (docs/server.md#several-replicas).
   */
  jobLeaseMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxUploadBytes: 4 * 1024 ** 3,
  maxDevicesPerImage: 16,
  maxFilesPerImage: 2_000_000,
  maxConcurrentScans: 2,
  maxQueuedScans: 1000,
  scanTimeoutMs: 10 * 60_000,
  workerHeapMb: 2048,
  maxJsonBodyBytes: 1024 * 1024,
  maxMountConfigBytes: 4 * 1024 * 1024,
  maxManifestBytes: 1024 ** 3,
  maxDecompressionRatio: 200,
  maxManifestRecords: 2_000_000,
  maxImagesPerReport: 64,
  maxMountConfigsPerReport: 32,
  maxReportRecords: 2_000_000,
  analysisTimeoutMs: 15 * 60_000,
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 30_000,
  minBodyBytesPerWindow: 1024,
  maxConnections: 512,
  mountConfigParseTimeoutMs: 10_000,
  maxConcurrentRenders: 1,
  maxQueuedRenders: 16,
  shutdownGraceMs: 10_000,
  jobLeaseMs: 11 * 60_000,
});

/** The longest jobLeaseMs: pg-boss's job expiration must stay below 24 hours. */
export const MAX_JOB_LEASE_MS = 23 * 3600_000;

/** `maxUploadBytes` -> `SHAREMAP_MAX_UPLOAD_BYTES`. */
export function limitEnvName(key: keyof Limits): string {
  return 'SHAREMAP_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

/** Defaults overridden by `SHAREMAP_*` environment variables, then by `overrides`. */
export function resolveLimits(
  overrides: Partial<Limits> = {},
  env: Record<string, string | undefined> = {},
): Limits {
  const out: Limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const text = env[limitEnvName(key)];
    if (text !== undefined && text !== '') {
      const n = Number(text);
      if (!Number.isSafeInteger(n) || n < 1)
        throw new RangeError(
          `${limitEnvName(key)}: expected a positive integer, got ${JSON.stringify(text)}`,
        );
      out[key] = n;
    }
    const o = overrides[key];
    if (o !== undefined) {
      if (!Number.isSafeInteger(o) || o < 1)
        throw new RangeError(`limit ${key}: expected a positive integer`);
      out[key] = o;
    }
  }
  return out;
}
