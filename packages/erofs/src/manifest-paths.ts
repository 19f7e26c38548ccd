/**
 * A manifest's paths kept as bytes (docs/manifest.md#columnar-in-memory-form): one byte arena,
 * each record's end offset in it, and a kind per record: ASCII (one byte a character, the usual
 * case) or UTF-16LE code units (any other path, lone surrogates included, which NDJSON can
 * carry as "\udXXX" and UTF-8 cannot). The layout is the thread handover's
 * (node/columns-transfer.ts, TransferredStrings), so a manifest read on a thread is adopted as
 * it is. A manifest's paths are distinct and sorted, so they are not interned: the reader copies
 * each path's bytes once and makes no string of it; `ManifestColumns.paths` makes the strings
 * (once, all of them) for a reader that asks, `at(i)` one of them, and a writer that only copies
 * them (the CLI's `--json`, report-wire's jsonBytes) reads the bytes
 * (docs/benchmarks.md#analyze-paths-paths-as-bytes-2026-12-07).
 */
// Not from manifest-fast-line.ts (asciiString, asciiSliceable): that imports manifest-columns.ts, which imports this.

/** A record's path is ASCII bytes (the handover's ASCII kind). */
export const PATH_ASCII = 1;
/** A record's path is UTF-16LE code units (the handover's UTF16 kind). */
export const PATH_UTF16 = 2;

/** The bytes of one string field of every record: the handover's TransferredStrings. */
export interface PathBytes {
  bytes: Uint8Array;
  ends: Uint32Array;
  kinds: Uint8Array;
}

/** A Uint8Array that is Node's Buffer: its latin1 slice makes a flat one-byte string natively. */
type MaybeNodeBuffer = Uint8Array & { latin1Slice?: (start: number, end: number) => string };
const NodeBuffer = (
  globalThis as {
    Buffer?: {
      allocUnsafeSlow(n: number): MaybeNodeBuffer;
      from(b: ArrayBufferLike, off: number, len: number): MaybeNodeBuffer;
    };
  }
).Buffer;
const LATIN1 = new TextDecoder('latin1');

/** ASCII bytes as a string (manifest-fast-line.ts's asciiString). */
function asciiString(b: MaybeNodeBuffer, start: number, end: number): string {
  return b.latin1Slice ? b.latin1Slice(start, end) : LATIN1.decode(b.subarray(start, end));
}

/** `bytes` as Node's Buffer (one view, no copy) when there is one (manifest-fast-line.ts's asciiSliceable). */
function asciiSliceable(bytes: Uint8Array): MaybeNodeBuffer {
  if (!NodeBuffer || (bytes as MaybeNodeBuffer).latin1Slice) return bytes;
  return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A byte buffer of n (a Node Buffer of its own where there is one: native latin1 slices, transferable). */
function arena(n: number): MaybeNodeBuffer {
  return NodeBuffer ? NodeBuffer.allocUnsafeSlow(n) : new Uint8Array(n);
}

/** The paths of one manifest, appended record by record or adopted whole (fromBytes). */
export class PathStore {
  /** Number of paths. */
  n = 0;
  private bytes: MaybeNodeBuffer;
  private at = 0;
  private ends: Uint32Array;
  private kinds: Uint8Array;
  private cached: string[] | null = null;

  /** `records`, `bytes`: expected counts (hints; the store grows past them). */
  constructor(records = 16, bytes = 64 * records) {
    this.bytes = arena(Math.max(64, bytes));
    this.ends = new Uint32Array(Math.max(16, records));
    this.kinds = new Uint8Array(this.ends.length);
  }

  /** A store over bytes already laid out (a thread's handover): taken, not copied. */
  static fromBytes(b: PathBytes): PathStore {
    const s = new PathStore(0, 0);
    s.bytes = asciiSliceable(b.bytes);
    s.at = b.bytes.length;
    s.ends = b.ends;
    s.kinds = b.kinds;
    s.n = b.ends.length;
    return s;
  }

  private room(records: number, bytes: number): void {
    if (this.n + records > this.ends.length) {
      const ends = new Uint32Array(Math.max(2 * this.ends.length, this.n + records));
      ends.set(this.ends.subarray(0, this.n));
      this.ends = ends;
      const kinds = new Uint8Array(ends.length);
      kinds.set(this.kinds.subarray(0, this.n));
      this.kinds = kinds;
    }
    if (this.at + bytes > this.bytes.length) {
      const b = arena(Math.max(2 * this.bytes.length, this.at + bytes));
      b.set(this.bytes.subarray(0, this.at));
      this.bytes = b;
    }
  }

  /**
   * The next path, given as the printable ASCII bytes b[start, end) without `"` or `\` (the
   * NDJSON fast path's and the Parquet column path's checked bytes), copied as they are.
   */
  addAscii(b: Uint8Array, start: number, end: number): void {
    const len = end - start;
    if (this.n === this.ends.length || this.at + len > this.bytes.length) this.room(1, len);
    const buf = this.bytes;
    let at = this.at;
    // A loop: tens of bytes, where a subarray and set() cost more than the copy.
    for (let k = start; k < end; k++) buf[at++] = b[k]!;
    this.at = at;
    const i = this.n++;
    this.kinds[i] = PATH_ASCII;
    this.ends[i] = at;
    this.cached = null;
  }

  /** The next path, given as a string (the general parsers'). */
  add(s: string): void {
    const len = s.length;
    let ascii = true;
    for (let k = 0; k < len; k++) if (s.charCodeAt(k) > 0x7f) ascii = false;
    this.room(1, ascii ? len : 2 * len);
    const buf = this.bytes;
    let at = this.at;
    if (ascii) for (let k = 0; k < len; k++) buf[at++] = s.charCodeAt(k);
    else {
      for (let k = 0; k < len; k++) {
        const c = s.charCodeAt(k);
        buf[at++] = c & 0xff;
        buf[at++] = c >> 8;
      }
    }
    this.at = at;
    const i = this.n++;
    this.kinds[i] = ascii ? PATH_ASCII : PATH_UTF16;
    this.ends[i] = at;
    this.cached = null;
  }

  /** Path i as a string. */
  pathAt(i: number): string {
    const start = i === 0 ? 0 : this.ends[i - 1]!;
    const end = this.ends[i]!;
    if (this.kinds[i] === PATH_ASCII) return asciiString(this.bytes, start, end);
    return utf16String(this.bytes, start, end);
  }

  /** Every path as a string, made once and kept (ManifestColumns.paths). */
  strings(): string[] {
    if (this.cached) return this.cached;
    const n = this.n;
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = this.pathAt(i);
    return (this.cached = out);
  }

  /**
   * The bytes (read only): `bytes[ends[i-1], ends[i])` is path i (from 0 for i = 0), of kind
   * `kinds[i]` (PATH_ASCII, PATH_UTF16); the arrays may be longer than `n`.
   */
  view(): PathBytes & { n: number } {
    return { bytes: this.bytes, ends: this.ends, kinds: this.kinds, n: this.n };
  }
}

/** UTF-16LE code units as a string, each unit as it is (lone surrogates kept: not TextDecoder's). */
export function utf16String(b: Uint8Array, start: number, end: number): string {
  let s = '';
  const units: number[] = [];
  for (let k = start; k + 1 < end; k += 2) {
    units.push(b[k]! | (b[k + 1]! << 8));
    if (units.length === 4096) {
      s += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return s + String.fromCharCode(...units);
}
