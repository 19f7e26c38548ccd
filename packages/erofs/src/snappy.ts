/**
 * Snappy block decoding for Parquet manifest pages (the format: github.com/google/snappy,
 * format_description.txt): a varint of the decoded length, then literals and back-references.
 * Written here rather than taken from hyparquet (its snappyUncompress) because that decoder
 * reads a 4-byte literal length or copy offset as a signed number: a hostile page whose length
 * has its top bit set moves the read position back and never returns (`0a fc fa ff ff ff 00 00`
 * into 10 bytes loops for ever; docs/manifest.md#validation-of-untrusted-manifests). Every length and offset here is
 * unsigned and checked against both buffers before any copy, and each element moves the read
 * position forward, so a stream is decoded or refused in one pass over it. Used by both Parquet
 * readers (the column path, manifest-parquet-columns.ts, and hyparquet's parquetRead through its
 * `compressors` option).
 */

/** Literals up to this many bytes are copied in a loop, longer ones natively. */
const SHORT = 64;

/** Fills all of `output` from the Snappy block `input`, or throws an Error naming what is wrong. */
export function snappyDecodeInto(input: Uint8Array, output: Uint8Array): void {
  const inEnd = input.length;
  const outEnd = output.length;
  // the preamble: the decoded length, a little-endian base-128 varint of at most 5 bytes
  let pos = 0;
  let declared = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= inEnd || shift > 28) throw new Error('Snappy: bad length header');
    const c = input[pos++]!;
    declared += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) break;
  }
  if (declared !== outEnd) throw new Error(`Snappy: the page decodes to ${declared} bytes, not ${outEnd}`);
  let out = 0;
  while (pos < inEnd) {
    const tag = input[pos++]!;
    const kind = tag & 3;
    let len: number;
    if (kind === 0) {
      // a literal: its length - 1 in the tag's upper 6 bits, or in the 1-4 bytes that follow
      len = (tag >>> 2) + 1;
      if (len > 60) {
        const n = len - 60;
        if (pos + n > inEnd) throw new Error('Snappy: literal length past the end of the page');
        len = 0;
        for (let i = n - 1; i >= 0; i--) len = len * 256 + input[pos + i]!;
        len += 1;
        pos += n;
      }
      if (len > inEnd - pos) throw new Error('Snappy: literal past the end of the page');
      if (len > outEnd - out) throw new Error('Snappy: literal past the decoded length');
      // short literals byte by byte: a subarray and a native call cost more than the bytes
      if (len > SHORT) output.set(input.subarray(pos, pos + len), out);
      else for (let i = 0; i < len; i++) output[out + i] = input[pos + i]!;
      pos += len;
      out += len;
      continue;
    }
    // a copy of `len` bytes from `offset` bytes back (a 1-, 2- or 4-byte offset)
    let offset: number;
    if (kind === 1) {
      if (pos >= inEnd) throw new Error('Snappy: copy past the end of the page');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[pos++]!;
    } else {
      const n = kind === 2 ? 2 : 4;
      if (pos + n > inEnd) throw new Error('Snappy: copy past the end of the page');
      len = (tag >>> 2) + 1;
      offset = 0;
      for (let i = n - 1; i >= 0; i--) offset = offset * 256 + input[pos + i]!;
      pos += n;
    }
    if (offset === 0 || offset > out)
      throw new Error(`Snappy: copy from ${offset} bytes back at byte ${out}`);
    if (len > outEnd - out) throw new Error('Snappy: copy past the decoded length');
    // a copy is at most 64 bytes (its tag's 6 bits): byte by byte, which also repeats the bytes
    // just written when it overlaps them (offset < len)
    for (let i = 0; i < len; i++) output[out + i] = output[out + i - offset]!;
    out += len;
  }
  if (out !== outEnd) throw new Error(`Snappy: the page ends after ${out} of ${outEnd} bytes`);
}

/** hyparquet's `compressors` option (parquetRead, decompressPage): Snappy pages through snappyDecodeInto. */
export const PARQUET_DECOMPRESSORS = {
  SNAPPY(input: Uint8Array, size: number): Uint8Array {
    const out = new Uint8Array(size);
    snappyDecodeInto(input, out);
    return out;
  },
};
