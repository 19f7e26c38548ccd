/**
 * The worker pool (src/scan/pool.ts) on real scans of fixture images in the built worker
 * (dist/scan/worker.js): scan workers are kept and reused, a scan past its time limit is still
 * ended with its thread, and the next scan then runs on a fresh one.
 */
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TaskError, WorkerPool } from '../../src/scan/pool.js';
import type { PredictResult, PredictTask, ScanResult, ScanTask } from '../../src/scan/tasks.js';
import { BlobStore } from '../../src/storage/blobs.js';
import { ensureBuilt, erofs, HOLD_SCAN_FLAGS, repo, tempDir } from '../helpers.js';
import {
  threadCount,
  threadCountBackTo,
  watchWorkers,
  type WorkerWatch,
} from '../../../../packages/erofs/test/node/thread-watch.js';
import { join } from 'node:path';

/** The test-only hold (hold-scan.mjs, docs/development.md#holding-a-scan): this name never ends. */
const HELD = 'held.img';
const HEAP_MB = 512;

describe('worker pool', () => {
  let dataDir = '';
  const images: Record<string, ScanTask['image']> = {};
  const pools: WorkerPool[] = [];
  beforeAll(async () => {
    ensureBuilt();
    dataDir = tempDir('sharemap-pool-');
    const store = new BlobStore(dataDir);
    for (const name of ['base-v1.fp.img', 'edge.img', 'app.fp.lz4hc.img']) {
      const bytes = readFileSync(erofs(name));
      const blob = await store.put(bytes);
      images[name] = { sha256: blob.sha256, name, size: bytes.length };
    }
    // Read by the hold preload in each worker (Worker's env defaults to process.env).
    process.env.SHAREMAP_TEST_HOLD_SCAN = HELD;
  }, 120_000);
  let watch: WorkerWatch | undefined;
  afterEach(async () => {
    watch?.restore();
    watch = undefined;
    for (const p of pools.splice(0)) await p.close();
  });
  afterAll(() => {
    delete process.env.SHAREMAP_TEST_HOLD_SCAN;
    rmSync(dataDir, { recursive: true, force: true });
  });

  const task = (image: ScanTask['image']): ScanTask => ({
    kind: 'scan',
    dataDir,
    image,
    devices: [],
    maxFiles: 1_000_000,
    timeoutMs: 600_000,
  });
  const expectedFiles = (name: string): number =>
    (
      JSON.parse(readFileSync(erofs(name.replace(/\.img$/, '.expected.json')), 'utf8')) as {
        files: unknown[];
      }
    ).files.length;

  it('runs scans one after the other on one kept worker thread', async () => {
    const pool = new WorkerPool(1, 10, HEAP_MB, { reuse: ['scan'] });
    pools.push(pool);
    for (const name of ['base-v1.fp.img', 'edge.img', 'app.fp.lz4hc.img', 'base-v1.fp.img']) {
      const r = await pool.run<ScanResult>(task(images[name]!), { timeoutMs: 600_000 });
      expect(r.header.file_count).toBe(expectedFiles(name));
    }
    expect(pool.workersStarted).toBe(1);
    expect(pool.idleWorkers).toBe(1);
    expect(await pool.close()).toBe(0);
    expect(pool.idleWorkers).toBe(0);
  }, 300_000);

  it('without reuse, starts a worker per task', async () => {
    const pool = new WorkerPool(1, 10, HEAP_MB);
    pools.push(pool);
    await pool.run<ScanResult>(task(images['edge.img']!), { timeoutMs: 600_000 });
    await pool.run<ScanResult>(task(images['edge.img']!), { timeoutMs: 600_000 });
    expect(pool.workersStarted).toBe(2);
    expect(pool.idleWorkers).toBe(0);
  }, 300_000);

  // docs/development.md#how-worker-threads-end: a worker whose task finished (done or refused)
  // is told to end and ends on its own, with the archive digest thread it started; a kept one
  // the same at close().
  it('a worker whose task finished, not kept or kept until close(), ends on its own (exit 0, no terminate)', async () => {
    const before = threadCount();
    watch = watchWorkers();
    const bytes = readFileSync(join(repo, 'testdata/oci/image.docker.tar'));
    const archive = { sha256: (await new BlobStore(dataDir).put(bytes)).sha256, name: 'image.docker.tar' };
    const predict: PredictTask = {
      kind: 'predict',
      dataDir,
      archive,
      model: 'flattened',
      maxFiles: 1_000_000,
    };
    const fresh = new WorkerPool(1, 10, HEAP_MB);
    pools.push(fresh);
    await fresh.run<ScanResult>(task(images['edge.img']!), { timeoutMs: 600_000 });
    await fresh.run<PredictResult>(predict, { timeoutMs: 600_000 });
    const kept = new WorkerPool(1, 10, HEAP_MB, { reuse: ['scan', 'predict'] });
    pools.push(kept);
    await kept.run<PredictResult>(predict, { timeoutMs: 600_000 });
    expect(await fresh.close()).toBe(0);
    expect(await kept.close()).toBe(0);
    expect(watch.terminated()).toBe(0);
    expect(watch.exits).toStrictEqual([0, 0, 0]);
    // The workers' threads and those they started (digest threads) are gone.
    expect(await threadCountBackTo(before)).toBe(before);
  }, 300_000);

  it('ends a scan that never finishes at its wall-clock ceiling; the next scan runs on a fresh worker', async () => {
    const before = threadCount();
    watch = watchWorkers();
    const pool = new WorkerPool(1, 10, HEAP_MB, { reuse: ['scan'], workerFlags: HOLD_SCAN_FLAGS });
    pools.push(pool);
    await pool.run<ScanResult>(task(images['edge.img']!), { timeoutMs: 600_000 });
    const held = { ...images['edge.img']!, name: HELD };
    let started = false;
    // The hold reports its start (a progress message), then waits forever: only the limit ends it.
    const err = await pool
      // Held, its thread uses no CPU: the wall-clock ceiling ends it.
      .run<ScanResult>(task(held), {
        timeoutMs: 10_000,
        wallTimeoutMs: 10_000,
        onProgress: () => (started = true),
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(started).toBe(true);
    expect(err).toBeInstanceOf(TaskError);
    expect((err as TaskError).code).toBe('timeout');
    const r = await pool.run<ScanResult>(task(images['base-v1.fp.img']!), { timeoutMs: 600_000 });
    expect(r.header.file_count).toBe(expectedFiles('base-v1.fp.img'));
    // The first worker ran a scan and the held one; the held one's was terminated.
    expect(pool.workersStarted).toBe(2);
    expect(await pool.close()).toBe(0);
    // Terminated (the held one) or told to end (the fresh one, at close()): both threads gone.
    expect(watch.terminated()).toBe(1);
    expect(watch.exits).toHaveLength(2);
    expect(await threadCountBackTo(before)).toBe(before);
  }, 300_000);

  it('keeps a worker whose scan was refused (an error of the reader, not of the thread)', async () => {
    const pool = new WorkerPool(1, 10, HEAP_MB, { reuse: ['scan'] });
    pools.push(pool);
    // A blob that is not an EROFS image: the reader refuses it, the worker lives on.
    const store = new BlobStore(dataDir);
    const junk = await store.put(Buffer.alloc(8192, 7));
    const refused = await pool
      .run<ScanResult>(task({ sha256: junk.sha256, name: 'junk.img', size: 8192 }), { timeoutMs: 600_000 })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(refused).toBeInstanceOf(TaskError);
    const r = await pool.run<ScanResult>(task(images['edge.img']!), { timeoutMs: 600_000 });
    expect(r.header.file_count).toBe(expectedFiles('edge.img'));
    expect(pool.workersStarted).toBe(1);
  }, 300_000);

  // Archive predictions share the server's scan pool (routes/archives.ts) and keep their
  // thread too (context.ts): its digest thread (@sharemap/oci/node) stays with it and serves
  // the next prediction. The manifests are those of a prediction on a fresh thread.
  it('runs predictions and scans one after the other on one kept worker thread', async () => {
    const bytes = readFileSync(join(repo, 'testdata/oci/image.docker.tar'));
    const archive = { sha256: (await new BlobStore(dataDir).put(bytes)).sha256, name: 'image.docker.tar' };
    const predict = (model: PredictTask['model']): PredictTask => ({
      kind: 'predict',
      dataDir,
      archive,
      model,
      maxFiles: 1_000_000,
    });
    const fresh = new WorkerPool(1, 10, HEAP_MB);
    pools.push(fresh);
    const expected = {
      layers: await fresh.run<PredictResult>(predict('layers'), { timeoutMs: 600_000 }),
      flattened: await fresh.run<PredictResult>(predict('flattened'), { timeoutMs: 600_000 }),
    };
    expect(expected.layers.manifests.length).toBe(3); // 3 layers (testdata/oci/README.fixtures.md)
    expect(expected.flattened.manifests.length).toBe(1);
    const pool = new WorkerPool(1, 10, HEAP_MB, { reuse: ['scan', 'predict'] });
    pools.push(pool);
    for (const model of ['layers', 'flattened', 'layers'] as const) {
      const r = await pool.run<PredictResult>(predict(model), { timeoutMs: 600_000 });
      expect(r).toEqual(expected[model]);
    }
    const s = await pool.run<ScanResult>(task(images['edge.img']!), { timeoutMs: 600_000 });
    expect(s.header.file_count).toBe(expectedFiles('edge.img'));
    const again = await pool.run<PredictResult>(predict('flattened'), { timeoutMs: 600_000 });
    expect(again).toEqual(expected.flattened);
    expect(pool.workersStarted).toBe(1);
    expect(pool.idleWorkers).toBe(1);
  }, 300_000);
});
