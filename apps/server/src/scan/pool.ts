/**
 * A bounded pool of worker threads: at most `concurrency` tasks run at once, at most
 * `maxQueue` wait. A task past its CPU budget (or its wall-clock ceiling), cancelled or
 * stopped by a shutdown is terminated with its worker; a worker whose task finished and that
 * is not kept is told to end and ends on its own (docs/development.md#how-worker-threads-end).
 * A worker that
 * finished a task of a reusable kind (`reuse`) waits for the next task instead of ending:
 * starting a thread and loading the reader's modules cost more than a small image's scan
 * (docs/benchmarks.md#scan-workers-where-a-server-scans-time-goes).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Lz4DecoderKind } from '@sharemap/erofs';
import { awaitWorkerEnd, watchWorkerExit } from '@sharemap/erofs/worker-end';
import type { SerializedError, Task, WorkerEndMessage, WorkerMessage, WorkerStartData } from './tasks.js';
import { CPU_TICK_MS, threadCpuMs } from './thread-cpu.js';

export class TaskError extends Error {
  override readonly name = 'TaskError';
  /** Of a `timeout`: which bound ended the task (its CPU budget, or the wall-clock ceiling). */
  bound?: 'cpu' | 'wall';
  constructor(
    readonly code: string,
    message: string,
    readonly details: Omit<SerializedError, 'name' | 'message' | 'code'> = {},
  ) {
    super(message);
  }
}

/**
 * A task's wall-clock ceiling when the caller gives none (`wallTimeoutMs`): this multiple of
 * its CPU budget (`timeoutMs`) plus WORKER_START_ALLOWANCE_MS. The budget decides an input's
 * fate; the ceiling only ends a worker that is not computing (blocked in a system call, held)
 * or starved: a task that needs a fraction f of its budget reaches the ceiling only when its
 * threads get less than f/3 of a core. 3 keeps the defaults' ceilings (scan 31 min, analysis
 * 46 min) within the blob collector's grace period (60 min, docs/server.md#time-limits).
 */
export const WALL_CEILING_FACTOR = 3;

/**
 * Wall-clock time the ceiling allows for a fresh worker thread to start (load the reader and
 * the engine) before its task begins: about 0.3 s of CPU, many seconds at a load of 30.
 */
export const WORKER_START_ALLOWANCE_MS = 60_000;

/** The default wall-clock ceiling of a task whose CPU budget is `timeoutMs`. */
export function wallCeilingMs(timeoutMs: number): number {
  return WALL_CEILING_FACTOR * timeoutMs + WORKER_START_ALLOWANCE_MS;
}

/** How long before its lease ends a task of a job is stopped (leaseCeilingMs). */
export const LEASE_MARGIN_MS = 30_000;

/**
 * The wall-clock ceiling of a task run for a job whose lease is `leaseMs`: wallCeilingMs() of
 * its CPU budget, but ending LEASE_MARGIN_MS before the lease (never below the budget),
 * so pg-boss (scan/pg-queue.ts) does not hand a job that is still running to another replica.
 */
export function leaseCeilingMs(timeoutMs: number, leaseMs: number): number {
  return Math.min(wallCeilingMs(timeoutMs), Math.max(timeoutMs, leaseMs - LEASE_MARGIN_MS));
}

/**
 * How long close() waits for a worker to end after `worker.terminate()` (ms). Termination
 * interrupts JavaScript only: a worker blocked in a system call (a read from a hung network
 * mount; an fs stream's open() of a FIFO planted where a blob should be) never ends, and
 * neither would a shutdown that waited for it. Past this bound the worker is given up and
 * counted in `stuckWorkers` (docs/server.md#running: the process then ends by its signal).
 */
export const WORKER_EXIT_TIMEOUT_MS = 5_000;

/**
 * A reused worker is retired (terminated, a fresh one started for the next task) after this
 * many tasks, or when its V8 heap in use after a task is above this fraction of its heap
 * limit: a task that left garbage or a leak behind does not shrink the next task's room.
 */
export const WORKER_MAX_TASKS = 200;
export const WORKER_RETIRE_HEAP_FRACTION = 0.5;

export class PoolBusyError extends Error {
  override readonly name = 'PoolBusyError';
}

/**
 * The compiled worker: next to this module when running from dist; from TypeScript sources
 * (tests through vitest) the server's dist build of it.
 */
export function workerScript(): URL {
  const here = import.meta.url;
  const url = here.endsWith('.ts')
    ? new URL('../../dist/scan/worker.js', here)
    : new URL('./worker.js', here);
  if (!existsSync(fileURLToPath(url)))
    throw new Error(`worker script ${fileURLToPath(url)} is missing: build the server first (pnpm build)`);
  return url;
}

/**
 * The parent's Node flags minus custom export conditions: the worker is compiled JavaScript
 * and must load the packages' built entries (a test runner's "source" condition would
 * point it at TypeScript files).
 */
function workerExecArgv(extra: readonly string[]): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--conditions' || a === '-C') {
      i++;
      continue;
    }
    if (a.startsWith('--conditions=') || a.startsWith('-C=')) continue;
    out.push(a);
  }
  return [...out, ...extra];
}

interface Job {
  task: Task;
  signal: AbortSignal | undefined;
  timeoutMs: number;
  wallTimeoutMs: number;
  onProgress: ((m: Extract<WorkerMessage, { type: 'progress' }>) => void) | undefined;
  onStart: (() => void) | undefined;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

function cancelled(task: Task): TaskError {
  return new TaskError('cancelled', `${task.kind} was cancelled: nobody waits for it any more`);
}

/** A worker thread of the pool, with the tasks it has run. */
interface PoolWorker {
  worker: Worker;
  tasks: number;
  /** Listens for an idle worker's unexpected end (it is then dropped from `idle`). */
  onIdleEnd?: () => void;
}

export class WorkerPool {
  private readonly queue: Job[] = [];
  private readonly running = new Set<Worker>();
  /** Workers waiting for a task (reusable kinds only), most recently used last. */
  private readonly idle: PoolWorker[] = [];
  /** Worker threads started since the pool was made (fresh threads, not reuses). */
  workersStarted = 0;
  /** How to end each running task from outside (close()): reject it with `shutdown`. */
  private readonly stoppers = new Map<Worker, () => void>();
  /**
   * Workers told to end or terminated whose thread has not ended yet, with the promise of
   * their end. A task that settles tells its worker to end (done, failed) or terminates it
   * (timed out, cancelled) without waiting; close() waits for these too, for at most
   * WORKER_EXIT_TIMEOUT_MS.
   */
  private readonly ending = new Map<Worker, Promise<unknown>>();
  /** Ending workers a close() already waited for in vain: later calls do not wait again. */
  private readonly givenUp = new Set<Worker>();
  /** Called whenever the last running task settles (drain()). */
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  /** Task kinds whose worker is kept for the next task (default: none, one worker per task). */
  private readonly reuse: ReadonlySet<Task['kind']>;

  /** Node flags for this pool's workers after the parent's (e.g. a test's `--import` preload). */
  private readonly workerFlags: readonly string[];

  /** What each worker thread starts with (its LZ4 decoder). */
  private readonly workerData: WorkerStartData;

  constructor(
    readonly concurrency: number,
    readonly maxQueue: number,
    private readonly heapMb: number,
    opts: {
      reuse?: readonly Task['kind'][];
      workerFlags?: readonly string[];
      /** The workers' LZ4 decoder (ServerConfig.lz4Decoder); default the reader's (wasm). */
      lz4Decoder?: Lz4DecoderKind;
    } = {},
  ) {
    this.reuse = new Set(opts.reuse ?? []);
    this.workerFlags = opts.workerFlags ?? [];
    this.workerData = opts.lz4Decoder !== undefined ? { lz4Decoder: opts.lz4Decoder } : {};
  }

  get active(): number {
    return this.running.size;
  }

  get queued(): number {
    return this.queue.length;
  }

  run<T>(
    task: Task,
    opts: {
      /**
       * CPU budget of the task, ms: CPU time of its worker thread counted from when the worker
       * begins the task (not while it waits in the queue or its thread starts). Where a
       * thread's CPU time cannot be read (no /proc), wall-clock time from that same moment.
       */
      timeoutMs: number;
      /**
       * Wall-clock ceiling, ms, from when the task leaves the queue (its worker starting
       * included); default wallCeilingMs(timeoutMs).
       */
      wallTimeoutMs?: number;
      onProgress?: (m: Extract<WorkerMessage, { type: 'progress' }>) => void;
      /** Called when the task leaves the queue and its worker starts. */
      onStart?: () => void;
      /** Aborting removes a waiting task, or terminates its worker (a client that left). */
      signal?: AbortSignal;
    },
  ): Promise<T> {
    if (this.closed) return Promise.reject(new TaskError('shutdown', 'the server is shutting down'));
    if (opts.signal?.aborted) return Promise.reject(cancelled(task));
    if (this.queue.length >= this.maxQueue)
      return Promise.reject(new PoolBusyError(`too many tasks waiting (${this.maxQueue}); try again later`));
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        task,
        signal: opts.signal,
        timeoutMs: opts.timeoutMs,
        wallTimeoutMs: opts.wallTimeoutMs ?? wallCeilingMs(opts.timeoutMs),
        onProgress: opts.onProgress,
        onStart: opts.onStart,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      this.queue.push(job);
      opts.signal?.addEventListener(
        'abort',
        () => {
          const i = this.queue.indexOf(job);
          if (i < 0) return; // running: start() listens too
          this.queue.splice(i, 1);
          this.cancelledCount++;
          reject(cancelled(task));
        },
        { once: true },
      );
      this.pump();
    });
  }

  /** Tasks cancelled by their signal (waiting or running) since the pool was made. */
  cancelledCount = 0;

  private pump(): void {
    while (!this.closed && this.running.size < this.concurrency && this.queue.length > 0)
      this.start(this.queue.shift()!);
  }

  /** An idle worker, or a fresh one. */
  private take(): PoolWorker {
    const pw = this.idle.pop();
    if (pw) {
      pw.worker.off('exit', pw.onIdleEnd!);
      pw.worker.off('error', pw.onIdleEnd!);
      pw.worker.ref();
      return pw;
    }
    const worker = new Worker(workerScript(), {
      execArgv: workerExecArgv(this.workerFlags),
      workerData: this.workerData,
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
    });
    watchWorkerExit(worker);
    // A task's or an idle worker's own listeners handle its errors; this one keeps an error
    // that comes after them (a worker being terminated) from ending the process unhandled.
    worker.on('error', () => undefined);
    this.workersStarted++;
    return { worker, tasks: 0 };
  }

  /** Keep a worker that finished its task for the next one, or tell it to end. */
  private release(pw: PoolWorker, kind: Task['kind'], heapUsed: number | undefined): void {
    const keep =
      !this.closed &&
      this.reuse.has(kind) &&
      pw.tasks < WORKER_MAX_TASKS &&
      heapUsed !== undefined &&
      heapUsed <= WORKER_RETIRE_HEAP_FRACTION * this.heapMb * 1024 * 1024;
    if (!keep) {
      this.end(pw.worker);
      return;
    }
    const onIdleEnd = (): void => {
      const i = this.idle.indexOf(pw);
      if (i >= 0) this.idle.splice(i, 1);
      this.terminate(pw.worker);
    };
    pw.onIdleEnd = onIdleEnd;
    pw.worker.once('exit', onIdleEnd);
    pw.worker.once('error', onIdleEnd);
    pw.worker.unref(); // an idle worker does not keep the process alive
    this.idle.push(pw);
  }

  private start(job: Job): void {
    let pw: PoolWorker;
    try {
      pw = this.take();
    } catch (e) {
      job.reject(e);
      return;
    }
    const worker = pw.worker;
    pw.tasks++;
    this.running.add(worker);
    job.onStart?.();
    let settled = false;
    /** `reusable`: the worker answered and may take another task (its heap in use then). */
    const settle = (fn: () => void, reusable?: { heapUsed: number | undefined }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(wallTimer);
      clearTimeout(budgetTimer);
      job.signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      this.running.delete(worker);
      this.stoppers.delete(worker);
      fn();
      if (this.running.size === 0) for (const w of this.idleWaiters.splice(0)) w();
      if (reusable) this.release(pw, job.task.kind, reusable.heapUsed);
      else this.terminate(worker);
      this.pump();
    };
    const onAbort = (): void => {
      this.cancelledCount++;
      settle(() => job.reject(cancelled(job.task)));
    };
    job.signal?.addEventListener('abort', onAbort, { once: true });
    this.stoppers.set(worker, () =>
      settle(() => job.reject(new TaskError('shutdown', 'the server is shutting down'))),
    );
    const timeUp = (bound: 'cpu' | 'wall', message: string): void => {
      const e = new TaskError('timeout', message);
      e.bound = bound;
      settle(() => job.reject(e));
    };
    const wallTimer = setTimeout(
      () =>
        timeUp(
          'wall',
          `${job.task.kind} did not finish within ${job.wallTimeoutMs} ms of wall-clock time and was stopped`,
        ),
      job.wallTimeoutMs,
    );
    let budgetTimer: NodeJS.Timeout | undefined;
    /** Threads the task started for its work (`helper`), with their last CPU time read. */
    const helpers = new Map<number, number>();
    /**
     * The worker began the task: its thread's CPU time from now on is the budget's, with its
     * helper threads' whole time. A thread cannot use more CPU time than wall time passes, so
     * the first look is one budget later, and each next one when the rest of the budget
     * could have been used at the earliest by the threads counted.
     */
    const onBegin = (m: Extract<WorkerMessage, { type: 'begin' }>): void => {
      const overBudget = (): void =>
        timeUp('cpu', `${job.task.kind} used more than ${job.timeoutMs} ms of CPU time and was stopped`);
      const base = m.cpuMs;
      if (m.tid === undefined || base === undefined) {
        budgetTimer = setTimeout(overBudget, job.timeoutMs); // no /proc: wall time from here
        return;
      }
      const tid = m.tid;
      const look = (): void => {
        const now = threadCpuMs(tid);
        if (now === undefined) return; // the thread ended: its exit settles the task
        let used = now - base;
        for (const [h, last] of helpers) {
          const t = threadCpuMs(h) ?? last; // a helper that ended keeps its last reading
          helpers.set(h, t);
          used += t;
        }
        if (used >= job.timeoutMs) overBudget();
        else
          budgetTimer = setTimeout(look, Math.max(CPU_TICK_MS, (job.timeoutMs - used) / (1 + helpers.size)));
      };
      budgetTimer = setTimeout(look, job.timeoutMs / (1 + helpers.size));
    };
    const onMessage = (m: WorkerMessage): void => {
      if (m.type === 'begin') onBegin(m);
      else if (m.type === 'helper') helpers.set(m.tid, 0);
      else if (m.type === 'progress') job.onProgress?.(m);
      else if (m.type === 'done') settle(() => job.resolve(m.result), { heapUsed: m.heapUsed });
      else {
        const { name: _n, message, code, ...details } = m.error;
        settle(() => job.reject(new TaskError(code ?? m.error.name, message, details)), {
          heapUsed: m.heapUsed,
        });
      }
    };
    const onError = (e: Error & { code?: string }): void => {
      const code = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out-of-memory' : 'worker-failed';
      settle(() => job.reject(new TaskError(code, `${job.task.kind} worker failed: ${e.message}`)));
    };
    const onExit = (code: number): void => {
      settle(() =>
        job.reject(new TaskError('worker-failed', `${job.task.kind} worker exited with code ${code}`)),
      );
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(job.task);
  }

  /**
   * Graceful shutdown, first half: stop accepting tasks, reject the waiting ones (`shutdown`)
   * and let the running ones finish, for at most `graceMs`. Resolves with the number of tasks
   * still running then (close() ends them).
   */
  async drain(graceMs: number): Promise<number> {
    this.stopAccepting();
    if (this.running.size > 0)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    return this.running.size;
  }

  /**
   * Tell a worker with no task running to end (WorkerEndMessage) and remember it until its
   * thread has ended on its own (docs/development.md#how-worker-threads-end): a worker whose
   * task finished, done or failed, is never terminated. One that does not end within
   * WORKER_END_WAIT_MS is terminated (awaitWorkerEnd).
   */
  private end(worker: Worker): void {
    if (this.ending.has(worker)) return;
    const forget = (): void => {
      this.ending.delete(worker);
      this.givenUp.delete(worker);
    };
    worker.postMessage({ kind: 'end' } satisfies WorkerEndMessage);
    this.ending.set(worker, awaitWorkerEnd(worker).then(forget, forget));
  }

  /**
   * Terminate a worker and remember it until its thread has really ended: a task that timed
   * out, was cancelled or stopped by a shutdown, or a worker that failed. close() awaits its
   * end (terminate() resolves with the thread's exit), so no thread is left running when the
   * pool is closed.
   */
  private terminate(worker: Worker): void {
    if (this.ending.has(worker)) return;
    const forget = (): void => {
      this.ending.delete(worker);
      this.givenUp.delete(worker);
    };
    const ended = worker.terminate().then(forget, forget);
    this.ending.set(worker, ended);
  }

  /**
   * Worker threads that were told to terminate and have not ended (blocked in a system call).
   * While one exists, the process cannot exit normally: Node's exit joins every worker thread.
   */
  get stuckWorkers(): number {
    return this.ending.size;
  }

  private stopAccepting(): void {
    this.closed = true;
    for (const job of this.queue.splice(0))
      job.reject(new TaskError('shutdown', 'the server is shutting down'));
    for (const pw of this.idle.splice(0)) {
      pw.worker.off('exit', pw.onIdleEnd!);
      pw.worker.off('error', pw.onIdleEnd!);
      this.end(pw.worker);
    }
  }

  /** Workers waiting for a task. */
  get idleWorkers(): number {
    return this.idle.length;
  }

  /**
   * Stop accepting tasks; reject the waiting ones and the running ones with `shutdown`
   * (their callers hand them back), and terminate the running workers. Waits for every
   * terminated worker to end, at most `boundMs` (WORKER_EXIT_TIMEOUT_MS); resolves with the
   * number still not ended then (stuckWorkers).
   */
  async close(boundMs = WORKER_EXIT_TIMEOUT_MS): Promise<number> {
    this.stopAccepting();
    for (const w of [...this.running]) {
      this.stoppers.get(w)?.();
      this.terminate(w); // settle() did already, unless the worker had no stopper yet
    }
    this.running.clear();
    const waiting = [...this.ending].filter(([w]) => !this.givenUp.has(w));
    if (waiting.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(waiting.map(([, ended]) => ended)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, boundMs))),
      ]);
      clearTimeout(timer);
      for (const w of this.ending.keys()) this.givenUp.add(w);
    }
    return this.ending.size;
  }
}
