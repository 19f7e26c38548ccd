/**
 * Setup file of the server test files that share worker processes: the PostgreSQL pass
 * (vitest.postgres.config.ts) and the SQLite pass's `server-shared` project (vitest.config.ts;
 * the CLI's files of its `cli-shared` project too),
 * which run their files without isolation: a worker process runs several of them one after the
 * other and imports the server once, so a file must hand the process back as it found it. After
 * each file this checks that it did: the same environment variables, the same globals, the same
 * process listeners, the same LZ4 decoder, and no more handles than it started with (servers,
 * sockets, child processes, worker threads, timers, file handles). A file that leaves a server running or a variable set fails here,
 * naming what it left, instead of changing what the next file in the process sees.
 *
 * The SQLite pass's `shared-process` project has its own, stricter guard
 * (scripts/test/shared-process-guard.ts): its files only compute, so it fails a file that
 * starts a worker thread at all, or changes the LZ4 decoder. The files here start servers,
 * workers and child processes on purpose; they must only have ended them by their end.
 */
import { getLz4Decoder } from '@sharemap/erofs';
import { afterAll, expect } from 'vitest';

/** Process events a server or a test could listen on. */
const EVENTS = [
  'exit',
  'beforeExit',
  'uncaughtException',
  'unhandledRejection',
  'warning',
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
] as const;

interface ProcessState {
  env: Record<string, string | undefined>;
  lz4Decoder: string;
  globals: string[];
  listeners: Record<string, number>;
  resources: Record<string, number>;
}

function counts(items: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const k of items) c[k] = (c[k] ?? 0) + 1;
  return c;
}

export function processState(): ProcessState {
  return {
    env: { ...process.env },
    lz4Decoder: getLz4Decoder(),
    globals: Object.getOwnPropertyNames(globalThis).sort(),
    listeners: Object.fromEntries(EVENTS.map((e) => [e, process.listenerCount(e)])),
    resources: counts(process.getActiveResourcesInfo()),
  };
}

/**
 * Handles a file may leave: `FileHandleReadWrap` is the read of a file that backs a Blob from
 * `fs.openAsBlob` (flow.test.ts uploads an image from one), which Node closes when the Blob is
 * collected: a read-only handle on a fixture, nothing the next file can see.
 */
const HARMLESS = new Set(['FileHandleReadWrap']);

/** The kinds of handle of which `after` has more than `before` ("TCPServerWrap: 1 -> 2"). */
export function moreResources(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.keys(after)
    .filter((k) => !HARMLESS.has(k) && after[k]! > (before[k] ?? 0))
    .map((k) => `${k}: ${before[k] ?? 0} -> ${after[k]}`);
}

/**
 * Handles a file closed go away a few event-loop turns later (a socket's close callback, a
 * worker thread's exit): wait for that, up to `ms`, before calling what is left a leak.
 */
async function settledResources(before: Record<string, number>, ms: number): Promise<string[]> {
  const end = Date.now() + ms;
  for (;;) {
    const more = moreResources(before, counts(process.getActiveResourcesInfo()));
    if (more.length === 0 || Date.now() > end) return more;
    await new Promise<void>((r) => setImmediate(r));
    await new Promise<void>((r) => setTimeout(r, 20).unref());
  }
}

// Taken when the setup file runs, before the test file is imported.
const before = processState();

afterAll(async () => {
  const after = processState();
  expect(after.env, 'environment variables the file set or removed').toEqual(before.env);
  expect(after.globals, 'globals the file added or removed').toEqual(before.globals);
  expect(after.lz4Decoder, 'the LZ4 decoder the file left set').toBe(before.lz4Decoder);
  expect(after.listeners, 'process listeners the file left').toEqual(before.listeners);
  expect(await settledResources(before.resources, 10_000), 'handles the file left open').toEqual([]);
});
