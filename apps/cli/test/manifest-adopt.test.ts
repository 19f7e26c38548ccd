/**
 * `sharemap analyze` of a pair of large manifest files reads both on threads (allOnThreads,
 * docs/benchmarks.md#analyze-stage2-both-manifests-read-on-threads-2026-12-07): each thread hands
 * its file's fingerprints over deduplicated and hashed with the main thread's seed
 * (TransferredManifest.distinct), and the main thread adopts the paths and columns and resolves
 * each distinct fingerprint once. That gives the columns, StringTable and report of the
 * sequential read, for paths JSON escapes or that are not ASCII, fingerprints only in one file,
 * at other records, repeated or absent; a hostile line in either file is the sequential read's
 * error, naming the file and the line.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  manifestColumns,
  manifestToNdjson,
  parseManifestBytes,
  StringTable,
  type FileRecord,
  type Manifest,
} from '@sharemap/erofs';
import { manifestToParquet } from '@sharemap/erofs/parquet';
import {
  manifestForTransfer,
  manifestFromTransfer,
  ManifestStringsHandover,
  scanImageFile,
  STRING_HASH_SEED,
} from '@sharemap/erofs/node';
import { jsonBytes } from '@sharemap/report-wire';
import { parseCommandArgs } from '../src/args.js';
import { runAnalysis } from '../src/analysis.js';
import { analyzeSpec, readManifests } from '../src/commands/analyze.js';
import { CliError } from '../src/errors.js';
import { allOnThreads, MANIFEST_THREADS_CHANNEL, manifestWorkerScript } from '../src/manifest-threads.js';
import { fx, tmp } from './helpers.js';

const EVERY_SIZE = { text: 0, gzip: 0, parquet: 0 };
/** Paths JSON escapes or that are not ASCII (the lone surrogate: NDJSON only). */
const ODD = ['/a"quote', '/b\\back', '/c\x01\x1f\x7fctl', '/d\u00e9t\u00e9', '/f\u{1F600}', '/g\ttab\nnl'];
const LONE = '/e\ud800lone';
const ndjson = (m: Manifest): string => [...manifestToNdjson(m)].join('');

/**
 * `m` with a regular file copied under each of `names`, and fingerprints changed as the pair
 * needs: `own` (a value no other file has) on the first fingerprinted file, the value of the
 * last fingerprinted file on the second (the same value twice, at other records than in the
 * other file), none on the third.
 */
function variant(m: Manifest, names: string[], own: string): Manifest {
  const files: FileRecord[] = m.files.map((f) => ({ ...f }));
  const reg = files.find((f) => f.type === 'file' && f.fingerprint !== null)!;
  for (const path of names) files.push({ ...reg, path });
  files.sort((x, y) => Buffer.compare(Buffer.from(x.path), Buffer.from(y.path)));
  const fp = files.filter((f) => f.type === 'file' && f.fingerprint !== null);
  fp[0]!.fingerprint = own;
  fp[1]!.fingerprint = fp[fp.length - 1]!.fingerprint;
  fp[2]!.fingerprint = null;
  return { ...m, file_count: files.length, files };
}

async function pair(): Promise<[Manifest, Manifest]> {
  const a = await scanImageFile(fx('base-v1.fp.img'));
  const b = await scanImageFile(fx('base-v2.fp.img'));
  return [
    variant(a, [...ODD, LONE], '7368613235363a' + 'aa'.repeat(32)),
    variant(b, [ODD[0]!, ODD[3]!, LONE], '7368613235363a' + 'bb'.repeat(32)),
  ];
}

/** readManifests of `files`, and the files it gave to threads. */
async function read(files: string[], cores: number): Promise<{ manifests: Manifest[]; onThreads: string[] }> {
  const onThreads: string[] = [];
  const seen = (m: unknown): void => {
    onThreads.push((m as { path: string }).path);
  };
  subscribe(MANIFEST_THREADS_CHANNEL, seen);
  try {
    const args = parseCommandArgs(analyzeSpec, files);
    const manifests = await readManifests(args, { hash: false, threads: 0 }, 'flattened', undefined, {
      cores,
      minBytes: EVERY_SIZE,
    });
    return { manifests, onThreads };
  } finally {
    unsubscribe(MANIFEST_THREADS_CHANNEL, seen);
  }
}

async function failure(p: Promise<unknown>): Promise<{ message: string; exitCode: number } | string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return e instanceof CliError ? { message: e.message, exitCode: e.exitCode } : `not a CliError: ${String(e)}`;
  }
}

/** The report of `manifests` (JSON.stringify's and jsonBytes'). */
async function reportOf(manifests: Manifest[]): Promise<[string, string]> {
  const { report } = await runAnalysis({
    manifests,
    mounts: [],
    mapping: {},
    publishers: {},
    createdAt: '2026-12-07T00:00:00.000Z',
  });
  return [JSON.stringify(report), Buffer.concat([...jsonBytes(report, 64)]).toString('utf8')];
}

function expectSameColumns(got: Manifest, want: Manifest, what: string): void {
  const g = manifestColumns(got)!;
  const w = manifestColumns(want)!;
  expect(g.n, what).toBe(w.n);
  expect(g.pathStore, what).not.toBeNull();
  for (let i = 0; i < g.n; i++) expect(g.pathAt(i), what).toBe(w.pathAt(i));
  expect(g.fingerprint.slice(0, g.n), what).toStrictEqual(w.fingerprint.slice(0, w.n));
  expect(Array.from(g.fingerprintIndex!), what).toStrictEqual(Array.from(w.fingerprintIndex!));
  expect(got.files, what).toStrictEqual(want.files);
}

const tableStrings = (m: Manifest): string[] => {
  const t = manifestColumns(m)!.strings!;
  return Array.from({ length: t.size }, (_, i) => t.stringAt(i)!);
};

describe('allOnThreads', () => {
  it('puts every file on a thread only when all inputs are candidates and each has a core', () => {
    expect(allOnThreads(2, 2, 2)).toBe(true);
    expect(allOnThreads(2, 3, 2)).toBe(false); // an image or a small file: the main thread reads it
    expect(allOnThreads(3, 3, 2)).toBe(false); // more files than cores
    expect(allOnThreads(2, 2, 1)).toBe(false);
    expect(allOnThreads(1, 1, 8)).toBe(false);
    expect(allOnThreads(2, 2, 8, 1)).toBe(false); // SHAREMAP_MANIFEST_THREADS=1
  });
});

describe('fingerprints handed over deduplicated', () => {
  it('are taken as the per-record handover takes them, after another manifest and with a foreign seed', async () => {
    const [a, b] = await pair();
    for (const text of [ndjson(a), ndjson(b)]) {
      const bytes = Buffer.from(text);
      const take = (seed: number | undefined, strings: StringTable, previous: Manifest | null): Manifest => {
        const handOver = new ManifestStringsHandover(seed);
        const m = parseManifestBytes(bytes, { columnar: true, handOver });
        const { message } = manifestForTransfer(m, handOver.strings());
        expect(!!message.distinct).toBe(seed !== undefined);
        return manifestFromTransfer(
          structuredClone(message),
          strings,
          previous ? manifestColumns(previous) : null,
          { pathBytes: true },
        );
      };
      const first = parseManifestBytes(Buffer.from(ndjson(a)), {
        strings: new StringTable(),
        columnar: true,
        pathBytes: true,
      });
      for (const seed of [STRING_HASH_SEED, STRING_HASH_SEED ^ 0x5a5a5a5a]) {
        const s1 = new StringTable();
        const s2 = new StringTable();
        expectSameColumns(take(seed, s1, null), take(undefined, s2, null), 'alone');
        // After the first file, taking its equal values at equal records.
        const want = new StringTable();
        const prevWant = parseManifestBytes(Buffer.from(ndjson(a)), { strings: want, columnar: true, pathBytes: true });
        const got = new StringTable();
        const prevGot = parseManifestBytes(Buffer.from(ndjson(a)), { strings: got, columnar: true, pathBytes: true });
        expectSameColumns(take(seed, got, prevGot), take(undefined, want, prevWant), 'after');
        expect(tableStrings(prevGot)).toStrictEqual(tableStrings(prevWant));
      }
      expect(manifestColumns(first)!.n).toBe(a.files.length);
    }
  });

  it('refuses a handover whose fingerprint ids point past its values', async () => {
    const [a] = await pair();
    const handOver = new ManifestStringsHandover(STRING_HASH_SEED);
    const m = parseManifestBytes(Buffer.from(ndjson(a)), { columnar: true, handOver });
    const { message } = manifestForTransfer(m, handOver.strings());
    const bad = structuredClone(message);
    bad.distinct!.ids[3] = bad.distinct!.hashes.length;
    expect(() => manifestFromTransfer(bad, new StringTable(), null, { pathBytes: true })).toThrow(
      /malformed: fingerprint id of record 3/,
    );
  });
});

describe.skipIf(!manifestWorkerScript())('a pair read on two threads and adopted', () => {
  it('gives the columns, table and report of the sequential read (NDJSON and Parquet)', async () => {
    const [a, b] = await pair();
    const dir = tmp();
    const forms: [string, (m: Manifest) => string | Uint8Array][] = [
      ['ndjson', ndjson],
      // Parquet is UTF-8: no lone surrogate.
      [
        'parquet',
        (m) => manifestToParquet({ ...m, file_count: m.files.length - 1, files: m.files.filter((f) => f.path !== LONE) }),
      ],
    ];
    for (const [ext, write] of forms) {
      const fa = join(dir, `a.${ext}`);
      const fb = join(dir, `b.${ext}`);
      writeFileSync(fa, write(a));
      writeFileSync(fb, write(b));
      const seq = await read([fa, fb], 1);
      expect(seq.onThreads).toStrictEqual([]);
      const both = await read([fa, fb], 2);
      expect([...both.onThreads].sort(), ext).toStrictEqual([fa, fb].sort());
      for (const k of [0, 1]) expectSameColumns(both.manifests[k]!, seq.manifests[k]!, `${ext} ${k}`);
      expect(tableStrings(both.manifests[0]!)).toStrictEqual(tableStrings(seq.manifests[0]!));
      expect(manifestColumns(both.manifests[1]!)!.strings).toBe(manifestColumns(both.manifests[0]!)!.strings);
      const [json, bytes] = await reportOf(both.manifests);
      const [wantJson] = await reportOf(seq.manifests);
      expect(json, ext).toBe(wantJson);
      expect(bytes, ext).toBe(wantJson);
    }
  }, 120_000);

  it('reports a hostile line in either file as the sequential read does, naming the file and line', async () => {
    const [a, b] = await pair();
    const dir = tmp();
    const good = [join(dir, 'a.ndjson'), join(dir, 'b.ndjson')];
    writeFileSync(good[0]!, ndjson(a));
    writeFileSync(good[1]!, ndjson(b));
    for (const [k, m] of [a, b].entries()) {
      const lines = ndjson(m).split('\n');
      lines[4] = lines[4]!.replace('"nlink":', '"nlink":-');
      const bad = join(dir, `bad-${k}.ndjson`);
      writeFileSync(bad, lines.join('\n'));
      const inputs = k === 0 ? [bad, good[1]!] : [good[0]!, bad];
      const want = await failure(read(inputs, 1));
      expect(want).toStrictEqual({
        message: expect.stringMatching(new RegExp(`bad-${k}\\.ndjson: manifest line 5, field nlink: `)),
        exitCode: 2,
      });
      expect(await failure(read(inputs, 2))).toStrictEqual(want);
    }
  }, 120_000);
});
