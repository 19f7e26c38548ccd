/**
 * Set-up file of the `shared-process` project (vitest.config.ts): its test files run one after
 * the other in shared worker processes (`isolate: false`), so a file that left state behind
 * would change the runs of the files after it. After each file this fails the file if it set
 * or removed an environment variable, added or removed a global, left another LZ4 decoder than
 * the default (setLz4Decoder), started a worker thread, or left a child process, server or socket
 * open. A file that needs any of that belongs in the `own-process` project. (The PostgreSQL
 * pass, whose server files also share processes, has a guard of its own that lets a file start
 * servers and threads as long as it ends them: apps/server/test/server-shared-process-guard.ts.)
 */
import { afterAll, expect } from 'vitest';
import { getLz4Decoder } from '../../packages/erofs/src/decompress/index.js';

/** Handles of these kinds outlive the file that opened them (child processes, servers, sockets). */
const HANDLE_KINDS = new Set(['ProcessWrap', 'TCPServerWrap', 'TCPWrap', 'UDPWrap', 'PipeServerWrap']);
const openHandles = (): string[] =>
  process
    .getActiveResourcesInfo()
    .filter((k) => HANDLE_KINDS.has(k))
    .sort();

const env = { ...process.env };
const globals = Reflect.ownKeys(globalThis).map(String).sort();
const handles = openHandles();
const decoder = getLz4Decoder();
const workers: string[] = [];
const onWorker = (w: { threadId: number }): void => void workers.push(`thread ${w.threadId}`);
process.on('worker', onWorker);

afterAll(() => {
  process.off('worker', onWorker);
  expect({
    env: { ...process.env },
    globals: Reflect.ownKeys(globalThis).map(String).sort(),
    handles: openHandles(),
    lz4Decoder: getLz4Decoder(),
    workersStarted: workers,
  }).toStrictEqual({ env, globals, handles, lz4Decoder: decoder, workersStarted: [] });
  expect(decoder).toBe('wasm');
});
