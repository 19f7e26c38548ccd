// One entry point for the four EROFS compression algorithms (docs/format.md#compressed-fs, docs/format.md#compressed-streams).

import { CompressedDataError } from '../compressed/errors.js';
import { deflateDecompress } from './deflate.js';
import { lz4Decompress } from './lz4.js';
import { lz4DecompressWasm, lz4DecompressWasmBorrowed } from './lz4-wasm.js';
import { lzmaDecompress } from './lzma.js';
import { zstdDecompress } from './zstd.js';

export { lz4Decompress } from './lz4.js';
export {
  LZ4_WASM_INPUT_BYTES,
  LZ4_WASM_MAX_MEMORY,
  lz4DecompressWasm,
  lz4WasmAvailable,
  lz4WasmInput,
  lz4WasmInputHolds,
} from './lz4-wasm.js';
export { lzmaDecompress } from './lzma.js';
export { deflateDecompress } from './deflate.js';
export { zstdDecompress, zstdFrameContentSize } from './zstd.js';

export interface DecompressOptions {
  /** Stream may describe more than `outLen` bytes; return its first `outLen` (docs/format.md#compressed-streams). */
  partial: boolean;
  /** Bound for scratch buffers (bytes); the kernel's Z_EROFS_PCLUSTER_MAX_DSIZE is 12 MiB. */
  maxOutput: number;
  /**
   * LZMA dictionary size from the compression configuration (docs/format.md#compr-cfgs); matches reaching
   * further back are rejected like xz-embedded's dict_is_distance_valid(). Unlimited if absent.
   */
  lzmaDictSize?: number;
  /**
   * LZ4 match window (docs/format.md#compr-cfgs `max_distance`, or the superblock `lz4_max_distance` without
   * COMPR_CFGS, docs/format.md#compressed-fs); 0 or absent means the 64 KiB default, i.e. any 16-bit offset.
   */
  lz4MaxDistance?: number;
  /**
   * Scratch buffer the LZ4 decoder writes into when it is large enough (the result is then a
   * view of it, overwritten by the next decode into it); the other decoders allocate.
   */
  into?: Uint8Array;
  /**
   * With `into`: the result may instead be a view of the decoder's own memory (the WebAssembly
   * LZ4 decoder's instance), valid only until the next decode on this thread, which saves
   * copying every decoded byte out of it (`scan --hash`, docs/reader.md#lz4-decoders).
   */
  borrow?: boolean;
}

/** Decoder signature: exactly `outLen` bytes or a CompressedDataError. */
export type Decompressor = (src: Uint8Array, outLen: number, opts: DecompressOptions) => Uint8Array;

/** The two LZ4 block decoders: the same bytes and errors (docs/reader.md#lz4-decoders). */
export type Lz4DecoderKind = 'wasm' | 'js';
const LZ4_DECODERS = { wasm: lz4DecompressWasm, js: lz4Decompress } as const;
/** The same decoders when the caller can use a view of the decoder's memory (`borrow`). */
const LZ4_BORROWING_DECODERS = { wasm: lz4DecompressWasmBorrowed, js: lz4Decompress } as const;
let lz4Decoder: Lz4DecoderKind = 'wasm';

/**
 * Choose this thread's LZ4 decoder: 'wasm' (the default; the JavaScript one is still used where
 * WebAssembly is unavailable) or 'js' (SHAREMAP_LZ4_DECODER=js in Node, see node.ts).
 */
export function setLz4Decoder(kind: Lz4DecoderKind): void {
  lz4Decoder = kind;
}

/** The LZ4 decoder setLz4Decoder() chose. */
export function getLz4Decoder(): Lz4DecoderKind {
  return lz4Decoder;
}

export const DECOMPRESSORS: readonly Decompressor[] = [
  (s, n, o) =>
    (o.borrow ? LZ4_BORROWING_DECODERS : LZ4_DECODERS)[lz4Decoder](
      s,
      n,
      o.partial,
      o.lz4MaxDistance || undefined,
      o.into,
    ),
  (s, n, o) => lzmaDecompress(s, n, o.partial, o.lzmaDictSize),
  (s, n, o) => deflateDecompress(s, n, o.partial),
  (s, n, o) => zstdDecompress(s, n, o.partial, o.maxOutput),
];

export const ALGORITHM_NAMES = ['lz4', 'lzma', 'deflate', 'zstd'] as const;

/** Decode one pcluster's stream (zero padding already stripped) with algorithm `alg`. */
export function decompressPcluster(
  alg: number,
  src: Uint8Array,
  outLen: number,
  opts: DecompressOptions,
): Uint8Array {
  const fn = DECOMPRESSORS[alg];
  if (!fn) throw new CompressedDataError('ENOTSUP', `unknown compression algorithm ${alg}`);
  if (outLen > opts.maxOutput) {
    throw new CompressedDataError(
      'ELIMIT',
      `decompressed size ${outLen} exceeds the ${opts.maxOutput}-byte limit`,
    );
  }
  return fn(src, outLen, opts);
}
