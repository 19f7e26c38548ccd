/**
 * The worker of a shared metadata scan (scan-split.ts) started as the process starts, before
 * the command's modules load: it loads the reader on the other core meanwhile, and the scan
 * hands it its work (SplitInitMessage). Its own module, which loads nothing else, so that
 * main.ts can start it first.
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { workerOptions } from './worker-options.js';

/** Environment variable: `0` scans every image on one thread. */
export const SCAN_THREADS_ENV = 'SHAREMAP_SCAN_THREADS';

/**
 * Image files smaller than this start no worker ahead: they hold fewer inodes than a shared
 * scan takes (scan-split.ts SPLIT_MIN_INODES, ~10 MiB of metadata on a fingerprinted image
 * from mkfs.erofs 1.9.3). The scan itself decides by the superblock's inode count.
 */
export const PRESTART_MIN_BYTES = 8 << 20;

/** The worker script beside this module (dist/scan-split-worker.js, or the packed CLI's copy); undefined when absent (the Action's single-file bundle). */
export function splitWorkerScript(): URL | undefined {
  const here = import.meta.url;
  const url = here.endsWith('.ts')
    ? new URL('../dist/scan-split-worker.js', here)
    : new URL('./scan-split-worker.js', here);
  return existsSync(fileURLToPath(url)) ? url : undefined;
}

let started: Worker | undefined;

/** Options of `sharemap scan` that take a value (the image is the first argument that is neither). */
const VALUE_OPTIONS = new Set(['--device', '--format', '--output', '-o', '--threads', '--platform']);

/**
 * For `sharemap scan` arguments (after "scan") that stream NDJSON or JSON of an image without
 * --hash, on a machine of two cores or more with SHAREMAP_SCAN_THREADS not 0: start the
 * worker now, if the image file is large enough to be worth it. Anything unusual (an archive,
 * a missing file, a malformed option) starts nothing: the command then works as without.
 */
export function prestartSplitWorker(args: string[], env: Record<string, string | undefined>): void {
  if (started || env[SCAN_THREADS_ENV] === '0' || availableParallelism() < 2) return;
  if (args.includes('--hash') || args.includes('--output') || args.includes('-o')) return;
  let image: string | undefined;
  let form: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--ndjson' || a === '--json') form = a.slice(2);
    else if (a === '--format') form = args[i + 1];
    else if (a.startsWith('--format=')) form = a.slice('--format='.length);
    if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-') && image === undefined) image = a;
  }
  if ((form !== 'ndjson' && form !== 'json') || image === undefined) return;
  try {
    if (statSync(image).size < PRESTART_MIN_BYTES) return;
  } catch {
    return;
  }
  const script = splitWorkerScript();
  if (!script) return;
  const worker = new Worker(script, { ...workerOptions(), trackUnmanagedFds: false });
  // Until the scan takes it, an error only drops it; unref: it never keeps the process alive.
  worker.on('error', () => {
    if (started === worker) started = undefined;
  });
  worker.unref();
  started = worker;
}

/** The worker prestartSplitWorker() started, for the scan to take (once), or undefined. */
export function takeStartedWorker(): Worker | undefined {
  const w = started;
  started = undefined;
  return w;
}

/** End a started worker no scan took (a small image, or a scan on one thread). */
export async function releaseStartedWorker(): Promise<void> {
  await takeStartedWorker()?.terminate();
}
