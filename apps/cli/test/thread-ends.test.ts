/**
 * How the CLI's worker threads end (docs/development.md#how-worker-threads-end): after work that
 * went well, the shared scan's worker and the manifest threads end on their own (exit code 0,
 * no terminate() call) and the process is left with the threads it had before; after an error
 * they are still ended, and waited for. terminate() stops a thread wherever its JavaScript is,
 * which once aborted a CI run inside V8 (a background compile posting to a gone isolate).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  manifestToNdjson,
  parseManifestBytes,
  type ManifestHeader,
  type RecordFields,
} from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { manifestToParquet } from '@sharemap/erofs/parquet';
import { corruptPclusterImage } from '../../../packages/erofs/test/node/bad-pcluster.js';
import {
  threadCount,
  threadCountBackTo,
  watchWorkers,
  type WorkerWatch,
} from '../../../packages/erofs/test/node/thread-watch.js';
import { parseCommandArgs } from '../src/args.js';
import { analyzeSpec, readManifests } from '../src/commands/analyze.js';
import { NdjsonSink } from '../src/commands/scan.js';
import { scanImageSplitTo } from '../src/images.js';
import type { Out } from '../src/io.js';
import { MANIFEST_THREADS_ENV, manifestWorkerScript } from '../src/manifest-threads.js';
import type { SplitSink } from '../src/scan-split.js';
import { DIGEST_THREADS_MIN_BYTES_ENV, splitWorkerScript } from '../src/scan-split-start.js';
import type { SplitEndMessage } from '../src/scan-split-protocol.js';
import { bigManifest } from './big-manifest.js';
import { fx, haveBuild, MAIN_JS, tmp } from './helpers.js';

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
    expect(await threadCountBackTo(before)).toBe(before);
  }, 60_000);

  it('is still ended, and waited for, when the scan fails', async () => {
    await sharedScan(fx('edge.img'), 1, new NdjsonSink(nothing));
    const before = threadCount();
    watch = watchWorkers();
    await expect(
      sharedScan(fx('base-v2.fp.img'), 1, new FailingSink(new NdjsonSink(nothing), 3)),
    ).rejects.toThrow(/EPIPE/);
    expect(watch.exits).toHaveLength(1);
    expect(await threadCountBackTo(before)).toBe(before);
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
    expect(await threadCountBackTo(before)).toBe(before);
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
    expect(await threadCountBackTo(before)).toBe(before);
  }, 60_000);
});

/** How thread-end-report.mjs says a thread of the built CLI ended. */
interface ThreadEnd {
  /** The code of its 'exit' event; null: it had not ended when the process exited. */
  exit: number | null;
  /** terminate() was called on it. */
  terminated: boolean;
}

const REPORT = new URL('./thread-end-report.mjs', import.meta.url).href;

/**
 * The built CLI as a child process, watched by thread-end-report.mjs: its exit code, output
 * (without the report's lines) and how each of its threads ended. Bounded: a child still
 * running after 60 s is killed, and its status (null) fails the test; nothing is timed.
 */
function watchedCli(
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; stdout: string; stderr: string; threads: ThreadEnd[]; exitCalls: number } {
  const r = spawnSync(process.execPath, ['--import', REPORT, MAIN_JS, ...args], {
    cwd: tmp(),
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 60_000,
  });
  const lines = r.stderr.split('\n');
  const report = lines.filter((l) => l.startsWith('thread-ends: ['));
  expect(report, r.stderr).toHaveLength(1);
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: lines.filter((l) => !l.startsWith('thread-ends: ')).join('\n'),
    threads: JSON.parse(report[0]!.slice('thread-ends: '.length)) as ThreadEnd[],
    exitCalls: lines.filter((l) => l === 'thread-ends: process.exit in a thread').length,
  };
}

const onItsOwn: ThreadEnd = { exit: 0, terminated: false };

/**
 * The built CLI, as a user runs it: after a command that went well every thread it started has
 * ended on its own (exit code 0, no terminate(), no process.exit() in it) before the process
 * exits, and the process exits by itself. The first attempt (worker-exit, reverted) failed the
 * first case: its digest thread ended, but the wait for its 'exit' ran out its 30 s bound and
 * terminated it (docs/benchmarks.md, worker-exit2).
 */
describe.skipIf(!haveBuild())('the built CLI (a child process)', () => {
  // The fixtures are below DIGEST_THREADS_MIN_BYTES: the default case lowers it to 0, so that
  // their scan starts its threads ahead as a large image's does.
  const ahead = { [DIGEST_THREADS_MIN_BYTES_ENV]: '0' };
  it.each([
    ['threads started ahead (the default)', [], ahead],
    ["the pool's own threads", ['--threads', '2'], {}],
    ['one thread', ['--threads', '1'], {}],
  ])(
    'scan --hash, %s: its digest threads end on their own',
    (_, threads, env) => {
      for (const name of ['app.fp.img', 'edge.lz4.img']) {
        const alone = watchedCli(['scan', fx(name), '--hash', '--ndjson', '--threads', '0']);
        expect([alone.code, alone.stderr, alone.threads]).toStrictEqual([0, '', []]);
        const r = watchedCli(['scan', fx(name), '--hash', '--ndjson', ...threads], env);
        expect([r.code, r.stderr], name).toStrictEqual([0, '']);
        expect(r.stdout, name).toBe(alone.stdout);
        if (threads.length > 0 || availableParallelism() > 1)
          expect(r.threads.length, name).toBeGreaterThan(0);
        expect(r.threads, name).toStrictEqual(r.threads.map(() => onItsOwn));
        expect(r.exitCalls, name).toBe(0);
      }
    },
    120_000,
  );

  it('scan --hash of an image below DIGEST_THREADS_MIN_BYTES, default threads: none started, the same output', () => {
    const alone = watchedCli(['scan', fx('app.fp.img'), '--hash', '--ndjson', '--threads', '0']);
    const r = watchedCli(['scan', fx('app.fp.img'), '--hash', '--ndjson']);
    expect([r.code, r.stderr, r.threads, r.stdout]).toStrictEqual([0, '', [], alone.stdout]);
  }, 120_000);

  it('analyze --hash: its digest threads end on their own', () => {
    const images = ['base-v2.fp.forged.img', 'base-v2.fp.img', 'app.fp.lz4hc.img'].map(fx);
    const r = watchedCli(['analyze', ...images, '--hash', '--json', '--threads', '2']);
    expect([r.code, r.stderr]).toStrictEqual([0, '']);
    expect(r.threads.length).toBeGreaterThan(0);
    expect(r.threads).toStrictEqual(r.threads.map(() => onItsOwn));
    expect(r.exitCalls).toBe(0);
  }, 120_000);

  it('analyze of two Parquet manifests: its manifest thread ends on its own', () => {
    const dir = tmp();
    const files = ['a', 'b'].map((name, version) => {
      const text = join(dir, `${name}.ndjson`);
      // ~17 bytes a record in Parquet: past MIN_THREAD_BYTES.parquet, read on a thread.
      bigManifest(text, 100_000, version);
      const file = join(dir, `${name}.parquet`);
      writeFileSync(file, manifestToParquet(parseManifestBytes(readFileSync(text))));
      return file;
    });
    const alone = watchedCli(['analyze', ...files, '--json'], { [MANIFEST_THREADS_ENV]: '0' });
    expect([alone.code, alone.stderr, alone.threads]).toStrictEqual([0, '', []]);
    const r = watchedCli(['analyze', ...files, '--json'], { [MANIFEST_THREADS_ENV]: '1' });
    expect([r.code, r.stderr]).toStrictEqual([0, '']);
    const pinned = (json: string) => json.replace(/"createdAt":"[^"]*"/, '');
    expect(pinned(r.stdout)).toBe(pinned(alone.stdout));
    expect(r.threads).toStrictEqual([onItsOwn]);
    expect(r.exitCalls).toBe(0);
  }, 300_000);

  it('scan --hash of a corrupt pcluster: exit 2, its threads still ended before the process exits', async () => {
    const bad = await corruptPclusterImage(tmp());
    for (const threads of [[], ['--threads', '2']]) {
      const r = watchedCli(['scan', bad, '--hash', '--ndjson', ...threads]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('"/text.txt"');
      if (threads.length > 0) expect(r.threads.length).toBeGreaterThan(0);
      for (const t of r.threads) expect(t.exit).not.toBeNull();
    }
  }, 120_000);
});
