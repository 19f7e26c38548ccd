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
import { watchWorkerExit } from '@sharemap/erofs/node';
import { JSON_PIECE_BYTES } from '@sharemap/report-wire';
import { workerOptions } from './worker-options.js';

/** What the main thread asks the thread: the JSON of these path lists, in pieces of `chunkBytes`. */
export interface PathsJsonRequest {
  stores: PathBytes[];
  chunkBytes: number;
}

/** The thread's answer: each list's pieces, in the request's order, or what went wrong. */
export type PathsJsonReply = { pieces: Uint8Array[][] } | { error: string };

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
  private readonly result: Promise<ReadonlyMap<PathStore, readonly Uint8Array[]> | null>;
  private answered = false;

  constructor(
    private readonly worker: Worker,
    stores: readonly PathStore[],
  ) {
    this.result = new Promise((resolve) => {
      worker.once('message', (reply: PathsJsonReply) => {
        this.answered = true;
        if ('error' in reply) resolve(null);
        else resolve(new Map(stores.map((s, i) => [s, reply.pieces[i]!])));
      });
      // A thread that fails or ends without an answer: the main thread writes the paths itself.
      worker.once('error', () => resolve(null));
      worker.once('exit', () => resolve(null));
    });
  }

  /** Each store's pieces (jsonBytes' prewrittenPaths), or null when the thread gave none. */
  pieces(): Promise<ReadonlyMap<PathStore, readonly Uint8Array[]> | null> {
    return this.result;
  }

  /** Stops the thread if it has not answered (the analysis failed; its answer is not wanted). */
  async close(): Promise<void> {
    if (!this.answered) await this.worker.terminate();
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
  const request: PathsJsonRequest = {
    // The bytes are shared (no copy); the ends and kinds, a few MB, are copied to their length.
    stores: stores.map((s) => {
      const { bytes, ends, kinds, n } = s.view();
      return { bytes, ends: ends.slice(0, n), kinds: kinds.slice(0, n) };
    }),
    chunkBytes: opts.chunkBytes ?? JSON_PIECE_BYTES,
  };
  worker.postMessage(request);
  return thread;
}
