/**
 * The scan queue in PostgreSQL, for a server (or several replicas) on PostgreSQL: pg-boss
 * (MIT) keeps one job per queued scan in its own schema; every replica runs
 * `maxConcurrentScans` pg-boss workers, each fetching one job at a time with
 * `FOR UPDATE SKIP LOCKED`, so any replica takes any job and no job runs twice at once. A
 * taken job holds a lease (`jobLeaseMs`, pg-boss's `expireInSeconds`): a replica that dies
 * leaves its job active, pg-boss's maintenance fails it once the lease has expired and queues
 * a retry, which another replica takes. Why pg-boss and not graphile-worker:
 * docs/server.md#several-replicas.
 */
import type pg from 'pg';
import PgBoss from 'pg-boss';
import { MAX_JOB_LEASE_MS } from '../limits.js';
import type { Logger } from '../log.js';
import { MIGRATION_LOCK_KEY } from '../storage/pg.js';
import type { ImageRow } from '../storage/store/repos.js';
import { leaseCeilingMs, PoolBusyError, TaskError } from './pool.js';
import type { RunScan, ScanQueue } from './queue.js';
import type { AnalyzeResult, AnalyzeTask } from './tasks.js';

/** The pg-boss queue of image scans. */
export const SCAN_QUEUE = 'sharemap-scan';

/** The pg-boss queue of analyses (report creation). */
export const ANALYSIS_QUEUE = 'sharemap-analyze';

/**
 * Attempts of an analysis job after its first: only a replica that died (or stopped) while
 * running it fails the job; an analysis that refuses its input, runs out of time or memory
 * completes the job with that error, which the requesting replica answers with.
 */
export const ANALYSIS_JOB_RETRY_LIMIT = 1;

/**
 * How often the requesting replica reads the state of its analysis job. An analysis this
 * replica ran itself answers at once, without waiting for this read (runAnalysis).
 */
export const ANALYSIS_POLL_MS = 250;

/**
 * Key of the advisory lock held while pg-boss installs or migrates its schema and the queues
 * are created: replicas starting together then find it installed, instead of racing through
 * pg-boss's own install (whose loser ends with an error in a shared transaction).
 */
export const QUEUE_INSTALL_LOCK_KEY = MIGRATION_LOCK_KEY + 1n;

/** pg-boss's schema in the server's database (created and migrated by pg-boss at start). */
export const PG_BOSS_SCHEMA = 'pgboss';

/** Connections of the queue's own pool (pg-boss's), beside the store's PG_POOL_SIZE. */
export const PG_BOSS_POOL_SIZE = 4;

/**
 * Attempts of a scan job after its first (a replica killed mid-scan, a shutdown that ended it,
 * a database error while recording). A scan that rejects the image is not a failed job: it
 * records the image as failed and completes.
 */
export const SCAN_JOB_RETRY_LIMIT = 5;

/** Seconds before a failed job is offered again. */
export const SCAN_JOB_RETRY_DELAY_S = 1;

/**
 * How often an idle pg-boss worker looks for a job (pg-boss's minimum is 0.5 s). A job queued
 * on this replica, or one of its jobs ending, wakes its workers at once (notifyWorker), so a
 * backlog is taken job after job without waiting for a poll.
 */
export const QUEUE_POLL_INTERVAL_S = 1;

/** How often the queue's size (maxQueuedScans, metrics) is read from the database. */
export const QUEUE_SIZE_REFRESH_MS = 2000;

/**
 * How often pg-boss's maintenance fails jobs whose lease expired: a quarter of the lease,
 * 1 s to 60 s, so a dead replica's job is offered again within 1.25 leases (plus a poll).
 */
export function expiryCheckSeconds(leaseMs: number): number {
  return Math.max(1, Math.min(60, Math.floor(leaseMs / 4000)));
}

interface ScanJobData {
  imageId: string;
}

interface AnalysisJobData {
  task: AnalyzeTask;
  /** CPU budget of the analysis (analysisTimeoutMs, pool.ts). */
  timeoutMs: number;
  /** Its wall-clock ceiling: within the job's lease, so a live replica's run never outlasts it. */
  wallTimeoutMs?: number;
}

/** What an analysis job completes with: the result, or the error the analysis ended with. */
type AnalysisOutput = { result: AnalyzeResult } | { error: { name: string; code?: string; message: string } };

export interface PgScanQueueOptions {
  url: string;
  /** The store's pool (the install lock is taken on one of its connections). */
  pool: pg.Pool;
  /** pg-boss workers of this replica (maxConcurrentScans). */
  concurrency: number;
  leaseMs: number;
  run: RunScan;
  /** The image's row, read when a job is taken. */
  getRow: (id: string) => Promise<ImageRow | undefined>;
  /** pg-boss workers of analyses on this replica (the analysis pool's size). */
  analysisConcurrency: number;
  /** Run an analysis in this replica's pool (its dataDir is this replica's). */
  analyze: (task: AnalyzeTask, timeoutMs: number, wallTimeoutMs?: number) => Promise<AnalyzeResult>;
  log: Logger;
  /** Seconds between an idle worker's looks for a job; QUEUE_POLL_INTERVAL_S unless a test sets it. */
  pollIntervalS?: number;
  /** Milliseconds between runAnalysis's reads of its job; ANALYSIS_POLL_MS unless a test sets it. */
  analysisPollMs?: number;
}

export class PgScanQueue implements ScanQueue {
  readonly kind = 'postgres';
  private readonly boss: PgBoss;
  private readonly workers: string[] = [];
  /** The pg-boss workers of each queue, woken when a job of that queue is queued or ends here. */
  private readonly workersOf = new Map<string, string[]>();
  /** Analyses this replica waits for (runAnalysis), by job id: told their output if it runs here. */
  private readonly awaited = new Map<string, (out: AnalysisOutput) => void>();
  /** Images whose job this replica runs now. */
  private readonly mine = new Set<string>();
  private size = 0;
  private sizeTimer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(private readonly o: PgScanQueueOptions) {
    if (o.leaseMs > MAX_JOB_LEASE_MS)
      throw new RangeError(`SHAREMAP_JOB_LEASE_MS: at most ${MAX_JOB_LEASE_MS} (23 hours), got ${o.leaseMs}`);
    this.boss = new PgBoss({
      connectionString: o.url,
      schema: PG_BOSS_SCHEMA,
      max: PG_BOSS_POOL_SIZE,
      application_name: 'sharemap-queue',
      maintenanceIntervalSeconds: expiryCheckSeconds(o.leaseMs),
    });
    // Without a listener an 'error' event would end the process; pg-boss retries on its own.
    this.boss.on('error', (e: Error) => o.log.warn('job queue error', { error: e.message }));
  }

  async start(): Promise<void> {
    // One replica at a time installs pg-boss's schema; creating an existing queue does nothing.
    const lock = await this.o.pool.connect();
    try {
      await lock.query('SELECT pg_advisory_lock($1)', [QUEUE_INSTALL_LOCK_KEY.toString()]);
      await this.boss.start();
      this.started = true;
      await this.boss.createQueue(SCAN_QUEUE, { name: SCAN_QUEUE, policy: 'standard' });
      await this.boss.createQueue(ANALYSIS_QUEUE, { name: ANALYSIS_QUEUE, policy: 'standard' });
    } finally {
      await lock
        .query('SELECT pg_advisory_unlock($1)', [QUEUE_INSTALL_LOCK_KEY.toString()])
        .catch(() => undefined);
      lock.release();
    }
    await this.addWorkers<ScanJobData>(SCAN_QUEUE, this.o.concurrency, (job) => this.take(job));
    await this.addWorkers<AnalysisJobData>(ANALYSIS_QUEUE, this.o.analysisConcurrency, (job) =>
      this.analyzeJob(job),
    );
    await this.refreshSize();
    this.sizeTimer = setInterval(() => void this.refreshSize(), QUEUE_SIZE_REFRESH_MS);
    this.sizeTimer.unref();
  }

  /** `n` pg-boss workers of a queue, each taking one job at a time. */
  private async addWorkers<T extends object>(
    queue: string,
    n: number,
    handle: (job: PgBoss.Job<T>) => Promise<unknown>,
  ): Promise<void> {
    const ids = this.workersOf.get(queue) ?? [];
    this.workersOf.set(queue, ids);
    for (let i = 0; i < n; i++) {
      const id = await this.boss.work<T>(
        queue,
        { batchSize: 1, pollingIntervalSeconds: this.o.pollIntervalS ?? QUEUE_POLL_INTERVAL_S },
        async ([job]) => {
          try {
            return await handle(job!);
          } finally {
            // The worker that ran it looks for the next job now, not after a poll interval.
            this.wake(queue);
          }
        },
      );
      this.workers.push(id);
      ids.push(id);
    }
  }

  /** Wakes this replica's idle workers of `queue`: each looks for a job now. */
  private wake(queue: string): void {
    for (const w of this.workersOf.get(queue) ?? []) this.boss.notifyWorker(w);
  }

  /** A job this replica took: the scan runs here; its rejection fails the job (retried). */
  private async take(job: PgBoss.Job<ScanJobData>): Promise<void> {
    const id = job.data.imageId;
    const row = await this.o.getRow(id);
    // Recorded meanwhile (a retry of a job whose result another run recorded), or deleted.
    if (!row || row.status === 'ready' || row.status === 'failed') return;
    this.mine.add(id);
    this.o.log.info('scan job taken', { imageId: id, jobId: job.id });
    try {
      await this.o.run(row);
    } finally {
      this.mine.delete(id);
    }
  }

  /** An analysis job this replica took; its output goes to the requesting replica. */
  private async analyzeJob(job: PgBoss.Job<AnalysisJobData>): Promise<AnalysisOutput> {
    this.o.log.info('analysis job taken', { jobId: job.id });
    let out: AnalysisOutput;
    try {
      out = { result: await this.o.analyze(job.data.task, job.data.timeoutMs, job.data.wallTimeoutMs) };
    } catch (e) {
      // Shutdown: the job fails and another replica runs it.
      if (e instanceof TaskError && e.code === 'shutdown') throw e;
      if (e instanceof TaskError) out = { error: { name: 'TaskError', code: e.code, message: e.message } };
      else if (e instanceof PoolBusyError) out = { error: { name: 'PoolBusyError', message: e.message } };
      else throw e;
    }
    // Requested on this replica: its runAnalysis answers now instead of at its next read.
    this.awaited.get(job.id)?.(out);
    return out;
  }

  /**
   * Report creation's analysis on whichever replica takes the job. Resolves with its result;
   * rejects with the TaskError or PoolBusyError it ended with, with TaskError 'timeout' when
   * no replica finished it in time, or 'worker-failed' when every attempt died.
   */
  async runAnalysis(task: AnalyzeTask, timeoutMs: number): Promise<AnalyzeResult> {
    // A running analysis may take timeoutMs; the lease must not end it sooner.
    const leaseMs = Math.min(MAX_JOB_LEASE_MS, Math.max(this.o.leaseMs, timeoutMs + 60_000));
    const wallTimeoutMs = leaseCeilingMs(timeoutMs, leaseMs);
    const job = { task, timeoutMs, wallTimeoutMs } satisfies AnalysisJobData;
    const id = await this.boss.send(ANALYSIS_QUEUE, job, {
      retryLimit: ANALYSIS_JOB_RETRY_LIMIT,
      retryDelay: SCAN_JOB_RETRY_DELAY_S,
      expireInSeconds: Math.ceil(leaseMs / 1000),
    });
    if (!id) throw new Error('the job queue did not take the analysis');
    // Its output when a worker of this replica runs it (analyzeJob); otherwise, or if the job
    // was taken before this line, the reads of its state below see it completed.
    let local: AnalysisOutput | undefined;
    let wakeWait = (): void => undefined;
    this.awaited.set(id, (out) => {
      local = out;
      wakeWait();
    });
    this.wake(ANALYSIS_QUEUE);
    try {
      // Waiting for another worker, then the analysis, then (if that replica died) one retry.
      const deadline = Date.now() + wallTimeoutMs + (ANALYSIS_JOB_RETRY_LIMIT + 1) * leaseMs;
      for (;;) {
        if (local) return analysisResult(local);
        const job = await this.boss.getJobById<AnalysisJobData>(ANALYSIS_QUEUE, id, { includeArchive: true });
        const state = job?.state;
        if (local) return analysisResult(local);
        if (state === 'completed') return analysisResult(job!.output as AnalysisOutput);
        if (!job || state === 'failed' || state === 'cancelled')
          throw new TaskError('worker-failed', 'the analysis failed on every replica that ran it');
        if (Date.now() > deadline) {
          await this.boss.cancel(ANALYSIS_QUEUE, id).catch(() => undefined);
          throw new TaskError('timeout', `the analysis did not finish within ${timeoutMs} ms`);
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.o.analysisPollMs ?? ANALYSIS_POLL_MS);
          wakeWait = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeWait = () => undefined;
      }
    } finally {
      this.awaited.delete(id);
    }
  }

  async enqueue(row: ImageRow): Promise<void> {
    await this.boss.send(SCAN_QUEUE, { imageId: row.id } satisfies ScanJobData, {
      retryLimit: SCAN_JOB_RETRY_LIMIT,
      retryDelay: SCAN_JOB_RETRY_DELAY_S,
      expireInSeconds: Math.max(1, Math.ceil(this.o.leaseMs / 1000)),
    });
    this.size++;
    // An idle worker of this replica fetches it now instead of at its next poll.
    this.wake(SCAN_QUEUE);
  }

  /** Pending images without a job that is waiting, to be retried or running (pg-boss's job table). */
  async toResume(pending: readonly string[]): Promise<readonly string[]> {
    if (pending.length === 0) return [];
    const { rows } = await this.boss
      .getDb()
      .executeSql(
        `SELECT DISTINCT data->>'imageId' AS id FROM ${PG_BOSS_SCHEMA}.job WHERE name = $1 AND state < 'completed'`,
        [SCAN_QUEUE],
      );
    const queued = new Set((rows as { id: string }[]).map((r) => r.id));
    return pending.filter((id) => !queued.has(id));
  }

  private async refreshSize(): Promise<void> {
    try {
      this.size = await this.boss.getQueueSize(SCAN_QUEUE);
    } catch (e) {
      this.o.log.warn('job queue: cannot read its size', { error: (e as Error).message });
    }
  }

  waiting(): number {
    return this.size;
  }

  running(): string[] {
    return [...this.mine];
  }

  async stopTaking(): Promise<void> {
    this.workersOf.clear();
    const workers = this.workers.splice(0);
    for (const id of workers) await this.boss.offWork({ id });
  }

  /**
   * The worker pool is closed: the scans it ended have rejected and their jobs are failed,
   * which queues their retries for the other replicas. A job whose failure is not written (the
   * database gone) comes back when its lease expires.
   */
  async close(): Promise<void> {
    clearInterval(this.sizeTimer);
    if (!this.started) return;
    await this.stopTaking();
    await this.boss.stop({ graceful: true, timeout: 5000, close: true });
  }
}

/** The result an analysis job completed with, or the error it ended with, thrown. */
function analysisResult(out: AnalysisOutput): AnalyzeResult {
  if ('result' in out) return out.result;
  if (out.error.name === 'PoolBusyError') throw new PoolBusyError(out.error.message);
  throw new TaskError(out.error.code ?? 'worker-failed', out.error.message);
}
