/**
 * The queue of image scans, behind one interface the scheduler uses: in-process on SQLite (one
 * server), in PostgreSQL with pg-boss when the server runs on PostgreSQL, where any replica
 * takes any job (pg-queue.ts; docs/server.md#several-replicas).
 */
import type { ImageRow } from '../storage/store/repos.js';
import type { WorkerPool } from './pool.js';

/**
 * Runs the scan of one image (its row as read when the scan was queued or taken) to its end:
 * resolves once its result (ready or failed) is recorded; rejects when shutdown ended it. It
 * hands the task to the worker pool before its first await.
 */
export type RunScan = (row: ImageRow) => Promise<void>;

export interface ScanQueue {
  readonly kind: 'local' | 'postgres';
  /** Start taking jobs. */
  start(): Promise<void>;
  /** Queue the scan of an image whose row says 'queued'. Resolves once queued, not when done. */
  enqueue(row: ImageRow): Promise<void>;
  /**
   * At start, of the images the rows say are pending: those to queue again (the shared queue
   * still holds a job for the others).
   */
  toResume(pending: readonly string[]): Promise<readonly string[]>;
  /** Scans waiting for a worker (the admission limit maxQueuedScans and the metrics read it). */
  waiting(): number;
  /** Images whose scan this process runs now; null: every scanning image is this process's. */
  running(): string[] | null;
  /** Take no more jobs (shutdown begins); running ones go on. */
  stopTaking(): Promise<void>;
  /** After the worker pool is closed: give unfinished jobs back to the queue. */
  close(): Promise<void>;
}

/** One process: a scan is queued in the worker pool itself (it holds the waiting scans). */
export class LocalScanQueue implements ScanQueue {
  readonly kind = 'local';

  constructor(
    private readonly pool: WorkerPool,
    private readonly run: RunScan,
    private readonly onError: (imageId: string, e: unknown) => void,
  ) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** The task is in the pool when this returns (scansWaiting counts it at once). */
  enqueue(row: ImageRow): Promise<void> {
    this.run(row).catch((e: unknown) => this.onError(row.id, e));
    return Promise.resolve();
  }

  toResume(pending: readonly string[]): Promise<readonly string[]> {
    return Promise.resolve(pending);
  }

  waiting(): number {
    return this.pool.queued;
  }

  running(): null {
    return null;
  }

  stopTaking(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
