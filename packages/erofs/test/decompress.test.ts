import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { CompressedDataError } from '../src/compressed/errors.js';
import { LZ4_DECODE_FNS, useLz4Decoder } from './lz4-decoders.js';
import {
  decompressPcluster,
  deflateDecompress,
  lzmaDecompress,
  zstdDecompress,
  zstdFrameContentSize,
} from '../src/decompress/index.js';
import { seededInts } from './seeded-random.js';

// Vectors made with the Debian tools (see decompress-fixtures/README.md).
const dir = join(import.meta.dirname, 'decompress-fixtures');
const read = (n: string): Uint8Array => new Uint8Array(readFileSync(join(dir, n)));
const sample = read('sample.bin');

/** The single LZ4 block inside `lz4 -BI --content-size` frame output (header is 15 bytes). */
function lz4Block(): Uint8Array {
  const f = read('sample.lz4frame');
  const size = new DataView(f.buffer, f.byteOffset).getUint32(15, true);
  expect(size & 0x80000000).toBe(0);
  return f.subarray(19, 19 + size);
}

/** xz raw LZMA1 (lc=3, lp=0, pb=2) turned into MicroLZMA: byte 0 = ~props (docs/format.md#compressed-streams). */
function microLzma(): Uint8Array {
  const s = read('sample.lzma1raw').slice();
  expect(s[0]).toBe(0);
  s[0] = ~(3 + 0 * 9 + 2 * 45) & 0xff;
  return s;
}

function expectCorrupt(fn: () => unknown): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CompressedDataError);
  expect((err as CompressedDataError).code).toBe('ECORRUPT');
}

describe.each(LZ4_DECODE_FNS)('lz4 (%s decoder)', (_name, lz4Decompress) => {
  it('decodes a real block exactly', () => {
    expect(Buffer.from(lz4Decompress(lz4Block(), sample.length, false)).equals(sample)).toBe(true);
  });
  it('partial decode returns a prefix', () => {
    for (const n of [0, 1, 4095, 8001, 9000, 20000]) {
      expect(Buffer.from(lz4Decompress(lz4Block(), n, true)).equals(sample.subarray(0, n))).toBe(true);
    }
  });
  it('overlapping matches repeat the window', () => {
    // literal "ab", then match offset 2 length 10 -> "abababababab", then 5 literals
    const block = Uint8Array.from([0x26, 0x61, 0x62, 0x02, 0x00, 0x50, 0x31, 0x32, 0x33, 0x34, 0x35]);
    expect(new TextDecoder().decode(lz4Decompress(block, 17, false))).toBe('abababababab12345');
  });
  it('rejects a wrong output length on full decode', () => {
    expectCorrupt(() => lz4Decompress(lz4Block(), sample.length - 1, false));
    expectCorrupt(() => lz4Decompress(lz4Block(), sample.length + 1, false));
    expectCorrupt(() => lz4Decompress(lz4Block(), sample.length + 1, true));
  });
  it('rejects truncated input and bad offsets', () => {
    expectCorrupt(() => lz4Decompress(lz4Block().subarray(0, 5000), sample.length, false));
    expectCorrupt(() => lz4Decompress(Uint8Array.from([0x10, 0x41, 0x05, 0x00]), 10, false)); // offset 5 > 1
    expectCorrupt(() => lz4Decompress(Uint8Array.from([0x10, 0x41, 0x00, 0x00]), 10, false)); // offset 0
    expectCorrupt(() => lz4Decompress(Uint8Array.from([0xf0, 0xff]), 300, false)); // literal length runs off
  });
  it('never throws anything but CompressedDataError on random input', () => {
    const rnd = seededInts(1);
    const block = lz4Block();
    for (let i = 0; i < 300; i++) {
      const b = block.slice(0, 64 + (i % 200));
      for (let j = 0; j < 8; j++) b[rnd(b.length)] = rnd(256);
      try {
        lz4Decompress(b, 4096, i % 2 === 0);
      } catch (e) {
        expect(e).toBeInstanceOf(CompressedDataError);
      }
    }
  });
});

describe('MicroLZMA', () => {
  it('decodes a real stream exactly', () => {
    expect(Buffer.from(lzmaDecompress(microLzma(), sample.length, false)).equals(sample)).toBe(true);
  });
  it('partial decode returns a prefix', () => {
    for (const n of [1, 100, 12345]) {
      expect(Buffer.from(lzmaDecompress(microLzma(), n, true)).equals(sample.subarray(0, n))).toBe(true);
    }
  });
  it('end marker before the expected size is corruption', () => {
    expectCorrupt(() => lzmaDecompress(microLzma(), sample.length + 10, false));
  });
  it('rejects matches beyond the configured dictionary', () => {
    expectCorrupt(() => lzmaDecompress(microLzma(), sample.length, false, 64));
    expect(lzmaDecompress(microLzma(), sample.length, false, 65536).length).toBe(sample.length);
  });
  it('rejects truncation and bad properties', () => {
    expectCorrupt(() => lzmaDecompress(microLzma().subarray(0, 3000), sample.length, false));
    const bad = microLzma();
    bad[0] = ~230 & 0xff;
    expectCorrupt(() => lzmaDecompress(bad, 10, false));
  });
  it('never throws anything but CompressedDataError on damaged input', () => {
    const rnd = seededInts(7);
    for (let i = 0; i < 100; i++) {
      const b = microLzma().slice(0, 200 + i * 13);
      for (let j = 0; j < 4; j++) b[1 + rnd(b.length - 1)] = rnd(256);
      try {
        lzmaDecompress(b, 8192, i % 2 === 0);
      } catch (e) {
        expect(e).toBeInstanceOf(CompressedDataError);
      }
    }
  });
});

describe('deflate', () => {
  it('decodes python zlib raw deflate and fflate output', () => {
    expect(Buffer.from(deflateDecompress(read('sample.deflate'), sample.length, false)).equals(sample)).toBe(
      true,
    );
    const d = deflateSync(sample, { level: 9 });
    expect(Buffer.from(deflateDecompress(d, 5000, true)).equals(sample.subarray(0, 5000))).toBe(true);
  });
  it('short output is corruption', () => {
    expectCorrupt(() => deflateDecompress(read('sample.deflate'), sample.length + 1, false));
    expectCorrupt(() => deflateDecompress(read('sample.deflate').subarray(0, 100), sample.length, false));
  });
});

describe('zstd', () => {
  it('decodes a zstd CLI frame', () => {
    const z = read('sample.zst');
    expect(zstdFrameContentSize(z)).toBe(sample.length);
    expect(Buffer.from(zstdDecompress(z, sample.length, false, 1 << 20)).equals(sample)).toBe(true);
    expect(Buffer.from(zstdDecompress(z, 777, true, 1 << 20)).equals(sample.subarray(0, 777))).toBe(true);
  });
  it('rejects size mismatches, bad magic and oversized frames', () => {
    const z = read('sample.zst');
    expectCorrupt(() => zstdDecompress(z, sample.length - 1, false, 1 << 20));
    expectCorrupt(() => zstdDecompress(z, sample.length, false, 1000));
    const bad = z.slice();
    bad[0] = 0;
    expectCorrupt(() => zstdDecompress(bad, sample.length, false, 1 << 20));
    expectCorrupt(() => zstdDecompress(z.subarray(0, 2000), sample.length, false, 1 << 20));
  });
});

describe.each(['js', 'wasm'] as const)('decompressPcluster (%s LZ4 decoder)', (kind) => {
  useLz4Decoder(kind);
  it('dispatches by algorithm id and enforces limits', () => {
    const out = decompressPcluster(0, lz4Block(), sample.length, { partial: false, maxOutput: 1 << 20 });
    expect(Buffer.from(out).equals(sample)).toBe(true);
    expect(() => decompressPcluster(4, lz4Block(), 10, { partial: false, maxOutput: 1 << 20 })).toThrow(
      CompressedDataError,
    );
    expect(() =>
      decompressPcluster(0, lz4Block(), sample.length, { partial: false, maxOutput: 100 }),
    ).toThrow(/limit/);
  });
});
