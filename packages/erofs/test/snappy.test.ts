/**
 * The Snappy decoder of the Parquet readers (src/snappy.ts): the same bytes as hyparquet's
 * decoder on every stream a writer makes, and a clear error, never a hang, on hostile pages,
 * including the ones hyparquet's decoder loops on (a 4-byte length with its top bit set).
 */
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { snappyUncompress } from 'hyparquet/src/snappy.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../src/errors.js';
import { scanImageFile } from '../src/node.js';
import {
  manifestParquetColumns,
  manifestParquetMetadata,
  parseParquetManifest,
} from '../src/manifest-parquet.js';
import { snappyDecodeInto } from '../src/snappy.js';
import { seededRandom } from './seeded-random.js';

const compress = snappyCompress as (b: Uint8Array) => Uint8Array;

/** Bytes that compress well or not at all: runs, repeats of earlier bytes, noise. */
function sample(r: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n;) {
    const kind = r();
    const len = Math.min(n - i, 1 + Math.floor(r() * 300));
    if (kind < 0.3) b.fill(Math.floor(r() * 256), i, i + len);
    else if (kind < 0.6 && i > 0) {
      const from = Math.floor(r() * i);
      for (let k = 0; k < len; k++) b[i + k] = b[from + k]!;
    } else for (let k = 0; k < len; k++) b[i + k] = Math.floor(r() * 256);
    i += len;
  }
  return b;
}

/** What decoding gives: the bytes, or the fact of an error. */
function decode(f: (i: Uint8Array, o: Uint8Array) => void, input: Uint8Array, size: number): string {
  const out = new Uint8Array(size);
  try {
    f(input, out);
    return Buffer.from(out).toString('hex');
  } catch {
    return 'error';
  }
}

const HOSTILE: [string, number[], number][] = [
  // a literal of 4 length bytes fa ff ff ff: hyparquet reads -6 + 1 and steps back for ever
  ['a negative 4-byte literal length', [0x0a, 0xfc, 0xfa, 0xff, 0xff, 0xff, 0x00, 0x00], 10],
  ['a 4-byte literal length past the page', [0x0a, 0xfc, 0x00, 0x00, 0x00, 0x01, 0x00], 10],
  ['a 4-byte copy offset with its top bit set', [0x08, 0x0c, 0x61, 0x62, 0x63, 0x0f, 0, 0, 0, 0x80], 8],
  ['a copy from before the start', [0x08, 0x00, 0x61, 0x0d, 0x05], 8],
  ['a copy offset of 0', [0x08, 0x00, 0x61, 0x0d, 0x00], 8],
  ['more bytes than declared', [0x02, 0x08, 0x61, 0x62, 0x63], 2],
  ['a declared length other than the page size', [0x03, 0x08, 0x61, 0x62, 0x63], 4],
  ['a length header that never ends', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 4],
  ['an empty page for bytes', [], 4],
];

describe('snappyDecodeInto', () => {
  it("gives hyparquet's bytes for every stream its writer makes", () => {
    const r = seededRandom(20261208);
    for (let k = 0; k < 300; k++) {
      const data = sample(r, Math.floor(r() * (k < 250 ? 5000 : 200_000)));
      const stream = compress(data);
      const out = new Uint8Array(data.length);
      snappyDecodeInto(stream, out);
      expect(Buffer.compare(out, data)).toBe(0);
      expect(decode(snappyUncompress, stream, data.length)).toBe(Buffer.from(data).toString('hex'));
    }
  });

  it('refuses hostile streams with an error naming Snappy', () => {
    for (const [what, bytes, size] of HOSTILE)
      expect(() => snappyDecodeInto(Uint8Array.from(bytes), new Uint8Array(size)), what).toThrow(/^Snappy: /);
  });

  it("agrees with hyparquet's decoder on damaged streams it does not loop on, or refuses them", () => {
    const r = seededRandom(7);
    let same = 0;
    for (let k = 0; k < 2000; k++) {
      const data = sample(r, 1 + Math.floor(r() * 600));
      const s = compress(data).slice();
      for (let d = 0; d < 1 + Math.floor(r() * 3); d++) s[Math.floor(r() * s.length)] = Math.floor(r() * 256);
      // a 4-byte literal length (tag 0xfc) or copy offset can send hyparquet's decoder into a loop
      const mine = decode(snappyDecodeInto, s, data.length);
      if (s.includes(0xfc) || (s.some((b) => (b & 3) === 3) && mine === 'error')) continue;
      const theirs = decode(snappyUncompress, s, data.length);
      // whatever both decode, they decode alike; ours may refuse what hyparquet's lets through
      // (a declared length other than the page's), never the other way round
      if (mine !== 'error') {
        expect(theirs).toBe(mine);
        same++;
      }
    }
    expect(same).toBeGreaterThan(100);
  });
});

describe('a Parquet manifest with a hostile Snappy page', () => {
  it('is refused by both readers with an error, not read for ever', async () => {
    const m = await scanImageFile(join(import.meta.dirname, '../../../testdata/erofs/app.fp.img'));
    // every page "compressed" into its true length, then the literal hyparquet's decoder loops on
    const hostile = (page: Uint8Array): Uint8Array => {
      const header: number[] = [];
      for (let n = page.length; ; n = Math.floor(n / 128)) {
        header.push(n < 128 ? n : (n % 128) | 0x80);
        if (n < 128) break;
      }
      return Uint8Array.from([...header, 0xfc, 0xfa, 0xff, 0xff, 0xff, 0x00, 0x00]);
    };
    const bytes = new Uint8Array(
      parquetWriteBuffer({
        columnData: manifestParquetColumns(m),
        kvMetadata: manifestParquetMetadata(m),
        codec: 'SNAPPY',
        compressors: { SNAPPY: hostile },
      }),
    );
    for (const columnPath of [true, false]) {
      const read = parseParquetManifest(bytes, { columnar: true }, { columnPath });
      await expect(read).rejects.toThrow(ManifestError);
      await expect(parseParquetManifest(bytes, {}, { columnPath })).rejects.toThrow(/Snappy: literal/);
    }
  });
});
