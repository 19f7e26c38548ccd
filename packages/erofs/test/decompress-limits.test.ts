// Output bounds and windows of the four decompressors (docs/format.md#compr-cfgs, docs/format.md#compressed-streams): each
// allocates only the declared decompressed length (plus one byte on full DEFLATE decodes, to
// see an overlong stream) or refuses before allocating, whatever sizes a crafted stream claims;
// LZ4 matches beyond the image's lz4_max_distance are corruption.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  CompressedDataError,
  DEFAULT_COMPRESSED_LIMITS,
  openCompressedFile,
  type CompressedFileContext,
} from '../src/compressed/index.js';
import {
  decompressPcluster,
  deflateDecompress,
  lz4Decompress,
  lzmaDecompress,
  zstdDecompress,
} from '../src/decompress/index.js';

const dir = join(import.meta.dirname, 'decompress-fixtures');
const read = (n: string): Uint8Array => new Uint8Array(readFileSync(join(dir, n)));
const sample = read('sample.bin');
const frame = read('sample.lz4frame');
const lz4Block = frame.subarray(19, 19 + new DataView(frame.buffer, frame.byteOffset).getUint32(15, true));

function thrown(fn: () => unknown): CompressedDataError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CompressedDataError);
    return e as CompressedDataError;
  }
  throw new Error('expected a CompressedDataError');
}

/** The output is exactly the declared length and owns no larger buffer. */
function expectBounded(out: Uint8Array, outLen: number, slack = 0): void {
  expect(out.length).toBe(outLen);
  expect(out.buffer.byteLength).toBeLessThanOrEqual(outLen + slack);
}

/** A raw LZMA1 stream turned into MicroLZMA (docs/format.md#compressed-streams): byte 0 = ~props (lc=3, lp=0, pb=2). */
function micro(name: string): Uint8Array {
  const s = read(name).slice();
  expect(s[0]).toBe(0);
  s[0] = ~(3 + 2 * 45) & 0xff;
  return s;
}

describe('lz4: lz4_max_distance window', () => {
  // 4 literals "abcd", then a 4-byte match at offset 4: "abcdabcd"
  const block = Uint8Array.from([0x40, 0x61, 0x62, 0x63, 0x64, 0x04, 0x00, 0x00]);

  it('accepts matches inside the window and rejects those beyond it', () => {
    expect(new TextDecoder().decode(lz4Decompress(block, 8, false, 4))).toBe('abcdabcd');
    expect(thrown(() => lz4Decompress(block, 8, false, 3)).message).toMatch(
      /offset 4 beyond the 3-byte lz4_max_distance/,
    );
    // the real block uses offsets up to a few KiB: fine by default, not with a 16-byte window
    expect(lz4Decompress(lz4Block, sample.length, false).length).toBe(sample.length);
    expect(thrown(() => lz4Decompress(lz4Block, sample.length, false, 16)).code).toBe('ECORRUPT');
  });

  it('decompressPcluster: 0 or absent means the 64 KiB default', () => {
    for (const lz4MaxDistance of [undefined, 0, 65535]) {
      const opts = {
        partial: false,
        maxOutput: 1 << 20,
        ...(lz4MaxDistance === undefined ? {} : { lz4MaxDistance }),
      };
      expect(decompressPcluster(0, lz4Block, sample.length, opts).length).toBe(sample.length);
    }
    expect(() =>
      decompressPcluster(0, lz4Block, sample.length, {
        partial: false,
        maxOutput: 1 << 20,
        lz4MaxDistance: 16,
      }),
    ).toThrow(/lz4_max_distance/);
  });

  // A one-block compressed file (full indexes, one HEAD1 lcluster): 20 literals, a 40-byte
  // match at offset 20, 5 closing literals. The window comes from the LZ4 configuration
  // record, or from the superblock's lz4_max_distance without COMPR_CFGS.
  const text = 'abcdefghijklmnopqrst';
  const stream = Uint8Array.from([
    0xff,
    5,
    ...new TextEncoder().encode(text),
    20,
    0,
    21,
    0x50,
    ...new TextEncoder().encode('12345'),
  ]);
  const expected = text + text + text.slice(0, 20) + '12345';
  /**
   * The text of a one-pcluster LZ4 file whose compressed stream `s` (of a `size`-byte file) ends
   * block 8, in an image that starts `shift` bytes past an aligned address.
   */
  async function lz4File(
    extra: Partial<CompressedFileContext>,
    s: Uint8Array = stream,
    size = expected.length,
    shift = 0,
  ): Promise<string> {
    const BS = 4096;
    const bytes = new Uint8Array(16 * BS + shift).subarray(shift);
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const H = BS + 32; // inode at BS, 32 bytes, no xattrs
    dv.setUint16(H + 16, 1, true); // lcluster 0: HEAD1, clusterofs 0
    dv.setUint32(H + 20, 8, true); // at block 8
    bytes.set(s, 9 * BS - s.length); // zero padding in front (docs/format.md#compressed-streams)
    const ctx: CompressedFileContext = {
      nid: 128,
      layout: 1,
      size,
      inodeOffset: BS,
      inodeSize: 32,
      xattrIsize: 0,
      iU: 0,
      blockSizeBits: 12,
      featureIncompat: 0x1 | 0x2,
      availableComprAlgs: 1,
      comprConfigs: [],
      readMain: (o, len) => Promise.resolve(bytes.subarray(o, o + len)),
      limits: DEFAULT_COMPRESSED_LIMITS,
      ...extra,
    };
    const f = await openCompressedFile(ctx);
    return new TextDecoder().decode(await f.read(0, f.size));
  }

  it('finds the stream behind zero padding of every length mod 16, read aligned or not', async () => {
    // the stream with j more closing literals: 16 lengths of padding in a row
    for (let j = 0; j < 16; j++) {
      const tail = '12345'.padEnd(5 + j, 'x');
      const token = tail.length < 15 ? [tail.length << 4] : [0xf0, tail.length - 15];
      const s2 = Uint8Array.from([...stream.subarray(0, 25), ...token, ...new TextEncoder().encode(tail)]);
      const want = text + text + text.slice(0, 20) + tail;
      for (const shift of [0, 1, 3])
        expect(await lz4File({}, s2, want.length, shift), `j ${j}, shift ${shift}`).toBe(want);
    }
  });

  const record = (distance: number) => ({
    algorithm: 0,
    raw: Uint8Array.from([distance & 0xff, distance >> 8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
  });

  it('the window of a compressed file comes from its image (docs/format.md#compr-cfgs, docs/format.md#compressed-fs)', async () => {
    expect(await lz4File({ comprConfigs: [record(0xffff)] })).toBe(expected);
    expect(await lz4File({ comprConfigs: [record(0)] })).toBe(expected);
    expect(await lz4File({ comprConfigs: [record(20)] })).toBe(expected);
    await expect(lz4File({ comprConfigs: [record(19)] })).rejects.toThrow(/offset 20 beyond the 19-byte/);
    // without COMPR_CFGS the superblock's lz4_max_distance (offset 84) applies
    expect(await lz4File({ featureIncompat: 1, lz4MaxDistance: 65535 })).toBe(expected);
    expect(await lz4File({ featureIncompat: 1, lz4MaxDistance: 0 })).toBe(expected);
    await expect(lz4File({ featureIncompat: 1, lz4MaxDistance: 16 })).rejects.toMatchObject({
      code: 'ECORRUPT',
    });
  });
});

describe('lz4: output bound', () => {
  // one literal, then a match of 4 + 15 + 255*4000 bytes at offset 1 (about 1 MB claimed)
  const bomb = Uint8Array.from([0x1f, 0x41, 0x01, 0x00, ...new Array<number>(4000).fill(255), 0]);

  it('a huge match is cut at the declared length (partial) or rejected (full)', () => {
    const out = lz4Decompress(bomb, 100, true);
    expectBounded(out, 100);
    expect(out.every((b) => b === 0x41)).toBe(true);
    expect(thrown(() => lz4Decompress(bomb, 100, false)).message).toMatch(/overflows output of 100/);
  });

  it('a huge literal run is rejected without reading or writing past the buffers', () => {
    const lit = Uint8Array.from([0xf0, ...new Array<number>(100).fill(255), 0, 1, 2, 3]);
    expect(thrown(() => lz4Decompress(lit, 10, false)).message).toMatch(/past end of input/);
  });
});

describe('MicroLZMA: output bound', () => {
  const bomb = micro('zeros16m.lzma1raw'); // 2441 bytes describing 16 MiB of zeros

  it('decodes only the declared length of a 16 MiB stream', () => {
    const out = lzmaDecompress(bomb, 4096, true);
    expectBounded(out, 4096);
    expect(out.every((b) => b === 0)).toBe(true);
  });

  it('a full decode of a longer stream is corruption', () => {
    expect(thrown(() => lzmaDecompress(bomb, 4096, false)).message).toMatch(
      /continues past the expected 4096 bytes/,
    );
  });

  it('the extent limit (12 MiB) is enforced before decoding', () => {
    const e = thrown(() => decompressPcluster(1, bomb, 16 << 20, { partial: false, maxOutput: 12 << 20 }));
    expect(e.code).toBe('ELIMIT');
    expectBounded(lzmaDecompress(micro('sample.lzma1raw'), 1000, true), 1000);
  });
});

/**
 * A raw DEFLATE stream (RFC 1951) of one fixed-Huffman block: a literal 0, then `n` copies of
 * (length 258, distance 1), i.e. 1 + 258n zero bytes from 13 bits per 258 bytes; then, with
 * `garbage`, a block of the reserved type 3 that a decoder reaching it must reject.
 */
function deflateBomb(n: number, garbage: boolean): Uint8Array {
  const bits: number[] = [];
  const field = (v: number, len: number) => {
    for (let i = 0; i < len; i++) bits.push((v >> i) & 1); // header fields: LSB first
  };
  const code = (v: number, len: number) => {
    for (let i = len - 1; i >= 0; i--) bits.push((v >> i) & 1); // Huffman codes: MSB first
  };
  field(garbage ? 0 : 1, 1); // BFINAL
  field(1, 2); // BTYPE 01: fixed Huffman
  code(0x30, 8); // literal 0
  for (let i = 0; i < n; i++) {
    code(0xc5, 8); // symbol 285: length 258
    code(0, 5); // distance code 0: distance 1
  }
  code(0, 7); // symbol 256: end of block
  if (garbage) {
    field(1, 1);
    field(3, 2); // BTYPE 11: reserved
    for (let i = 0; i < 16; i++) bits.push(1);
  }
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((b, i) => (out[i >> 3]! |= b << (i & 7)));
  return out;
}

describe('DEFLATE: output bound', () => {
  it('a small stream claiming 32 MiB decodes only the declared length', () => {
    const bomb = deflateSync(new Uint8Array(32 << 20), { level: 9 });
    expect(bomb.length).toBeLessThan(64 << 10); // inflated in one call
    const out = deflateDecompress(bomb, 4096, true);
    expectBounded(out, 4096);
    expect(out.every((b) => b === 0)).toBe(true);
    expect(thrown(() => deflateDecompress(bomb, 4096, false)).message).toMatch(/more than 4096 bytes/);
  });

  it('a large stream is inflated step by step and left as soon as the output is full', () => {
    const bomb = deflateBomb(45_000, true); // ~71 KiB claiming ~11 MiB, then a bad block
    expect(bomb.length).toBeGreaterThan(64 << 10);
    expect(thrown(() => deflateDecompress(bomb, 12 << 20, true)).message).toMatch(/invalid block type/);
    // the bad block is never reached when the first steps already fill the output
    const out = deflateDecompress(bomb, 4096, true);
    expectBounded(out, 4096);
    expect(out.every((b) => b === 0)).toBe(true);
    expect(thrown(() => deflateDecompress(bomb, 4096, false)).message).toMatch(/more than 4096 bytes/);
    const exact = deflateBomb(45_000, false);
    expectBounded(deflateDecompress(exact, 1 + 258 * 45_000, false), 1 + 258 * 45_000, 1);
  });

  it('a full decode of an exact stream returns it', () => {
    const exact = deflateSync(sample);
    expectBounded(deflateDecompress(exact, sample.length, false), sample.length, 1);
    expect(Buffer.from(deflateDecompress(exact, sample.length, false)).equals(sample)).toBe(true);
    expect(thrown(() => deflateDecompress(exact, sample.length + 1, false)).message).toMatch(
      /decoded to 26600/,
    );
  });
});

describe('Zstandard: output bound', () => {
  /** A frame of RLE blocks (RFC 8878 section 3.1.1.2): `blocks` x `blockSize` copies of `byte`. */
  function rleFrame(opts: {
    fcs?: number;
    windowLog?: number;
    blocks: number;
    blockSize: number;
    byte?: number;
  }) {
    const out: number[] = [0x28, 0xb5, 0x2f, 0xfd];
    if (opts.fcs !== undefined) {
      out.push(0xa0); // single segment, 4-byte Frame_Content_Size
      for (let i = 0; i < 4; i++) out.push((opts.fcs >>> (8 * i)) & 0xff);
    } else {
      out.push(0x00, ((opts.windowLog ?? 17) - 10) << 3); // no FCS, Window_Descriptor
    }
    for (let b = 0; b < opts.blocks; b++) {
      const last = b === opts.blocks - 1 ? 1 : 0;
      const h = last | (1 << 1) | (opts.blockSize << 3);
      out.push(h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff, opts.byte ?? 0x5a);
    }
    return Uint8Array.from(out);
  }

  it('a frame claiming more than the extent limit is refused before allocating', () => {
    const f = rleFrame({ fcs: 0x7fffffff, blocks: 1, blockSize: 1000 });
    expect(thrown(() => zstdDecompress(f, 1000, true, 12 << 20)).message).toMatch(
      /exceeds the 12582912-byte limit/,
    );
    expect(thrown(() => zstdDecompress(f, 1000, false, 12 << 20)).message).toMatch(/expected exactly 1000/);
  });

  it('without Frame_Content_Size a partial decode is bounded by the limit, a full one by the length', () => {
    // 512 RLE blocks of 128 KiB: 64 MiB claimed; window descriptor of 2 GiB is never allocated
    const f = rleFrame({ windowLog: 31, blocks: 512, blockSize: 128 << 10 });
    const out = zstdDecompress(f, 5000, true, 1 << 20);
    expectBounded(out, 5000, (1 << 20) - 5000);
    expect(out.every((b) => b === 0x5a)).toBe(true);
    const small = rleFrame({ blocks: 2, blockSize: 3000 });
    expectBounded(zstdDecompress(small, 6000, false, 12 << 20), 6000);
    // fzstd reports no produced length, so the excess of a frame without a content size is
    // dropped rather than detected (mkfs always writes the size); either way 5000 bytes at most
    expectBounded(zstdDecompress(f, 5000, false, 1 << 20), 5000);
  });

  it('an exact frame decodes to its content size', () => {
    const f = rleFrame({ fcs: 6000, blocks: 2, blockSize: 3000, byte: 7 });
    const out = zstdDecompress(f, 6000, false, 12 << 20);
    expectBounded(out, 6000);
    expect(out.every((b) => b === 7)).toBe(true);
  });
});
