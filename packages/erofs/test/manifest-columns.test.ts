/**
 * The columnar in-memory form (manifest-columns.ts) carries the same manifest as the record
 * form: every fixture read into columns equals its records, field for field and in the same
 * NDJSON bytes; and the column parser validates exactly as the record parser does: on hostile
 * lines (any field of any record replaced by an arbitrary JSON value, records swapped,
 * dropped or duplicated, lying headers) both refuse with the same ManifestError (message,
 * line and field) or both accept the same manifest.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../src/errors.js';
import {
  columnarManifest,
  FILE_TYPE_CODES,
  LAYOUT_CODES,
  ManifestColumns,
  manifestColumns,
  manifestHeader,
  manifestToNdjson,
  NdjsonManifestParser,
  parseManifest,
  parseManifestBytes,
  StringTable,
} from '../src/manifest.js';
import type { Manifest } from '../src/manifest-types.js';
import { scanImageFile } from '../src/node.js';

const PROPERTY_SEED = Number(process.env.SHAREMAP_PROPERTY_SEED ?? 20261205);
const DIR = join(import.meta.dirname, '../../../testdata/erofs');
const ndjsonOf = (m: Manifest): string => [...manifestToNdjson(m)].join('');

/** The outcome of a parse: the manifest, or the error's class, message, line and field. */
function outcome(parse: () => Manifest): unknown {
  try {
    const m = parse();
    return { ok: true, ndjson: ndjsonOf(m), manifest: m };
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    return { ok: false, message: e.message, line: e.line, field: e.field };
  }
}

/** Records and columns agree on every field of every record. */
function expectColumnsOf(m: Manifest, cols: ManifestColumns): void {
  expect(cols.n).toBe(m.files.length);
  m.files.forEach((f, i) => {
    expect(cols.paths[i]).toBe(f.path);
    expect(FILE_TYPE_CODES[cols.type[i]!]).toBe(f.type);
    expect(LAYOUT_CODES[cols.layout[i]!]).toBe(f.layout);
    expect(cols.size[i]).toBe(f.size);
    expect(cols.nlink[i]).toBe(f.nlink);
    expect(cols.fingerprint[i]).toBe(f.fingerprint);
    expect(cols.sha256?.[i]).toBe(f.sha256);
    expect(cols.inodeNumber(i)).toBe(f.ino ?? (typeof f.nid === 'number' ? f.nid : Number(f.nid)));
    expect(cols.record(i)).toStrictEqual(f);
  });
}

describe('columnar manifests', () => {
  const oracles = readdirSync(DIR).filter((f) => f.endsWith('.expected.json'));
  it('has fixtures to compare', () => expect(oracles.length).toBeGreaterThan(20));
  for (const oracle of oracles) {
    it(`carries the manifest of ${oracle.replace(/\.expected\.json$/, '')} (hashed) in columns`, async () => {
      const o = JSON.parse(readFileSync(join(DIR, oracle), 'utf8')) as { image: string; devices?: string[] };
      const m = await scanImageFile(join(DIR, o.image), {
        hash: true,
        devices: (o.devices ?? []).map((d) => join(DIR, d)),
      });
      const nd = ndjsonOf(m);
      const records = parseManifest(nd);
      const strings = new StringTable();
      for (const back of [
        parseManifest(nd, { columnar: true }),
        parseManifestBytes(new TextEncoder().encode(nd), { columnar: true, strings }, 64),
      ]) {
        const cols = manifestColumns(back)!;
        expect(cols).toBeInstanceOf(ManifestColumns);
        // Serialised from the columns without making the records, then the records themselves.
        expect(ndjsonOf(back)).toBe(nd);
        expect(manifestHeader(back)).toStrictEqual(manifestHeader(records));
        expectColumnsOf(records, cols);
        expect(back).toStrictEqual(records);
      }
      // Interned in a table, the columns name each fingerprint's index in it (the sharing
      // engine's fingerprint ids: docs/manifest.md#fingerprint-ids); without one, none.
      // (the NDJSON fast path, and the general one, given a fresh table and one already full)
      expect(manifestColumns(parseManifest(nd, { columnar: true }))!.fingerprintIndex).toBeNull();
      for (const interned of [
        manifestColumns(parseManifestBytes(new TextEncoder().encode(nd), { columnar: true, strings }))!,
        manifestColumns(parseManifest(nd, { columnar: true, strings: new StringTable() }))!,
        manifestColumns(parseManifest(nd, { columnar: true, strings }))!,
      ]) {
        const table = interned.strings!;
        const fpIndex = interned.fingerprintIndex!;
        for (let i = 0; i < interned.n; i++) {
          const fp = records.files[i]!.fingerprint;
          expect(fpIndex[i]).toBe(fp === null ? -1 : table.indexOf(fp));
          if (fp !== null) expect(table.stringAt(fpIndex[i]!)).toBe(fp);
        }
      }
      // Records given as objects make the same columns (what the engine reads from them).
      expectColumnsOf(records, ManifestColumns.fromRecords(records.files));
      // Columns sized for fewer records grow (a header's file_count is only a claim).
      const grown = new ManifestColumns(0);
      for (const f of records.files) grown.pushRecord(f);
      expectColumnsOf(records, grown);
      // Sized for more (a header's claim above its records), they hold the records and nothing
      // past them, before and after the reader's end (columnarManifest): what presized string
      // lists would have to keep (docs/benchmarks.md#analyze-faults-the-pairs-page-faults-accounted-2026-12-08).
      const roomy = new ManifestColumns(records.files.length + 100);
      for (const f of records.files) roomy.pushRecord(f);
      expect(roomy.fingerprint).toHaveLength(records.files.length);
      expect(roomy.paths).toHaveLength(records.files.length);
      expectColumnsOf(records, roomy);
      const more = new ManifestColumns(records.files.length + 100);
      for (const f of records.files) more.pushRecord(f);
      expect(columnarManifest(manifestHeader(records), more)).toStrictEqual(records);
      expect(Object.values(more).filter((v) => Array.isArray(v) && v.length > more.n)).toEqual([]);
    }, 60_000);
  }
});

const base: Manifest = await scanImageFile(join(DIR, 'edge-mini.fp-trusted.img'), { hash: true });

describe('the column parser validates as the record parser does', () => {
  const lines = ndjsonOf(base).trimEnd().split('\n');
  const header = JSON.parse(lines[0]!) as Record<string, unknown>;
  const recs = lines.slice(1).map((l) => JSON.parse(l) as Record<string, unknown>);
  const text = (h: unknown, rs: unknown[]) => [h, ...rs].map((x) => JSON.stringify(x)).join('\n') + '\n';

  /** Every columnar reading of `nd` has the outcome of the record parser. */
  const expectSameOutcome = (nd: string): unknown => {
    const want = outcome(() => parseManifest(nd));
    const bytes = new TextEncoder().encode(nd);
    expect(outcome(() => parseManifest(nd, { columnar: true }))).toStrictEqual(want);
    expect(
      outcome(() => parseManifestBytes(bytes, { columnar: true, strings: new StringTable() }, 100)),
    ).toStrictEqual(want);
    expect(
      outcome(() => {
        const p = new NdjsonManifestParser({ columnar: true });
        for (const l of nd.split('\n').slice(0, -1)) p.line(l);
        return p.end();
      }),
    ).toStrictEqual(
      outcome(() => {
        const p = new NdjsonManifestParser();
        for (const l of nd.split('\n').slice(0, -1)) p.line(l);
        return p.end();
      }),
    );
    return want;
  };

  it('the same errors on hostile records (exact cases)', () => {
    const patched = (i: number, patch: (r: Record<string, unknown>) => void) => {
      const rs = recs.map((r) => structuredClone(r));
      patch(rs[i]!);
      return text(header, rs);
    };
    const fileIdx = recs.findIndex((r) => r.type === 'file');
    const cases: [string, string, number, RegExp][] = [
      ['mode', patched(3, (r) => (r.mode = '999')), 5, /field mode/],
      ['uid', patched(3, (r) => (r.uid = 2 ** 32)), 5, /field uid/],
      ['size', patched(3, (r) => (r.size = 1.5)), 5, /field size/],
      ['type', patched(3, (r) => (r.type = 'door')), 5, /field type/],
      ['xattrs', patched(3, (r) => (r.xattrs = { 'user.a': 'abc' })), 5, /xattrs/],
      ['target', patched(3, (r) => (r.target = 'x')), 5, /target/],
      ['unknown', patched(3, (r) => (r.bogus = true)), 5, /unknown field/],
      ['sha256', patched(fileIdx, (r) => delete r.sha256), fileIdx + 2, /sha256/],
      ['order', text(header, [recs[0], recs[2], recs[1], ...recs.slice(3)]), 4, /not sorted/],
      ['root', text(header, recs.slice(1)), 2, /first record must be "\/"/],
      ['count', text({ ...header, file_count: recs.length + 1 }, recs), 1, /file_count/],
      ['json', text(header, recs).replace('"nlink"', 'nlink'), 2, /invalid JSON/],
    ];
    for (const [name, nd, line, re] of cases) {
      const got = expectSameOutcome(nd) as { ok: boolean; line: number; message: string };
      expect([name, got.ok, got.line]).toStrictEqual([name, false, line]);
      expect(got.message).toMatch(re);
    }
    expect((expectSameOutcome(text(header, recs)) as { ok: boolean }).ok).toBe(true);
  });

  it('the same outcome when any field of any record becomes any JSON value, or records move', () => {
    const fields = [...new Set(recs.flatMap((r) => Object.keys(r))), 'ino', 'rdev', 'extra'];
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        at: fc.nat(recs.length - 1),
        field: fc.constantFrom(...fields),
        value: fc.oneof(
          fc.jsonValue(),
          fc.constantFrom(0, -1, 2 ** 53, 'file', 'symlink', 'chr', '0644', 64, null),
        ),
      }),
      fc.record({
        kind: fc.constant('delete' as const),
        at: fc.nat(recs.length - 1),
        field: fc.constantFrom(...fields),
      }),
      fc.record({ kind: fc.constant('swap' as const), at: fc.nat(recs.length - 2) }),
      fc.record({ kind: fc.constant('drop' as const), at: fc.nat(recs.length - 1) }),
      fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(recs.length - 1) }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ops) => {
        const rs = recs.map((r) => structuredClone(r));
        for (const op of ops) {
          const at = Math.min(op.at, rs.length - 1);
          if (at < 0) break;
          if (op.kind === 'set') rs[at]![op.field] = op.value;
          else if (op.kind === 'delete') delete rs[at]![op.field];
          else if (op.kind === 'swap' && at + 1 < rs.length) [rs[at], rs[at + 1]] = [rs[at + 1]!, rs[at]!];
          else if (op.kind === 'drop') rs.splice(at, 1);
          else if (op.kind === 'repeat') rs.splice(at, 0, structuredClone(rs[at]!));
        }
        expectSameOutcome(text({ ...header, file_count: rs.length }, rs));
      }),
      { seed: PROPERTY_SEED, numRuns: 300 },
    );
  });
});
