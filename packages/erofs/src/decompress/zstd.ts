// Zstandard frame (RFC 8878), docs/format.md#compressed-streams algorithm 3, via fzstd. Mirrors
// z_erofs_zstd_decompress(). fzstd is always given a preallocated output buffer so it never
// allocates its own window (which could be up to 2 GiB for a hostile frame header).

import { decompress } from 'fzstd';
import { CompressedDataError } from '../compressed/errors.js';

const ZSTD_MAGIC = 0xfd2fb528;

function corrupt(what: string): never {
  throw new CompressedDataError('ECORRUPT', `zstd: ${what}`);
}

/** Frame_Content_Size from the frame header, or -1 when absent (RFC 8878 section 3.1.1.1). */
export function zstdFrameContentSize(src: Uint8Array): number {
  if (src.length < 6) corrupt(`frame of ${src.length} bytes is too short`);
  const magic = (src[0]! | (src[1]! << 8) | (src[2]! << 16) | (src[3]! << 24)) >>> 0;
  if (magic !== ZSTD_MAGIC) corrupt(`bad frame magic 0x${magic.toString(16)}`);
  const fhd = src[4]!;
  const fcsFlag = fhd >>> 6;
  const single = (fhd >>> 5) & 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = fcsFlag === 0 ? single : 1 << fcsFlag;
  if (fcsBytes === 0) return -1;
  let pos = 5 + (single ? 0 : 1) + dictBytes;
  if (pos + fcsBytes > src.length) corrupt('truncated frame header');
  let v = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) v = v * 256 + src[pos + i]!;
  pos += fcsBytes;
  return fcsFlag === 1 ? v + 256 : v;
}

/**
 * @param maxOutput upper bound for the scratch buffer when a partial decode meets a frame that
 *   does not state its content size.
 */
export function zstdDecompress(
  src: Uint8Array,
  outLen: number,
  partial: boolean,
  maxOutput: number,
): Uint8Array {
  const fcs = zstdFrameContentSize(src);
  let cap: number;
  if (fcs >= 0) {
    if (fcs < outLen) corrupt(`frame holds ${fcs} bytes, expected ${outLen}`);
    if (!partial && fcs !== outLen) corrupt(`frame holds ${fcs} bytes, expected exactly ${outLen}`);
    if (fcs > maxOutput) corrupt(`frame content size ${fcs} exceeds the ${maxOutput}-byte limit`);
    cap = fcs;
  } else {
    cap = partial ? Math.max(outLen, maxOutput) : outLen;
  }
  const buf = new Uint8Array(cap);
  let got: Uint8Array;
  try {
    got = decompress(src, buf);
  } catch (e) {
    throw new CompressedDataError('ECORRUPT', `zstd: ${(e as Error).message}`);
  }
  if (got.length < outLen) corrupt(`stream decoded to ${got.length} bytes, expected ${outLen}`);
  return got.length === outLen ? got : got.subarray(0, outLen);
}
