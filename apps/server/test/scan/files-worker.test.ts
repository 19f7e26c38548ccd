/**
 * The files worker (scan/report-blobs.ts, scan/files-worker.ts): a report's sharemap-files
 * encoding made, compressed and hashed on a thread of its own while the analysis thread writes
 * the JSON. The blobs are those the encoding on the analysis thread stores (the names of
 * report-blobs.test.ts); a worker that fails or ends without its answer fails the report, after
 * the other blob writes have settled; a thread that ends mid-report (a shutdown terminating the
 * analysis worker) ends its files worker with it.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeFiles } from '@sharemap/report-wire';
import { bigReport } from '@sharemap/report-wire/testing';
import { workerExecArgv } from '../../src/scan/pool.js';
import { writeReportBlobs } from '../../src/scan/report-blobs.js';
import { BlobStore } from '../../src/storage/blobs.js';
import { tempDir } from '../helpers.js';

/** Threads of this process now (Linux). */
const threads = (): number => readdirSync('/proc/self/task').length;

describe('writeReportBlobs with the files worker', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    {
      images: 1 as const,
      report: 'b535a8353eae8d9ca1d8ada2d0caeafc3b67ab197008e2c4e8c80211e87e6021',
      summary: '7e98feb60e345555ebdeebcc17ac5cf9bdafa1885479d4e925e2903e973fbefe',
      files: 'e2727de817b1dfce373c35833a9097ef6e5e916bcb7fe2f407d4e204d191db7d',
    },
    {
      images: 2 as const,
      report: '909cb6cdfa6d60cebf503a444ebaa6972f66621c7b80d43061fdf6a975ccef17',
      summary: '3b429f58023e21de583fe150eca8adcbccfe6b460386d791adb6a2cedff1c7a0',
      files: 'f5f20fae092d1cf0fa2dfbe16f2e2df4fa61681cdaac51d24e32980d2b95d377',
    },
  ])(
    'stores the blobs of the encoding on this thread: $images image(s) of 60,000 records',
    async (c) => {
      const store = new BlobStore(dir);
      const report = bigReport(60_000, c.images);
      const started: number[] = [];
      let encoded = 0;
      const got = await writeReportBlobs(store, report, () => encoded++, {
        filesWorkerMinRows: 0,
        onFilesWorker: (w) => started.push(w.threadId),
      });
      expect(started).toHaveLength(1);
      expect(encoded).toBe(1);
      expect(got).toEqual({ reportBlob: c.report, summaryBlob: c.summary, filesBlob: c.files });
      expect(
        gunzipSync(readFileSync(store.path(got.filesBlob))).equals(Buffer.from(encodeFiles(report))),
      ).toBe(true);
      // The report's own columns were copied, not handed over: still whole after the transfer.
      expect(report.files.instance).toHaveLength(report.files.status.length);
      expect(encodeFiles(report)).toEqual(encodeFiles(bigReport(60_000, c.images)));
    },
    300_000,
  );

  it('below filesWorkerMinRows the encoding stays on this thread (same blobs)', async () => {
    const store = new BlobStore(dir);
    const started: number[] = [];
    const got = await writeReportBlobs(store, bigReport(60_000, 1), undefined, {
      filesWorkerMinRows: 60_001,
      onFilesWorker: (w) => started.push(w.threadId),
    });
    expect(started).toHaveLength(0);
    expect(got.filesBlob).toBe('e2727de817b1dfce373c35833a9097ef6e5e916bcb7fe2f407d4e204d191db7d');
  }, 300_000);

  it('a files worker that ends without its answer fails the report', async () => {
    const store = new BlobStore(dir);
    await expect(
      writeReportBlobs(store, bigReport(20_000, 1), undefined, {
        filesWorkerMinRows: 0,
        onFilesWorker: (w) => void w.terminate(),
      }),
    ).rejects.toThrow('the files worker ended before its answer');
  }, 300_000);

  it('a files worker out of memory fails the report', async () => {
    const store = new BlobStore(dir);
    await expect(
      writeReportBlobs(store, bigReport(20_000, 1), undefined, {
        filesWorkerMinRows: 0,
        // A young generation of 1 MiB and an old one of 1 MiB: the worker cannot start.
        filesWorkerLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 },
      }),
    ).rejects.toThrow(/memory/i);
  }, 300_000);

  it('a thread terminated mid-report (a shutdown) ends its files worker too', async () => {
    const report = bigReport(30_000, 1);
    const reportJson = JSON.stringify(report);
    // libuv's thread pool (zlib's) started before the count: it stays for the process.
    await promisify(gzip)('warm');
    const before = threads();
    // The pool's Node flags for its workers (built JavaScript: no "source" condition).
    const host = new Worker(new URL('./files-host.mjs', import.meta.url), { execArgv: workerExecArgv([]) });
    const seen = await new Promise<{ filesWorker?: number; blobs?: unknown; error?: string }>((resolve) => {
      host.on('message', resolve);
      host.on('error', (e) => resolve({ error: String(e) }));
      host.on('exit', (code) => resolve({ error: `exit ${code}` }));
      host.postMessage({ dataDir: dir, reportJson });
    });
    // The files worker has started and the host is writing the report's blobs: end the host.
    expect(seen).toEqual({ filesWorker: expect.any(Number) });
    await host.terminate();
    // Both threads are gone (the files worker's thread ended with its parent).
    for (let i = 0; i < 100 && threads() > before; i++) await new Promise((r) => setTimeout(r, 50));
    expect(threads()).toBeLessThanOrEqual(before);
  }, 300_000);
});
