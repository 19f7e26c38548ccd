/**
 * The two LZ4 block decoders (docs/reader.md#lz4-decoders), for tests that must pass with
 * either: the JavaScript one (src/decompress/lz4.ts) and the WebAssembly one
 * (src/decompress/lz4-wasm.ts, wasm/lz4.wat).
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { lz4Decompress, lz4DecompressWasm, lz4WasmAvailable, setLz4Decoder } from '../src/decompress/index.js';
import type { Lz4DecoderKind } from '../src/decompress/index.js';

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
