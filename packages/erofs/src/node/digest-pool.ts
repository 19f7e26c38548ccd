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
import type { ContentDigester, DigestJob, DigestTarget } from '../manifest-scan.js';
import { awaitWorkerEnd, watchWorkerExit } from './worker-end.js';

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

/**
 * The first message to a thread started ahead of its pool (prestartDigestThreads), which
 * waits for it with its modules loaded: what a pool's threads are otherwise started with.
 */
export interface DigestInitMessage {
  init: DigestWorkerData;
}

/**
 * Tells a digest thread (of a pool, or started ahead and not taken) that nothing more comes:
 * after the batches before it, it closes its image and its port and ends on its own
 * (docs/development.md#how-worker-threads-end).
 */
export interface DigestEndMessage {
  end: true;
}

/** What a digest thread reports once it has started (DigestPool.threadsStarted()). */
export interface DigestThreadStart {
  /** The LZ4 decoder the thread applied. */
  lz4Decoder: Lz4DecoderKind;
}

/** The first message of a digest thread, before any DigestResponse. */
export interface DigestStartedMessage {
  started: DigestThreadStart;
  /** The thread's id in the OS (Linux: /proc/thread-self), for DIGEST_THREAD_CHANNEL. */
  tid?: number;
}

/**
 * Name of the diagnostics channel on which a DigestPool announces each of its threads as it
 * reports its start, with a DigestThreadAnnounce: how a caller that bounds a scan by CPU time
 * counts the digest threads' time too (the server's worker pool, docs/server.md#time-limits).
 * Published on the thread that runs the scan; nothing while the channel has no subscriber.
 */
export const DIGEST_THREAD_CHANNEL = 'sharemap:digest-thread';

/** The message of DIGEST_THREAD_CHANNEL. */
export interface DigestThreadAnnounce {
  /** The digest thread's id in the OS (Linux), whose CPU time /proc/self/task/<tid>/stat reads. */
  tid: number;
}

const poolChannel = channel(DIGEST_POOL_CHANNEL);
const threadChannel = channel(DIGEST_THREAD_CHANNEL);

/**
 * A batch of files, by nid (the reader's inode key). What comes back for each travels mostly in
 * `shared` (a SharedArrayBuffer the batch owns): one claim word per file (Int32, BATCH_CLAIMS),
 * then 32 bytes of SHA-256 per file (at claimsBytes(n)). The claim word decides who hashes a
 * file and tells the scan's thread, without a message, when its digest is there:
 * CLAIM_FREE -> CLAIM_THREAD as a digest thread starts it, then CLAIM_DONE (digest written) or
 * CLAIM_FAILED (its error in the DigestResponse); CLAIM_FREE -> CLAIM_SCAN when the scan's own
 * thread takes it back (DigestPool.takeBack, work sharing), so each file is hashed once, by
 * whoever claims it first.
 */
export interface DigestRequest {
  batch: number;
  nids: number[];
  shared: SharedArrayBuffer;
}
/** The claim word of a file nobody has started yet. */
export const CLAIM_FREE = 0;
/** ...of a file a digest thread is hashing. */
export const CLAIM_THREAD = 1;
/** ...of a file the scan's own thread took back (DigestPool.takeBack). */
export const CLAIM_SCAN = 2;
/** ...of a file whose digest a thread wrote to the batch's shared memory. */
export const CLAIM_DONE = 3;
/** ...of a file a thread could not hash: the DigestResponse carries the error. */
export const CLAIM_FAILED = 4;
/** ...of a file whose digest the pool has passed on (set by the scan's thread only). */
const CLAIM_DELIVERED = 5;

/** Bytes of a batch's claim words, where its digests start (8-byte aligned). */
export function claimsBytes(files: number): number {
  return (4 * files + 7) & ~7;
}

/** The reader's error for a file a thread could not hash (CLAIM_FAILED), or null. */
export type DigestResult = null | {
  code: string;
  detail: string;
  nid?: number;
  offset?: number;
  message: string;
};
/** A thread's answer once every file of a batch is done, failed or taken back. */
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

/** A batch sent to a thread and not answered yet. */
interface SentBatch {
  inodes: Inode[];
  targets: DigestTarget[];
  claims: Int32Array;
  digests: Buffer;
  /** Files before this one are passed on or taken back (the thread works through them in order). */
  delivered: number;
  /** Files [0, stealFrom) may still be free to take back; those after are taken or started. */
  stealFrom: number;
}

interface Thread {
  worker: Worker;
  /** Batches sent and not answered, by batch number. */
  batches: Map<number, SentBatch>;
  /** Bytes of content sent and not answered (to pick the least loaded thread). */
  bytes: number;
  sizes: Map<number, number>;
  dead: boolean;
  /** What the thread reported as it started; undefined until then (or if it died first). */
  started?: DigestThreadStart;
}

/** The error a digest thread's result names, as the reader would have thrown it in this thread. */
function errorOf(r: Exclude<DigestResult, null>): Error {
  if (r.code === 'Error') return new Error(r.message);
  const details: { nid?: number; offset?: number } = {};
  if (r.nid !== undefined) details.nid = r.nid;
  if (r.offset !== undefined) details.offset = r.offset;
  return new ErofsError(r.code as ErofsErrorCode, r.detail, details);
}

/** A thread started by prestartDigestThreads that no pool has taken yet. */
interface SpareThread {
  worker: Worker;
  /** The script it runs (a pool takes only threads of its own script). */
  script: string;
  /** It failed or ended before a pool took it. */
  dead: boolean;
  /** Its 'error' and 'exit' listener until a pool takes it (then removed, and only it). */
  ended: () => void;
}
const spareThreads: SpareThread[] = [];
let releaseOnExit = false;

/**
 * Start `count` digest threads now, before any pool exists, for the next DigestPools of this
 * process to take (docs/reader.md#digest-threads-started-ahead): a thread spends its first
 * ~0.1 s of CPU loading its modules, which `sharemap scan --hash` otherwise pays once the walk
 * has begun, on the core the thread is to hash on; started as the command starts, that load
 * runs beside the command's own module loading, on a core that is idle then. The threads wait
 * for their image (DigestInitMessage) and keep no process alive. Threads no pool takes are
 * ended by releaseSpareDigestThreads(), or with the process. `script` is the pool's (the
 * default). Returns how many were started (none without the worker script, see
 * digestWorkerScript()).
 */
export function prestartDigestThreads(
  count = defaultDigestThreads(),
  script: URL | undefined = digestWorkerScript(),
): number {
  if (!script) return 0;
  // Threads no pool took by the time the process's loop empties are told to end then, so that
  // Node's exit does not stop them (docs/development.md#how-worker-threads-end).
  if (count > 0 && !releaseOnExit) {
    releaseOnExit = true;
    process.once('beforeExit', () => {
      releaseOnExit = false;
      void releaseSpareDigestThreads();
    });
  }
  for (let i = 0; i < count; i++) {
    const worker = new Worker(script);
    watchWorkerExit(worker);
    // Until a pool takes it, an error or an exit only marks it (the pool then starts a thread
    // of its own); without a listener an 'error' event would end the process.
    const spare: SpareThread = {
      worker,
      script: script.href,
      dead: false,
      ended: () => {
        spare.dead = true;
      },
    };
    worker.on('error', spare.ended);
    worker.on('exit', spare.ended);
    worker.unref();
    spareThreads.push(spare);
  }
  return count;
}

/** Threads prestartDigestThreads() started that no pool has taken (and that have not ended). */
export function spareDigestThreads(): number {
  return spareThreads.filter((s) => !s.dead).length;
}

/**
 * End the threads prestartDigestThreads() started that no pool took (a scan with fewer
 * threads): told so, each ends on its own; resolves once they have.
 */
export async function releaseSpareDigestThreads(): Promise<void> {
  const spares = spareThreads.splice(0);
  await Promise.all(
    spares.map((s) => {
      s.worker.postMessage({ end: true } satisfies DigestEndMessage);
      return awaitWorkerEnd(s.worker);
    }),
  );
}

/** A spare thread running `script`, given its image for a pool to use; undefined if none. */
function takeSpare(script: URL, data: DigestWorkerData): Worker | undefined {
  for (;;) {
    const i = spareThreads.findIndex((s) => s.script === script.href);
    if (i < 0) return undefined;
    const spare = spareThreads.splice(i, 1)[0]!;
    if (spare.dead) continue;
    // Only its own listener: removeAllListeners('exit') also dropped watchWorkerExit()'s, and
    // the first attempt's awaitWorkerEnd() then ran out its 30 s bound (docs/benchmarks.md, worker-exit2).
    spare.worker.off('error', spare.ended);
    spare.worker.off('exit', spare.ended);
    spare.worker.postMessage({ init: data } satisfies DigestInitMessage);
    return spare.worker;
  }
}

/** A pool of digest threads over one image file; close() it when the scan ends (or fails). */
export class DigestPool implements ContentDigester {
  readonly maxPending = DIGEST_MAX_PENDING;
  readonly inThreadBytes = DIGEST_IN_THREAD_BYTES;
  private readonly threads: Thread[] = [];
  private nextBatch = 0;
  private batch: { inodes: Inode[]; targets: DigestTarget[]; bytes: number } = {
    inodes: [],
    targets: [],
    bytes: 0,
  };
  /** Sent batches not answered yet, oldest first (takeBack looks from the newest). */
  private sent: SentBatch[] = [];
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
      // A thread started ahead (prestartDigestThreads) has its modules loaded already.
      const worker = takeSpare(script, data) ?? new Worker(script, { workerData: data });
      watchWorkerExit(worker);
      const t: Thread = { worker, batches: new Map(), bytes: 0, sizes: new Map(), dead: false };
      worker.on('message', (m: DigestResponse | DigestStartedMessage) => {
        if ('started' in m) {
          this.started(t, m.started);
          if (m.tid !== undefined && threadChannel.hasSubscribers)
            threadChannel.publish({ tid: m.tid } satisfies DigestThreadAnnounce);
        } else this.answer(t, m);
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
    b.inodes.push(ino);
    b.targets.push(target);
    b.bytes += ino.size;
    if (b.inodes.length >= DIGEST_BATCH_FILES || b.bytes >= DIGEST_BATCH_BYTES) this.flush();
  }

  /**
   * A file asked for that no thread has started, for the scan's own thread to hash instead of
   * waiting (ContentDigester.takeBack): the newest first, so the threads, which work from the
   * oldest, and the scan meet in the middle. Undefined when every file is started or done.
   */
  takeBack(): DigestJob | undefined {
    if (this.closed) return undefined;
    const b = this.batch;
    if (b.inodes.length > 0) {
      const ino = b.inodes.pop()!;
      b.bytes -= ino.size;
      return { ino, target: b.targets.pop()! };
    }
    for (let k = this.sent.length - 1; k >= 0; k--) {
      const s = this.sent[k]!;
      while (s.stealFrom > s.delivered) {
        const i = --s.stealFrom;
        const was = Atomics.compareExchange(s.claims, i, CLAIM_FREE, CLAIM_SCAN);
        if (was === CLAIM_FREE) return { ino: s.inodes[i]!, target: s.targets[i]! };
        // A thread works through its batch in order: it has started every file before this one.
        if (was !== CLAIM_SCAN) s.stealFrom = 0;
      }
    }
    return undefined;
  }

  /**
   * Pass on the digests the threads have written so far (ContentDigester.poll): the scan's
   * thread sees them without waiting for a thread's message, which it would only receive once
   * it waits.
   */
  poll(): void {
    for (const s of this.sent) this.deliver(s, false);
  }

  flush(): void {
    const b = this.batch;
    if (b.inodes.length === 0) return;
    this.batch = { inodes: [], targets: [], bytes: 0 };
    let best: Thread | undefined;
    for (const t of this.threads) if (!t.dead && (!best || t.bytes < best.bytes)) best = t;
    if (!best) {
      const e = new ErofsError('EIO', 'no content digest thread is running');
      for (const t of b.targets) t.digested(undefined, e);
      return;
    }
    const id = this.nextBatch++;
    const n = b.inodes.length;
    const shared = new SharedArrayBuffer(claimsBytes(n) + 32 * n);
    const sent: SentBatch = {
      inodes: b.inodes,
      targets: b.targets,
      claims: new Int32Array(shared, 0, n),
      digests: Buffer.from(shared, claimsBytes(n), 32 * n),
      delivered: 0,
      stealFrom: n,
    };
    best.batches.set(id, sent);
    this.sent.push(sent);
    best.sizes.set(id, b.bytes);
    best.bytes += b.bytes;
    // A thread with work in hand keeps the process alive until it answers.
    if (best.batches.size === 1) best.worker.ref();
    const nids = b.inodes.map((ino) => ino.nid);
    best.worker.postMessage({ batch: id, nids, shared } satisfies DigestRequest);
  }

  /**
   * Pass on the digests of batch `s` from its first file not passed on yet: every one with
   * `answer` (the thread's DigestResponse, which carries the errors), else as far as the thread
   * has got.
   */
  private deliver(s: SentBatch, answer: DigestResponse | false): void {
    const n = s.targets.length;
    for (let i = s.delivered; i < n; i++) {
      const c = Atomics.load(s.claims, i);
      if (c === CLAIM_DONE) {
        s.claims[i] = CLAIM_DELIVERED;
        s.targets[i]!.digested(s.digests.toString('hex', 32 * i, 32 * i + 32));
      } else if (c === CLAIM_SCAN || c === CLAIM_DELIVERED) {
        // the scan's thread hashes it itself, or it is passed on already
      } else if (answer) {
        // Failed, or (never, while the thread keeps to the protocol) not done by its answer.
        const r = c === CLAIM_FAILED ? answer.results[i] : null;
        s.claims[i] = CLAIM_DELIVERED;
        s.targets[i]!.digested(
          undefined,
          r ? errorOf(r) : new ErofsError('EIO', 'a content digest is missing'),
        );
      } else {
        // Started, not done (or failed: its error comes with the answer).
        s.delivered = i;
        return;
      }
    }
    s.delivered = n;
  }

  private unsend(s: SentBatch): void {
    const k = this.sent.indexOf(s);
    if (k >= 0) this.sent.splice(k, 1);
  }

  private answer(t: Thread, m: DigestResponse): void {
    const sent = t.batches.get(m.batch);
    if (!sent) return;
    this.unsend(sent);
    t.batches.delete(m.batch);
    t.bytes -= t.sizes.get(m.batch) ?? 0;
    t.sizes.delete(m.batch);
    if (t.batches.size === 0) t.worker.unref();
    this.deliver(sent, m);
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
    for (const s of t.batches.values()) {
      this.unsend(s);
      for (let i = s.delivered; i < s.targets.length; i++) {
        // A digest the thread wrote before it ended still counts; a file the scan's thread took
        // back is that thread's to pass on; the rest are lost with the thread.
        const c = Atomics.exchange(s.claims, i, CLAIM_DELIVERED);
        if (c === CLAIM_DONE) s.targets[i]!.digested(s.digests.toString('hex', 32 * i, 32 * i + 32));
        else if (c !== CLAIM_SCAN && c !== CLAIM_DELIVERED) s.targets[i]!.digested(undefined, e);
      }
    }
    t.batches.clear();
    t.sizes.clear();
    t.bytes = 0;
  }

  /**
   * Stop every thread and wait until they have ended; files not yet answered fail. Files no
   * thread has started are taken from them (as takeBack does), so a thread has at most the
   * file it is hashing left: one that has none (every one, after a scan that finished: its
   * files were hashed or taken back) is told to end and ends on its own; one in the middle of
   * a file (a scan that failed or was stopped) is terminated
   * (docs/development.md#how-worker-threads-end).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const e = new ErofsError('EIO', 'content digest threads are closed');
    for (const x of this.batch.targets) x.digested(undefined, e);
    this.batch = { inodes: [], targets: [], bytes: 0 };
    this.sent = [];
    const busy = new Set<Thread>();
    for (const t of this.threads) {
      for (const s of t.batches.values()) {
        for (let i = 0; i < s.targets.length; i++)
          if (Atomics.compareExchange(s.claims, i, CLAIM_FREE, CLAIM_SCAN) === CLAIM_THREAD) busy.add(t);
        for (const x of s.targets) x.digested(undefined, e);
      }
      t.batches.clear();
    }
    await Promise.all(
      this.threads.map((t) => {
        if (busy.has(t)) return t.worker.terminate();
        if (!t.dead) t.worker.postMessage({ end: true } satisfies DigestEndMessage);
        return awaitWorkerEnd(t.worker);
      }),
    );
  }
}
