/** Little-endian field access on byte arrays (spec §0.2: nothing on disk is big-endian). */
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
export function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
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

/** Compare two byte strings as memcmp would, a proper prefix first (§5.4). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
