/**
 * `sharemap analyze --json` of large manifests writes the report's `paths` member (every file's
 * path of every image, ~30 % of the JSON writer's time at two million files) on a thread of its
 * own while the main thread runs the analysis, which does not change the paths: the second core
 * is otherwise idle then. The paths are bytes in shared memory (PathStore's arena, the manifest
 * thread's handover), so the thread reads them without a copy; it answers with each list's JSON
 * (report-wire's pathsJsonBytes, the writer's own code), which jsonBytes then writes in the
 * list's place (`prewrittenPaths`): the same bytes
 * (docs/benchmarks.md#analyze-after-the-paths-json-on-the-idle-core-2026-12-08).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { manifestColumns, type Manifest, type PathBytes, type PathStore } from '@sharemap/erofs';
import { awaitWorkerEnd, watchWorkerExit } from '@sharemap/erofs/node';
import { JSON_PIECE_BYTES } from '@sharemap/report-wire';
import { workerOptions } from './worker-options.js';

/** What the main thread asks the thread: the JSON of these path lists, in pieces of `chunkBytes`. */
export interface PathsJsonRequest {
  stores: PathBytes[];
  chunkBytes: number;
  /** An Int32Array's memory: its element 0 set, the thread stops (its answers are not wanted). */
  stop: SharedArrayBuffer;
}

/** The thread's answer for list `index` of the request: its pieces, or what went wrong. */
export type PathsJsonReply = { index: number; pieces: Uint8Array[] } | { index: number; error: string };

/**
 * Fewest paths (all stores together) written on the thread: below it the thread's start (~0.1 s
 * of the other core, a few ms of this one) is more than writing them here costs (~0.17 µs a path).
 */
export const PATHS_JSON_THREAD_MIN = 250_000;

/** The worker script beside this module (dist/paths-json-worker.js, or the packed CLI's copy), or undefined (the GitHub Action's single-file bundle: the paths are written in the main thread). */
export function pathsJsonWorkerScript(): URL | undefined {
  const here = import.meta.url;
  const url = here.endsWith('.ts')
    ? new URL('../dist/paths-json-worker.js', here)
    : new URL('./paths-json-worker.js', here);
  return existsSync(fileURLToPath(url)) ? url : undefined;
}

/** The path lists' JSON being written on a thread (startPathsJson). */
export class PathsJsonThread {
  private readonly written = new Map<PathStore, readonly Uint8Array[]>();
  private readonly stop = new Int32Array(new SharedArrayBuffer(4));
  private taken = false;

  constructor(
    private readonly worker: Worker,
    private readonly stores: readonly PathStore[],
  ) {
    worker.on('message', (reply: PathsJsonReply) => {
      // Answers after the main thread has taken what there was are dropped (it wrote those lists).
      if (!this.taken && 'pieces' in reply) this.written.set(stores[reply.index]!, reply.pieces);
    });
    // A thread that fails has answered less: the main thread writes the rest, as it would.
    worker.on('error', () => undefined);
  }

  /** The request to post to the thread. */
  request(chunkBytes: number): PathsJsonRequest {
    return {
      // The bytes are shared (no copy); the ends and kinds, a few MB, are copied to their length.
      stores: this.stores.map((s) => {
        const { bytes, ends, kinds, n } = s.view();
        return { bytes, ends: ends.slice(0, n), kinds: kinds.slice(0, n) };
      }),
      chunkBytes,
      stop: this.stop.buffer as SharedArrayBuffer,
    };
  }

  /**
   * The lists written by now (jsonBytes' prewrittenPaths), or null when none is: answers posted
   * while this thread was busy are taken first (one turn of the event loop), none is waited
   * for (a list not written yet the main thread writes itself, as fast as the thread would).
   * The thread is told to stop.
   */
  async pieces(
    opts: {
      /** Wait for every answer (the thread's end) first: the tests'. */
      all?: boolean;
    } = {},
  ): Promise<ReadonlyMap<PathStore, readonly Uint8Array[]> | null> {
    if (!this.taken) {
      if (opts.all) await awaitWorkerEnd(this.worker);
      else await new Promise((resolve) => setImmediate(resolve));
      this.taken = true;
      Atomics.store(this.stop, 0, 1);
    }
    return this.written.size > 0 ? this.written : null;
  }

  /** Waits for the thread's end, told to stop first (docs/development.md#how-worker-threads-end). */
  async close(): Promise<void> {
    Atomics.store(this.stop, 0, 1);
    this.taken = true;
    await awaitWorkerEnd(this.worker);
  }
}

/**
 * Starts writing the path lists of `manifests` (those whose paths are bytes in shared memory)
 * on a thread, or null when there are fewer than `minPaths` of them or no worker script.
 */
export function startPathsJson(
  manifests: readonly Manifest[],
  opts: { minPaths?: number; script?: URL; chunkBytes?: number } = {},
): PathsJsonThread | null {
  const stores: PathStore[] = [];
  let paths = 0;
  for (const m of manifests) {
    const store = manifestColumns(m)?.pathStore;
    if (!store || !(store.view().bytes.buffer instanceof SharedArrayBuffer) || stores.includes(store))
      continue;
    stores.push(store);
    paths += store.n;
  }
  if (stores.length === 0 || paths < (opts.minPaths ?? PATHS_JSON_THREAD_MIN)) return null;
  const script = opts.script ?? pathsJsonWorkerScript();
  if (!script) return null;
  const worker = new Worker(script, workerOptions());
  watchWorkerExit(worker);
  const thread = new PathsJsonThread(worker, stores);
  worker.postMessage(thread.request(opts.chunkBytes ?? JSON_PIECE_BYTES));
  return thread;
}
