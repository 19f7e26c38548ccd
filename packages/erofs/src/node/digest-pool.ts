/**
 * Content digests on worker threads (docs/reader.md#content-digests-on-worker-threads): a
 * small pool of threads that each open the image file themselves and hash the content of the
 * files they are given by nid, so that reading, decompressing and hashing file data run on
 * other cores while the scan's thread walks the metadata and writes records. Node only; the
 * browser scan hashes in its own (worker) thread.
 */
import { channel } from 'node:diagnostics_channel';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Lz4DecoderKind } from '../decompress/index.js';
import type { Inode } from '../disk/inode.js';
import { ErofsError, type ErofsErrorCode } from '../errors.js';
import type { OpenImageOptions } from '../image.js';
import type { ContentDigester, DigestTarget } from '../manifest-scan.js';

/** Default number of digest threads: one fewer than the cores available, at most this many. */
export const MAX_DIGEST_THREADS = 4;
/** Files sent to a thread in one message: one message per file cost more than hashing a small file. */
export const DIGEST_BATCH_FILES = 64;
/** ...or fewer files when their content adds up to this many bytes (keeps the threads evenly fed). */
export const DIGEST_BATCH_BYTES = 8 << 20;
/** Block cache of a digest thread (it reads an inode and an inline tail per file, no directories). */
export const DIGEST_CACHE_BYTES = 1 << 20;
/**
 * Files of at most this many bytes are hashed by the scan's own thread: sending one to a
 * digest thread and its digest back costs more than hashing it (1M tiny files: +50 % CPU).
 */
export const DIGEST_IN_THREAD_BYTES = 4096;
/** Records a scan holds while their digests are computed (ScanOptions.digester). */
export const DIGEST_MAX_PENDING = 4096;

/**
 * Digest threads by default: one per available core beside the one the walking thread keeps
 * busy, at most MAX_DIGEST_THREADS; 0 (hash in the walking thread) on one core. A thread more
 * than the cores costs its start (~0.2 s of CPU, 25-35 MB) and gains nothing: on 2 cores, 2
 * threads took 0.3-0.5 s more CPU than 1 for the same wall time (docs/benchmarks.md#verify-plain-one-block-files-in-the-walk-one-digest-thread-per-spare-core-2026-12-06).
 */
export function defaultDigestThreads(cores = availableParallelism()): number {
  return Math.max(0, Math.min(MAX_DIGEST_THREADS, cores - 1));
}

/** What a digest thread is started with (structured-clonable). */
export interface DigestWorkerData {
  path: string;
  devices: string[];
  limits: OpenImageOptions['limits'];
  /**
   * The LZ4 decoder the thread uses, applied as it starts: the starting thread's
   * (getLz4Decoder()), so a scan decodes alike on every thread. Unset: the default (wasm).
   */
  lz4Decoder?: Lz4DecoderKind;
}

/**
 * Name of the diagnostics channel (node:diagnostics_channel) on which every DigestPool
 * announces itself as it starts its threads, with a DigestPoolStart: how a caller or a test
 * sees how many digest threads a scan really used (docs/reader.md#content-digests-on-worker-threads).
 * Nothing is published while the channel has no subscriber.
 */
export const DIGEST_POOL_CHANNEL = 'sharemap:digest-pool';

/** The message of DIGEST_POOL_CHANNEL. */
export interface DigestPoolStart {
  /** The image file the threads open. */
  path: string;
  /** Threads started. */
  threads: number;
  /** The LZ4 decoder they are given (DigestWorkerData.lz4Decoder). */
  lz4Decoder: Lz4DecoderKind | undefined;
}

/** What a digest thread reports once it has started (DigestPool.threadsStarted()). */
export interface DigestThreadStart {
  /** The LZ4 decoder the thread applied. */
  lz4Decoder: Lz4DecoderKind;
}

/** The first message of a digest thread, before any DigestResponse. */
export interface DigestStartedMessage {
  started: DigestThreadStart;
}

const poolChannel = channel(DIGEST_POOL_CHANNEL);

/** A batch of files, by nid (the reader's inode key), and what comes back for each. */
export interface DigestRequest {
  batch: number;
  nids: number[];
}
export type DigestResult =
  string | { code: string; detail: string; nid?: number; offset?: number; message: string };
export interface DigestResponse {
  batch: number;
  results: DigestResult[];
}

/**
 * The worker script beside this module (dist/node/digest-worker.js, or the packed CLI's own
 * copy beside its bundle); undefined when it is not there (e.g. the GitHub Action's single-file
 * bundle): the scan then hashes in its own thread.
 */
export function digestWorkerScript(): URL | undefined {
  const here = import.meta.url;
  const url = here.endsWith('.ts')
    ? new URL('../../dist/node/digest-worker.js', here)
    : new URL('./digest-worker.js', here);
  return existsSync(fileURLToPath(url)) ? url : undefined;
}

interface Thread {
  worker: Worker;
  /** Batches sent and not answered, by batch number. */
  batches: Map<number, DigestTarget[]>;
  /** Bytes of content sent and not answered (to pick the least loaded thread). */
  bytes: number;
  sizes: Map<number, number>;
  dead: boolean;
  /** What the thread reported as it started; undefined until then (or if it died first). */
  started?: DigestThreadStart;
}

/** The error a digest thread's result names, as the reader would have thrown it in this thread. */
function errorOf(r: Exclude<DigestResult, string>): Error {
  if (r.code === 'Error') return new Error(r.message);
  const details: { nid?: number; offset?: number } = {};
  if (r.nid !== undefined) details.nid = r.nid;
  if (r.offset !== undefined) details.offset = r.offset;
  return new ErofsError(r.code as ErofsErrorCode, r.detail, details);
}

/** A pool of digest threads over one image file; close() it when the scan ends (or fails). */
export class DigestPool implements ContentDigester {
  readonly maxPending = DIGEST_MAX_PENDING;
  readonly inThreadBytes = DIGEST_IN_THREAD_BYTES;
  private readonly threads: Thread[] = [];
  private nextBatch = 0;
  private batch: { nids: number[]; targets: DigestTarget[]; bytes: number } = {
    nids: [],
    targets: [],
    bytes: 0,
  };
  private closed = false;
  /** Called whenever a thread reports its start or dies (threadsStarted()). */
  private startWaiters: (() => void)[] = [];

  constructor(script: URL, data: DigestWorkerData, count: number) {
    if (poolChannel.hasSubscribers)
      poolChannel.publish({
        path: data.path,
        threads: count,
        lz4Decoder: data.lz4Decoder,
      } satisfies DigestPoolStart);
    for (let i = 0; i < count; i++) {
      const worker = new Worker(script, { workerData: data });
      const t: Thread = { worker, batches: new Map(), bytes: 0, sizes: new Map(), dead: false };
      worker.on('message', (m: DigestResponse | DigestStartedMessage) => {
        if ('started' in m) this.started(t, m.started);
        else this.answer(t, m);
      });
      worker.on('error', (e) => this.fail(t, e));
      worker.on('exit', (code) => this.fail(t, new Error(`exited with code ${code}`)));
      // An idle pool must not keep the process alive (a scan that fails leaves it to close()).
      worker.unref();
      this.threads.push(t);
    }
  }

  /**
   * What each thread reported as it started, in thread order, once every thread has either
   * reported or ended (a thread that ended first is left out). A diagnostic: the scan never
   * waits for it.
   */
  async threadsStarted(): Promise<DigestThreadStart[]> {
    while (this.threads.some((t) => !t.started && !t.dead))
      await new Promise<void>((resolve) => this.startWaiters.push(resolve));
    return this.threads.flatMap((t) => (t.started ? [t.started] : []));
  }

  private started(t: Thread, s: DigestThreadStart): void {
    t.started = s;
    this.wakeStartWaiters();
  }

  private wakeStartWaiters(): void {
    const waiters = this.startWaiters;
    this.startWaiters = [];
    for (const w of waiters) w();
  }

  digest(ino: Inode, target: DigestTarget): void {
    if (this.closed)
      return target.digested(undefined, new ErofsError('EIO', 'content digest threads are closed'));
    const b = this.batch;
    b.nids.push(ino.nid);
    b.targets.push(target);
    b.bytes += ino.size;
    if (b.nids.length >= DIGEST_BATCH_FILES || b.bytes >= DIGEST_BATCH_BYTES) this.flush();
  }

  flush(): void {
    const b = this.batch;
    if (b.nids.length === 0) return;
    this.batch = { nids: [], targets: [], bytes: 0 };
    let best: Thread | undefined;
    for (const t of this.threads) if (!t.dead && (!best || t.bytes < best.bytes)) best = t;
    if (!best) {
      const e = new ErofsError('EIO', 'no content digest thread is running');
      for (const t of b.targets) t.digested(undefined, e);
      return;
    }
    const id = this.nextBatch++;
    best.batches.set(id, b.targets);
    best.sizes.set(id, b.bytes);
    best.bytes += b.bytes;
    // A thread with work in hand keeps the process alive until it answers.
    if (best.batches.size === 1) best.worker.ref();
    best.worker.postMessage({ batch: id, nids: b.nids } satisfies DigestRequest);
  }

  private answer(t: Thread, m: DigestResponse): void {
    const targets = t.batches.get(m.batch);
    if (!targets) return;
    t.batches.delete(m.batch);
    t.bytes -= t.sizes.get(m.batch) ?? 0;
    t.sizes.delete(m.batch);
    if (t.batches.size === 0) t.worker.unref();
    for (let i = 0; i < targets.length; i++) {
      const r = m.results[i];
      if (typeof r === 'string') targets[i]!.digested(r);
      else
        targets[i]!.digested(
          undefined,
          r ? errorOf(r) : new ErofsError('EIO', 'a content digest is missing'),
        );
    }
    // An idle thread takes whatever the scan has gathered so far rather than wait for a full batch.
    if (t.batches.size === 0) this.flush();
  }

  /** A thread that failed or ended: its outstanding files fail with a typed error. */
  private fail(t: Thread, cause: Error): void {
    if (t.dead) return;
    t.dead = true;
    this.wakeStartWaiters();
    if (this.closed) return;
    const e = new ErofsError('EIO', `content digest thread failed: ${cause.message}`, { cause });
    for (const targets of t.batches.values()) for (const x of targets) x.digested(undefined, e);
    t.batches.clear();
    t.sizes.clear();
    t.bytes = 0;
  }

  /** Stop every thread; files not yet answered fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const e = new ErofsError('EIO', 'content digest threads are closed');
    for (const x of this.batch.targets) x.digested(undefined, e);
    this.batch = { nids: [], targets: [], bytes: 0 };
    for (const t of this.threads) {
      for (const targets of t.batches.values()) for (const x of targets) x.digested(undefined, e);
      t.batches.clear();
    }
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
