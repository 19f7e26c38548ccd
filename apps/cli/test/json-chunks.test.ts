/**
 * `--json` writes the report in pieces (output/json-chunks.ts): joined, they are exactly
 * JSON.stringify of the same value, and each piece stays near the chunk length.
 */
import { describe, expect, it } from 'vitest';
import { analyze, withTrust } from '@sharemap/sharing';
import { fleetInstances, inputOf } from '@sharemap/sharing/testing';
import { jsonChunks } from '../src/output/json-chunks.js';

describe('jsonChunks', () => {
  it('joins to JSON.stringify of a real fleet report, in bounded pieces', () => {
    const input = inputOf(fleetInstances());
    input.createdAt = '2026-12-05T00:00:00.000Z';
    const report = withTrust(analyze(input), input);
    const whole = JSON.stringify(report);
    const pieces = [...jsonChunks(report, 512)];
    expect(pieces.join('')).toBe(whole);
    expect(pieces.length).toBeGreaterThan(whole.length / 4096);
    // A piece ends once it reaches 512 characters: one key and value more, or one run of up to
    // 512 / 16 array elements, may overshoot it.
    const longestString = Math.max(...[...whole.matchAll(/"(?:[^"\\]|\\.)*"/g)].map((m) => m[0].length));
    for (const p of pieces) expect(p.length).toBeLessThan(512 + (512 / 16) * (longestString + 1) + 8);
  });

  it('writes what JSON.stringify writes for values JSON cannot carry, toJSON and large nested arrays', () => {
    const big = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? -i / 3 : i));
    const value = {
      a: undefined,
      b: () => 1,
      c: Symbol('s'),
      d: [undefined, () => 1, Symbol('t'), NaN, Infinity, -0, null, 'x"\u2028\n', true],
      e: new Date(Date.UTC(2026, 11, 5)),
      f: { toJSON: (key: string) => ({ key }) },
      g: [big, [big, { nested: big }], new Map([[1, 2]])],
      h: Object.assign(Object.create(null) as object, { z: 1, 'quote"key': [1, 2] }),
      i: new Uint8Array([1, 2, 3]),
      j: [],
      k: {},
      l: [[]],
      m: [1, { a: 1 }, 2, 'x', [3], undefined, null, new Array(3), 5, { toJSON: () => 'j' }],
    };
    for (const n of [1, 7, 16, 100, 65536]) expect([...jsonChunks(value, n)].join('')).toBe(JSON.stringify(value));
    expect([...jsonChunks(undefined)].join('')).toBe('null');
    expect([...jsonChunks('s')].join('')).toBe('"s"');
    expect(() => [...jsonChunks({ n: 1n })]).toThrow(/BigInt/);
  });
});
