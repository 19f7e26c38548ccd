// The WebAssembly LZ4 block decoder (wasm/lz4.wat, assembled into lz4-wasm-bytes.ts): the same
// contract as lz4Decompress() in lz4.ts, which stays the fallback where WebAssembly is
// unavailable, for blocks larger than the instance's memory, and the source of every error
// message. docs/reader.md#lz4-decoders; measured in docs/benchmarks.md, `lz4-decode`.

import { CompressedDataError } from '../compressed/errors.js';
import { LZ4_MAX_DISTANCE, lz4Decompress } from './lz4.js';
import { instantiateWasm } from '../wasm-instance.js';
import { LZ4_WASM_BASE64 } from './lz4-wasm-bytes.js';

/**
 * Memory of the decoder's instance (bytes; one instance per thread): a 1 MiB pcluster
 * (Z_EROFS_PCLUSTER_MAX_SIZE) plus a 12 MiB extent (Z_EROFS_PCLUSTER_MAX_DSIZE,
 * docs/format.md#compressed-streams) and their slack, rounded up to 64 KiB pages. The module
 * declares all of it from the start (224 pages, the same minimum and maximum) and it is never
 * grown: growing a WebAssembly memory detaches its ArrayBuffer, and V8 answers the first detach
 * in a thread by throwing away the optimized code of every function that reads typed arrays,
 * which that thread then compiles again (docs/reader.md#lz4-decoders). Pages never touched cost
 * no memory. A block that needs more is decoded by the JavaScript decoder.
 */
export const LZ4_WASM_MAX_MEMORY = 14 << 20;
/** Bytes after each region the decoder's 8-byte copies may touch (see wasm/lz4.wat). */
const WASM_SLACK = 64;

interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

interface Lz4WasmExports {
  memory: WasmMemory;
  decode(src: number, srcLen: number, dst: number, outLen: number, partial: number, maxDist: number): number;
}

/**
 * Bytes of the instance memory's input region (lz4WasmInput): one read-ahead run of pclusters
 * (PCLUSTER_READAHEAD_BYTES in compressed/file.ts) or one maximal 1 MiB pcluster
 * (Z_EROFS_PCLUSTER_MAX_SIZE). Decodes of a stream in it write after it and its slack, so the
 * region and a 12 MiB extent fit LZ4_WASM_MAX_MEMORY.
 */
export const LZ4_WASM_INPUT_BYTES = 1 << 20;
/** Where a decode of a stream in the input region writes its output. */
const INPUT_DST_AT = LZ4_WASM_INPUT_BYTES + WASM_SLACK;

/** The instance of this thread: undefined until first used, null when it cannot be made. */
let wasm: Lz4WasmExports | null | undefined;
/** A view of all of `wasm.memory` (LZ4_WASM_MAX_MEMORY bytes, never grown). */
let heap = new Uint8Array(0);
/**
 * The view of the input region lz4WasmInput() last handed out, while it still holds what its
 * caller put there; null once a decode of a stream from elsewhere copied that stream over it.
 */
let input: Uint8Array | null = null;

/**
 * Instantiate the decoder on first use, synchronously (780 bytes compile at once; the decoding
 * paths are synchronous). Null where WebAssembly is missing or refused (a Content-Security-Policy
 * without 'wasm-unsafe-eval'): callers then use the JavaScript decoder.
 */
function instance(): Lz4WasmExports | null {
  if (wasm !== undefined) return wasm;
  const exports = instantiateWasm(LZ4_WASM_BASE64) as Lz4WasmExports | null;
  // Every region below assumes the whole bound is there (the module declares it so).
  if (!exports || exports.memory.buffer.byteLength < LZ4_WASM_MAX_MEMORY) return (wasm = null);
  heap = new Uint8Array(exports.memory.buffer);
  return (wasm = exports);
}

/** Whether this thread can decode with WebAssembly. */
export function lz4WasmAvailable(): boolean {
  return instance() !== null;
}

/**
 * Decode in WebAssembly memory. Returns a view of that memory holding the `outLen` bytes (valid
 * until the next call on this thread), the decoder's negative error code (see wasm/lz4.wat), or
 * null when the block does not fit LZ4_WASM_MAX_MEMORY or WebAssembly is unavailable.
 */
export function lz4DecodeWasmRaw(
  src: Uint8Array,
  outLen: number,
  partial: boolean,
  maxDistance = LZ4_MAX_DISTANCE,
): Uint8Array | number | null {
  const w = instance();
  if (!w) return null;
  if (input !== null && src.buffer === input.buffer && src.byteOffset + src.length <= input.length) {
    // A stream the caller read into the input region: decoded where it is, no copy.
    if (INPUT_DST_AT + outLen + WASM_SLACK > LZ4_WASM_MAX_MEMORY) return null;
    const r = w.decode(src.byteOffset, src.length, INPUT_DST_AT, outLen, partial ? 1 : 0, maxDistance);
    return r < 0 ? r : heap.subarray(INPUT_DST_AT, INPUT_DST_AT + outLen);
  }
  const dstAt = (src.length + WASM_SLACK + 7) & ~7;
  const need = dstAt + outLen + WASM_SLACK;
  if (need > LZ4_WASM_MAX_MEMORY) return null;
  input = null; // the copy and the output overwrite the input region
  heap.set(src, 0);
  const r = w.decode(0, src.length, dstAt, outLen, partial ? 1 : 0, maxDistance);
  return r < 0 ? r : heap.subarray(dstAt, dstAt + outLen);
}

/**
 * The first `n` bytes of this thread's input region, for a caller to read pcluster streams into
 * and decode from (subarrays of it) without copying them into the instance: the sequential pass
 * (compressed/file.ts, forEachPiece). Null where WebAssembly is unavailable or `n` exceeds
 * LZ4_WASM_INPUT_BYTES. The bytes stay until the next call, or until a decode of a stream from
 * outside the region copies that stream over them: lz4WasmInputHolds() tells.
 */
export function lz4WasmInput(n: number): Uint8Array | null {
  if (!instance() || n > LZ4_WASM_INPUT_BYTES) return null;
  return (input = heap.subarray(0, n));
}

/** Whether `view`, from lz4WasmInput(), still holds what its caller put there. */
export function lz4WasmInputHolds(view: Uint8Array): boolean {
  return view === input;
}

/** A block the WebAssembly decoder refused (code `r`): the JavaScript decoder's error for it. */
function refused(src: Uint8Array, outLen: number, partial: boolean, maxDistance: number, r: number): never {
  lz4Decompress(src, outLen, partial, maxDistance);
  // Unreachable while the decoders agree (test/lz4-wasm.test.ts checks they do).
  throw new CompressedDataError('ECORRUPT', `lz4: the WebAssembly decoder refused the block (code ${r})`);
}

/**
 * lz4DecompressWasm() (below) returning the decoded bytes as a view of the instance's memory (valid only
 * until the next decode on this thread) instead of copying them into `into` or a new buffer:
 * for a caller that uses them at once (forEachPiece, `scan --hash`). Where the block does not
 * fit the instance or WebAssembly is unavailable, the JavaScript decoder decodes into `into`.
 */
export const lz4DecompressWasmBorrowed: typeof lz4Decompress = (
  src,
  outLen,
  partial,
  maxDistance = LZ4_MAX_DISTANCE,
  into,
) => {
  const r = lz4DecodeWasmRaw(src, outLen, partial, maxDistance);
  if (r === null) return lz4Decompress(src, outLen, partial, maxDistance, into);
  if (typeof r === 'number') refused(src, outLen, partial, maxDistance, r);
  return r;
};

/**
 * lz4Decompress() (lz4.ts) decoded in WebAssembly: exactly `outLen` bytes in a new buffer, or
 * in the first `outLen` bytes of `into` when it is given and large enough; the same
 * CompressedDataError for a corrupt block, whose message the JavaScript decoder writes (errors
 * are rare, and one wording keeps the two decoders' reports identical).
 */
export const lz4DecompressWasm: typeof lz4Decompress = (
  src,
  outLen,
  partial,
  maxDistance = LZ4_MAX_DISTANCE,
  into,
) => {
  const r = lz4DecompressWasmBorrowed(src, outLen, partial, maxDistance, into);
  if (r.buffer !== heap.buffer) return r; // the JavaScript decoder's, in `into` or its own
  if (into && into.length >= outLen) {
    into.set(r);
    return into.subarray(0, outLen);
  }
  return r.slice();
};
