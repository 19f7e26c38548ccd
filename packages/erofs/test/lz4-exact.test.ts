/**
 * Exactness of both LZ4 block decoders (src/decompress/lz4.ts, src/decompress/lz4-wasm.ts): blocks made by the lz4 tool and
 * seeded random blocks whose expected output is built alongside the stream, decoded whole,
 * partially, and into a reused scratch buffer holding stale bytes (the `scan --hash` path).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LZ4_DECODE_FNS, randomBlock } from './lz4-decoders.js';

const dir = join(import.meta.dirname, 'decompress-fixtures');
const read = (n: string): Uint8Array => new Uint8Array(readFileSync(join(dir, n)));

/** The single block of an `lz4 -BI -B4 --content-size` frame (15-byte header, see the README). */
function onlyBlock(frame: Uint8Array): Uint8Array {
  const size = new DataView(frame.buffer, frame.byteOffset).getUint32(15, true);
  expect(size & 0x80000000).toBe(0); // compressed, not stored
  expect(frame.length).toBe(19 + size + 4); // then the end mark
  return frame.subarray(19, 19 + size);
}

/** A scratch buffer full of stale bytes: the decoder must overwrite every byte it returns. */
function staleScratch(n: number): Uint8Array {
  return new Uint8Array(n).fill(0xa5);
}

describe.each(LZ4_DECODE_FNS)('%s decoder', (_name, lz4Decompress) => {
  describe('lz4 blocks made by the lz4 tool', () => {
    const runs = read('runs.bin');
    for (const name of ['runs.lz4frame', 'runs-hc.lz4frame', 'sample.lz4frame']) {
      const expected = name === 'sample.lz4frame' ? read('sample.bin') : runs;
      it(`${name}: whole, into a reused buffer, and every partial length`, () => {
        const block = onlyBlock(read(name));
        expect(Buffer.from(lz4Decompress(block, expected.length, false)).equals(expected)).toBe(true);
        const scratch = staleScratch(expected.length + 100);
        const viaScratch = lz4Decompress(block, expected.length, false, undefined, scratch);
        expect(viaScratch.buffer).toBe(scratch.buffer); // no new output buffer
        expect(viaScratch.length).toBe(expected.length);
        expect(Buffer.from(viaScratch).equals(expected)).toBe(true);
        for (let n = 1; n <= expected.length; n += 997) {
          const part = lz4Decompress(block, n, true, undefined, scratch);
          expect(Buffer.from(part).equals(expected.subarray(0, n))).toBe(true);
        }
      });
    }

    it('a scratch buffer too small is not used: the result is a buffer of its own', () => {
      const block = onlyBlock(read('runs.lz4frame'));
      const runs = read('runs.bin');
      const small = staleScratch(100);
      const out = lz4Decompress(block, runs.length, false, undefined, small);
      expect(out.buffer).not.toBe(small.buffer);
      expect(Buffer.from(out).equals(runs)).toBe(true);
      expect(small.every((b) => b === 0xa5)).toBe(true);
    });
  });

  describe('lz4 random blocks (seeded)', () => {
    it('500 blocks decode exactly: fresh, into one reused buffer, and partially', () => {
      const scratch = staleScratch(1 << 16);
      for (let seed = 1; seed <= 500; seed++) {
        const { block, out } = randomBlock(seed);
        const fresh = lz4Decompress(block, out.length, false);
        if (!Buffer.from(fresh).equals(out)) throw new Error(`seed ${seed}: whole decode differs`);
        const reused = lz4Decompress(block, out.length, false, undefined, scratch);
        if (!Buffer.from(reused).equals(out)) throw new Error(`seed ${seed}: decode into scratch differs`);
        const n = 1 + ((seed * 7919) % out.length);
        const part = lz4Decompress(block, n, true, undefined, scratch);
        if (!Buffer.from(part).equals(out.subarray(0, n)))
          throw new Error(`seed ${seed}: partial ${n} differs`);
      }
    });

    it('a block one byte short or long of its output is refused, as before', () => {
      const { block, out } = randomBlock(7);
      expect(() => lz4Decompress(block, out.length - 1, false)).toThrow(/lz4:/);
      expect(() => lz4Decompress(block, out.length + 1, false)).toThrow(/lz4:/);
      expect(() => lz4Decompress(block, out.length - 1, false, undefined, staleScratch(1 << 16))).toThrow(
        /lz4:/,
      );
    });
  });
});
