/**
 * Fingerprint values kept as bytes (docs/manifest.md#fingerprints-as-bytes): one byte arena of
 * every distinct value with its end offsets, a hash table over it, and dense indices (0, 1, ...
 * in the order first seen). A fingerprint is hex (the manifest's `fingerprint` field is checked
 * against /^[0-9a-fA-F]*$/), so its bytes are its characters, and a JS string is made of one
 * only when a reader asks for it (stringAt): `sharemap analyze` of two 1M-record manifests made
 * ~1.1M fingerprint strings on its main thread, whose making and collection no thread could take
 * over (docs/benchmarks.md#analyze-fpbytes-fingerprints-as-bytes-2026-12-07). The sharing engine
 * compares indices, checks lengths and forms on the bytes, and the JSON writer copies the bytes.
 *
 * Hashes are StringTable's (hashStep from STRING_HASH_SEED over the bytes), so the NDJSON fast
 * path's scan hash (manifest-fast-line.ts) is a value's hash here too. Browser-safe: no Node API
 * (stringAt slices natively when the arena is Node's Buffer, else decodes with TextDecoder).
 */
import { asciiString } from './manifest-fast-line.js';
import { hashStep, STRING_HASH_SEED } from './manifest-strings.js';

/** The final mix of a hash state into a table index (as StringTable's). */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}

/** `sha256:` as hex: the prefix of the values mkfs.erofs --xattr-inode-digest writes. */
const SHA256_PREFIX_HEX = [0x73, 0x68, 0x61, 0x32, 0x35, 0x36, 0x3a]
  .map((c) => c.toString(16).padStart(2, '0'))
  .join('');
/** Hex length of `sha256:` + 32 bytes. */
const SHA256_VALUE_HEX = SHA256_PREFIX_HEX.length + 64;

/** lowerHexForm's answers: lower-case hex of `sha256:` + 32 bytes, other lower-case hex, or not lower-case hex. */
export const FP_LOWER_HEX_SHA256 = 0;
export const FP_LOWER_HEX_OTHER = 1;
export const FP_NOT_LOWER_HEX = 2;

/** A Uint8Array that may be Node's Buffer (grown arenas are made like the first one). */
type Arena = Uint8Array;

export class FingerprintBytes {
  /** The distinct values one after the other; value k is bytes[k === 0 ? 0 : ends[k - 1], ends[k]). */
  private bytes: Arena;
  private ends = new Int32Array(1024);
  private count = 0;
  private hashes = new Int32Array(1024);
  /** Open addressing, linear probing: 1 + index, 0 for empty; at most half full. */
  private table = new Int32Array(2048);
  /** Set by releaseLookups(): the table and hashes are gone until a lookup rebuilds them. */
  private released = false;

  /**
   * `makeArena`: how an arena of n bytes is made (Node's Buffer.allocUnsafeSlow in the CLI, so
   * stringAt slices natively); a Uint8Array by default.
   */
  constructor(private readonly makeArena: (n: number) => Arena = (n) => new Uint8Array(n)) {
    this.bytes = makeArena(1 << 16);
  }

  /** Number of distinct values. */
  get size(): number {
    return this.count;
  }

  /** Room for `values` values of `bytes` bytes in all, without regrowing (a hint). */
  reserve(values: number, bytes: number): void {
    if (this.released) this.rebuild();
    values = Math.min(Math.max(0, Math.floor(values)), 1 << 23);
    bytes = Math.min(Math.max(0, Math.floor(bytes)), 1 << 30);
    if (values > this.ends.length) {
      const e = new Int32Array(values);
      e.set(this.ends.subarray(0, this.count));
      this.ends = e;
      const h = new Int32Array(values);
      h.set(this.hashes.subarray(0, this.count));
      this.hashes = h;
    }
    if (bytes > this.bytes.length) this.growBytes(bytes);
    let size = this.table.length;
    while (2 * values > size) size *= 2;
    if (size > this.table.length) this.rehash(size);
  }

  /** Start of value k in `arena`. */
  start(k: number): number {
    return k === 0 ? 0 : this.ends[k - 1]!;
  }

  /** End of value k in `arena`. */
  end(k: number): number {
    return this.ends[k]!;
  }

  /** Length of value k (its hex digits). */
  length(k: number): number {
    return this.ends[k]! - (k === 0 ? 0 : this.ends[k - 1]!);
  }

  /** The arena (read only; a later intern may replace it: take it again after one). */
  get arena(): Uint8Array {
    return this.bytes;
  }

  /** Value k as a string (made now, not kept). */
  stringAt(k: number): string {
    return asciiString(this.bytes, this.start(k), this.ends[k]!);
  }

  /** Copies value k into `out` at `at`; returns the end (the caller made room: length(k) bytes). */
  copyInto(k: number, out: Uint8Array, at: number): number {
    const b = this.bytes;
    for (let i = this.start(k), end = this.ends[k]!; i < end; i++) out[at++] = b[i]!;
    return at;
  }

  /** Whether value k is the ASCII bytes b[start, end). */
  equals(k: number, b: Uint8Array, start: number, end: number): boolean {
    const s = this.start(k);
    if (this.ends[k]! - s !== end - start) return false;
    const a = this.bytes;
    for (let i = 0; i < end - start; i++) if (a[s + i] !== b[start + i]) return false;
    return true;
  }

  /** Whether value k ends with the string `s` (String.prototype.endsWith on its characters). */
  endsWith(k: number, s: string): boolean {
    const end = this.ends[k]!;
    const from = end - s.length;
    if (from < this.start(k)) return false;
    const b = this.bytes;
    for (let i = 0; i < s.length; i++) if (b[from + i] !== s.charCodeAt(i)) return false;
    return true;
  }

  /**
   * Whether value k is lower-case hex of `sha256:` + 32 bytes (FP_LOWER_HEX_SHA256), other
   * lower-case hex (FP_LOWER_HEX_OTHER), or not lower-case hex (FP_NOT_LOWER_HEX): the sharing
   * engine's lowerHexForm, on the bytes.
   */
  lowerHexForm(k: number): number {
    const b = this.bytes;
    const s = this.start(k);
    const end = this.ends[k]!;
    for (let i = s; i < end; i++) {
      const c = b[i]!;
      if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return FP_NOT_LOWER_HEX;
    }
    if (end - s !== SHA256_VALUE_HEX) return FP_LOWER_HEX_OTHER;
    for (let i = 0; i < SHA256_PREFIX_HEX.length; i++)
      if (b[s + i] !== SHA256_PREFIX_HEX.charCodeAt(i)) return FP_LOWER_HEX_OTHER;
    return FP_LOWER_HEX_SHA256;
  }

  /**
   * The index of the ASCII bytes b[start, end), added when absent. `hash`: their hashString()
   * state (hashStep over the bytes from STRING_HASH_SEED), as the NDJSON fast path scans it.
   */
  internAscii(b: Uint8Array, start: number, end: number, hash: number): number {
    if (this.released) this.rebuild();
    const mask = this.table.length - 1;
    const { table, hashes } = this;
    for (let i = mix(hash) & mask; ; i = (i + 1) & mask) {
      const e = table[i]!;
      if (e === 0) break;
      if (hashes[e - 1] === hash && this.equals(e - 1, b, start, end)) return e - 1;
    }
    return this.add(b, start, end, hash);
  }

  /** The index of a hex string (a value the slower paths made as a string), added when absent. */
  intern(s: string): number {
    const n = s.length;
    const buf = n <= this.scratch.length ? this.scratch : (this.scratch = new Uint8Array(2 * n));
    let h = STRING_HASH_SEED;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      // Hex only (the parsers checked it): anything else would not be its bytes.
      if (c > 0x7f) throw new Error(`a fingerprint is not ASCII: ${JSON.stringify(s.slice(0, 80))}`);
      buf[i] = c;
      h = hashStep(h, c);
    }
    return this.internAscii(buf, 0, n, h);
  }

  private scratch = new Uint8Array(256);

  /** Drops the hash table and hashes (the values and indices stay); a later intern rebuilds them. */
  releaseLookups(): void {
    this.released = true;
    this.table = new Int32Array(0);
    this.hashes = new Int32Array(0);
  }

  private rebuild(): void {
    this.released = false;
    const n = this.count;
    this.hashes = new Int32Array(Math.max(1024, this.ends.length));
    const b = this.bytes;
    for (let k = 0; k < n; k++) {
      let h = STRING_HASH_SEED;
      for (let i = this.start(k), end = this.ends[k]!; i < end; i++) h = hashStep(h, b[i]!);
      this.hashes[k] = h;
    }
    let size = 2048;
    while (2 * n > size) size *= 2;
    this.rehash(size);
  }

  private add(b: Uint8Array, start: number, end: number, hash: number): number {
    const k = this.count;
    if (k === this.ends.length) {
      const e = new Int32Array(2 * k);
      e.set(this.ends);
      this.ends = e;
      const h = new Int32Array(2 * k);
      h.set(this.hashes);
      this.hashes = h;
    }
    let at = k === 0 ? 0 : this.ends[k - 1]!;
    if (at + end - start > this.bytes.length)
      this.growBytes(Math.max(2 * this.bytes.length, at + end - start));
    const a = this.bytes;
    for (let i = start; i < end; i++) a[at++] = b[i]!;
    this.ends[k] = at;
    this.hashes[k] = hash;
    this.count = k + 1;
    if (2 * this.count > this.table.length) this.rehash(2 * this.table.length);
    else this.place(k);
    return k;
  }

  private growBytes(n: number): void {
    const grown = this.makeArena(n);
    grown.set(this.bytes.subarray(0, this.count === 0 ? 0 : this.ends[this.count - 1]!));
    this.bytes = grown;
  }

  private place(k: number): void {
    const mask = this.table.length - 1;
    let i = mix(this.hashes[k]!) & mask;
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = k + 1;
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size);
    for (let k = 0; k < this.count; k++) this.place(k);
  }
}
