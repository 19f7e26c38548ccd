/**
 * `sharemap analyze` keeps the paths of the manifest files it reads as bytes (ParseManifestOptions.pathBytes,
 * ManifestColumns.pathStore; docs/benchmarks.md#analyze-paths-paths-as-bytes-2026-12-07): the NDJSON
 * reader (fast path and general parser), the Parquet reader and a thread's handover give the
 * same paths, records and StringTable fingerprints as the reading into strings, and the report's
 * JSON written from the bytes (jsonBytes) is JSON.stringify's, for paths JSON escapes (`"`, `\`,
 * control characters), UTF-8 ones and a lone surrogate (which only NDJSON can carry).
 */
import { describe, expect, it } from 'vitest';
import {
  manifestColumns,
  manifestToNdjson,
  parseManifestBytes,
  StringTable,
  type FileRecord,
  type Manifest,
} from '@sharemap/erofs';
import { manifestToParquet, parseParquetManifest } from '@sharemap/erofs/parquet';
import {
  manifestForTransfer,
  manifestFromTransfer,
  ManifestStringsHandover,
  scanImageFile,
} from '@sharemap/erofs/node';
import { attachedPathStore } from '@sharemap/sharing';
import { jsonBytes } from '@sharemap/report-wire';
import { runAnalysis } from '../src/analysis.js';
import { fx } from './helpers.js';
import { LONE_SURROGATE_PATH, ODD_PATHS, withPaths } from './odd-paths.js';

const ODD = ODD_PATHS;
const LONE = LONE_SURROGATE_PATH;

const ndjson = (m: Manifest): Uint8Array => Buffer.from([...manifestToNdjson(m)].join(''));

/** The manifest read as `sharemap analyze` reads it: columns, fingerprints in `strings`, paths as bytes. */
const asBytes = (bytes: Uint8Array, strings: StringTable): Manifest =>
  parseManifestBytes(bytes, { strings, columnar: true, pathBytes: true });

/** The same read on a thread's handover (manifest-read-worker.ts), taken as analyze takes it. */
function handedOver(bytes: Uint8Array, strings: StringTable): Manifest {
  const handOver = new ManifestStringsHandover();
  const m = parseManifestBytes(bytes, { columnar: true, handOver });
  const { message } = manifestForTransfer(m, handOver.strings());
  return manifestFromTransfer(structuredClone(message), strings, null, { pathBytes: true });
}

function expectSameManifest(got: Manifest, want: Manifest): void {
  const g = manifestColumns(got)!;
  expect(g.pathStore).not.toBeNull();
  expect(g.n).toBe(want.files.length);
  for (let i = 0; i < g.n; i++) expect(g.pathAt(i)).toBe(want.files[i]!.path);
  expect(g.paths).toStrictEqual(want.files.map((f) => f.path));
  expect(got.files).toStrictEqual(want.files);
}

/** The report's `--json` bytes (jsonBytes, in small pieces) as a string. */
const written = (v: unknown): string => Buffer.concat([...jsonBytes(v, 64)]).toString('utf8');

describe('paths kept as bytes', () => {
  it('reads every path as the strings reader does: NDJSON (fast path and escapes), Parquet, the handover', async () => {
    const base = await scanImageFile(fx('base-v1.fp.img'), { hash: true });
    const m = withPaths(base, [...ODD, LONE]);
    const text = ndjson(m);
    const want = parseManifestBytes(text);
    expect(want.files.map((f) => f.path)).toContain(LONE);
    for (const read of [asBytes, handedOver]) {
      const strings = new StringTable();
      const got = read(text, strings);
      expectSameManifest(got, want);
      // Only the fingerprints and digests are interned, not the paths.
      const cols = manifestColumns(got)!;
      for (let i = 0; i < cols.n; i++)
        if (cols.fingerprint[i] !== null) expect(cols.fingerprintIndex![i]).toBeGreaterThanOrEqual(0);
      expect(strings.indexOf('/a"quote')).toBe(-1);
    }
    // Parquet (UTF-8: no lone surrogate), on its column path.
    const pm = withPaths(base, ODD);
    const strings = new StringTable();
    const got = await parseParquetManifest(manifestToParquet(pm), {
      strings,
      columnar: true,
      pathBytes: true,
    });
    expectSameManifest(got, parseManifestBytes(ndjson(pm)));
  });

  it('writes the report JSON from the bytes exactly as JSON.stringify writes it from strings', async () => {
    const a = withPaths(await scanImageFile(fx('base-v1.fp.img'), { hash: true }), [...ODD, LONE]);
    const b = withPaths(await scanImageFile(fx('base-v2.fp.img'), { hash: true }), [ODD[0]!, ODD[3]!, LONE]);
    const analysis = (manifests: Manifest[]) =>
      runAnalysis({
        manifests,
        mounts: [],
        mapping: {},
        publishers: {},
        createdAt: '2026-12-07T00:00:00.000Z',
      });
    const want = JSON.stringify(
      (await analysis([parseManifestBytes(ndjson(a)), parseManifestBytes(ndjson(b))])).report,
    );
    const strings = new StringTable();
    const { report } = await analysis([asBytes(ndjson(a), strings), handedOver(ndjson(b), strings)]);
    for (const img of report.images) expect(attachedPathStore(report.paths, img.id)).not.toBeNull();
    // The trust model's example paths were read from the bytes, as the findings' are.
    expect(written(report)).toBe(want);
    expect(JSON.stringify(report)).toBe(want);
    // Once the strings are made (a reader asked for them), the writer gives the same bytes.
    expect(written(report)).toBe(want);
  });

  it('checks the order of ASCII paths as the strings reader does (fast path, handover, Parquet)', async () => {
    const base = await scanImageFile(fx('base-v1.fp.img'));
    // Records out of order, a duplicate, and a path that is a prefix of the one before, each at
    // several places (after an ASCII path, after one that is not: a general-parser line).
    const sorted = withPaths(base, ['/zz', '/zz/a', ODD[3]!, '/zzz']);
    const cases: [string, (f: FileRecord[]) => void][] = [
      ['swapped', (f) => ([f[5], f[6]] = [f[6]!, f[5]!])],
      ['duplicate', (f) => (f[7] = { ...f[7]!, path: f[6]!.path })],
      // '/zz' after '/zz/a': a prefix of the path before it.
      ['prefix of the one before', (f) => (f[f.length - 1] = { ...f[f.length - 1]!, path: '/zz' })],
      [
        'after a non-ASCII path',
        (f) => {
          const k = f.findIndex((x) => x.path === ODD[3]);
          f[k + 1] = { ...f[k + 1]!, path: '/d' };
        },
      ],
    ];
    const error = (read: () => unknown): string => {
      try {
        read();
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    };
    for (const [what, change] of cases) {
      const files = sorted.files.map((f) => ({ ...f }));
      change(files);
      const text = ndjson({ ...sorted, files });
      const want = error(() => parseManifestBytes(text));
      expect(want, what).toMatch(/records not sorted by path bytes/);
      expect(
        error(() => asBytes(text, new StringTable())),
        what,
      ).toBe(want);
      expect(
        error(() => handedOver(text, new StringTable())),
        what,
      ).toBe(want);
      if (what !== 'after a non-ASCII path') {
        const pq = manifestToParquet({ ...sorted, files });
        const strings = new StringTable();
        let got = 'no error';
        try {
          await parseParquetManifest(pq, { strings, columnar: true, pathBytes: true });
        } catch (e) {
          got = (e as Error).message;
        }
        expect(got, what).toMatch(/records not sorted by path bytes/);
      }
    }
    // And sorted, every reader takes them.
    const text = ndjson(sorted);
    expectSameManifest(asBytes(text, new StringTable()), parseManifestBytes(text));
    expectSameManifest(handedOver(text, new StringTable()), parseManifestBytes(text));
  });
});
