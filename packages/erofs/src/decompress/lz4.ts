// LZ4 block format decoder (docs/format.md#compressed-streams, algorithm 0). Raw blocks only: no frame header, no
// checksum. Mirrors the semantics the kernel relies on in z_erofs_lz4_decompress_mem():
// LZ4_decompress_safe() for full decodes (input consumed exactly, output exactly `outLen`) and
// LZ4_decompress_safe_partial() for partial decodes (stop once `outLen` bytes exist).

import { CompressedDataError } from '../compressed/errors.js';

/** LZ4 matches are at least 4 bytes long (MINMATCH in lz4.h). */
const MIN_MATCH = 4;
/** Largest offset a 16-bit LZ4 match can encode; also the window when none is configured. */
export const LZ4_MAX_DISTANCE = 65535;
/**
 * Literal runs and matches shorter than this are copied byte by byte: a native copy costs a
 * call (and, for literals, a subarray object) that short runs do not repay. Measured on the
 * pclusters of an lz4hc /usr/share image (docs/benchmarks.md, `lz4-decode`): 8 and 16 were
 * slower, 64 no faster.
 */
const SHORT_COPY = 32;

function corrupt(what: string, ip: number): never {
  throw new CompressedDataError('ECORRUPT', `lz4: ${what} at input byte ${ip}`);
}

/**
 * Decode an LZ4 block into exactly `outLen` bytes: a new buffer, or the first `outLen` bytes of
 * `into` when it is given and large enough (returned as a view of it; nothing else is
 * allocated). No write goes past `outLen` whatever lengths the stream claims.
 * @param partial when true the stream may describe more output than `outLen`; decoding stops
 *   as soon as `outLen` bytes are produced. When false the block must produce exactly `outLen`
 *   bytes and end exactly at the end of `src`.
 * @param maxDistance the match window of the image (`lz4_max_distance`, docs/format.md#compr-cfgs).
 *   A match reaching further back is corruption: the kernel keeps only that many bytes of
 *   earlier output mapped (z_erofs_lz4_prepare_dstpages reuses the pages behind the window),
 *   so such a stream would decode to different bytes there.
 * @param into a scratch buffer to decode into: allocating and zeroing a new output per pcluster
 *   cost as much as the decoding itself (docs/benchmarks.md, `lz4-decode`). The result is a view
 *   of it, valid until the caller next decodes into it.
 */
export function lz4Decompress(
  src: Uint8Array,
  outLen: number,
  partial: boolean,
  maxDistance = LZ4_MAX_DISTANCE,
  into?: Uint8Array,
): Uint8Array {
  const dst = into && into.length >= outLen ? into.subarray(0, outLen) : new Uint8Array(outLen);
  const srcLen = src.length;
  let ip = 0;
  let op = 0;
  // Every iteration consumes at least one input byte, so the loop is bounded by srcLen.
  while (ip < srcLen) {
    const token = src[ip++]!;
    // literals
    let litLen = token >>> 4;
    if (litLen === 15) {
      let b: number;
      do {
        if (ip >= srcLen) corrupt('truncated literal length', ip);
        b = src[ip++]!;
        litLen += b;
      } while (b === 255);
    }
    if (litLen > srcLen - ip) corrupt(`literal run of ${litLen} bytes past end of input`, ip);
    if (litLen > outLen - op) {
      if (!partial) corrupt(`literal run of ${litLen} bytes overflows output of ${outLen}`, ip);
      dst.set(src.subarray(ip, ip + (outLen - op)), op);
      return dst;
    }
    if (litLen < SHORT_COPY) {
      for (const end = ip + litLen; ip < end;) dst[op++] = src[ip++]!;
    } else {
      dst.set(src.subarray(ip, ip + litLen), op);
      ip += litLen;
      op += litLen;
    }
    if (ip === srcLen) break; // the last sequence has literals only
    if (partial && op === outLen) return dst;
    // match
    if (srcLen - ip < 2) corrupt('truncated match offset', ip);
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || offset > op)
      corrupt(`match offset ${offset} outside the ${op} decoded bytes`, ip - 2);
    if (offset > maxDistance)
      corrupt(`match offset ${offset} beyond the ${maxDistance}-byte lz4_max_distance window`, ip - 2);
    let matchLen = token & 15;
    if (matchLen === 15) {
      let b: number;
      do {
        if (ip >= srcLen) corrupt('truncated match length', ip);
        b = src[ip++]!;
        matchLen += b;
      } while (b === 255);
    }
    matchLen += MIN_MATCH;
    if (matchLen > outLen - op) {
      if (!partial) corrupt(`match of ${matchLen} bytes overflows output of ${outLen}`, ip);
      matchLen = outLen - op;
    }
    let from = op - offset;
    if (matchLen < SHORT_COPY) {
      // a forward byte copy also repeats the last `offset` bytes when the match overlaps
      for (const end = op + matchLen; op < end;) dst[op++] = dst[from++]!;
    } else if (offset >= matchLen) {
      // non-overlapping long match: one native copy
      dst.copyWithin(op, from, from + matchLen);
      op += matchLen;
    } else {
      // Long overlapping match (a run): the output repeats the `offset` bytes at `from`.
      // Copying from `from` as many bytes as are already repeated (op - from, a multiple of
      // `offset`) never reads past `op`, so each copy is native and the copied span doubles.
      const end = op + matchLen;
      while (op < end) {
        const n = Math.min(op - from, end - op);
        dst.copyWithin(op, from, from + n);
        op += n;
      }
    }
    if (partial && op === outLen) return dst;
  }
  if (op !== outLen) {
    throw new CompressedDataError('ECORRUPT', `lz4: block decoded to ${op} bytes, expected ${outLen}`);
  }
  return dst;
}
