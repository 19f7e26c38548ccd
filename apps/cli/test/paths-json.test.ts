/**
 * `sharemap analyze --json` writes the report's path lists on a thread while the main thread
 * analyses (paths-json.ts; docs/benchmarks.md#analyze-after-the-paths-json-on-the-idle-core-2026-12-08):
 * the paths of manifests read as `analyze` reads them (the main thread's read and a thread's
 * handover) are in shared memory, the thread's pieces are `JSON.stringify` of each list, and the
 * `--json` written with them (jsonBytes' prewrittenPaths) is the text written without, for paths
 * JSON escapes, UTF-8 ones and a lone surrogate, in pieces of any size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  manifestColumns,
  manifestToNdjson,
  parseManifestBytes,
  PathStore,
  StringTable,
  type Manifest,
} from '@sharemap/erofs';
import {
  forcedWorkerEnds,
  manifestForTransfer,
  manifestFromTransfer,
  ManifestStringsHandover,
  scanImageFile,
} from '@sharemap/erofs/node';
import { jsonBytes, PiecePool, pathsJsonBytes } from '@sharemap/report-wire';
import { attachedPathStore, reportPaths } from '@sharemap/sharing';
import { runAnalysis } from '../src/analysis.js';
import { evaluateGate } from '../src/gate.js';
import { resultJson, resultJsonChunks, type CliResult } from '../src/output/render.js';
import { PATHS_JSON_THREAD_MIN, startPathsJson } from '../src/paths-json.js';
import { fx } from './helpers.js';
import { LONE_SURROGATE_PATH, ODD_PATHS, withPaths } from './odd-paths.js';

const ndjson = (m: Manifest): Uint8Array => Buffer.from([...manifestToNdjson(m)].join(''));

/** Read as the main thread of `analyze` reads a manifest file: columns, paths as bytes. */
const mainRead = (m: Manifest, strings: StringTable): Manifest =>
  parseManifestBytes(ndjson(m), { strings, columnar: true, pathBytes: true });

/** Read on a manifest thread and taken as `analyze` takes it (the message cloned as postMessage clones it). */
function threadRead(m: Manifest, strings: StringTable): Manifest {
  const handOver = new ManifestStringsHandover();
  const read = parseManifestBytes(ndjson(m), { columnar: true, handOver });
  const { message, transfer } = manifestForTransfer(read, handOver.strings());
  return manifestFromTransfer(structuredClone(message, { transfer }), strings, null, { pathBytes: true });
}

/** Two manifests read as `analyze` reads them, one in each way, and the CLI's result for them. */
async function analysed(): Promise<{ manifests: Manifest[]; result: CliResult }> {
  const a = withPaths(await scanImageFile(fx('base-v1.fp.img'), { hash: true }), [
    ...ODD_PATHS,
    LONE_SURROGATE_PATH,
  ]);
  const b = withPaths(await scanImageFile(fx('base-v2.fp.img'), { hash: true }), [
    ODD_PATHS[0]!,
    LONE_SURROGATE_PATH,
  ]);
  const strings = new StringTable();
  const manifests = [mainRead(a, strings), threadRead(b, strings)];
  const { report } = await runAnalysis({
    manifests: [...manifests],
    mounts: [],
    mapping: {},
    publishers: {},
    createdAt: '2026-12-08T00:00:00.000Z',
  });
  return { manifests, result: { report, gate: evaluateGate(report, {}, null), delta: null } };
}

const text = (pieces: Iterable<Uint8Array>): string => Buffer.concat([...pieces]).toString('utf8');

describe('the paths JSON written on a thread', () => {
  it('reads the paths from shared memory, and the --json written with its pieces is the same text', async () => {
    const { manifests, result } = await analysed();
    for (const m of manifests)
      expect(manifestColumns(m)!.pathStore!.view().bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    const thread = startPathsJson(manifests, { minPaths: 0, chunkBytes: 64 });
    expect(thread).not.toBeNull();
    const pieces = await thread!.pieces({ all: true });
    expect(pieces).not.toBeNull();
    for (const img of result.report.images) {
      const store = attachedPathStore(result.report.paths, img.id)!;
      const list = pieces!.get(store)!;
      // Pieces of the asked size, each list the text JSON.stringify writes for its paths.
      expect(list.length).toBeGreaterThan(1);
      expect(text(list)).toBe(JSON.stringify(store.strings()));
    }
    expect(text(pieces!.get(manifestColumns(manifests[0]!)!.pathStore!)!)).toContain(
      JSON.stringify(LONE_SURROGATE_PATH),
    );
    const pool = new PiecePool(256, 4);
    expect(text(resultJsonChunks(result, pool, pieces))).toBe(resultJson(result));
    await thread!.close();
  });

  it('takes the lists answered so far without waiting, writes the others itself, and the thread stops and ends on its own', async () => {
    const { manifests, result } = await analysed();
    const before = forcedWorkerEnds();
    const thread = startPathsJson(manifests, { minPaths: 0, chunkBytes: 64 })!;
    // At once: none, some or all of the lists (the thread has just started).
    const pieces = await thread.pieces();
    expect(text(resultJsonChunks(result, null, pieces))).toBe(resultJson(result));
    // Asked again: the same (answers after the first ask are not taken).
    expect(await thread.pieces()).toBe(pieces);
    await thread.close();
    expect(forcedWorkerEnds()).toBe(before);
  });

  it('is not started for few paths or paths that are not bytes in shared memory', async () => {
    const { manifests } = await analysed();
    // The fixtures' few hundred paths: below the threshold (its start would cost more).
    expect(startPathsJson(manifests)).toBeNull();
    expect(PATHS_JSON_THREAD_MIN).toBeGreaterThan(manifests.reduce((n, m) => n + m.files.length, 0));
    // Paths as strings (no store): nothing for a thread.
    const asStrings = parseManifestBytes(ndjson(manifests[0]!), { columnar: true });
    expect(manifestColumns(asStrings)!.pathStore).toBeNull();
    expect(startPathsJson([asStrings], { minPaths: 0 })).toBeNull();
  });

  it('writes any list of paths as JSON.stringify does, and jsonBytes writes it in its place in pieces of any size', () => {
    const path = fc.string({ unit: 'binary', maxLength: 12 });
    fc.assert(
      fc.property(fc.array(path, { maxLength: 40 }), fc.integer({ min: 1, max: 48 }), (paths, chunk) => {
        const store = new PathStore(2, 4);
        for (const p of paths) store.add(p);
        const pieces = [...pathsJsonBytes(store, chunk)];
        expect(text(pieces)).toBe(JSON.stringify(paths));
        // In a value, between other members, as the report's `paths` member is: the same as written here.
        const value = { before: 'x', paths: { img: paths }, after: [1, 2] };
        const withStore = { before: 'x', paths: reportPathsOf(store), after: [1, 2] };
        const prewritten = new Map([[store, pieces]]);
        expect(text(jsonBytes(withStore, chunk, null, prewritten))).toBe(JSON.stringify(value));
      }),
    );
  });
});

/** A `paths` member whose one image's list comes from `store` (sharing's reportPaths). */
function reportPathsOf(store: PathStore): Record<string, string[]> {
  return reportPaths([{ id: 'img', store, list: () => [] }]);
}
