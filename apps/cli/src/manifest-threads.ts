/**
 * `sharemap analyze` reads its large manifest inputs on worker threads, one file per thread at
 * a time, while the main thread reads (or scans) the others (docs/cli.md#manifest-threads). A
 * thread parses its file with the same reader as the main thread (manifest-file.ts) and hands
 * the columns over as transferred buffers (`@sharemap/erofs/node` manifestForTransfer); the main
 * thread takes them in input order and interns their strings into the analysis's one
 * StringTable as a sequential read would (manifestFromTransfer), so the manifests, and every
 * report made of them, are the same as when read one after another. A file's error is the
 * one line and exit code the main thread would have given, reported when the main thread
 * reaches that input (so the first bad input in order is the one named); a thread that dies
 * gives one line naming the file it was reading.
 */
import { channel } from 'node:diagnostics_channel';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isGzip, isParquet } from '@sharemap/erofs';
import type { TransferredManifest } from '@sharemap/erofs/node';
import { CliError, inputError, oneLine, type ExitCode } from './errors.js';
import { workerOptions } from './worker-options.js';

/** What the main thread asks a manifest thread: read the file `path` (answer with `id`). */
export interface ManifestReadRequest {
  id: number;
  path: string;
  /**
   * No file follows for this thread: it ends as soon as it has answered, so its heap (the
   * reader's pages and garbage, ~100 MB at a million records) is freed then, not once the
   * main thread, still reading its own input, gets to the answer and stops it
   * (docs/benchmarks.md#parquet-mem-the-handover-released-at-once-2026-12-07).
   */
  last: boolean;
}

/** A manifest thread's answer: the manifest's columns, or the error reading the file gave. */
export type ManifestReadReply =
  | { id: number; manifest: TransferredManifest }
  | { id: number; error: { message: string; exitCode?: ExitCode } };

/**
 * Diagnostics channel (node:diagnostics_channel) on which every file given to a manifest thread
 * is published as `{ path }` (tests check which inputs were read on threads).
 */
export const MANIFEST_THREADS_CHANNEL = 'sharemap:manifest-threads';
const threadChannel = channel(MANIFEST_THREADS_CHANNEL);

/** The most manifest threads started (each holds one manifest's strings while it reads). */
export const MAX_MANIFEST_THREADS = 4;

/**
 * The smallest file read on a thread, by form: below it a thread's start (~0.1 s of CPU) and the
 * handover cost more than reading the file in the main thread (NDJSON text is read at ~100 MB/s
 * a core; docs/benchmarks.md#analyze-threads-2026-12-06). Parquet takes ~17 bytes a record
 * against NDJSON's ~300, so 1 MiB of it is about as many records as 16 MiB of text; a thread
 * hands a Parquet file's strings over as it reads them, never holding them as strings
 * (ManifestStringsHandover), which kept the Parquet pair of `scale-analyze` under 1 GB on two
 * threads (docs/benchmarks.md#parquet-threads-2026-12-06). Gzip files are inflated whole and
 * parsed as strings, so two read at once hold twice that memory: they stay in the main thread
 * by default (Infinity); a thread reads them as well when asked to (the tests).
 */
export const MIN_THREAD_BYTES = { text: 16 << 20, gzip: Infinity, parquet: 1 << 20 };

/** The worker script beside this module (dist/manifest-read-worker.js, or the packed CLI's copy beside its bundle); undefined when it is not there (the GitHub Action's single-file bundle): then every manifest is read in the main thread. */
export function manifestWorkerScript(): URL | undefined {
  const here = import.meta.url;
  const url = here.endsWith('.ts')
    ? new URL('../dist/manifest-read-worker.js', here)
    : new URL('./manifest-read-worker.js', here);
  return existsSync(fileURLToPath(url)) ? url : undefined;
}

/** Environment variable capping the manifest threads: `0` reads every manifest in the main thread. */
export const MANIFEST_THREADS_ENV = 'SHAREMAP_MANIFEST_THREADS';

/**
 * The cores manifestThreadCount plans for: the available ones, or SHAREMAP_MANIFEST_THREADS + 1
 * when that is set (`0`: no thread). A value that is not a count is refused by name (exit 2).
 */
export function manifestThreadsFromEnv(env: Record<string, string | undefined>): number {
  const v = env[MANIFEST_THREADS_ENV];
  if (v === undefined || v === '') return availableParallelism();
  if (!/^\d{1,3}$/.test(v))
    throw inputError(
      `${MANIFEST_THREADS_ENV} must be a count of threads (0 for none), not ${JSON.stringify(v.slice(0, 40))}`,
    );
  return Number(v) + 1;
}

/** Threads for `candidates` files on `cores` cores: one per core beside the main thread's, which reads one of them itself. */
export function manifestThreadCount(candidates: number, cores = availableParallelism()): number {
  return Math.max(0, Math.min(MAX_MANIFEST_THREADS, cores - 1, candidates - 1));
}

/**
 * Whether a manifest file of `size` bytes starting with `head` (inspectInput's file) is large
 * enough for its form to be read on a thread (MIN_THREAD_BYTES).
 */
export function isThreadCandidate(
  file: { size: number; head: Uint8Array },
  minBytes = MIN_THREAD_BYTES,
): boolean {
  const form = isParquet(file.head) ? 'parquet' : isGzip(file.head) ? 'gzip' : 'text';
  return file.size >= minBytes[form];
}

interface Job {
  path: string;
  result: Promise<TransferredManifest>;
  resolve(m: TransferredManifest): void;
  reject(e: Error): void;
  /** Answered by its thread. */
  done: boolean;
  /** Asked for by the main thread (take()). */
  taken: boolean;
}

interface Thread {
  worker: Worker;
  job: Job | null;
  dead: boolean;
}

/**
 * The manifest threads of one analysis over the inputs numbered 0..n-1: `candidates` are the
 * inputs a thread may read (manifest files past MIN_THREAD_BYTES). The main thread calls
 * take(i) for every input in order: a thread's result, or undefined when the main thread is to
 * read input i itself. A thread starts its next file only once its last result has been taken,
 * so at most one manifest per thread waits in memory for the main thread.
 */
export class ManifestThreads {
  private readonly threads: Thread[] = [];
  private readonly jobs = new Map<number, Job>();
  /** Candidates no one has claimed yet, in input order. */
  private readonly queue: number[];
  /** Inputs the main thread reads itself. */
  private readonly mine = new Set<number>();
  private closed = false;

  /**
   * Starts `count` threads on `script`. The first candidate is the main thread's (it reads
   * while the threads start), the threads take the next ones in order.
   */
  constructor(
    private readonly paths: readonly string[],
    candidates: readonly number[],
    script: URL,
    count: number,
  ) {
    this.queue = [...candidates].sort((a, b) => a - b);
    if (this.queue.length > 0) this.mine.add(this.queue.shift()!);
    for (let k = 0; k < count; k++) {
      const t: Thread = { worker: new Worker(script, workerOptions()), job: null, dead: false };
      t.worker.on('message', (reply: ManifestReadReply) => this.answer(t, reply));
      t.worker.on('error', (e) => this.died(t, oneLine(e.message)));
      t.worker.on('exit', (code) => this.died(t, `exited with code ${code}`));
      this.threads.push(t);
      this.pump(t);
    }
  }

  /** Input i's manifest from a thread, or undefined when the main thread reads it itself. */
  take(i: number): Promise<TransferredManifest> | undefined {
    const job = this.jobs.get(i);
    if (!job) {
      const q = this.queue.indexOf(i);
      if (q >= 0) this.queue.splice(q, 1);
      this.mine.add(i);
      return undefined;
    }
    this.jobs.delete(i);
    job.taken = true;
    if (job.done) this.freeThreadOf(job);
    return job.result;
  }

  /** Stops every thread (a result not taken is dropped). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.threads.map((t) => (t.dead ? undefined : t.worker.terminate())));
  }

  /** Gives an idle thread the next unclaimed candidate. */
  private pump(t: Thread): void {
    if (this.closed || t.dead || t.job) return;
    const i = this.queue.shift();
    if (i === undefined) {
      this.retire(t);
      return;
    }
    let resolve!: (m: TransferredManifest) => void;
    let reject!: (e: Error) => void;
    const result = new Promise<TransferredManifest>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Rejections are seen when the main thread takes the input, or never (an earlier input failed).
    result.catch(() => undefined);
    const job: Job = { path: this.paths[i]!, result, resolve, reject, done: false, taken: false };
    this.jobs.set(i, job);
    t.job = job;
    if (threadChannel.hasSubscribers) threadChannel.publish({ path: job.path });
    // The queue never grows: when it is empty now, this thread reads nothing after this file.
    t.worker.postMessage({
      id: i,
      path: job.path,
      last: this.queue.length === 0,
    } satisfies ManifestReadRequest);
  }

  private answer(t: Thread, reply: ManifestReadReply): void {
    const job = t.job;
    if (!job || job.done) return;
    job.done = true;
    if ('manifest' in reply) job.resolve(reply.manifest);
    else {
      const { message, exitCode } = reply.error;
      // What the main thread would have thrown: a CliError, or another error (an unexpected one).
      job.reject(exitCode !== undefined ? new CliError(exitCode, message) : new Error(message));
    }
    if (job.taken) this.freeThreadOf(job);
    else if (this.queue.length === 0) this.retire(t);
  }

  /**
   * Ends a thread that has nothing left to read (its answer is in this thread by now): its heap,
   * the strings of the manifest it read, goes at once, not at close() after every input is read.
   */
  private retire(t: Thread): void {
    if (t.dead) return;
    t.dead = true;
    void t.worker.terminate();
  }

  private freeThreadOf(job: Job): void {
    const t = this.threads.find((x) => x.job === job);
    if (!t) return;
    t.job = null;
    this.pump(t);
  }

  /** A thread that failed or ended: the file it was reading fails with one line; the others go to the other threads or the main thread. */
  private died(t: Thread, why: string): void {
    if (t.dead) return;
    t.dead = true;
    const job = t.job;
    t.job = null;
    if (job && !job.done && !this.closed) {
      job.done = true;
      job.reject(inputError(`${job.path}: the thread reading it stopped: ${why}`));
    }
  }
}
