/**
 * `sharemap analyze` reads large manifest inputs on worker threads (manifest-threads.ts,
 * docs/cli.md#manifest-threads). What it reads that way is what it reads in one thread: every
 * form of the fleet's manifests (NDJSON, gzip NDJSON, JSON, gzip JSON, Parquet) gives the same
 * manifests, columns, strings and StringTable; a bad input gives the same one line and exit code,
 * and the first bad input in order is the one named; a thread that dies gives one line naming
 * the file it was reading. The threads are really used (counted on their diagnostics channel).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { StringTable } from '@sharemap/erofs';
import {
  manifestColumns,
  manifestToJson,
  manifestToNdjson,
  parseManifestBytes,
  type Manifest,
} from '@sharemap/erofs';
import { manifestToParquet } from '@sharemap/erofs/parquet';
import { scanImageFile } from '@sharemap/erofs/node';
import { parseCommandArgs } from '../src/args.js';
import { analyzeSpec, readManifests } from '../src/commands/analyze.js';
import { CliError } from '../src/errors.js';
import { manifestStringsHint } from '../src/manifest-file.js';
import {
  MANIFEST_THREADS_CHANNEL,
  MANIFEST_THREADS_ENV,
  manifestThreadCount,
  manifestWorkerScript,
  MIN_THREAD_BYTES,
  type ManifestReadReply,
  type ManifestReadRequest,
} from '../src/manifest-threads.js';
import { bigManifest } from './big-manifest.js';
import { cli, FLEET_IMAGES, fx, MAIN_JS, oneLine, tmp } from './helpers.js';

const EVERY_SIZE = { text: 0, gzip: 0, parquet: 0 };
const ndjsonOf = (m: Manifest): string => [...manifestToNdjson(m)].join('');

/** The manifests readManifests gives for `files`, and the paths it gave to threads. */
async function read(
  files: string[],
  opts: { cores: number; minBytes?: typeof MIN_THREAD_BYTES; script?: URL },
): Promise<{ manifests: Manifest[]; onThreads: string[] }> {
  const onThreads: string[] = [];
  const seen = (m: unknown): void => {
    onThreads.push((m as { path: string }).path);
  };
  subscribe(MANIFEST_THREADS_CHANNEL, seen);
  try {
    const args = parseCommandArgs(analyzeSpec, files);
    const manifests = await readManifests(args, { hash: false, threads: 0 }, 'flattened', undefined, opts);
    return { manifests, onThreads };
  } finally {
    unsubscribe(MANIFEST_THREADS_CHANNEL, seen);
  }
}

/** The error a read gives, as the CLI reports it (message and exit code). */
async function failure(p: Promise<unknown>): Promise<{ message: string; exitCode: number } | string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return e instanceof CliError
      ? { message: e.message, exitCode: e.exitCode }
      : `not a CliError: ${String(e)}`;
  }
}

function tableStrings(t: StringTable): string[] {
  return Array.from({ length: t.size }, (_, i) => t.stringAt(i)!);
}

/** The fleet's manifests written in every form a manifest file takes. */
async function fleetFiles(): Promise<string[]> {
  const dir = tmp();
  const files: string[] = [];
  const forms: [string, (m: Manifest) => Uint8Array | string][] = [
    ['ndjson', ndjsonOf],
    ['ndjson.gz', (m) => gzipSync(ndjsonOf(m))],
    ['json', manifestToJson],
    ['json.gz', (m) => gzipSync(manifestToJson(m))],
    ['parquet', manifestToParquet],
  ];
  for (const [k, name] of FLEET_IMAGES.entries()) {
    const m = await scanImageFile(fx(name), { hash: k % 2 === 0 });
    for (const [ext, write] of forms) {
      const file = join(dir, `${name}.${ext}`);
      writeFileSync(file, write(m));
      files.push(file);
    }
  }
  return files;
}

/** A report without its creation time, to compare two runs' `--json` output. */
const pinned = (json: string): string => JSON.stringify({ ...(JSON.parse(json) as object), createdAt: 0 });

/**
 * `analyze A B --json` with one manifest thread, then with none: B (and only B) goes to the
 * thread, and both runs give the same exit code, stderr and report. Returns the run without.
 */
async function analyzeOnOneThreadAndNone(a: string, b: string): Promise<Awaited<ReturnType<typeof cli>>> {
  const onThreads: string[] = [];
  const seen = (m: unknown): void => {
    onThreads.push((m as { path: string }).path);
  };
  subscribe(MANIFEST_THREADS_CHANNEL, seen);
  let threaded;
  try {
    threaded = await cli(['analyze', a, b, '--json'], { env: { [MANIFEST_THREADS_ENV]: '1' } });
  } finally {
    unsubscribe(MANIFEST_THREADS_CHANNEL, seen);
  }
  expect(onThreads).toStrictEqual([b]);
  const alone = await cli(['analyze', a, b, '--json'], { env: { [MANIFEST_THREADS_ENV]: '0' } });
  expect([threaded.code, threaded.stderr]).toStrictEqual([alone.code, alone.stderr]);
  expect(pinned(threaded.stdout)).toBe(pinned(alone.stdout));
  return alone;
}

describe('a manifest thread', () => {
  it('stays for the next file, and ends by itself once it has answered its last, the answer delivered first', async () => {
    const script = manifestWorkerScript();
    expect(script, 'the built worker (pnpm build)').toBeDefined();
    const m = await scanImageFile(fx('app.fp.img'));
    const file = join(tmp(), 'app.parquet');
    writeFileSync(file, manifestToParquet(m));
    // No flags: the compiled thread must not resolve the workspace to its TypeScript sources.
    const w = new Worker(script!, { execArgv: [] });
    try {
      const events: string[] = [];
      w.on('message', (r: ManifestReadReply) =>
        events.push('manifest' in r ? `${r.id}: ${r.manifest.n} records` : `${r.id}: error`),
      );
      const exit = new Promise<number>((resolve) =>
        w.on('exit', (code) => {
          events.push(`exit ${code}`);
          resolve(code);
        }),
      );
      w.postMessage({ id: 0, path: file, last: false } satisfies ManifestReadRequest);
      await once(w, 'message');
      // Still there: it answers a second request, its last, and then ends with code 0.
      w.postMessage({ id: 1, path: file, last: true } satisfies ManifestReadRequest);
      expect(await exit).toBe(0);
      expect(events).toStrictEqual([`0: ${m.file_count} records`, `1: ${m.file_count} records`, 'exit 0']);
    } finally {
      await w.terminate();
    }
  }, 120_000);
});

describe('manifestThreadCount', () => {
  it('starts one thread per core beside the main thread, for all but the file the main thread reads', () => {
    expect(manifestThreadCount(2, 2)).toBe(1);
    expect(manifestThreadCount(1, 8)).toBe(0); // one input: read here
    expect(manifestThreadCount(5, 1)).toBe(0); // one core: read here
    expect(manifestThreadCount(3, 8)).toBe(2);
    expect(manifestThreadCount(20, 64)).toBe(4);
  });
});

describe.skipIf(!manifestWorkerScript())('manifests read on threads', () => {
  it('gives, for every form of every fleet manifest, what one thread gives', async () => {
    const files = await fleetFiles();
    const one = await read(files, { cores: 1, minBytes: EVERY_SIZE });
    expect(one.onThreads).toStrictEqual([]);
    const threaded = await read(files, { cores: 3, minBytes: EVERY_SIZE });
    // Every file but the first (the main thread's own) went to a thread.
    expect([...threaded.onThreads].sort()).toStrictEqual(files.slice(1).sort());
    expect(threaded.manifests.length).toBe(files.length);
    threaded.manifests.forEach((m, i) => {
      const want = one.manifests[i]!;
      expect(m, files[i]).toStrictEqual(want);
      const g = manifestColumns(m);
      const w = manifestColumns(want);
      expect(!!g, files[i]).toBe(!!w);
      if (g && w) {
        expect(g.paths.slice(0, g.n)).toStrictEqual(w.paths.slice(0, w.n));
        expect(g.fingerprint.slice(0, g.n)).toStrictEqual(w.fingerprint.slice(0, w.n));
        for (let r = 0; r < g.n; r++) {
          const fp = g.fingerprint[r] ?? null;
          expect(g.fingerprintIndex![r]).toBe(fp === null ? -1 : g.strings!.indexOf(fp));
          if (w.fingerprintIndex) expect(g.fingerprintIndex![r]).toBe(w.fingerprintIndex[r]);
        }
      }
    });
    // One StringTable for every file, left in the order the sequential read leaves it.
    const table = (ms: Manifest[]): StringTable => manifestColumns(ms[0]!)!.strings!;
    expect(
      threaded.manifests.every(
        (m) => !manifestColumns(m)?.strings || manifestColumns(m)!.strings === table(threaded.manifests),
      ),
    ).toBe(true);
    expect(tableStrings(table(threaded.manifests))).toStrictEqual(tableStrings(table(one.manifests)));
  }, 300_000);

  it('names the first bad input in order, with the one line and exit code of a sequential read', async () => {
    const files = await fleetFiles();
    const dir = tmp();
    const badLine = join(dir, 'bad-line.ndjson');
    const lines = ndjsonOf(await scanImageFile(fx('app.fp.img'))).split('\n');
    lines[4] = lines[4]!.replace('"nlink":', '"nlink":-');
    writeFileSync(badLine, lines.join('\n'));
    const badGzip = join(dir, 'bad.ndjson.gz');
    writeFileSync(badGzip, gzipSync(ndjsonOf(await scanImageFile(fx('app.fp.img')))).subarray(0, 200));
    const missing = join(dir, 'missing.ndjson');
    for (const inputs of [
      [files[0]!, badLine, files[1]!],
      [files[0]!, files[3]!, badGzip, badLine],
      [files[2]!, badLine, badGzip],
      [badLine, files[0]!],
      [files[0]!, missing, files[1]!],
    ]) {
      const want = await failure(read(inputs, { cores: 1, minBytes: EVERY_SIZE }));
      expect(typeof want, inputs.join(' ')).toBe('object');
      expect(await failure(read(inputs, { cores: 4, minBytes: EVERY_SIZE }))).toStrictEqual(want);
    }
    const r = await failure(read([files[0]!, badLine], { cores: 2, minBytes: EVERY_SIZE }));
    expect(r).toStrictEqual({
      message: expect.stringMatching(/^\S+bad-line\.ndjson: manifest line 5, field nlink: /),
      exitCode: 2,
    });
  }, 300_000);

  it('a thread that dies is one line naming the file it was reading', async () => {
    const files = (await fleetFiles()).filter((f) => f.endsWith('.ndjson'));
    const dir = tmp();
    const exits = join(dir, 'exits.mjs');
    writeFileSync(
      exits,
      "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(7));\n",
    );
    const throws = join(dir, 'throws.mjs');
    writeFileSync(
      throws,
      "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => { throw new Error('out of\\nsorts'); });\n",
    );
    for (const [script, why] of [
      [exits, 'exited with code 7'],
      [throws, 'out of sorts'],
    ] as const) {
      const r = await failure(
        read(files, { cores: 2, minBytes: EVERY_SIZE, script: new URL(`file://${script}`) }),
      );
      expect(r).toStrictEqual({ message: `${files[1]}: the thread reading it stopped: ${why}`, exitCode: 2 });
    }
  }, 120_000);

  it('analyze reads two large manifests on a thread and reports what it reports without', async () => {
    const dir = tmp();
    const a = join(dir, 'a.ndjson');
    const b = join(dir, 'b.ndjson');
    // Past MIN_THREAD_BYTES.text (~290 bytes a record).
    const files = Math.ceil(MIN_THREAD_BYTES.text / 250);
    bigManifest(a, files, 0);
    bigManifest(b, files, 1);
    const alone = await analyzeOnOneThreadAndNone(a, b);
    // The built CLI as the scale benchmark runs it, under a heap limit: the thread takes the
    // process's flags (a Worker given --max-old-space-size in execArgv refuses to start).
    if (existsSync(MAIN_JS)) {
      const child = spawnSync(
        process.execPath,
        ['--max-old-space-size=512', MAIN_JS, 'analyze', a, b, '--json'],
        {
          env: { PATH: process.env.PATH ?? '', [MANIFEST_THREADS_ENV]: '1' },
          encoding: 'utf8',
          maxBuffer: 256 << 20,
          timeout: 240_000,
        },
      );
      expect([child.status, child.stderr]).toStrictEqual([alone.code, alone.stderr]);
      expect(pinned(child.stdout)).toBe(pinned(alone.stdout));
    }
    const bad = await cli(['analyze', a, b], { env: { [MANIFEST_THREADS_ENV]: 'many' } });
    expect([bad.code, oneLine(bad.stderr)]).toStrictEqual([
      2,
      'sharemap: SHAREMAP_MANIFEST_THREADS must be a count of threads (0 for none), not "many"',
    ]);
  }, 300_000);

  it('analyze reads the second of two large Parquet manifests on a thread by default, with the same report', async () => {
    const dir = tmp();
    const parquet = (name: string, version: number): string => {
      const text = join(dir, `${name}.ndjson`);
      // ~17 bytes a record in Parquet: past MIN_THREAD_BYTES.parquet.
      bigManifest(text, 100_000, version);
      const file = join(dir, `${name}.parquet`);
      writeFileSync(file, manifestToParquet(parseManifestBytes(readFileSync(text))));
      return file;
    };
    const a = parquet('a', 0);
    const b = parquet('b', 1);
    expect(statSync(b).size).toBeGreaterThan(MIN_THREAD_BYTES.parquet);
    // One thread (two cores), and the default MIN_THREAD_BYTES: a Parquet file this size is a candidate.
    await analyzeOnOneThreadAndNone(a, b);
  }, 300_000);
});

describe('the StringTable of an analysis', () => {
  it('is reserved for every manifest file before any is read: no string is re-placed when the second is interned', async () => {
    const dir = tmp();
    // 1,002 records, 1,100 distinct fingerprints (paths stay bytes): past half of what the first
    // header alone reserves (1,002 strings: a table of 2,048 slots, 1,024 strings) once the
    // second's 100 new fingerprints come.
    const a = join(dir, 'a.ndjson');
    const b = join(dir, 'b.ndjson');
    bigManifest(a, 1000, 0);
    bigManifest(b, 1000, 1);
    const pa = join(dir, 'a.parquet');
    const pb = join(dir, 'b.parquet');
    writeFileSync(pa, manifestToParquet(parseManifestBytes(readFileSync(a))));
    writeFileSync(pb, manifestToParquet(parseManifestBytes(readFileSync(b))));
    const coreCounts = manifestWorkerScript() ? [1, 2] : [1];
    for (const pair of [
      [a, b],
      [pa, pb],
      [a, pb],
    ])
      for (const cores of coreCounts) {
        const { manifests } = await read(pair, { cores, minBytes: EVERY_SIZE });
        const table = manifestColumns(manifests[0]!)!.strings!;
        expect(manifestColumns(manifests[1]!)!.strings).toBe(table);
        // The fingerprints (1,000 + the second's 100 new ones; the paths stay bytes, not interned).
        expect(table.size, `${pair.join(' ')} on ${cores} cores`).toBe(1100);
        expect(table.rehashedStrings, `${pair.join(' ')} on ${cores} cores`).toBe(0);
      }
  }, 120_000);

  it('takes what each file declares from its header or Parquet footer, nothing from what it cannot see', async () => {
    const dir = tmp();
    const m = await scanImageFile(fx('app.fp.img'), { hash: true });
    const text = ndjsonOf(m);
    const write = (name: string, data: string | Uint8Array): { size: number; head: Uint8Array } => {
      writeFileSync(join(dir, name), data);
      const bytes = readFileSync(join(dir, name));
      return { size: bytes.length, head: bytes.subarray(0, 64 * 1024) };
    };
    const hint = (name: string, data: string | Uint8Array): Promise<number> =>
      manifestStringsHint(join(dir, name), write(name, data));
    expect(m.file_count).toBeGreaterThan(0);
    // hashed: fingerprint, sha256 (the path stays bytes)
    expect(await hint('m.ndjson', text)).toBe(2 * m.file_count);
    expect(await hint('m.parquet', manifestToParquet(m))).toBe(2 * m.file_count);
    const unhashed = await scanImageFile(fx('app.fp.img'));
    expect(await hint('u.ndjson', ndjsonOf(unhashed))).toBe(unhashed.file_count);
    expect(await hint('m.ndjson.gz', gzipSync(text))).toBe(0);
    expect(await hint('cut.ndjson', text.slice(0, text.indexOf('\n')))).toBe(0); // no complete first line
    const claim = text.replace(/"file_count":\d+/, '"file_count":-1');
    expect(await hint('bad.ndjson', claim)).toBe(0);
    expect(await hint('cut.parquet', manifestToParquet(m).subarray(0, 1000))).toBe(0);
  });
});
