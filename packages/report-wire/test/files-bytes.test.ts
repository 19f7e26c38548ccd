/**
 * The sharemap-files encoding is a stored format: the server keeps it as a blob and serves it
 * as is, so a faster encoder must write the very same bytes. The digests below are those of
 * the encoder as it was before it streamed its pieces (main at 26ff7b4), on the fleet report
 * and on reports in the shape of the server-2m benchmark (one image, whose paths need no
 * table, and two images of 60,000 records: shared inodes and paths repeated across images).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze } from '@sharemap/sharing';
import { fleetInstances, inputOf } from '@sharemap/sharing/testing';
import { encodeFiles, encodeFilesPieces, joinedUtf8 } from '../src/index.js';
import { bigReport } from './big-report.js';

/** Digests of the encoder before it streamed (main at 26ff7b4). */
const FLEET_BYTES = 167_864;
const FLEET_SHA256 = '4af76d916497336f8d7411dee54210b6785a8599442de30692d33420600bc67c';
const BIG1_SHA256 = 'c1787f76a7e833993427e41f609080e6c07f0eba456cf70025ba8b180600d2df';
const BIG2_SHA256 = 'd2e275ed4ed39681c626457369ac9993b096fe232cbb29517fcf2aeeafe45943';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The pieces joined into one buffer (what a stream of them writes). */
const joined = (pieces: Iterable<Uint8Array>): Uint8Array => Buffer.concat([...pieces]);

describe('files encoding: the same bytes as the encoder before it streamed', () => {
  it('on the fleet report', () => {
    const fleet = analyze(inputOf(fleetInstances()));
    const bytes = encodeFiles(fleet);
    expect(bytes.length).toBe(FLEET_BYTES);
    expect(sha256(bytes)).toBe(FLEET_SHA256);
    const pieces = encodeFilesPieces(fleet);
    expect(pieces.byteLength).toBe(FLEET_BYTES);
    expect(sha256(joined(pieces.pieces()))).toBe(FLEET_SHA256);
  });

  it.each([
    { images: 1 as const, rows: 60_000, groups: 9_456, bytes: 3_243_800, sha256: BIG1_SHA256 },
    { images: 2 as const, rows: 120_000, groups: 36_476, bytes: 6_060_832, sha256: BIG2_SHA256 },
  ])(
    'on a 2M-style report of $images image(s) of 60,000 records',
    (c) => {
      const report = bigReport(60_000, c.images);
      expect(report.files.instance.length).toBe(c.rows);
      expect(report.groups.length).toBe(c.groups);
      const bytes = encodeFiles(report);
      expect(bytes.length).toBe(c.bytes);
      expect(sha256(bytes)).toBe(c.sha256);
      const pieces = encodeFilesPieces(report);
      expect(pieces.byteLength).toBe(c.bytes);
      // The pieces can be iterated again, and give the same bytes; none is empty.
      expect([...pieces.pieces()].filter((p) => p.length === 0)).toEqual([]);
      expect(sha256(joined(pieces.pieces()))).toBe(c.sha256);
      expect(sha256(joined(pieces.pieces()))).toBe(c.sha256);
    },
    300_000,
  );
});

describe('paths.text: the paths joined by NUL as UTF-8 (joinedUtf8)', () => {
  it('is TextEncoder of the joined paths, for any strings, whatever the chunk ends', () => {
    const anyPath = fc.oneof(
      fc.string({ unit: 'grapheme-ascii' }),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.integer({ min: 1, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
      fc.constantFrom('/usr/lib/é.so', '\ud800', 'a\udc00', '\u{1f600}', ''),
    );
    fc.assert(
      fc.property(fc.array(anyPath), (list) => {
        expect(
          Buffer.from(joined(joinedUtf8(list))).equals(
            Buffer.from(new TextEncoder().encode(list.join('\u0000'))),
          ),
        ).toBe(true);
      }),
      { numRuns: 500 },
    );
    // Past one chunk of 1 MiB: a string that fills most of it, then more.
    const long = ['/' + 'x'.repeat(400_000), 'é'.repeat(300_000), 'tail', ''];
    const pieces = joinedUtf8(long);
    expect(pieces.length).toBeGreaterThan(1);
    expect(
      Buffer.from(joined(pieces)).equals(Buffer.from(new TextEncoder().encode(long.join('\u0000')))),
    ).toBe(true);
  }, 120_000);
});
