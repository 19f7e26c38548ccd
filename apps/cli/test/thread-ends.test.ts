/**
 * How the CLI's worker threads end (docs/development.md#how-worker-threads-end): after work that
 * went well, the shared scan's worker and the manifest threads end on their own (exit code 0,
 * no terminate() call) and the process is left with the threads it had before; after an error
 * they are still ended, and waited for. terminate() stops a thread wherever its JavaScript is,
 * which once aborted a CI run inside V8 (a background compile posting to a gone isolate).
 */
import { writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { manifestToNdjson, type ManifestHeader, type RecordFields } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import {
  threadCount,
  watchWorkers,
  type WorkerWatch,
} from '../../../packages/erofs/test/node/thread-watch.js';
import { parseCommandArgs } from '../src/args.js';
import { analyzeSpec, readManifests } from '../src/commands/analyze.js';
import { NdjsonSink } from '../src/commands/scan.js';
import { scanImageSplitTo } from '../src/images.js';
import type { Out } from '../src/io.js';
import { manifestWorkerScript } from '../src/manifest-threads.js';
import type { SplitSink } from '../src/scan-split.js';
import { splitWorkerScript } from '../src/scan-split-start.js';
import type { SplitEndMessage } from '../src/scan-split-protocol.js';
import { fx, tmp } from './helpers.js';

const nothing: Out = { write: () => true };

/** A sink that fails its `failAt`-th write of records (a closed pipe, a full disk). */
class FailingSink implements SplitSink {
  private writes = 0;
  constructor(
    private readonly inner: NdjsonSink,
    private readonly failAt: number,
  ) {}
  get heldBytes(): number {
    return this.inner.heldBytes;
  }
  holdUntilHeader(): void {
    this.inner.holdUntilHeader();
  }
  header(h: ManifestHeader): void | Promise<void> {
    return this.inner.header(h);
  }
  private count(): void {
    if (++this.writes >= this.failAt) throw new Error('EPIPE: the reader went away');
  }
  file(f: RecordFields): void | Promise<void> {
    this.count();
    return this.inner.file(f);
  }
  bytes(b: Uint8Array): void | Promise<void> {
    this.count();
    return this.inner.bytes(b);
  }
  end(): Promise<void> {
    return this.inner.end();
  }
}

/** A shared scan of `image` (split forced), into `sink`; its header, undefined when given back. */
async function sharedScan(
  image: string,
  mainSteps: number | undefined,
  sink: SplitSink & { end(): Promise<void> },
): Promise<unknown> {
  const opts = {
    devices: [],
    form: 'ndjson' as const,
    minInodes: 0,
    ...(mainSteps === undefined ? {} : { mainSteps }),
  };
  const header = await scanImageSplitTo(image, opts, () => sink);
  await sink.end();
  return header;
}

let watch: WorkerWatch | undefined;
afterEach(() => {
  watch?.restore();
  watch = undefined;
});

describe.skipIf(!splitWorkerScript())("the shared scan's worker", () => {
  it('ends on its own after a scan that went well (exit 0, no terminate), its thread gone', async () => {
    // Once before counting: the first scan starts libuv's thread pool, which stays.
    await sharedScan(fx('edge.img'), 1, new NdjsonSink(nothing));
    const before = threadCount();
    watch = watchWorkers();
    // The worker walks steps (mainSteps 1), or the two threads race for them (default).
    for (const [name, mainSteps] of [
      ['edge.img', 1],
      ['base-v2.fp.img', 0],
      ['app.fp.img', undefined],
    ] as const)
      expect(await sharedScan(fx(name), mainSteps, new NdjsonSink(nothing)), name).toBeDefined();
    expect(watch.terminated()).toBe(0);
    expect(watch.exits).toStrictEqual([0, 0, 0]);
    expect(threadCount()).toBe(before);
  }, 60_000);

  it('is still ended, and waited for, when the scan fails', async () => {
    await sharedScan(fx('edge.img'), 1, new NdjsonSink(nothing));
    const before = threadCount();
    watch = watchWorkers();
    await expect(
      sharedScan(fx('base-v2.fp.img'), 1, new FailingSink(new NdjsonSink(nothing), 3)),
    ).rejects.toThrow(/EPIPE/);
    expect(watch.exits).toHaveLength(1);
    expect(threadCount()).toBe(before);
  }, 60_000);

  it('started ahead and not taken: told to end, it ends on its own', async () => {
    watch = watchWorkers();
    // As prestartSplitWorker() starts it: no workerData, it waits for its first message.
    const w = new Worker(splitWorkerScript()!, { execArgv: [], trackUnmanagedFds: false });
    const exit = once(w, 'exit');
    w.postMessage({ end: true } satisfies SplitEndMessage);
    expect((await exit)[0]).toBe(0);
    expect(watch.terminated()).toBe(0);
  }, 60_000);
});

describe.skipIf(!manifestWorkerScript())('the manifest threads of analyze', () => {
  const read = (files: string[]) =>
    readManifests(parseCommandArgs(analyzeSpec, files), { hash: false, threads: 0 }, 'flattened', undefined, {
      cores: 3,
      minBytes: { text: 0, gzip: 0, parquet: 0 },
    });

  async function manifestFiles(): Promise<string[]> {
    const dir = tmp();
    const files: string[] = [];
    for (const name of ['app.fp.img', 'base-v2.fp.img', 'edge.img']) {
      const file = join(dir, `${name}.ndjson`);
      writeFileSync(file, [...manifestToNdjson(await scanImageFile(fx(name)))].join(''));
      files.push(file);
    }
    return files;
  }

  it('end on their own once they have read their files (exit 0, no terminate), their threads gone', async () => {
    const files = await manifestFiles();
    await read(files);
    const before = threadCount();
    watch = watchWorkers();
    expect(await read(files)).toHaveLength(3);
    expect(watch.terminated()).toBe(0);
    // Two threads beside the main thread (3 cores): each read one file, its last.
    expect(watch.exits).toStrictEqual([0, 0]);
    expect(threadCount()).toBe(before);
  }, 60_000);

  it('are still ended, and waited for, when an input fails', async () => {
    const files = await manifestFiles();
    await read(files);
    const before = threadCount();
    watch = watchWorkers();
    const bad = join(tmp(), 'bad.ndjson');
    writeFileSync(bad, '{"not a manifest"\n');
    await expect(read([bad, ...files])).rejects.toThrow(/bad\.ndjson/);
    expect(watch.exits).toHaveLength(2);
    expect(threadCount()).toBe(before);
  }, 60_000);
});
