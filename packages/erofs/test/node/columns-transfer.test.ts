/**
 * A manifest handed to another thread (node/columns-transfer.ts) is the manifest a sequential
 * read gives: for every fixture, in every form the readers take (NDJSON, JSON, Parquet), read
 * after another manifest into one StringTable, the columns, the strings (the table's own
 * objects, in the table's order) and the fingerprint indices equal those of reading both
 * files one after the other in one thread. The message goes through structuredClone with its
 * buffers transferred, as postMessage sends it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ManifestColumns,
  manifestColumns,
  manifestToJson,
  manifestToNdjson,
  parseManifestBytes,
  StringTable,
} from '../../src/manifest.js';
import { TYPED_COLUMN_NAMES } from '../../src/manifest-columns.js';
import type { Manifest } from '../../src/manifest-types.js';
import { manifestToParquet, parseParquetManifest } from '../../src/manifest-parquet.js';
import {
  manifestForTransfer,
  manifestFromTransfer,
  ManifestStringsHandover,
  scanImageFile,
} from '../../src/node.js';

const DIR = join(import.meta.dirname, '../../../../testdata/erofs');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The manifest `m` as each form is read (columns, or records for the JSON form), strings in `strings`. */
const FORMS: Record<string, (m: Manifest, strings?: StringTable) => Promise<Manifest>> = {
  ndjson: async (m, strings) =>
    parseManifestBytes(utf8([...manifestToNdjson(m)].join('')), {
      columnar: true,
      ...(strings ? { strings } : {}),
    }),
  json: async (m, strings) =>
    parseManifestBytes(utf8(manifestToJson(m)), { columnar: true, ...(strings ? { strings } : {}) }),
  parquet: (m, strings) =>
    parseParquetManifest(manifestToParquet(m), { columnar: true, ...(strings ? { strings } : {}) }),
};

/** Through a thread boundary: the message cloned, its buffers transferred (as postMessage does). */
function handedOver(m: Manifest, strings: StringTable, previous: ManifestColumns | null): Manifest {
  const { message, transfer } = manifestForTransfer(m);
  const received = structuredClone(message, { transfer });
  // Transferred, not copied: the sender's buffers are detached.
  expect(transfer.every((b) => b.byteLength === 0)).toBe(true);
  return manifestFromTransfer(received, strings, previous);
}

function tableStrings(t: StringTable): string[] {
  return Array.from({ length: t.size }, (_, i) => t.stringAt(i)!);
}

/** Two reads of one manifest agree field by field, column by column, string object by string object. */
function expectSameRead(got: Manifest, want: Manifest, gotTable: StringTable, wantTable: StringTable): void {
  const g = manifestColumns(got);
  const w = manifestColumns(want);
  expect(!!g).toBe(!!w);
  expect(got).toStrictEqual(want);
  if (!g || !w) {
    // Records (the JSON form): their strings are the table's objects, at the same indices.
    got.files.forEach((f, i) => {
      expect(gotTable.indexOf(f.path)).toBe(wantTable.indexOf(want.files[i]!.path));
      expect(f.path).toBe(gotTable.stringAt(gotTable.indexOf(f.path)));
    });
    return;
  }
  expect(g.n).toBe(w.n);
  for (const k of TYPED_COLUMN_NAMES)
    expect(Array.from(g[k].subarray(0, g.n)), k).toStrictEqual(Array.from(w[k].subarray(0, w.n)));
  expect(g.ino && Array.from(g.ino.subarray(0, g.n))).toStrictEqual(
    w.ino && Array.from(w.ino.subarray(0, w.n)),
  );
  expect(g.paths.slice(0, g.n)).toStrictEqual(w.paths.slice(0, w.n));
  expect(g.fingerprint.slice(0, g.n)).toStrictEqual(w.fingerprint.slice(0, w.n));
  expect(g.sha256?.slice(0, g.n) ?? null).toStrictEqual(w.sha256?.slice(0, w.n) ?? null);
  expect(g.sparseFields()).toStrictEqual(w.sparseFields());
  for (let i = 0; i < g.n; i++) {
    // Interned: the strings are the table's own objects.
    const p = g.paths[i]!;
    expect(gotTable.stringAt(gotTable.indexOf(p)) === p).toBe(true);
    const fp = g.fingerprint[i];
    const want = fp === null || fp === undefined ? -1 : gotTable.indexOf(fp);
    expect(g.fingerprintIndex![i]).toBe(want);
    // The sequential read's indices, where it records them (the NDJSON parser), are the same.
    if (w.fingerprintIndex) expect(g.fingerprintIndex![i]).toBe(w.fingerprintIndex[i]);
  }
  expect(g.strings).toBe(gotTable);
}

/**
 * `scanned` read on a thread in `form` by `readOnThread` (its strings into a
 * ManifestStringsHandover, placeholders in its columns), handed over after `first` was read into
 * the receiving table: the same manifest, columns and table as reading `first` then `scanned`
 * in one thread.
 */
async function expectHandoverMatchesSequential(
  form: 'ndjson' | 'parquet',
  first: Manifest,
  scanned: Manifest,
  readOnThread: (m: Manifest, handOver: ManifestStringsHandover) => Promise<Manifest>,
): Promise<void> {
  const seqTable = new StringTable();
  const seqFirst = await FORMS[form]!(first, seqTable);
  const seq = await FORMS[form]!(scanned, seqTable);
  const thrTable = new StringTable();
  const thrFirst = await FORMS[form]!(first, thrTable);
  const handover = new ManifestStringsHandover();
  const read = await readOnThread(scanned, handover);
  expect(handover.used, form).toBe(true);
  // The thread's columns hold placeholders only.
  expect(new Set(manifestColumns(read)!.paths.slice(0, read.file_count)), form).toStrictEqual(new Set(['']));
  const { message, transfer } = manifestForTransfer(read, handover.strings());
  const thr = manifestFromTransfer(
    structuredClone(message, { transfer }),
    thrTable,
    manifestColumns(thrFirst) ?? null,
  );
  expect(manifestColumns(seqFirst), form).toBeTruthy();
  expectSameRead(thr, seq, thrTable, seqTable);
  expect(tableStrings(thrTable), form).toStrictEqual(tableStrings(seqTable));
}

describe('manifests handed to another thread', () => {
  let firstScan: Promise<Manifest> | undefined;
  const oracles = readdirSync(DIR).filter((f) => f.endsWith('.expected.json'));
  it('has fixtures to compare', () => expect(oracles.length).toBeGreaterThan(20));
  for (const oracle of oracles) {
    it(`carry ${oracle.replace(/\.expected\.json$/, '')} as a sequential read does, in every form`, async () => {
      const o = JSON.parse(readFileSync(join(DIR, oracle), 'utf8')) as { image: string; devices?: string[] };
      const scanned = await scanImageFile(join(DIR, o.image), {
        hash: true,
        devices: (o.devices ?? []).map((d) => join(DIR, d)),
      });
      // Read after another manifest (an older version of the fleet's base), so that the
      // table already holds strings and `previous` offers equal ones at equal records.
      const first = await (firstScan ??= scanImageFile(join(DIR, 'base-v1.fp.img'), { hash: true }));
      for (const [form, read] of Object.entries(FORMS)) {
        const seqTable = new StringTable();
        const seqFirst = await read(first, seqTable);
        const seq = await read(scanned, seqTable);
        const thrTable = new StringTable();
        const thrFirst = await read(first, thrTable);
        const thr = handedOver(await read(scanned), thrTable, manifestColumns(thrFirst) ?? null);
        expect(manifestColumns(thrFirst) ? 'columns' : 'records', form).toBe(
          manifestColumns(seqFirst) ? 'columns' : 'records',
        );
        expectSameRead(thr, seq, thrTable, seqTable);
        // The table as the sequential read left it: the same strings in the same order.
        expect(tableStrings(thrTable)).toStrictEqual(tableStrings(seqTable));
        // Without a previous manifest to compare with, the same again.
        const aloneTable = new StringTable();
        const alone = handedOver(await read(scanned), aloneTable, null);
        const seqAloneTable = new StringTable();
        expectSameRead(alone, await read(scanned, seqAloneTable), aloneTable, seqAloneTable);
      }
      // A Parquet file read on a thread: its strings go into the handover's blobs as they are
      // read (ManifestStringsHandover), never into the thread's columns.
      await expectHandoverMatchesSequential('parquet', first, scanned, (m, handOver) =>
        parseParquetManifest(manifestToParquet(m), { columnar: true }, { handOver }),
      );
      // An NDJSON file read on a thread: the fast path copies each line's string bytes into the
      // handover's blobs, the general one (symlinks, devices, non-ASCII) gives strings.
      await expectHandoverMatchesSequential('ndjson', first, scanned, async (m, handOver) =>
        parseManifestBytes(utf8([...manifestToNdjson(m)].join('')), { columnar: true, handOver }),
      );
    }, 120_000);
  }

  it('keeps strings that are not ASCII exactly, lone surrogates included', async () => {
    const m = await scanImageFile(join(DIR, 'app.fp.img'), { hash: true });
    // Not a valid manifest (unsorted, a lone surrogate): the handover copies what it is given.
    const odd = ['/\udc80', '/é', '/\u{1f600}x', '/ascii', '/a\ud800b'];
    const files = m.files.slice(0, odd.length).map((f, i) => ({ ...f, path: odd[i]! }));
    files[1] = { ...files[1]!, fingerprint: 'fp-\udfff' };
    const cols = ManifestColumns.fromRecords(files);
    const strings = new StringTable();
    const { message, transfer } = manifestForTransfer(
      (await import('../../src/manifest-columns.js')).columnarManifest(
        { ...m, file_count: files.length },
        cols,
      ),
    );
    const back = manifestFromTransfer(structuredClone(message, { transfer }), strings, null);
    expect(back.files.map((f) => f.path)).toStrictEqual(odd);
    expect(back.files[1]!.fingerprint).toBe('fp-\udfff');
    expect(back.files).toStrictEqual(files);
  });

  it('grows its string buffer for strings that are not ASCII, each kept exactly', async () => {
    const m = await scanImageFile(join(DIR, 'app.fp.img'));
    // The buffer is sized for ASCII (one byte a unit, plus room for the longest string): 300
    // paths of 3-byte characters take 3 bytes a unit as UTF-8 and 2 as UTF-16, so it grows.
    const base = m.files[1]!;
    const files = Array.from({ length: 300 }, (_, i) => ({
      ...base,
      path: `/${String(i).padStart(3, '0')}${'\u20ac'.repeat(40)}`,
      fingerprint: i % 2 ? `fp-${i}` : null,
    }));
    const { columnarManifest } = await import('../../src/manifest-columns.js');
    const { message, transfer } = manifestForTransfer(
      columnarManifest({ ...m, file_count: files.length }, ManifestColumns.fromRecords(files)),
    );
    expect(message.paths.kinds.every((k) => k === 2)).toBe(true);
    expect(message.paths.bytes.length).toBe(300 * 2 * 44);
    const back = manifestFromTransfer(structuredClone(message, { transfer }), new StringTable(), null);
    expect(back.files).toStrictEqual(files);
  });

  it('sends each string field in a buffer of about its size, not one doubled near its end', async () => {
    const m = await FORMS.ndjson!(await scanImageFile(join(DIR, 'app.fp.img'), { hash: true }));
    const { message } = manifestForTransfer(m);
    for (const [field, s] of [
      ['paths', message.paths],
      ['fingerprints', message.fingerprints],
      ['sha256s', message.sha256s!],
    ] as const) {
      expect(s.bytes.byteLength, field).toBeGreaterThan(1000);
      // All ASCII here: the strings' bytes and room for the widest writing of the longest one.
      let longest = 0;
      for (let i = 0, start = 0; i < s.ends.length; start = s.ends[i]!, i++)
        longest = Math.max(longest, s.ends[i]! - start);
      expect(s.bytes.buffer.byteLength, field).toBeLessThanOrEqual(s.bytes.byteLength + 3 * longest + 16);
    }
  });

  it('frees the strings it was handed once interned, and keeps the typed columns it was handed', async () => {
    const m = await FORMS.ndjson!(await scanImageFile(join(DIR, 'app.fp.img'), { hash: true }));
    // The records before the transfer detaches the sender's columns.
    const want = m.files;
    const { message, transfer } = manifestForTransfer(m);
    const received = structuredClone(message, { transfer });
    const back = manifestFromTransfer(received, new StringTable(), null);
    // Detached: their memory went with the clone they were transferred to, not at a later full GC.
    for (const s of [received.paths, received.fingerprints, received.sha256s!])
      for (const a of [s.bytes, s.ends, s.kinds]) expect(a.buffer.byteLength).toBe(0);
    const cols = manifestColumns(back)!;
    for (const k of TYPED_COLUMN_NAMES) expect(cols[k], k).toBe(received.typed[k]);
    expect(back.files).toStrictEqual(want);
  });

  it('refuses a malformed message rather than make wrong columns', async () => {
    const m = await FORMS.ndjson!(await scanImageFile(join(DIR, 'app.fp.img')));
    const { message } = manifestForTransfer(m);
    const cut = { ...message, paths: { ...message.paths, ends: message.paths.ends.subarray(1) } };
    expect(() => manifestFromTransfer(cut, new StringTable())).toThrow(/malformed: string offsets/);
    const short = { ...message, typed: { ...message.typed, size: message.typed.size.subarray(1) } };
    expect(() => manifestFromTransfer(short, new StringTable())).toThrow(/malformed: column size/);
  });
});
