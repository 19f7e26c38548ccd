/**
 * StringTable (manifest-strings.ts): one string object per distinct value, whether it comes as
 * a string (intern, internAt) or as ASCII bytes hashed by the NDJSON fast path (internAtAscii),
 * through the table's growth.
 */
import { describe, expect, it } from 'vitest';
import { asciiString } from '../src/manifest-fast-line.js';
import { NdjsonManifestParser } from '../src/manifest-parse.js';
import { hashString, MAX_RESERVED_STRINGS, StringTable } from '../src/manifest-strings.js';
import { ndjsonHeaderLine } from './ndjson-header.js';

/** A string equal to `s` but another object (built char by char, then flattened). */
const copyOf = (s: string): string => JSON.parse(JSON.stringify(s)) as string;
// (String identity is not observable in JavaScript: size counts the entries.)

describe('StringTable', () => {
  it('holds one entry per distinct value, through growth', () => {
    const t = new StringTable();
    const values = Array.from({ length: 20_000 }, (_, i) => `/usr/lib/pkg${i >> 7}/file${i}.so`);
    const first = values.map((v) => t.intern(v));
    for (let i = 0; i < values.length; i++) expect(first[i]).toBe(values[i]);
    expect(t.size).toBe(20_000);
    for (let i = 0; i < values.length; i += 7) {
      const again = t.intern(copyOf(values[i]!));
      expect(again).toBe(values[i]);
    }
    expect(t.intern('')).toBe('');
    expect(t.intern('\u00e9\u{1f600}')).toBe('\u00e9\u{1f600}');
    expect(t.size).toBe(20_002);
  });

  it('finds from ASCII bytes what was interned as strings, and the reverse', () => {
    const t = new StringTable();
    const enc = new TextEncoder();
    const a = t.intern('/a/b');
    const bytes = enc.encode('x"/a/b"y/c/d"');
    // bytes [2, 6) are "/a/b": found, not made again
    expect(t.internAtAscii(0, bytes, 2, 6, hashString('/a/b'), asciiString)).toBe(a);
    const cd = t.internAtAscii(1, bytes, 8, 12, hashString('/c/d'), asciiString);
    expect(cd).toBe('/c/d');
    expect(t.intern(copyOf('/c/d'))).toBe(cd);
    // the slot's last value is compared first; another value in the slot is interned as usual
    expect(t.internAtAscii(1, bytes, 2, 6, hashString('/a/b'), asciiString)).toBe(a);
    expect(t.internAt(5, copyOf('/a/b'))).toBe(a);
    expect(t.size).toBe(2);
  });

  it('numbers its strings densely in the order first seen (indexOf, indexAt, stringAt)', () => {
    const t = new StringTable();
    const enc = new TextEncoder();
    expect(t.intern('/a')).toBe('/a');
    expect(t.internAt(4, '/b')).toBe('/b');
    const bytes = enc.encode('/c/a');
    expect(t.internAtAscii(7, bytes, 0, 2, hashString('/c'), asciiString)).toBe('/c');
    // found again through the table: the index of the first entry, nothing added
    expect(t.internAtAscii(8, bytes, 2, 4, hashString('/a'), asciiString)).toBe('/a');
    expect([t.indexOf('/a'), t.indexOf(copyOf('/b')), t.indexOf('/c'), t.indexOf('/d')]).toStrictEqual([
      0, 1, 2, -1,
    ]);
    expect([t.stringAt(0), t.stringAt(1), t.stringAt(2), t.stringAt(3)]).toStrictEqual([
      '/a',
      '/b',
      '/c',
      undefined,
    ]);
    // indexAt: the slot's last value and its index, whichever way it was interned
    expect([t.indexAt(4, '/b'), t.indexAt(7, '/c'), t.indexAt(8, '/a')]).toStrictEqual([1, 2, 0]);
    // a value other than the slot's, or a slot never used: looked up in the table
    expect([t.indexAt(4, '/c'), t.indexAt(99, '/b'), t.indexAt(99, '/zz')]).toStrictEqual([2, 1, -1]);
    // through growth, every index stays its string's
    const values = Array.from({ length: 5000 }, (_, i) => `/v${i}`);
    values.forEach((v, i) => t.internAt(3 * i + 1, v));
    values.forEach((v, i) => {
      expect(t.indexOf(copyOf(v))).toBe(3 + i);
      expect(t.indexAt(3 * i + 1, v)).toBe(3 + i);
    });
    expect(t.size).toBe(5003);
  });

  it('hashes ASCII bytes and their string alike, and different strings apart', () => {
    expect(hashString('abc')).toBe(hashString(copyOf('abc')));
    const seen = new Set(Array.from({ length: 1000 }, (_, i) => hashString(`f${i}`)));
    expect(seen.size).toBeGreaterThan(990);
  });

  it('reserve() sizes the table once: the same indices, no growth, a claim capped', () => {
    const values = Array.from({ length: 30_000 }, (_, i) => `/usr/share/doc/p${i >> 5}/f${i}`);
    const grown = new StringTable();
    const reserved = new StringTable();
    reserved.reserve(values.length);
    const room = reserved.capacity;
    expect(room).toBeGreaterThanOrEqual(values.length);
    expect(room).toBeLessThan(2 * values.length); // the smallest power of two that holds them
    values.forEach((v, i) => {
      grown.internAt(3 * i, v);
      reserved.internAt(3 * i, copyOf(v));
    });
    expect(reserved.capacity).toBe(room);
    expect(reserved.size).toBe(grown.size);
    for (let i = 0; i < values.length; i += 97)
      expect(reserved.indexOf(values[i]!)).toBe(grown.indexOf(values[i]!));
    // a total, not more: a table holding enough already is left as it is
    reserved.reserve(10);
    expect(reserved.capacity).toBe(room);
    // a header's claim past the cap reserves no more than MAX_RESERVED_STRINGS
    const claimed = new StringTable();
    claimed.reserve(1e12);
    expect(claimed.capacity).toBeGreaterThanOrEqual(MAX_RESERVED_STRINGS);
    expect(claimed.capacity).toBeLessThan(2 * MAX_RESERVED_STRINGS);
  });

  it('releaseLookups() frees the table and keeps every answer: strings, indices, later lookups', () => {
    const t = new StringTable();
    const enc = new TextEncoder();
    const values = Array.from({ length: 5_000 }, (_, i) => `sha256:${i.toString(16).padStart(64, '0')}`);
    for (let i = 0; i < values.length; i++) t.internAt(3 * i + 1, values[i]!);
    t.releaseLookups();
    expect(t.capacity).toBe(0);
    expect(t.size).toBe(5_000);
    expect(t.stringAt(4_321)).toBe(values[4_321]);
    // a lookup after the release rebuilds the table: the same indices, equal values found
    expect(t.indexOf(copyOf(values[17]!))).toBe(17);
    expect(t.capacity).toBeGreaterThanOrEqual(5_000);
    expect(t.indexAt(3 * 17 + 1, values[17]!)).toBe(17);
    const bytes = enc.encode(values[99]!);
    expect(t.internAtAscii(2, bytes, 0, bytes.length, hashString(values[99]!), asciiString)).toBe(values[99]);
    expect(t.internAt(4, 'new')).toBe('new');
    expect(t.indexOf('new')).toBe(5_000);
    // released twice, then grown: still one entry per value
    t.releaseLookups();
    t.releaseLookups();
    t.reserve(20_000);
    expect(t.intern(copyOf(values[0]!))).toBe(values[0]);
    expect(t.size).toBe(5_001);
  });

  it('internDistinct() takes distinct values: as they are into an empty table, by value into one that holds some', () => {
    const values = Array.from({ length: 5_000 }, (_, i) => `sha256:${i.toString(16).padStart(64, '0')}`);
    const empty = new StringTable();
    const first = values.slice(0, 3_000);
    expect([...empty.internDistinct(first)]).toEqual(first.map((_, k) => k));
    expect(empty.capacity).toBe(0); // nothing hashed until a lookup asks
    expect(empty.size).toBe(3_000);
    expect(empty.stringAt(2_999)).toBe(values[2_999]);
    // Later values (another manifest's): equal ones get the index already given, new ones the next.
    const later = [copyOf(values[10]!), values[4_000]!, copyOf(values[2_999]!), values[4_001]!];
    expect([...empty.internDistinct(later)]).toEqual([10, 3_000, 2_999, 3_001]);
    expect(later).toEqual([values[10], values[4_000], values[2_999], values[4_001]]);
    expect(empty.indexOf(copyOf(values[1_234]!))).toBe(1_234);
    expect(empty.internIndex(copyOf(values[4_001]!))).toBe(3_001);
    expect(empty.internIndex('new')).toBe(3_002);
    expect(empty.size).toBe(3_003);
  });

  it('is sized from the NDJSON header: 2 strings a record (3 when hashed), before any record', () => {
    const header = (fileCount: number, hashed: boolean): string => ndjsonHeaderLine(fileCount, hashed, 1);
    const after = (fileCount: number, hashed: boolean): number => {
      const strings = new StringTable();
      new NdjsonManifestParser({ columnar: true, strings }).line(header(fileCount, hashed));
      return strings.capacity;
    };
    expect(after(40_000, false)).toBeGreaterThanOrEqual(80_000);
    expect(after(40_000, false)).toBeLessThan(160_000);
    expect(after(40_000, true)).toBeGreaterThanOrEqual(120_000);
    expect(after(40_000, true)).toBeLessThan(240_000);
    // file_count is a claim: 10M records reserve the cap, not 20M strings
    expect(after(10_000_000, false)).toBeLessThan(2 * MAX_RESERVED_STRINGS);
  });
});
