// Raw DEFLATE (RFC 1951, no zlib/gzip wrapper), docs/format.md#compressed-streams algorithm 2, via fflate. Mirrors
// z_erofs_deflate_decompress(): decoding stops as soon as the output buffer is full.

import { Inflate, inflateSync } from 'fflate';
import { CompressedDataError } from '../compressed/errors.js';

/**
 * Input bytes inflated per step. DEFLATE expands at most 1032:1 (258-byte matches from
 * 2-bit codes), so one step walks through at most ~8.3 MiB of output, below the 12 MiB extent
 * limit (docs/format.md#compression-terms); decoding stops at the first step that fills the output, so a stream that
 * claims far more output than the extent needs costs neither memory nor time beyond that.
 */
const STEP = 8192;
/**
 * Streams up to this size are inflated in one call (inflateSync drops the writes that do not
 * fit the output and never grows a caller's buffer): the walk through a claimed excess is at
 * most 1032 x 64 KiB (~66 MB of dropped writes, some 0.1 s), and the streaming API costs
 * two to three times more on real pclusters (mkfs's default is one block).
 */
const ONE_SHOT_MAX = 64 << 10;

/**
 * Inflate into exactly `outLen` bytes. A partial decode keeps the first `outLen` bytes of a
 * longer stream (docs/format.md#compressed-streams). On a full decode the buffer has one spare byte: a stream that
 * produces more than `outLen` bytes is corruption, as in the kernel (zlib_inflate returning
 * Z_OK with the output full).
 */
export function deflateDecompress(src: Uint8Array, outLen: number, partial: boolean): Uint8Array {
  const out = new Uint8Array(partial ? outLen : outLen + 1);
  let pos = 0;
  try {
    if (src.length <= ONE_SHOT_MAX) {
      pos = inflateSync(src, { out }).length;
    } else {
      const inflater = new Inflate((chunk) => {
        const n = Math.min(chunk.length, out.length - pos);
        out.set(n === chunk.length ? chunk : chunk.subarray(0, n), pos);
        pos += n;
      });
      for (let i = 0; pos < out.length && i < src.length; i += STEP) {
        const end = Math.min(src.length, i + STEP);
        inflater.push(src.subarray(i, end), end === src.length);
      }
    }
  } catch (e) {
    throw new CompressedDataError('ECORRUPT', `deflate: ${(e as Error).message}`);
  }
  if (pos < outLen) {
    throw new CompressedDataError('ECORRUPT', `deflate: stream decoded to ${pos} bytes, expected ${outLen}`);
  }
  if (pos > outLen)
    throw new CompressedDataError('ECORRUPT', `deflate: stream decodes to more than ${outLen} bytes`);
  return out.length === outLen ? out : out.subarray(0, outLen);
}
