/**
 * Everything a running server holds: configuration, database, blob folder, worker pools,
 * the scan-progress bus. Opening it migrates the database, sweeps leftovers of an
 * interrupted run and re-queues scans that were pending when the server stopped.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ServerConfig } from './config.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { localImageEvents, PgImageEvents, type ImageEvents } from './scan/events.js';
import { PgScanQueue } from './scan/pg-queue.js';
import { WorkerPool } from './scan/pool.js';
import { LocalScanQueue, type ScanQueue } from './scan/queue.js';
import { runScan } from './scan/scheduler.js';
import type { AnalyzeResult, AnalyzeTask } from './scan/tasks.js';
import { BlobStore } from './storage/blobs.js';
import { DB_FILE, type Db } from './storage/db.js';
import { openStore } from './storage/open.js';
import { collectBlobRefs } from './storage/store/repos.js';
import type { Store } from './storage/store/store.js';

export interface ScanProgress {
  files: number;
  bytesHashed: number;
}

export interface DemoState {
  status: 'disabled' | 'loading' | 'ready' | 'failed';
  id?: string;
  error?: string;
}

export interface AppContext {
  config: ServerConfig;
  /** The data layer (SQLite or PostgreSQL): every query of the server goes through it. */
  store: Store;
  /**
   * The SQLite connection under the store, for synchronous tools and tests; throws on a
   * server that runs on PostgreSQL.
   */
  readonly db: Db;
  blobs: BlobStore;
  log: Logger;
  scans: WorkerPool;
  analyses: WorkerPool;
  /**
   * Report creation's analysis: in this process's `analyses` pool (SQLite), or on whichever
   * replica takes the job from the shared queue (PostgreSQL; scan/pg-queue.ts).
   */
  analyze(task: AnalyzeTask, timeoutMs: number, wallTimeoutMs?: number): Promise<AnalyzeResult>;
  /** CSV/Markdown renders: their own pool, so exports cannot starve report creation. */
  renders: WorkerPool;
  /** Mount-configuration parsing (one at a time, see routes/mount-configs.ts). */
  parses: WorkerPool;
  /** `image:<id>` events: ('progress', ScanProgress) and ('status', status). */
  bus: EventEmitter;
  /** Sends image events to the bus, and to the other replicas on PostgreSQL (scan/events.ts). */
  events: ImageEvents;
  /** Where scans wait: the worker pool (SQLite) or the shared queue (PostgreSQL; scan/queue.ts). */
  scanQueue: ScanQueue;
  progress: Map<string, ScanProgress>;
  /** Scan generation per image: a result counts only if no newer scan was scheduled. */
  scanGen: Map<string, number>;
  domainKey: Uint8Array;
  demo: DemoState;
  /** Prometheus metrics of this server (metrics.ts, GET /metrics). */
  metrics: Metrics;
  startedAt: number;
  /** Set when shutdown begins: /api/ready answers 503, scans still running may finish. */
  stopping: boolean;
  closing: boolean;
  /** Stop the pools (running tasks are ended), hand back unfinished scans, close the database. */
  close(): Promise<void>;
  /**
   * Worker threads of every pool told to terminate that have not ended (blocked in a system
   * call; pool.ts WORKER_EXIT_TIMEOUT_MS). While one exists the process cannot exit normally.
   */
  stuckWorkers(): number;
}

export { DB_FILE };
export const DOMAIN_KEY_FILE = 'domain-hmac.key';

/** The persistent HMAC key of domain redaction (32 random bytes, created once, mode 0600). */
export function loadDomainKey(dataDir: string): Uint8Array {
  const file = path.join(dataDir, DOMAIN_KEY_FILE);
  if (existsSync(file)) {
    const key = readFileSync(file);
    if (key.length >= 32) return new Uint8Array(key);
  }
  const key = randomBytes(32);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, key);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (existsSync(file)) {
    renameSync(tmp, file); // a short key of an older run is replaced
    return new Uint8Array(key);
  }
  // Replicas starting together on a shared folder: link() creates the key only if no other
  // replica did, so all of them use the same key (the first one's).
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as { code?: string }).code !== 'EEXIST') throw e;
    return new Uint8Array(readFileSync(file));
  } finally {
    rmSync(tmp, { force: true });
  }
  return new Uint8Array(key);
}

/** Blobs referenced by any row of a SQLite database (everything else in the blob folder is an orphan). */
export function referencedBlobs(db: Db): Set<string> {
  return collectBlobRefs(
    db.prepare('SELECT sha256, devices FROM images').all() as { sha256: string; devices: string }[],
    db.prepare('SELECT blob FROM manifests').all() as { blob: string }[],
    db.prepare('SELECT blob, input_blob, summary_blob, files_blob, manifest_blobs FROM reports').all() as {
      blob: string;
      input_blob: string;
      summary_blob: string | null;
      files_blob: string | null;
      manifest_blobs: string | null;
    }[],
  );
}

export const LOCK_FILE = 'server.lock';

const SQLITE_MAGIC = 'SQLite format 3\0';

/** Empty, or a SQLite database (the lock); anything else is a pid file of an older server. */
function isLockDatabase(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    return n === 0 || head.toString('latin1', 0, n) === SQLITE_MAGIC.slice(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * One server per data folder: the startup sweep would delete another server's uploads in
 * progress. The lock is an exclusive SQLite lock (a POSIX advisory lock underneath) on
 * `server.lock`, held by an open connection for the server's life: the operating system
 * releases it when the process ends, however it ends (kill -9, a container restart that
 * reuses pid 1), so a crashed server never blocks the next one. A second server gets
 * SQLITE_BUSY at once (busy timeout 0) and refuses to start.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, LOCK_FILE);
  // Servers before this lock wrote their pid as text here; a pid is no proof of life (pid 1
  // in every container), and the file is not a database: replace it.
  if (existsSync(file) && !isLockDatabase(file)) rmSync(file, { force: true });
  const lock = new Database(file, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    lock.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY')
      throw new Error(
        `the data folder ${dataDir} is in use by another sharemap server (${file} is locked by a running process)`,
      );
    throw e;
  }
  // The file stays: removing it would let a third server lock a new file while a second one
  // still holds the old one.
  return () => lock.close();
}

export async function openContext(
  config: ServerConfig,
  log: Logger = createLogger(config.logLevel),
): Promise<AppContext> {
  mkdirSync(config.dataDir, { recursive: true });
  // Replicas share the folder (docs/server.md#several-replicas): no lock of one server.
  const unlock = config.sharedData ? () => undefined : lockDataDir(config.dataDir);
  try {
    return await openLocked(config, log, unlock);
  } catch (e) {
    unlock();
    throw e;
  }
}

async function openLocked(config: ServerConfig, log: Logger, unlock: () => void): Promise<AppContext> {
  const { store, sqlite, pgPool } = await openStore(config, log);
  const blobs = new BlobStore(config.dataDir);
  // A shared folder is not swept: another replica's uploads in progress are in tmp/, and a
  // blob it just wrote has no row yet.
  if (!config.sharedData) {
    let swept;
    try {
      swept = blobs.sweep(await store.blobRefs.all());
    } catch (e) {
      await store.close();
      throw e;
    }
    if (swept.tmp || swept.orphans)
      log.info('removed leftovers of an interrupted run', {
        tempFiles: swept.tmp,
        orphanBlobs: swept.orphans,
      });
  }
  const l = config.limits;
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  const progress = new Map<string, ScanProgress>();
  const ctx: AppContext = {
    config,
    store,
    get db(): Db {
      if (!sqlite)
        throw new Error('this server stores its data in PostgreSQL (SHAREMAP_DATABASE_URL): use ctx.store');
      return sqlite;
    },
    blobs,
    log,
    // Scan and archive-prediction workers are kept for the next task (pool.ts): a thread's
    // start costs more than a small scan (docs/benchmarks.md#scan-workers-where-a-server-scans-time-goes). The other kinds get
    // a fresh one each.
    scans: new WorkerPool(l.maxConcurrentScans, l.maxQueuedScans, l.workerHeapMb, {
      reuse: ['scan', 'predict'],
      lz4Decoder: config.lz4Decoder,
    }),
    analyses: new WorkerPool(Math.max(1, Math.min(2, l.maxConcurrentScans)), 100, l.workerHeapMb),
    analyze: (task, timeoutMs, wallTimeoutMs) =>
      ctx.analyses.run<AnalyzeResult>(
        { ...task, dataDir: config.dataDir },
        wallTimeoutMs !== undefined ? { timeoutMs, wallTimeoutMs } : { timeoutMs },
      ),
    renders: new WorkerPool(l.maxConcurrentRenders, l.maxQueuedRenders, l.workerHeapMb),
    parses: new WorkerPool(1, 64, Math.min(512, l.workerHeapMb)),
    bus,
    events: localImageEvents(bus),
    scanQueue: null as unknown as ScanQueue, // set below: it runs scans with this context
    progress,
    scanGen: new Map(),
    domainKey: loadDomainKey(config.dataDir),
    demo: { status: config.demoDir ? 'loading' : 'disabled' },
    metrics: new Metrics({
      scansRunning: () => ctx.scans.active,
      scansQueued: () => ctx.scanQueue.waiting(),
      analysesRunning: () => ctx.analyses.active,
      analysesQueued: () => ctx.analyses.queued,
    }),
    startedAt: Date.now(),
    stopping: false,
    closing: false,
    async close() {
      if (ctx.closing) return;
      ctx.stopping = true;
      ctx.closing = true;
      ctx.bus.emit('shutdown');
      await ctx.scanQueue.stopTaking();
      // This process's scans (null: every scanning image is this process's).
      const mine = ctx.scanQueue.running();
      await Promise.all([ctx.scans.close(), ctx.analyses.close(), ctx.renders.close(), ctx.parses.close()]);
      await ctx.scanQueue
        .close()
        .catch((e: unknown) => log.error('could not close the job queue', { error: (e as Error).message }));
      await ctx.events.close();
      // Scans the pools ended are handed back: queued again, so the next start (or, with a
      // shared database, another replica) runs them; none is left 'scanning' without a worker.
      try {
        const handedBack = await store.images.handBack(new Date().toISOString(), mine ?? undefined);
        if (handedBack) log.info('scans handed back', { images: handedBack });
      } catch (e) {
        // A database that fails here re-queues them at the next start (resumeScans).
        log.error('could not hand back running scans', { error: (e as Error).message });
      }
      await store
        .close()
        .catch((e: unknown) => log.error('could not close the database', { error: (e as Error).message }));
      unlock();
    },
    stuckWorkers: () =>
      ctx.scans.stuckWorkers + ctx.analyses.stuckWorkers + ctx.renders.stuckWorkers + ctx.parses.stuckWorkers,
  };
  if (pgPool && config.databaseUrl) {
    const events = new PgImageEvents(config.databaseUrl, pgPool, bus, progress, log);
    ctx.events = events;
    const localAnalyze = ctx.analyze;
    const queue = new PgScanQueue({
      url: config.databaseUrl,
      pool: pgPool,
      concurrency: l.maxConcurrentScans,
      leaseMs: l.jobLeaseMs,
      run: (row) => runScan(ctx, row),
      getRow: (id) => store.images.get(id),
      analysisConcurrency: ctx.analyses.concurrency,
      analyze: localAnalyze,
      log,
    });
    ctx.scanQueue = queue;
    ctx.analyze = (task, timeoutMs) => queue.runAnalysis(task, timeoutMs);
    try {
      await events.start();
      await ctx.scanQueue.start();
    } catch (e) {
      await ctx.close();
      throw e;
    }
  } else {
    // Errors are logged where they happen (runScan's record); a scan ended by shutdown is handed back.
    ctx.scanQueue = new LocalScanQueue(
      ctx.scans,
      (row) => runScan(ctx, row),
      () => undefined,
    );
  }
  // Shutdown begins (server.ts): this replica takes no more jobs; running ones may finish.
  bus.once('shutdown', () => void ctx.scanQueue.stopTaking());
  return ctx;
}
