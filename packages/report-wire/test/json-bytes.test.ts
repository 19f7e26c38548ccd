/**
 * jsonBytes (src/json-bytes.ts) writes a report's JSON as UTF-8 pieces: joined, they are exactly
 * the UTF-8 of JSON.stringify of the same value, for real reports, for random report-shaped
 * values (non-ASCII, escapes, lone surrogates, -0, large numbers) and for what JSON cannot carry.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AOPS_CLASSES,
  analyze,
  attachGroupColumns,
  attachedGroupColumns,
  groupColumnsFromObjects,
  groupObjects,
  withTrust,
  type AnalysisInput,
  type Report,
  type SharedGroup,
  type SharedGroupColumns,
} from '@sharemap/sharing';
import { classFleet, fleetInstances, inputOf } from '@sharemap/sharing/testing';
import { JSON_PIECE_BYTES, jsonBytes, PiecePool } from '../src/json-bytes.js';

const utf8 = new TextEncoder();

function joined(pieces: Iterable<Uint8Array>): Buffer {
  return Buffer.concat([...pieces]);
}

/** The pieces joined equal the UTF-8 of JSON.stringify (undefined at the root is `null`). */
function expectSameAsStringify(value: unknown, chunkBytes?: number): void {
  const want = Buffer.from(utf8.encode(JSON.stringify(value) ?? 'null'));
  const got = joined(jsonBytes(value, chunkBytes));
  // Compared as text first for a readable difference, then byte for byte.
  expect(got.toString('utf8')).toBe(want.toString('utf8'));
  expect(got.equals(want)).toBe(true);
}

/** Strings that take every path of the writer: ASCII, escapes, non-ASCII, lone surrogates. */
/**
 * A report whose shared inodes are `columns` (attached, as the engine attaches them) written by
 * jsonBytes in pieces of `chunk` bytes: JSON.stringify's text of the same groups as objects.
 */
function expectGroupColumnsAsStringify(columns: SharedGroupColumns, chunk: number): void {
  const value = { kind: 'sharemap-report', groups: [] as SharedGroup[], after: 'é' };
  attachGroupColumns(value as unknown as Report, columns);
  const got = joined(jsonBytes(value, chunk));
  expect(attachedGroupColumns(value)).not.toBeNull(); // written from the columns
  const want = JSON.stringify({ kind: value.kind, groups: groupObjects(columns), after: value.after });
  expect(got.toString('utf8')).toBe(want);
  expect(got.equals(Buffer.from(utf8.encode(want)))).toBe(true);
}

const anyString = fc.oneof(
  fc.string({ unit: 'grapheme-ascii' }),
  fc.string({ unit: 'binary' }), // any code point, astral ones as surrogate pairs
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }), // lone surrogates too
  fc.constantFrom('"', '\\', '\u2028', '\u007f', '\u0000', '\ud800', 'a\udc00b', 'é', '/usr/lib/x.so'),
);

const anyNumber = fc.oneof(
  fc.integer(),
  fc.constantFrom(
    0,
    -0,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31),
    2 ** 32,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
  ),
  fc.constantFrom(2 ** 53, 2 ** 53 + 2, 1e21, -1e21, 1e300, 5e-324, NaN, Infinity, -Infinity, 0.1, -1.5e-7),
  fc.double(),
  fc.maxSafeInteger(),
);

/** A shared inode as a report has it (packages/sharing's SharedGroup). */
const group = fc.record({
  fingerprint: anyString,
  domain: anyString,
  aops: fc.constantFrom('file-backed', 'anonymous'),
  size: anyNumber,
  pages: anyNumber,
  members: fc.array(anyNumber),
  rejected: fc.array(fc.record({ instance: anyNumber, reason: anyString })),
});

/** A report-shaped value: columns, path lists per image, shared inodes and nested leftovers. */
const reportShaped = fc.record({
  kind: fc.constant('sharemap-report'),
  createdAt: anyString,
  paths: fc.dictionary(anyString, fc.array(anyString)),
  files: fc.record({
    instance: fc.array(anyNumber),
    status: fc.array(anyString),
    size: fc.array(anyNumber),
  }),
  groups: fc.array(group),
  findings: fc.array(fc.jsonValue()),
  extra: fc.anything({
    withNullPrototype: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withSparseArray: true,
    withObjectString: true,
  }),
});

describe('jsonBytes', () => {
  it('fills pieces given back again (a PiecePool), the same text whatever they held', () => {
    const input = inputOf(fleetInstances());
    const report = withTrust(analyze(input), input);
    const pool = new PiecePool(512, 4);
    const out: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    const held: Uint8Array[] = [];
    for (const piece of jsonBytes(report, 512, pool)) {
      out.push(Buffer.from(piece));
      buffers.add(piece.buffer);
      // Given back two pieces later (a stream's read-ahead), their old bytes overwritten.
      held.push(piece);
      if (held.length > 2) {
        const back = held.shift()!;
        new Uint8Array(back.buffer).fill(0xff);
        pool.give(back);
        pool.give(back); // twice: kept once
      }
    }
    expect(Buffer.concat(out).toString('utf8')).toBe(JSON.stringify(report));
    expect(out.length).toBeGreaterThan(50);
    // The pieces of 512 bytes came from a handful of buffers (longer ones, for one long string, are new).
    expect(buffers.size).toBeLessThan(out.length / 4);
  }, 60_000);

  it('equals JSON.stringify of a real fleet report, in pieces of the asked size', () => {
    const input = inputOf(fleetInstances());
    input.createdAt = '2026-12-05T00:00:00.000Z';
    const report = withTrust(analyze(input), input);
    expectSameAsStringify(report);
    const pieces = [...jsonBytes(report, 512)];
    expect(Buffer.concat(pieces).toString('utf8')).toBe(JSON.stringify(report));
    // Every piece but the last is the piece size, unless one string alone needed more.
    const longestString = Math.max(
      ...[...JSON.stringify(report).matchAll(/"(?:[^"\\]|\\.)*"/g)].map((m) => m[0].length),
    );
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(Math.max(512, 3 * longestString));
    expect(pieces.length).toBeGreaterThan(JSON.stringify(report).length / 512 - 1);
  }, 60_000);

  it.each([
    ['the fleet', () => inputOf(fleetInstances())],
    ['a compact class fleet', () => ({ ...inputOf(classFleet(44)), fileTable: 'compact' as const })],
  ])(
    "writes the shared inodes of %s from the engine's columns as JSON.stringify writes the objects",
    (_name, inputFor: () => AnalysisInput) => {
      const input = inputFor();
      const report = withTrust(analyze(input), input);
      expect(attachedGroupColumns(report)).not.toBeNull();
      for (const chunk of [512, JSON_PIECE_BYTES]) {
        const got = joined(jsonBytes(report, chunk));
        expect(attachedGroupColumns(report)).not.toBeNull(); // written from the columns
        const other = withTrust(analyze(input), input);
        expect(got.toString('utf8')).toBe(JSON.stringify(other));
      }
    },
    60_000,
  );

  it('equals JSON.stringify for random report-shaped values', () => {
    fc.assert(
      fc.property(reportShaped, fc.constantFrom(1, 7, 64, JSON_PIECE_BYTES), (value, chunk) => {
        expectSameAsStringify(value, chunk);
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it('writes shared inodes from columns as JSON.stringify writes their objects, for any values the columns hold', () => {
    const row = fc.integer({ min: 0, max: 2 ** 31 - 1 });
    const sharedGroup = fc.record(
      {
        fingerprint: anyString,
        domain: anyString,
        aops: fc.constantFrom(...AOPS_CLASSES),
        size: anyNumber,
        pages: anyNumber,
        members: fc.array(row, { maxLength: 40 }),
        rejected: fc.array(row, { maxLength: 5 }),
        memberCount: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        rejectedCount: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        orderDependent: fc.boolean(),
      },
      { requiredKeys: ['fingerprint', 'domain', 'aops', 'size', 'pages', 'members', 'rejected'] },
    );
    fc.assert(
      fc.property(
        fc.array(sharedGroup, { maxLength: 30 }),
        fc.constantFrom(1, 7, 64, JSON_PIECE_BYTES),
        (groups, chunk) => {
          expectGroupColumnsAsStringify(groupColumnsFromObjects(groups as SharedGroup[]), chunk);
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);

  it('writes lower-hex fingerprints (copied natively) with their domain and aops as JSON.stringify does, for any domain', () => {
    // plainFingerprints: the engine saw every fingerprint is lower-case hex, so the writer copies
    // each as it is and writes its closing quote, domain and aops in one copy per (domain, aops).
    const row = fc.integer({ min: 0, max: 2 ** 31 - 1 });
    const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 80 });
    const sharedGroup = (domains: string[]) =>
      fc.record({
        fingerprint: hex,
        domain: fc.constantFrom(...domains),
        aops: fc.constantFrom(...AOPS_CLASSES),
        size: anyNumber,
        pages: anyNumber,
        members: fc.array(row, { maxLength: 10 }),
        rejected: fc.array(row, { maxLength: 3 }),
      });
    fc.assert(
      fc.property(
        fc
          .uniqueArray(anyString, { minLength: 1, maxLength: 5 })
          .chain((domains) => fc.array(sharedGroup(domains), { maxLength: 40 })),
        fc.constantFrom(1, 7, 64, JSON_PIECE_BYTES),
        (groups, chunk) => {
          const columns = { ...groupColumnsFromObjects(groups as SharedGroup[]), plainFingerprints: true };
          expectGroupColumnsAsStringify(columns, chunk);
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);

  it('equals JSON.stringify for any JSON value and any string or number', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => expectSameAsStringify(v, 16)),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(anyString, (s) => expectSameAsStringify([s, { [s]: s }], 5)),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(anyNumber, (n) => expectSameAsStringify([n, { n }], 3)),
      { numRuns: 1000 },
    );
  }, 120_000);

  it('writes what JSON.stringify writes for values JSON cannot carry, toJSON and large nested arrays', () => {
    const big = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? -i / 3 : i));
    const value = {
      a: undefined,
      b: () => 1,
      c: Symbol('s'),
      d: [undefined, () => 1, Symbol('t'), NaN, Infinity, -0, null, 'x"\u2028\n', true],
      e: new Date(Date.UTC(2026, 11, 5)),
      f: { toJSON: (key: string) => ({ key }) },
      g: [big, [big, { nested: big, deeper: { toJSON: (k: string) => [k, undefined] } }], new Map([[1, 2]])],
      h: Object.assign(Object.create(null) as object, { z: 1, 'quote"key': [1, 2], 'é\ud800': 'v' }),
      i: new Uint8Array([1, 2, 3]),
      j: [],
      k: {},
      l: [[]],
      m: [
        1,
        { a: 1 },
        2,
        'x',
        [3],
        undefined,
        null,
        new Array(3),
        5,
        { toJSON: () => 'j' },
        { toJSON: () => undefined },
      ],
      n: { toJSON: () => undefined },
      o: [new Number(3), new String('s\n'), new Boolean(false)],
    };
    for (const n of [1, 7, 16, 100, 65536]) expectSameAsStringify(value, n);
    expect(joined(jsonBytes(undefined)).toString()).toBe('null');
    expect(joined(jsonBytes('s')).toString()).toBe('"s"');
    expect(joined(jsonBytes({ toJSON: (k: string) => `key[${k}]` })).toString()).toBe('"key[]"');
    // An array element's toJSON gets its index as a string, in a walked array and in one
    // written whole, between runs of numbers and strings.
    const keyed = { toJSON: (k: unknown) => `${typeof k}:${String(k)}` };
    const elements = { a: [1, 'x', keyed, 2, keyed], b: { c: { d: ['y', keyed, 3] } } };
    expect(joined(jsonBytes(elements)).toString()).toBe(
      '{"a":[1,"x","string:2",2,"string:4"],"b":{"c":{"d":["y","string:1",3]}}}',
    );
    expectSameAsStringify(elements, 3);
    expect(() => [...jsonBytes({ n: 1n })]).toThrow(/BigInt/);
    expect(() => [...jsonBytes([[1n]])]).toThrow(/BigInt/);
  });

  it('keeps objects of different member names apart that begin with the same name', () => {
    // Written by shape (the encoded names of the first object with these names): objects that
    // share a first name but differ after it, skip members, or exceed the shapes kept.
    const rows = [
      { a: 1, b: 'x', c: [2] },
      { a: 1, c: 'y', b: [3] },
      { a: 1, b: 'x' },
      { a: 1, b: undefined, c: 'z' },
      { a: undefined, b: 2, c: 3 },
      { a: 1, b: 'x', c: [2] },
      { a: 1, b: 'x', c: [2], d: null },
      {},
      { b: () => 1, a: 1 },
      ...Array.from({ length: 600 }, (_, i) => ({ [`k${i % 300}`]: i, a: -i, [`m${i}`]: [i] })),
      { a: 1, b: 'x', c: [2] },
    ];
    expectSameAsStringify(rows);
    expectSameAsStringify({ report: { groups: rows } }, 64);
    expect(joined(jsonBytes(rows.slice(0, 3))).toString()).toBe(
      '[{"a":1,"b":"x","c":[2]},{"a":1,"c":"y","b":[3]},{"a":1,"b":"x"}]',
    );
  });

  it('writes negative int32 columns (-1 for "no group") as JSON.stringify does', () => {
    const column = [
      -1, 0, -0, 1, -2147483648, 2147483647, -2147483647, 2147483648, -2147483649, -1.5, -10, -9,
    ];
    expect(joined(jsonBytes({ files: { group: column } })).toString()).toBe(
      '{"files":{"group":[-1,0,0,1,-2147483648,2147483647,-2147483647,2147483648,-2147483649,-1.5,-10,-9]}}',
    );
    expectSameAsStringify({ files: { group: column } }, 3);
  });

  it('writes every digit count of an int32 as JSON.stringify does (digits written two at a time)', () => {
    // Each power of ten, one below it and one above, both signs: 1 to 10 digits, odd and even
    // counts, pairs with a leading zero (100, 1001...), and the int32 bounds.
    const column: number[] = [0, 2147483647, -2147483648, 2147483648];
    for (let t = 1; t <= 1e9; t *= 10) for (const v of [t - 1, t, t + 1, 2 * t + 7]) column.push(v, -v);
    expectSameAsStringify({ files: { size: column, group: column.slice().reverse() } });
    // In a walked object's members (not a column run) too, and across many pieces.
    expectSameAsStringify(
      column.map((v) => ({ size: v, pages: -v })),
      7,
    );
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -2147483648, max: 2147483647 }), { maxLength: 200 }), (xs) =>
        expectSameAsStringify({ files: { instance: xs } }, 16),
      ),
      { seed: 20261207, numRuns: 200 },
    );
  });

  it('never splits a UTF-8 character between pieces', () => {
    const value = { s: ['é'.repeat(10), '\u{1f600}'.repeat(5), 'x\u2028y'], t: 'ü' };
    const pieces = [...jsonBytes(value, 4)];
    // Each piece decodes on its own (a stream's consumer may decode piece by piece).
    const decoder = new TextDecoder('utf-8', { fatal: true });
    expect(pieces.map((p) => decoder.decode(p)).join('')).toBe(JSON.stringify(value));
  });
});
