/** Little-endian field access on byte arrays (docs/format.md#conventions: nothing on disk is big-endian). */
export function le16(b: Uint8Array, off: number): number {
  return b[off]! | (b[off + 1]! << 8);
}
export function le32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}
/** u64 as a bigint (for fields that may legitimately exceed 2^53, e.g. nids with bit 63). */
export function le64n(b: Uint8Array, off: number): bigint {
  return (BigInt(le32(b, off + 4)) << 32n) | BigInt(le32(b, off));
}
/** u64 as a number; values above 2^53 are returned as NaN so callers can reject them. */
export function le64(b: Uint8Array, off: number): number {
  const hi = le32(b, off + 4);
  if (hi >= 0x200000) return Number.NaN;
  return hi * 0x1_0000_0000 + le32(b, off);
}
/** The two hex digits of every byte value: a table lookup per byte (a scan hexes every fingerprint). */
const HEX_PAIRS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
export function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX_PAIRS[b[i]!]!;
  return s;
}
export const roundUp = (x: number, a: number): number => Math.ceil(x / a) * a;

const utf8 = new TextDecoder('utf-8', { fatal: false });
const latin = new TextDecoder('latin1');
export function decodeName(b: Uint8Array): string {
  return utf8.decode(b);
}
export function latin1(b: Uint8Array): string {
  return latin.decode(b);
}

/** Compare two byte strings as memcmp would, a proper prefix first (docs/format.md#dir-order). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** UTF-8 byte length of a string, without encoding it (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // a surrogate pair: 2 code units, 4 bytes
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

/**
 * Compare two strings by their UTF-8 bytes, as compareBytes on their encodings would, without
 * encoding them: UTF-16 code-unit order equals UTF-8 byte order except where a surrogate
 * (U+10000 and above) meets a code unit in U+E000..U+FFFF, which is the only case that encodes.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    // Encode from the start of the character: a slice must not split a surrogate pair (the
    // common prefix ends in the same unit for both strings).
    const prev = i > 0 ? a.charCodeAt(i - 1) : 0;
    const from = prev >= 0xd800 && prev <= 0xdbff ? i - 1 : i;
    return compareBytes(utf8Encoder.encode(a.slice(from)), utf8Encoder.encode(b.slice(from)));
  }
  return a.length - b.length;
}
const utf8Encoder = new TextEncoder();
