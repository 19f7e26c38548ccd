/**
 * The worker of a shared metadata scan (scan-split.ts) started as the process starts, before
 * the command's modules load: it loads the reader on the other core meanwhile, and the scan
 * hands it its work (SplitInitMessage). Its own module, which loads nothing else but the
 * format's constants (@sharemap/erofs/limits, a module without imports), so that main.ts can
 * start it first.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EROFS_SUPER_MAGIC, EROFS_SUPER_OFFSET } from '@sharemap/erofs/limits';
import { awaitWorkerEnd, watchWorkerExit } from '@sharemap/erofs/worker-end';
import type { SplitEndMessage } from './scan-split-protocol.js';
import { workerOptions } from './worker-options.js';

/** Environment variable: `0` scans every image on one thread. */
export const SCAN_THREADS_ENV = 'SHAREMAP_SCAN_THREADS';

/**
 * Image files smaller than this start no worker ahead: they hold fewer inodes than a shared
 * scan takes (scan-split.ts SPLIT_MIN_INODES, ~10 MiB of metadata on a fingerprinted image
 * from mkfs.erofs 1.9.3). The scan itself decides by the superblock's inode count.
 */
export const PRESTART_MIN_BYTES = 8 << 20;

/**
 * `scan`, `analyze` and `upload --scan-locally` with `--hash` and without `--threads` start
 * digest threads for an image file of at least this many bytes (scan-threads.ts
 * digestThreadsFor, docs/cli.md#digest-threads); a smaller one is hashed by the walking thread
 * alone.
 * Why: a digest thread takes ~100-150 ms to load its modules, and since threads end on their own
 * (docs/development.md#how-worker-threads-end) a scan that finished first waits for that start;
 * hashing 8 MiB on the walking thread costs ~5-10 ms (docs/benchmarks.md, the seventeenth
 * session's quiet section).
 */
export const DIGEST_THREADS_MIN_BYTES = 8 << 20;

/** Environment variable: DIGEST_THREADS_MIN_BYTES for this process (a byte count; tests set 0). */
export const DIGEST_THREADS_MIN_BYTES_ENV = 'SHAREMAP_DIGEST_THREADS_MIN_BYTES';

/**
 * Whether hashing the image file at `path` without `--threads` should use the default digest
 * threads: the file is at least DIGEST_THREADS_MIN_BYTES (or the environment's value, the
 * default when that is not a byte count) long. A file that cannot be read is left to the scan
 * (it names the problem), so: true.
 */
export function digestThreadsPay(path: string, env: Record<string, string | undefined>): boolean {
  const min = digestThreadsMinBytes(env) ?? DIGEST_THREADS_MIN_BYTES;
  try {
    return statSync(path).size >= min;
  } catch {
    return true;
  }
}

/**
 * SHAREMAP_DIGEST_THREADS_MIN_BYTES: its byte count; undefined when unset or empty; null when it
 * is not a byte count (the commands refuse it: scan-threads.ts digestThreadsFor; the start-up in
 * main.ts takes the default and leaves the refusal to them).
 */
export function digestThreadsMinBytes(env: Record<string, string | undefined>): number | null | undefined {
  const v = env[DIGEST_THREADS_MIN_BYTES_ENV];
  if (v === undefined || v === '') return undefined;
  return /^[0-9]{1,15}$/.test(v) ? Number(v) : null;
}

/** The image argument of `sharemap scan` arguments (after "scan"), and the output form asked for. */
export function scanImageArg(args: string[]): { image: string | undefined; form: string | undefined } {
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
  return { image, form };
}

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
 * Images with fewer inodes (superblock) are scanned on one thread: the worker's start (~0.1 s
 * of CPU, its own block cache) costs more than half of a smaller scan
 * (docs/benchmarks.md#scan-parallel-the-metadata-scan-on-two-threads-2026-12-07).
 */
export const SPLIT_MIN_INODES = 100_000;

/**
 * `scan --hash` shares its walk only when the image file holds at most this many bytes per
 * inode: files of at most 4 KiB (DIGEST_IN_THREAD_BYTES) are hashed by the walking thread
 * itself, so on such an image the one digest thread has little to do and the walk is the
 * work; with larger files it keeps its digest thread, which hashes beside the walk whatever
 * the tree's shape (docs/cli.md#metadata-scan-on-two-threads).
 */
export const HASH_SPLIT_BYTES_PER_INODE = 4096;

/**
 * Whether a scan of an image of `inodes` inodes (superblock) in a file of `bytes` bytes is
 * shared between two threads: with `hash`, when that second thread would be the scan's one
 * digest thread (`threads`: 1, on exactly two cores; on more the digest threads stay).
 */
export function splitWorthIt(
  inodes: number,
  bytes: number,
  hash: { threads: number; cores?: number } | undefined,
): boolean {
  if (inodes < SPLIT_MIN_INODES) return false;
  if (!hash) return true;
  return (
    hash.threads === 1 &&
    (hash.cores ?? availableParallelism()) === 2 &&
    bytes <= inodes * HASH_SPLIT_BYTES_PER_INODE
  );
}

/** The superblock's inode count: a le64 this many bytes into it (docs/format.md#superblock). */
const SB_INODES_AT = 16;

/** The superblock's inode count and the file's size, or undefined (not an EROFS image, unreadable). */
function inodesAndSize(path: string): { inodes: number; size: number } | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const b = Buffer.alloc(24);
    if (readSync(fd, b, 0, 24, EROFS_SUPER_OFFSET) !== 24 || b.readUInt32LE(0) !== EROFS_SUPER_MAGIC)
      return undefined;
    return { inodes: Number(b.readBigUInt64LE(SB_INODES_AT)), size };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * For `sharemap scan` arguments (after "scan") that stream NDJSON or JSON of an image, on a
 * machine of two cores or more with SHAREMAP_SCAN_THREADS not 0: start the worker now, if the
 * image file is large enough to be worth it (with --hash: if splitWorthIt says so, by its
 * superblock); whether it did. Anything unusual (an archive, a missing file, a malformed
 * option) starts nothing: the command then works as without.
 */
export function prestartSplitWorker(args: string[], env: Record<string, string | undefined>): boolean {
  if (started || env[SCAN_THREADS_ENV] === '0' || availableParallelism() < 2) return false;
  if (args.includes('--output') || args.includes('-o')) return false;
  // As digestThreadsFor() for a large image: unset, the default digest threads (one on two cores).
  let threads = 1;
  const at = args.findIndex((a) => a === '--threads' || a.startsWith('--threads='));
  if (at >= 0) threads = Number(args[at] === '--threads' ? args[at + 1] : args[at]!.slice(10));
  const { image, form } = scanImageArg(args);
  if ((form !== 'ndjson' && form !== 'json') || image === undefined) return false;
  const sb = inodesAndSize(image);
  if (!sb || sb.size < PRESTART_MIN_BYTES) return false;
  if (args.includes('--hash') && !splitWorthIt(sb.inodes, sb.size, { threads })) return false;
  const script = splitWorkerScript();
  if (!script) return false;
  const worker = new Worker(script, { ...workerOptions(), trackUnmanagedFds: false });
  watchWorkerExit(worker);
  // Until the scan takes it, an error only drops it; unref: it never keeps the process alive.
  worker.on('error', () => {
    if (started === worker) started = undefined;
  });
  worker.unref();
  started = worker;
  // Not taken by the time the process's loop empties (the command failed first): it is told to
  // end then, so that Node's exit does not stop it (docs/development.md#how-worker-threads-end).
  process.once('beforeExit', () => void releaseStartedWorker());
  return true;
}

/** The worker prestartSplitWorker() started, for the scan to take (once), or undefined. */
export function takeStartedWorker(): Worker | undefined {
  const w = started;
  started = undefined;
  return w;
}

/**
 * End a started worker no scan took (a small image, or a scan on one thread): told so, it
 * ends on its own (docs/development.md#how-worker-threads-end); resolves once it has.
 */
export async function releaseStartedWorker(): Promise<void> {
  const worker = takeStartedWorker();
  if (!worker) return;
  worker.postMessage({ end: true } satisfies SplitEndMessage);
  await awaitWorkerEnd(worker);
}
