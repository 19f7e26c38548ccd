/** The radix row sort against a comparator sort: same order, ties in row order, any numbers. */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@sharemap/erofs/testing';
import { sortRows, sortRowsBy, stringRanks } from '../../src/lib/sort';

function reference(rows: Uint32Array, key: (r: number) => number, desc: boolean): number[] {
  return [...rows].sort((a, b) => (desc ? key(b) - key(a) : key(a) - key(b)) || a - b);
}

const rand = seededRandom(7);

describe('sortRowsBy', () => {
  const n = 5000;
  const rows = Uint32Array.from({ length: n }, (_, i) => i);
  const keys: Record<string, number[]> = {
    'small integers with ties': Array.from({ length: n }, () => Math.floor(rand() * 20)),
    'large integers': Array.from({ length: n }, () => Math.floor(rand() * 2 ** 52)),
    'negative and fractional': Array.from({ length: n }, () => (rand() - 0.5) * 1e6),
    'zeros of both signs': Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -0 : i % 3 === 1 ? 0 : -1)),
    'one value': Array.from({ length: n }, () => 42),
  };
  for (const [name, k] of Object.entries(keys))
    for (const desc of [false, true])
      it(`${name}, ${desc ? 'descending' : 'ascending'}`, () => {
        const key = (r: number) => k[r]!;
        expect([...sortRowsBy(rows, key, desc)]).toEqual(reference(rows, key, desc));
      });

  it('sorts a subset of rows, stably, and leaves its input alone', () => {
    const subset = Uint32Array.from([9, 3, 7, 1, 5]);
    const key = (r: number) => (r % 2 === 1 ? 1 : 0);
    expect([...sortRowsBy(subset, (r) => (r > 4 ? 1 : 0))]).toEqual([3, 1, 9, 7, 5]);
    expect([...sortRowsBy(subset, key, true)]).toEqual([9, 3, 7, 1, 5]);
    expect([...subset]).toEqual([9, 3, 7, 1, 5]);
    expect([...sortRowsBy(new Uint32Array(0), key)]).toEqual([]);
    expect([...sortRowsBy(Uint32Array.from([4]), key)]).toEqual([4]);
  });
});

describe('stringRanks', () => {
  it('ranks in the order of <, equal strings equal ranks', () => {
    const v = ['/b', '/a/x', '/a-b', '/a', '/b', 'Z', 'ä'];
    const r = stringRanks(v);
    for (let i = 0; i < v.length; i++)
      for (let j = 0; j < v.length; j++)
        expect(Math.sign(r[i]! - r[j]!)).toBe(v[i]! < v[j]! ? -1 : v[i]! > v[j]! ? 1 : 0);
  });
});

describe('sortRows (several keys)', () => {
  const n = 4000;
  const rows = Uint32Array.from({ length: n }, (_, i) => (i * 7) % n);
  const a = Array.from({ length: n }, () => Math.floor(rand() * 9));
  const big = Array.from({ length: n }, () => Math.floor(rand() * 2 ** 40));
  const small = Array.from({ length: n }, () => Math.floor(rand() * 300));
  const frac = Array.from({ length: n }, () => rand() - 0.5);
  const cases: [string, number[][]][] = [
    ['two small integer keys (one combined key)', [a, small]],
    ['a key too wide to combine', [a, big]],
    ['fractions and integers', [frac, a]],
    ['three keys', [a, small, frac]],
  ];
  for (const [name, ks] of cases)
    for (const desc of [false, true])
      it(`${name}, ${desc ? 'descending' : 'ascending'}`, () => {
        const at = new Map([...rows].map((r, i) => [r, i]));
        const want = [...rows].sort((x, y) => {
          for (const k of ks) {
            const d = desc ? k[y]! - k[x]! : k[x]! - k[y]!;
            if (d) return d;
          }
          return at.get(x)! - at.get(y)!;
        });
        expect([
          ...sortRows(
            rows,
            ks.map((k) => (r: number) => k[r]!),
            desc,
          ),
        ]).toEqual(want);
      });
});
