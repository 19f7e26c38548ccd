// Raw DEFLATE (RFC 1951, no zlib/gzip wrapper), spec §7.12 algorithm 2, via fflate. Mirrors
// z_erofs_deflate_decompress(): the output is bounded by the caller's buffer.

import { inflateSync } from 'fflate';
import { CompressedDataError } from '../compressed/errors.js';

export function deflateDecompress(src: Uint8Array, outLen: number, partial: boolean): Uint8Array {
  const out = new Uint8Array(outLen);
  let got: Uint8Array;
  try {
    // fflate truncates output that does not fit `out` instead of growing it.
    got = inflateSync(src, { out });
  } catch (e) {
    throw new CompressedDataError('ECORRUPT', `deflate: ${(e as Error).message}`);
  }
  // fflate returns a view of `out` trimmed to the produced length (or `out` itself).
  if (got.length < outLen) {
    throw new CompressedDataError(
      'ECORRUPT',
      `deflate: stream decoded to ${got.length} bytes, expected ${outLen}`,
    );
  }
  void partial; // a longer stream is tolerated either way: fflate cannot report the excess
  return got.buffer === out.buffer && got.byteOffset === 0 ? out : got.subarray(0, outLen);
}
