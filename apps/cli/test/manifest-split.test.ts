/**
 * A split read (docs/cli.md#manifest-threads): the main thread reads the first part of its first
 * NDJSON manifest while a thread reads the part after a line end near the middle, and takes that
 * part only when it completes the manifest exactly as reading it itself would. Whatever the split
 * point (each line start of a small manifest and the bytes around it, lines of every kind on either side), the manifest, the
 * StringTable and the fingerprint indices are those of a sequential read, and an error (a bad
 * line in the thread's part, an order violation exactly at the split, a wrong count) is the
 * sequential read's, line number included.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestColumns, manifestToNdjson, StringTable, type Manifest } from '@sharemap/erofs';
import { manifestForTransfer, ManifestStringsHandover, scanImageFile } from '@sharemap/erofs/node';
import { parseCommandArgs } from '../src/args.js';
import { analyzeSpec, readManifests } from '../src/commands/analyze.js';
import { CliError } from '../src/errors.js';
import { MANIFEST_SPLIT_CHANNEL, readManifestFile } from '../src/manifest-file.js';
import {
  MANIFEST_SPLIT_ENV,
  MANIFEST_THREADS_CHANNEL,
  MANIFEST_THREADS_ENV,
  MIN_SPLIT_BYTES,
  splitPoint,
} from '../src/manifest-threads.js';
import { cli, fx, oneLine, tmp } from './helpers.js';

const EVERY_SIZE = { text: 0, gzip: 0, parquet: 0 };
const ndjsonOf = (m: Manifest): string => [...manifestToNdjson(m)].join('');

/** What a manifest read gives: the records, the header, the table's strings and the fingerprint indices. */
function outcome(m: Manifest, strings: StringTable): unknown {
  const cols = manifestColumns(m)!;
  return {
    manifest: m,
    strings: Array.from({ length: strings.size }, (_, i) => strings.stringAt(i)),
    index: Array.from(cols.fingerprintIndex!.subarray(0, cols.n)),
    n: cols.n,
  };
}

/** A read's result or its error as the CLI reports it. */
async function settle<T>(p: Promise<T>): Promise<{ value: T } | { error: string; exitCode: number }> {
  try {
    return { value: await p };
  } catch (e) {
    if (e instanceof CliError) return { error: e.message, exitCode: e.exitCode };
    throw e;
  }
}

/** The file read whole into a new table (the sequential read). */
async function whole(path: string): Promise<unknown> {
  const strings = new StringTable();
  const r = await settle(readManifestFile(path, strings));
  return 'value' in r ? outcome(r.value, strings) : r;
}

/**
 * The file read split at byte `at`: the part after it read as a manifest thread reads it (its
 * strings handed over as bytes, the message structured-cloned as postMessage does), the bytes
 * before it here. Also returns whether the part was taken.
 */
async function split(path: string, at: number): Promise<{ result: unknown; taken: boolean | undefined }> {
  const handover = new ManifestStringsHandover();
  const part = readManifestFile(path, undefined, { handOver: handover, part: { from: at } }).then((m) =>
    structuredClone(
      (handover.used ? manifestForTransfer(m, handover.strings()) : manifestForTransfer(m)).message,
    ),
  );
  part.catch(() => undefined);
  let taken: boolean | undefined;
  const seen = (m: unknown): void => {
    taken = (m as { taken: boolean }).taken;
  };
  subscribe(MANIFEST_SPLIT_CHANNEL, seen);
  try {
    const strings = new StringTable();
    const r = await settle(readManifestFile(path, strings, { split: { at, part, previous: null } }));
    return { result: 'value' in r ? outcome(r.value, strings) : r, taken };
  } finally {
    unsubscribe(MANIFEST_SPLIT_CHANNEL, seen);
  }
}

/** The byte offsets just after each "\n" of `bytes`. */
function lineStarts(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) out.push(i + 1);
  return out;
}

/** A manifest of the fixture image with lines of every kind: fast-path lines, escaped and non-ASCII paths (the general parser), CRLF, a final line without "\n". */
async function mixedManifest(dir: string): Promise<{ path: string; text: string }> {
  const m = await scanImageFile(fx('app.fp.img'), { hash: true });
  const lines = ndjsonOf(m).split('\n');
  expect(lines.length).toBeGreaterThan(8);
  // Record lines written another way than sharemap writes them: key order, spaces, "\r\n".
  lines[3] = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(lines[3]!) as object).reverse()));
  lines[5] = lines[5]!.replace(/,/g, ', ');
  lines[6] = lines[6]! + '\r';
  const text = lines.join('\n').replace(/\n$/, '');
  const path = join(dir, 'mixed.ndjson');
  writeFileSync(path, text);
  return { path, text };
}

describe('a split read', () => {
  it('gives the sequential read split at every line start and the bytes around each, taking the part at each line start past the first record', async () => {
    const dir = tmp();
    const { path } = await mixedManifest(dir);
    const bytes = readFileSync(path);
    const want = await whole(path);
    expect(want).toHaveProperty('manifest');
    const starts = new Set(lineStarts(bytes));
    const firstRecordEnd = [...starts].sort((a, b) => a - b)[1]!;
    let taken = 0;
    // Every line start and the two bytes either side (inside the header, in a line, at "\r\n"), and the ends.
    const points = new Set([1, 2, bytes.length - 1, bytes.length]);
    for (const s of starts)
      for (let d = -2; d <= 2; d++) if (s + d >= 1 && s + d <= bytes.length) points.add(s + d);
    for (const at of [...points].sort((a, b) => a - b)) {
      const r = await split(path, at);
      expect(r.result, `split at ${at}`).toStrictEqual(want);
      // Taken exactly at a line start after "/" with a record after it; read here otherwise.
      const fits = starts.has(at) && at >= firstRecordEnd && at < bytes.length;
      expect(r.taken, `split at ${at}`).toBe(fits);
      if (r.taken) taken++;
    }
    expect(taken).toBeGreaterThan(5);
  }, 120_000);

  it('reports a bad line in the thread part, an order violation exactly at the split and a wrong count as a sequential read does', async () => {
    const dir = tmp();
    const m = await scanImageFile(fx('app.fp.img'));
    const text = ndjsonOf(m);
    const lines = text.split('\n');
    const n = lines.length - 1; // the last is empty
    const write = (name: string, ls: string[]): string => {
      const p = join(dir, name);
      writeFileSync(p, ls.join('\n'));
      return p;
    };
    const cases: [string, string, number][] = [];
    // A bad field in the thread's part, split before it (several lines before and just before).
    const bad = [...lines];
    bad[n - 2] = bad[n - 2]!.replace('"nlink":', '"nlink":-');
    cases.push(['bad-line', write('bad-line.ndjson', bad), 3]);
    // Two records swapped: the order broken exactly at the split (the part starts with the one out of place).
    const swapped = [...lines];
    const k = Math.floor(n / 2);
    [swapped[k], swapped[k + 1]] = [swapped[k + 1]!, swapped[k]!];
    cases.push(['swapped', write('swapped.ndjson', swapped), k + 1]);
    // A duplicate path across the split.
    const dup = [...lines];
    dup.splice(k + 1, 0, dup[k]!);
    dup[0] = dup[0]!.replace(/"file_count":\d+/, `"file_count":${m.file_count + 1}`);
    cases.push(['duplicate', write('duplicate.ndjson', dup), k + 1]);
    // More or fewer records than file_count.
    const short = [...lines];
    short[0] = short[0]!.replace(/"file_count":\d+/, `"file_count":${m.file_count + 1}`);
    cases.push(['short', write('short.ndjson', short), k]);
    const long = [...lines];
    long[0] = long[0]!.replace(/"file_count":\d+/, `"file_count":${m.file_count - 1}`);
    cases.push(['long', write('long.ndjson', long), k]);
    // An empty line before the split, and one in the part.
    const blank = [...lines];
    blank.splice(k, 0, '');
    cases.push(['blank-before', write('blank-before.ndjson', blank), k + 1]);
    cases.push(['blank-in-part', write('blank-in-part.ndjson', blank), k - 1]);
    // Invalid JSON in the part.
    const cut = [...lines];
    cut[n - 1] = cut[n - 1]!.slice(0, 30);
    cases.push(['cut', write('cut.ndjson', cut), k]);
    for (const [name, path, line] of cases) {
      const want = await whole(path);
      expect(want, name).toHaveProperty('error');
      const bytes = readFileSync(path);
      // Split at the start of `line` (0-based line index) and at every line start after the first record.
      const at = lineStarts(bytes)[line - 1]!;
      const exact = await split(path, at);
      expect(exact.result, `${name} split at line ${line + 1}`).toStrictEqual(want);
      expect(exact.taken, name).toBe(false);
      for (const s of lineStarts(bytes).slice(1))
        expect((await split(path, s)).result, `${name} at ${s}`).toStrictEqual(want);
    }
    // The sequential message names the line: the part's own line numbers never show.
    expect((await whole(cases[0]![1])) as { error: string }).toMatchObject({
      error: expect.stringMatching(new RegExp(`manifest line ${n - 1}, field nlink`)),
    });
  }, 120_000);

  it('is not planned for a header-only file, a file below the size, the JSON form, gzip or a first line that is not a header', async () => {
    const dir = tmp();
    const m = await scanImageFile(fx('app.fp.img'));
    const text = ndjsonOf(m);
    const file = (name: string, data: string | Uint8Array): [string, { size: number; head: Uint8Array }] => {
      const p = join(dir, name);
      writeFileSync(p, data);
      const b = readFileSync(p);
      return [p, { size: b.length, head: b.subarray(0, 64 * 1024) }];
    };
    const header = text.slice(0, text.indexOf('\n') + 1);
    expect(await splitPoint(...file('header.ndjson', header), 0)).toBe(null);
    expect(await splitPoint(...file('small.ndjson', text))).toBe(null); // below MIN_SPLIT_BYTES
    expect(await splitPoint(...file('blank-first.ndjson', '\n' + text), 0)).toBe(null);
    expect(await splitPoint(...file('json.json', JSON.stringify({ ...m, files: m.files })), 0)).toBe(null);
    const at = await splitPoint(...file('m.ndjson', text), 0);
    expect(at).not.toBe(null);
    expect(text[at! - 1]).toBe('\n');
    expect(at!).toBeGreaterThanOrEqual(Math.floor(text.length / 2));
    // A header-only manifest of no records read split at its end is the sequential read.
    const empty = join(dir, 'empty.ndjson');
    writeFileSync(empty, header.replace(/"file_count":\d+/, '"file_count":0'));
    const r = await split(empty, statSync(empty).size);
    expect(r.result).toStrictEqual(await whole(empty));
  });

  it('on a real thread, in readManifests: the same manifests and table, the part read on the thread, errors as sequential', async () => {
    const dir = tmp();
    const a = join(dir, 'a.ndjson');
    const b = join(dir, 'b.ndjson');
    const ma = await scanImageFile(fx('app.fp.img'));
    const mb = await scanImageFile(fx('app.fp.img'), { hash: true });
    writeFileSync(a, ndjsonOf(ma));
    writeFileSync(b, ndjsonOf(mb));
    const read = async (files: string[], cores: number, splitOn = true) => {
      const onThreads: unknown[] = [];
      const seen = (m: unknown): void => void onThreads.push(m);
      const splits: unknown[] = [];
      const seenSplit = (m: unknown): void => void splits.push((m as { taken: boolean }).taken);
      subscribe(MANIFEST_THREADS_CHANNEL, seen);
      subscribe(MANIFEST_SPLIT_CHANNEL, seenSplit);
      try {
        const r = await settle(
          readManifests(
            parseCommandArgs(analyzeSpec, files),
            { hash: false, threads: 0 },
            'flattened',
            undefined,
            {
              cores,
              minBytes: EVERY_SIZE,
              minSplitBytes: 0,
              split: splitOn,
            },
          ),
        );
        if (!('value' in r)) return { result: r, onThreads, splits };
        const ms = r.value;
        const table = manifestColumns(ms[0]!)!.strings!;
        return { result: ms.map((m) => outcome(m, table)), onThreads, splits };
      } finally {
        unsubscribe(MANIFEST_THREADS_CHANNEL, seen);
        unsubscribe(MANIFEST_SPLIT_CHANNEL, seenSplit);
      }
    };
    const seq = await read([a, b], 1);
    expect(seq.onThreads).toStrictEqual([]);
    const threaded = await read([a, b], 2);
    const at = await splitPoint(a, { size: statSync(a).size, head: readFileSync(a).subarray(0, 65536) }, 0);
    expect(threaded.onThreads).toStrictEqual([{ path: a, from: at }, { path: b }]);
    expect(threaded.splits).toStrictEqual([true]);
    expect(threaded.result).toStrictEqual(seq.result);
    // Without the split, the thread reads b only; the same result.
    const noSplit = await read([a, b], 2, false);
    expect(noSplit.onThreads).toStrictEqual([{ path: b }]);
    expect(noSplit.result).toStrictEqual(seq.result);
    // One large manifest beside a small one: the thread reads only the part.
    const alone = await read([a, join(dir, 'missing.ndjson')], 2);
    expect(alone.result).toStrictEqual(await read([a, join(dir, 'missing.ndjson')], 1).then((x) => x.result));
    // A bad line in the thread's part: the sequential error, and the part read again here.
    const lines = ndjsonOf(ma).split('\n');
    lines[lines.length - 3] = lines[lines.length - 3]!.replace('"size":', '"size":"');
    const bad = join(dir, 'bad.ndjson');
    writeFileSync(bad, lines.join('\n'));
    const want = await read([bad, b], 1);
    expect(want.result).toMatchObject({
      error: expect.stringContaining(`manifest line ${lines.length - 2}`),
      exitCode: 2,
    });
    const got = await read([bad, b], 2);
    expect(got.splits).toStrictEqual([false]);
    expect(got.result).toStrictEqual(want.result);
  }, 120_000);

  it('analyze of a large pair gives the same report split, unsplit and on one thread; a bad switch is refused by name', async () => {
    const dir = tmp();
    const a = join(dir, 'a.ndjson');
    const b = join(dir, 'b.ndjson');
    // Past MIN_SPLIT_BYTES: the fixture's records repeated under numbered directories, sorted.
    const m = await scanImageFile(fx('app.fp.img'));
    const text = ndjsonOf(m);
    const nl = text.indexOf('\n');
    const head = JSON.parse(text.slice(0, nl)) as { file_count: number };
    const recs = text
      .slice(nl + 1)
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { path: string; nid: unknown; fingerprint: string | null });
    const copies = Math.ceil((MIN_SPLIT_BYTES + (1 << 20)) / (text.length - nl));
    const write = (p: string, version: number): void => {
      const out: string[] = [];
      const root = recs[0]!;
      out.push(JSON.stringify(root));
      for (let c = 0; c < copies; c++) {
        const d = `/c${String(c).padStart(6, '0')}`;
        for (const r of recs)
          out.push(
            JSON.stringify({
              ...r,
              path: r.path === '/' ? d : d + r.path,
              nid: typeof r.nid === 'number' ? r.nid + 100_000 * c : r.nid,
              fingerprint:
                r.fingerprint && version > 0 && c % 10 === 0
                  ? r.fingerprint.slice(0, -2) + 'ff'
                  : r.fingerprint,
            }),
          );
      }
      writeFileSync(
        p,
        JSON.stringify({ ...JSON.parse(text.slice(0, nl)), file_count: out.length }) +
          '\n' +
          out.join('\n') +
          '\n',
      );
    };
    expect(head.file_count).toBe(recs.length);
    write(a, 0);
    write(b, 1);
    expect(statSync(a).size).toBeGreaterThan(MIN_SPLIT_BYTES);
    const splits: boolean[] = [];
    const seen = (x: unknown): void => void splits.push((x as { taken: boolean }).taken);
    subscribe(MANIFEST_SPLIT_CHANNEL, seen);
    let splitRun;
    try {
      splitRun = await cli(['analyze', a, b, '--json'], { env: { [MANIFEST_THREADS_ENV]: '1' } });
    } finally {
      unsubscribe(MANIFEST_SPLIT_CHANNEL, seen);
    }
    expect(splits).toStrictEqual([true]);
    const pinned = (json: string): string =>
      JSON.stringify({ ...(JSON.parse(json) as object), createdAt: 0 });
    const unsplit = await cli(['analyze', a, b, '--json'], {
      env: { [MANIFEST_THREADS_ENV]: '1', [MANIFEST_SPLIT_ENV]: '0' },
    });
    const none = await cli(['analyze', a, b, '--json'], { env: { [MANIFEST_THREADS_ENV]: '0' } });
    expect([splitRun.code, splitRun.stderr]).toStrictEqual([0, '']);
    for (const r of [unsplit, none]) {
      expect([r.code, r.stderr]).toStrictEqual([splitRun.code, splitRun.stderr]);
      expect(pinned(r.stdout)).toBe(pinned(splitRun.stdout));
    }
    const bad = await cli(['analyze', a, b], { env: { [MANIFEST_SPLIT_ENV]: 'yes' } });
    expect([bad.code, oneLine(bad.stderr)]).toStrictEqual([
      2,
      'sharemap: SHAREMAP_MANIFEST_SPLIT must be 0 or 1, not "yes"',
    ]);
  }, 300_000);
});
