/**
 * The two LZ4 block decoders (docs/reader.md#lz4-decoders), for tests that must pass with
 * either: the JavaScript one (src/decompress/lz4.ts) and the WebAssembly one
 * (src/decompress/lz4-wasm.ts, wasm/lz4.wat).
 */
import { afterAll, beforeAll, expect } from 'vitest';
import {
  lz4Decompress,
  lz4DecompressWasm,
  lz4WasmAvailable,
  setLz4Decoder,
} from '../src/decompress/index.js';
import type { Lz4DecoderKind } from '../src/decompress/index.js';
import { seededRandom } from './seeded-random.js';

/** [name, decoder] pairs for describe.each. */
export const LZ4_DECODE_FNS = [
  ['js', lz4Decompress],
  ['wasm', lz4DecompressWasm],
] as const;

export const LZ4_DECODER_KINDS: readonly Lz4DecoderKind[] = ['js', 'wasm'];

/**
 * Select `kind` for the tests of the enclosing describe (setLz4Decoder), and check the
 * WebAssembly decoder really runs rather than falling back to the JavaScript one.
 */
export function useLz4Decoder(kind: Lz4DecoderKind): void {
  beforeAll(() => {
    if (kind === 'wasm') expect(lz4WasmAvailable()).toBe(true);
    setLz4Decoder(kind);
  });
  afterAll(() => setLz4Decoder('wasm'));
}

/** An LZ4 length beyond the token's nibble: 255-bytes while it lasts, then the remainder. */
function lengthBytes(rest: number, out: number[]): void {
  for (; rest >= 255; rest -= 255) out.push(255);
  out.push(rest);
}

/**
 * A random valid LZ4 block and the bytes it decodes to, built sequence by sequence: the
 * expected output is produced by a byte-at-a-time copy here, independently of the decoder.
 * Lengths cluster on the encoding's boundaries (15, 15 + 255) and the decoder's copy strategies
 * (short, long, overlapping with small offsets).
 */
export function randomBlock(seed: number): { block: Uint8Array; out: Uint8Array } {
  const r = seededRandom(seed);
  const pick = (xs: number[]): number => xs[Math.floor(r() * xs.length)]!;
  const len = (): number =>
    r() < 0.5 ? pick([0, 1, 3, 14, 15, 16, 31, 32, 33, 269, 270, 271, 525]) : Math.floor(r() * 600);
  const stream: number[] = [];
  const out: number[] = [];
  const sequences = 1 + Math.floor(r() * 60);
  for (let s = 0; s < sequences; s++) {
    const lit = len() + (out.length === 0 ? 1 : 0); // a match needs earlier output
    const matchLen = 4 + len();
    const tokenLit = Math.min(lit, 15);
    const tokenMatch = Math.min(matchLen - 4, 15);
    stream.push((tokenLit << 4) | tokenMatch);
    if (lit >= 15) lengthBytes(lit - 15, stream);
    for (let i = 0; i < lit; i++) {
      const b = r() < 0.7 ? 97 + Math.floor(r() * 4) : Math.floor(r() * 256);
      stream.push(b);
      out.push(b);
    }
    const maxOffset = Math.min(out.length, 65535);
    const offset =
      r() < 0.5
        ? Math.min(maxOffset, pick([1, 2, 3, 4, 5, 7, 8, 16, 31, 32, 33]))
        : 1 + Math.floor(r() * maxOffset);
    stream.push(offset & 0xff, offset >>> 8);
    if (matchLen - 4 >= 15) lengthBytes(matchLen - 4 - 15, stream);
    for (let i = 0; i < matchLen; i++) out.push(out[out.length - offset]!);
  }
  // The last sequence has literals only (the block ends after them).
  const last = 1 + Math.floor(r() * 40);
  stream.push(Math.min(last, 15) << 4);
  if (last >= 15) lengthBytes(last - 15, stream);
  for (let i = 0; i < last; i++) {
    const b = Math.floor(r() * 256);
    stream.push(b);
    out.push(b);
  }
  return { block: Uint8Array.from(stream), out: Uint8Array.from(out) };
}
