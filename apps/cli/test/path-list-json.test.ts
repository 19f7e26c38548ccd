/**
 * report-wire's jsonBytes writes a report's path list from its PathStore (the bytes `sharemap
 * analyze` keeps: docs/benchmarks.md#analyze-paths-paths-as-bytes-2026-12-07) as JSON.stringify
 * writes the strings, for any paths (escapes, control characters, non-ASCII, lone surrogates)
 * between other members, in pieces of any size. Kept from analyze-after's paths thread, built and
 * not kept (docs/benchmarks.md#analyze-after-the-paths-json-on-the-idle-core-built-measured-and-not-kept-2026-12-08).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PathStore } from '@sharemap/erofs';
import { jsonBytes } from '@sharemap/report-wire';
import { reportPaths } from '@sharemap/sharing';

const text = (pieces: Iterable<Uint8Array>): string => Buffer.concat([...pieces]).toString('utf8');

describe('a path list written from its PathStore', () => {
  it('is JSON.stringify of its paths, for any paths, in pieces of any size', () => {
    const path = fc.string({ unit: 'binary', maxLength: 12 });
    fc.assert(
      fc.property(fc.array(path, { maxLength: 40 }), fc.integer({ min: 1, max: 48 }), (paths, chunk) => {
        const store = new PathStore(2, 4);
        for (const p of paths) store.add(p);
        const value = {
          before: 'x',
          paths: reportPaths([{ id: 'img', store, list: () => [] }]),
          after: [1, 2],
        };
        expect(text(jsonBytes(value, chunk))).toBe(
          JSON.stringify({ before: 'x', paths: { img: paths }, after: [1, 2] }),
        );
      }),
    );
  });
});
