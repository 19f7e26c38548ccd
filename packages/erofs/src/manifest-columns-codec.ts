/**
 * A binary form of a manifest's columns (docs/manifest.md#stored-columnar-form): the typed
 * columns of ManifestColumns as raw little-endian bytes, the paths, fingerprints and sha256s as
 * one UTF-8 blob each with end offsets, and the fields few records carry (decimal-string nids,
 * symlink targets, devices, listed xattrs) as one small JSON list. Reading it back copies bytes
 * into typed arrays (or keeps a ColumnsByteSource's sections as them) and slices strings out of
 * the decoded blobs: no JSON.parse per record,
 * which is what reading the NDJSON form costs (docs/benchmarks.md#server-2m-2m-records-end-to-end).
 *
 * The decoder trusts nothing: every length, offset and code is checked against the bytes it
 * was given, and any problem is a ManifestColumnsCodecError (its caller falls back to the
 * NDJSON form). It does not detect a flipped byte inside a column: the container that stores
 * it carries a checksum (the server's columnar blobs, docs/server.md#stored-manifests-and-analysis-inputs).
 */
import {
  FILE_TYPE_CODES,
  LAYOUT_CODES,
  ManifestColumns,
  newValidatedRecord,
  NO_XATTRS,
} from './manifest-columns.js';
import { hashStep, STRING_HASH_SEED, type StringTable } from './manifest-strings.js';
import type { FileRecord, ManifestHeader } from './manifest-types.js';

/** First 8 bytes of an encoded form. */
export const COLUMNS_CODEC_MAGIC = 'SMCOLS\0\0';
/**
 * Version written. Version 2 stores the fingerprints deduplicated (each distinct value once, in
 * order of first appearance, and per record its index among them), so that a reader gets
 * dense fingerprint ids without hashing a string (docs/manifest.md#stored-columnar-form).
 * Version 3 stores a sha256 that is its fingerprint's last 64 characters (the usual binding,
 * `sha256:` + the digest) as a presence byte of SHA256_FINGERPRINT_TAIL, with nothing in the
 * sha256 blob: its reader slices it from the fingerprint, one string per distinct fingerprint
 * (at 2M records, 128 MB neither stored, read nor compared). Versions 1 (one fingerprint per
 * record, each with a presence byte) and 2 are still read. Any other is refused (its reader
 * falls back to the NDJSON form).
 */
export const COLUMNS_CODEC_VERSION = 3;
/** Versions decodeManifestColumns reads. */
const READ_VERSIONS = [1, 2, 3];
/**
 * Longest string blob (paths, fingerprints or sha256s of one manifest) in UTF-16 code units:
 * each is decoded as one JS string, and V8 refuses strings past ~2^29 units. A manifest past it
 * is not encoded (encodeManifestColumns returns null) and stays in its NDJSON form.
 */
export const MAX_COLUMNS_STRING_UNITS = 256 * 1024 * 1024;

/** The encoded form is not a valid one (short, a wrong magic or version, an offset out of bounds...). */
export class ManifestColumnsCodecError extends Error {
  override readonly name = 'ManifestColumnsCodecError';
}

const FLAG_SHA256 = 1;
const FLAG_INO = 2;
/**
 * magic, version, flags, n, header JSON bytes, extras JSON bytes, 3 string blob byte lengths;
 * version 2 adds the number of distinct fingerprints.
 */
const preambleBytes = (version: number): number => 8 + 4 * (version === 1 ? 8 : 9);
/** Index of a record without a fingerprint in the fingerprint index column. */
const NO_FINGERPRINT = -1;
/** Presence byte of a string column: no value (absent); its value in the column's blob. */
const ABSENT = 0;
const STORED = 1;
/**
 * Presence byte of a version-3 sha256: the value is the last SHA256_HEX_UNITS characters of the
 * record's fingerprint (nothing in the blob, its end offset the previous one).
 */
const SHA256_FINGERPRINT_TAIL = 2;

type TypedColumn = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;
/** The typed columns in their stored order (widest first, so every column stays 8-byte aligned in the stored bytes). */
const FIXED_COLUMNS = [
  'size',
  'mtime',
  'nid',
  'uid',
  'gid',
  'nlink',
  'mtimeNsec',
  'xattrIsize',
  'mode',
  'type',
  'layout',
  'inodeSize',
] as const;
type FixedColumn = (typeof FIXED_COLUMNS)[number];

/** Sparse fields of record `i`: [i, nid as a decimal string | null, target | null, rdev | null, xattrs | null]. */
type Extra = [number, string | null, string | null, [number, number] | null, Record<string, string> | null];

/** Interning of decoded strings (StringTable): slot 3i path, 3i+1 fingerprint, 3i+2 sha256. */
export interface ColumnsStringInterner {
  internAt(slot: number, s: string): string;
  /** StringTable.internAtAscii: interning straight from ASCII bytes, when the interner has it. */
  internAtAscii?: StringTable['internAtAscii'];
  /** StringTable.canAdopt / adoptColumn: a whole column taken without interning it now. */
  canAdopt?: StringTable['canAdopt'];
  adoptColumn?: StringTable['adoptColumn'];
  /**
   * StringTable.internDistinct, for the fingerprints of a version-2 form (stored deduplicated):
   * each distinct value interned once, their table indices given back (decodeManifestColumns
   * then gives each record's: `fingerprintIndex`). Without it they are interned record by record.
   */
  internDistinct?: StringTable['internDistinct'];
}

/** String.prototype.isWellFormed (ES2024; Node 20 has it, the repo's TypeScript lib does not list it). */
type WellFormedCheck = string & { isWellFormed(): boolean };

const textEncoder = new TextEncoder();

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bytesOf(a: TypedColumn, n: number): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, n * a.BYTES_PER_ELEMENT);
}

/** Bytes of the digest a `sha256:` + 32-byte fingerprint claims. */
const DIGEST_BYTES = 32;
/** Length in hex digits of a sha256. */
const SHA256_HEX_UNITS = 2 * DIGEST_BYTES;

/**
 * Whether a record's sha256 is stored as SHA256_FINGERPRINT_TAIL (version 3): it is the last
 * SHA256_HEX_UNITS characters of the record's fingerprint, which gives it back exactly.
 */
function isFingerprintTail(sha256: string, fingerprint: string | null | undefined): boolean {
  return (
    sha256.length === SHA256_HEX_UNITS &&
    fingerprint !== null &&
    fingerprint !== undefined &&
    fingerprint.endsWith(sha256)
  );
}

/**
 * One string blob: the strings joined (absent ones empty) and each one's end offset in UTF-16
 * units; `present` is STORED for a joined value. With `tailsOf` (the sha256 column, version 3:
 * the fingerprints), a value that is its record's fingerprint's tail (isFingerprintTail) is
 * marked SHA256_FINGERPRINT_TAIL instead and not joined.
 */
function joinStrings(
  values: readonly (string | null | undefined)[],
  n: number,
  tailsOf?: readonly (string | null | undefined)[],
): { text: string; ends: Uint32Array; present: Uint8Array } | null {
  const ends = new Uint32Array(n);
  const present = new Uint8Array(n);
  const parts: string[] = [];
  let units = 0;
  for (let i = 0; i < n; i++) {
    const s = values[i];
    if (s !== null && s !== undefined) {
      if (tailsOf !== undefined && isFingerprintTail(s, tailsOf[i])) present[i] = SHA256_FINGERPRINT_TAIL;
      else {
        // A lone surrogate (a path the NDJSON form carries as "\\udXXX") would come back from
        // the UTF-8 blob as U+FFFD: such a manifest is not encoded and stays in its NDJSON form.
        if (!(s as WellFormedCheck).isWellFormed()) return null;
        parts.push(s);
        units += s.length;
        present[i] = STORED;
        if (units > MAX_COLUMNS_STRING_UNITS) return null;
      }
    }
    ends[i] = units;
  }
  return { text: parts.join(''), ends, present };
}

/** Hex of `sha256:`, which such a fingerprint starts with (docs/format.md#fingerprints). */
const SHA256_FINGERPRINT_PREFIX = '7368613235363a';
/** Length in hex digits of such a fingerprint. */
const SHA256_FINGERPRINT_UNITS = 2 * (7 + DIGEST_BYTES);
/** Value of each lower-case hex digit by char code, -1 for other characters. */
const HEX_DIGIT = new Int8Array(128).fill(-1);
for (let k = 0; k < 16; k++) HEX_DIGIT['0123456789abcdef'.charCodeAt(k)] = k;

/**
 * Deduplicates a column as it is written (version 2's fingerprints): `indexOf` gives a value's
 * index among the distinct values so far and whether it is new (the caller then writes it).
 * Values of the usual fingerprint form (`sha256:` + 32 bytes, lower-case hex) are held as their
 * 32 digest bytes in one buffer, in a hash table of their own: a 2M-record upload holds ~1.6M
 * distinct ones, and as JS strings (each a slice that may keep its whole NDJSON line alive)
 * they were most of its memory (docs/benchmarks.md#server-trust2-upload-fingerprints-as-bytes-2026-12-07).
 * Other values (rare) go in a Map. Either way the indices are in order of first appearance.
 */
class DistinctValues {
  count = 0;
  /** Units of the distinct values so far (MAX_COLUMNS_STRING_UNITS applies to them). */
  units = 0;
  /** The digests held, DIGEST_BYTES each, in order of first appearance. */
  private digests = new Uint8Array(DIGEST_BYTES * 1024);
  /** By digest held: its index among all the distinct values. */
  private indexOfDigest = new Int32Array(1024);
  private digestCount = 0;
  /** Open addressing (linear probing), by hash: the digest held there, -1 for none. */
  private slots = new Int32Array(2048).fill(-1);
  /** The digest of the value looked up, decoded from its hex. */
  private readonly digest = new Uint8Array(DIGEST_BYTES);
  /** A seed per table: which digests share a slot is not known in advance. */
  private readonly seed = (Math.random() * 2 ** 32) >>> 0;
  private others: Map<string, number> | null = null;

  indexOf(s: string): { index: number; added: boolean } {
    const isDigest = this.decode(s);
    let index = isDigest ? this.digestIndex() : (this.others ??= new Map()).get(s);
    const added = index === undefined;
    if (added) {
      index = this.count++;
      this.units += s.length;
      if (isDigest) this.addDigest(index);
      else this.others!.set(s, index);
    }
    return { index: index!, added };
  }

  /** Decodes s into `digest` when it has the usual form, else returns false. */
  private decode(s: string): boolean {
    if (s.length !== SHA256_FINGERPRINT_UNITS) return false;
    const p = SHA256_FINGERPRINT_PREFIX.length;
    for (let k = 0; k < p; k++) if (s.charCodeAt(k) !== SHA256_FINGERPRINT_PREFIX.charCodeAt(k)) return false;
    const d = this.digest;
    for (let k = 0; k < DIGEST_BYTES; k++) {
      const hi = HEX_DIGIT[s.charCodeAt(p + 2 * k)] ?? -1;
      const lo = HEX_DIGIT[s.charCodeAt(p + 2 * k + 1)] ?? -1;
      if (hi < 0 || lo < 0) return false;
      d[k] = (hi << 4) | lo;
    }
    return true;
  }

  private hash(bytes: Uint8Array, at: number): number {
    let h = this.seed;
    for (let k = 0; k < DIGEST_BYTES; k++) h = Math.imul(h ^ bytes[at + k]!, 0x01000193);
    return (h ^ (h >>> 15)) >>> 0;
  }

  /** The index of `digest` among the values, or undefined when it is not held. */
  private digestIndex(): number | undefined {
    const mask = this.slots.length - 1;
    const d = this.digest;
    const held = this.digests;
    for (let slot = this.hash(d, 0) & mask; ; slot = (slot + 1) & mask) {
      const e = this.slots[slot]!;
      if (e < 0) return undefined;
      const at = e * DIGEST_BYTES;
      let k = 0;
      while (k < DIGEST_BYTES && held[at + k] === d[k]) k++;
      if (k === DIGEST_BYTES) return this.indexOfDigest[e]!;
    }
  }

  /** Holds `digest` (not held yet) as the value of index `index`. */
  private addDigest(index: number): void {
    const e = this.digestCount++;
    if (e === this.indexOfDigest.length) {
      const digests = new Uint8Array(2 * this.digests.length);
      digests.set(this.digests);
      this.digests = digests;
      const indices = new Int32Array(2 * e);
      indices.set(this.indexOfDigest);
      this.indexOfDigest = indices;
    }
    this.digests.set(this.digest, e * DIGEST_BYTES);
    this.indexOfDigest[e] = index;
    // At most half the slots used: rehash into twice as many.
    if (2 * this.digestCount > this.slots.length) {
      this.slots = new Int32Array(2 * this.slots.length).fill(-1);
      for (let k = 0; k < e; k++) this.place(k);
    }
    this.place(e);
  }

  private place(e: number): void {
    const mask = this.slots.length - 1;
    let slot = this.hash(this.digests, e * DIGEST_BYTES) & mask;
    while (this.slots[slot]! >= 0) slot = (slot + 1) & mask;
    this.slots[slot] = e;
  }
}

/**
 * A column stored deduplicated: its distinct values joined (in order of first appearance), the
 * end offset of each (UTF-16 units) and each record's index among them (NO_FINGERPRINT when
 * absent); null as joinStrings.
 */
function distinctStrings(
  values: readonly (string | null | undefined)[],
  n: number,
): { text: string; ends: Uint32Array; index: Int32Array } | null {
  const seen = new DistinctValues();
  const index = new Int32Array(n);
  const parts: string[] = [];
  const ends: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = values[i];
    if (s === null || s === undefined) {
      index[i] = NO_FINGERPRINT;
      continue;
    }
    if (!(s as WellFormedCheck).isWellFormed()) return null;
    const got = seen.indexOf(s);
    index[i] = got.index;
    if (!got.added) continue;
    if (seen.units > MAX_COLUMNS_STRING_UNITS) return null;
    parts.push(s);
    ends.push(seen.units);
  }
  return { text: parts.join(''), ends: Uint32Array.from(ends), index };
}

/**
 * The encoded form of a manifest's header and columns, as pieces to write one after the other
 * (views of the columns, no copy of them), or null when a string blob would pass
 * MAX_COLUMNS_STRING_UNITS or a string is not well-formed UTF-16 (a lone surrogate).
 */
export function encodeManifestColumns(header: ManifestHeader, cols: ManifestColumns): Uint8Array[] | null {
  if (!isLittleEndian) return null; // the columns are stored as this host's bytes
  const n = cols.n;
  const paths = joinStrings(cols.paths, n);
  const fps = distinctStrings(cols.fingerprint, n);
  const shas = joinStrings(cols.sha256 ?? [], n, cols.fingerprint);
  if (!paths || !fps || !shas) return null;
  const extras: Extra[] = [];
  const s = newValidatedRecord();
  for (let i = 0; i < n; i++) {
    cols.fieldsOf(i, s);
    const bigNid = typeof s.nid === 'string' ? s.nid : null;
    const xattrs = s.xattrs === NO_XATTRS ? null : s.xattrs;
    if (bigNid === null && s.target === undefined && s.rdev === undefined && xattrs === null) continue;
    extras.push([i, bigNid, s.target ?? null, s.rdev ?? null, xattrs]);
  }
  const blobs = [textEncoder.encode(paths.text), textEncoder.encode(fps.text), textEncoder.encode(shas.text)];
  const flags = (cols.sha256 ? FLAG_SHA256 : 0) | (cols.ino ? FLAG_INO : 0);
  const head = headBytes(
    header,
    extras,
    flags,
    n,
    blobs.map((b) => b.length),
    fps.ends.length,
  );
  const pieces: Uint8Array[] = [head];
  for (const k of FIXED_COLUMNS) pieces.push(bytesOf(cols[k], n));
  if (cols.ino) pieces.push(bytesOf(cols.ino, n));
  pieces.push(bytesOf(paths.ends, n), paths.present);
  pieces.push(asBytes(fps.index), asBytes(fps.ends));
  pieces.push(bytesOf(shas.ends, n), shas.present);
  pieces.push(...blobs);
  return pieces;
}

function asBytes(a: Int32Array | Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** The preamble, the header and sparse JSON and the padding after them: the form up to its typed columns. */
function headBytes(
  header: ManifestHeader,
  extras: Extra[],
  flags: number,
  n: number,
  blobLens: number[],
  distinctFingerprints: number,
): Uint8Array {
  const headerBytes = textEncoder.encode(JSON.stringify(header));
  const extrasBytes = textEncoder.encode(JSON.stringify(extras));
  const preamble = preambleBytes(COLUMNS_CODEC_VERSION);
  const pad = padTo8(preamble + headerBytes.length + extrasBytes.length);
  const head = new Uint8Array(preamble + headerBytes.length + extrasBytes.length + pad);
  const dv = new DataView(head.buffer);
  for (let k = 0; k < 8; k++) head[k] = COLUMNS_CODEC_MAGIC.charCodeAt(k);
  const words = [
    COLUMNS_CODEC_VERSION,
    flags,
    n,
    headerBytes.length,
    extrasBytes.length,
    ...blobLens,
    distinctFingerprints,
  ];
  words.forEach((w, k) => dv.setUint32(8 + 4 * k, w, true));
  head.set(headerBytes, preamble);
  head.set(extrasBytes, preamble + headerBytes.length);
  return head;
}

function padTo8(len: number): number {
  return (8 - (len % 8)) % 8;
}

/**
 * Where decodeManifestColumnsFrom takes an encoded form's bytes from, in order: a file read as
 * it is decoded (the server's columnar files, apps/server/src/scan/stored-columns.ts), so that
 * the form is never whole in memory and its typed columns are read straight into their arrays.
 */
export interface ColumnsByteSource {
  /** Bytes of the form in all. */
  readonly length: number;
  /**
   * The next `count` bytes of the form, in a Uint8Array at offset 0 of an ArrayBuffer of its
   * own, which the decoder may keep as a column (a view of it, no copy). Called with counts
   * that add up to at most `length`. It may throw (a read that failed, a checksum that does not
   * match once the last byte is read): the decoder lets that through.
   */
  next(count: number): Uint8Array;
  /**
   * Optional: the next `count` bytes handed to `each` in order, a piece at a time, in a buffer
   * the source reuses (each piece valid during its call only), with next()'s checks and errors
   * (a checksum taken once the last byte is read). The decoder asks for a string blob so when
   * it only decodes it into text: the blob is then never whole in memory, and no fresh
   * memory is touched for it (docs/benchmarks.md, report-2m).
   */
  pieces?(count: number, each: (bytes: Uint8Array) => void): void;
}

/**
 * A string blob decoded: one string, or (read from a source in pieces) the strings of its
 * pieces, each UTF-8 sequence decoded whole across their borders (TextDecoder's `stream`).
 * `slice` takes UTF-16 offsets into the whole text, as one string's slice() does; a value
 * across two pieces is their parts joined.
 */
class BlobText {
  /** UTF-16 units in all. */
  readonly length: number;
  /** Whether every character was one byte (units as many as bytes): offsets are byte offsets. */
  readonly ascii: boolean;
  private readonly parts: string[];
  /** The piece slice() last looked in, and its span of units. */
  private k = 0;
  private from = 0;
  private to: number;
  constructor(parts: string[], bytes: number) {
    this.parts = parts.filter((t) => t.length > 0);
    if (this.parts.length === 0) this.parts.push('');
    let n = 0;
    for (const t of this.parts) n += t.length;
    this.length = n;
    this.ascii = n === bytes;
    this.to = this.parts[0]!.length;
  }

  /** The text as one string when it is one piece (the fast path of the loops below), else null. */
  get whole(): string | null {
    return this.parts.length === 1 ? this.parts[0]! : null;
  }

  /** Units [start, end) of the text (0 <= start <= end <= length). */
  slice(start: number, end: number): string {
    const parts = this.parts;
    if (start < this.from) {
      this.k = 0;
      this.from = 0;
      this.to = parts[0]!.length;
    }
    while (start >= this.to && this.k < parts.length - 1) {
      this.from = this.to;
      this.to += parts[++this.k]!.length;
    }
    if (end <= this.to) return parts[this.k]!.slice(start - this.from, end - this.from);
    let out = parts[this.k]!.slice(start - this.from);
    for (let k = this.k + 1, at = this.to; at < end; k++) {
      const t = parts[k]!;
      out += t.slice(0, Math.min(t.length, end - at));
      at += t.length;
    }
    return out;
  }
}

/** A string blob as the column readers take it: its bytes, its text, or why it is not UTF-8. */
type StoredBlob = Uint8Array | BlobText | ManifestColumnsCodecError;

/** The text of a string blob, or ManifestColumnsCodecError (`${what} are not UTF-8`). */
function blobText(blob: StoredBlob, what: string): BlobText {
  if (blob instanceof BlobText) return blob;
  if (blob instanceof ManifestColumnsCodecError) throw blob;
  try {
    return new BlobText([new TextDecoder('utf-8', { fatal: true }).decode(blob)], blob.length);
  } catch (e) {
    throw new ManifestColumnsCodecError(`${what} are not UTF-8: ${(e as Error).message}`);
  }
}

/** Reads `count` bytes at `at`, or throws naming what is missing. */
class Reader {
  at = 0;
  readonly length: number;
  /** Whether take() gives bytes of their own (a source's), which a column may keep as its buffer. */
  readonly owned: boolean;
  constructor(private readonly from: Uint8Array | ColumnsByteSource) {
    this.length = from.length;
    this.owned = !(from instanceof Uint8Array);
  }
  take(count: number, what: string): Uint8Array {
    if (this.at + count > this.length)
      throw new ManifestColumnsCodecError(`truncated: ${what} ends past the ${this.length} bytes`);
    const from = this.from;
    const v = from instanceof Uint8Array ? from.subarray(this.at, this.at + count) : from.next(count);
    this.at += count;
    return v;
  }

  /**
   * A string blob of `count` bytes: decoded a piece at a time when the source gives pieces
   * (the bytes never whole in memory), else its bytes. A blob that is not UTF-8 gives its error
   * (thrown where its column is read, as for bytes), after every byte is read: a checksum the
   * source checks at the end still comes first.
   */
  takeText(count: number, what: string): StoredBlob {
    const from = this.from;
    if (from instanceof Uint8Array || !from.pieces) return this.take(count, what);
    if (this.at + count > this.length)
      throw new ManifestColumnsCodecError(`truncated: ${what} ends past the ${this.length} bytes`);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const parts: string[] = [];
    let error: string | null = null;
    from.pieces(count, (bytes) => {
      if (error !== null) return;
      try {
        parts.push(decoder.decode(bytes, { stream: true }));
      } catch (e) {
        error = (e as Error).message;
      }
    });
    this.at += count;
    if (error === null)
      try {
        parts.push(decoder.decode());
      } catch (e) {
        error = (e as Error).message;
      }
    return error !== null
      ? new ManifestColumnsCodecError(`${what} are not UTF-8: ${error as string}`)
      : new BlobText(parts, count);
  }
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ManifestColumnsCodecError(`${what} is not JSON: ${(e as Error).message}`);
  }
}

/** Copies `count` elements of a column out of the stored bytes into `into` (any alignment). */
function fill(into: TypedColumn, bytes: Uint8Array): void {
  new Uint8Array(into.buffer, into.byteOffset, bytes.length).set(bytes);
}

type TypedColumnOf<T extends TypedColumn> = {
  new (n: number): T;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
};

/**
 * `count` elements of a column from its stored bytes: a view of them when they are the
 * reader's own (a ColumnsByteSource's, aligned), else a copy (a view of a caller's buffer
 * would keep the whole form alive, and share its memory).
 */
function typedColumn<T extends TypedColumn>(
  make: TypedColumnOf<T>,
  bytes: Uint8Array,
  count: number,
  owned: boolean,
): T {
  if (owned && bytes.byteOffset % make.BYTES_PER_ELEMENT === 0)
    return new make(bytes.buffer, bytes.byteOffset, count);
  const a = new make(count);
  fill(a, bytes);
  return a;
}

/**
 * A string blob read back: `out[i]` is record i's string, null when absent, interned at slot
 * `3i + field` of `strings` when given. The blob is decoded once; each string is a slice of it
 * (V8 makes a slice a view of its parent, no copy). An ASCII blob (all its strings, usually:
 * paths and hex) is interned from its bytes (StringTable.internAtAscii, the NDJSON fast path's
 * way), which makes no string for a value the table already has.
 */
function stringColumn(
  ends: Uint32Array,
  present: Uint8Array,
  stored: StoredBlob,
  what: string,
  input: ColumnsStringInterner | undefined,
  field: number,
): (string | null)[] {
  let strings = input;
  const text = blobText(stored, what);
  // UTF-8 takes more bytes than UTF-16 units for every non-ASCII character: equal lengths mean
  // ASCII, and then the offsets (UTF-16 units) are byte offsets too. Interning from the bytes
  // needs them: a blob read as text comes only where it is not interned (decodeManifestColumns).
  const blob = stored instanceof Uint8Array ? stored : null;
  const ascii = text.ascii;
  const whole = text.whole;
  const n = ends.length;
  const out: (string | null)[] = [];
  // Nothing interned yet (the first manifest of an analysis): the slices are handed over
  // whole and hashed only if another manifest follows (StringTable.adoptColumn).
  const adopt = strings?.canAdopt?.(field) === true;
  if (adopt) strings = undefined;
  const slice = (_b: Uint8Array, start: number, end: number): string => text.slice(start, end);
  const length = text.length;
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i]!;
    if (start > end || end > length)
      throw new ManifestColumnsCodecError(`${what} offset of record ${i} is out of bounds`);
    if (!present[i]) {
      if (end !== start)
        throw new ManifestColumnsCodecError(`${what}: absent value of record ${i} has characters`);
      out.push(null);
      continue;
    }
    const slot = 3 * i + field;
    if (!strings) out.push(whole !== null ? whole.slice(start, end) : text.slice(start, end));
    else if (ascii && blob && strings.internAtAscii) {
      let h = STRING_HASH_SEED;
      for (let k = start; k < end; k++) h = hashStep(h, blob[k]!);
      out.push(strings.internAtAscii(slot, blob, start, end, h, slice));
    } else out.push(strings.internAt(slot, text.slice(start, end)));
    start = end;
  }
  if (adopt) input!.adoptColumn!(field, out);
  return out;
}

/**
 * Version 2's fingerprints read back: `out[i]` is record i's fingerprint, null when absent, each
 * distinct value one string (a slice of the decoded blob, or the table's equal string);
 * `tableIndex[i]` its index in the interner's table when the interner takes distinct values
 * (internDistinct), else null (interned record by record, when an interner is given).
 */
function distinctColumn(
  ends: Uint32Array,
  index: Int32Array,
  stored: StoredBlob,
  input: ColumnsStringInterner | undefined,
): { out: (string | null)[]; tableIndex: Int32Array | null; values: string[]; ascii: boolean } {
  const text = blobText(stored, 'fingerprints');
  const whole = text.whole;
  const d = ends.length;
  const distinct = new Array<string>(d);
  let start = 0;
  for (let k = 0; k < d; k++) {
    const end = ends[k]!;
    if (start > end || end > text.length)
      throw new ManifestColumnsCodecError(`fingerprints offset of value ${k} is out of bounds`);
    distinct[k] = whole !== null ? whole.slice(start, end) : text.slice(start, end);
    start = end;
  }
  if (start !== text.length)
    throw new ManifestColumnsCodecError('fingerprints: characters after the last value');
  const n = index.length;
  for (let i = 0; i < n; i++)
    if (index[i]! < NO_FINGERPRINT || index[i]! >= d)
      throw new ManifestColumnsCodecError(`fingerprint index of record ${i} is out of bounds`);
  const tableOf = input?.internDistinct?.(distinct) ?? null;
  const out = new Array<string | null>(n);
  const tableIndex = tableOf ? new Int32Array(n) : null;
  for (let i = 0; i < n; i++) {
    const k = index[i]!;
    if (k === NO_FINGERPRINT) {
      out[i] = null;
      if (tableIndex) tableIndex[i] = -1;
    } else if (tableIndex) {
      out[i] = distinct[k]!;
      tableIndex[i] = tableOf![k]!;
    } else out[i] = input ? input.internAt(3 * i + 1, distinct[k]!) : distinct[k]!;
  }
  return { out, tableIndex, values: distinct, ascii: text.ascii };
}

/**
 * Version 3's sha256s read back: SHA256_FINGERPRINT_TAIL records' from their fingerprints (one
 * string per distinct fingerprint, a slice of it, made for the first record that has it), the
 * others' sliced from the decoded blob, which holds them alone. `out[i]` is record i's sha256,
 * undefined when absent (as the columns keep it: no copy of the column to map null), interned at slot 3i + 2 of `input` when given (or adopted whole, as
 * stringColumn does). A presence byte other than the three, a tail of a record without a
 * fingerprint of SHA256_HEX_UNITS characters or more, an offset out of bounds or characters
 * left after the last value throw ManifestColumnsCodecError.
 */
function tailShaColumn(
  ends: Uint32Array,
  present: Uint8Array,
  stored: StoredBlob,
  fpIndex: Int32Array,
  fingerprints: readonly string[],
  input: ColumnsStringInterner | undefined,
): (string | undefined)[] {
  const text = blobText(stored, 'sha256s');
  const adopt = input?.canAdopt?.(2) === true;
  const strings = adopt ? undefined : input;
  const tails = new Array<string | undefined>(fingerprints.length);
  const n = ends.length;
  const out = new Array<string | undefined>(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i]!;
    if (start > end || end > text.length)
      throw new ManifestColumnsCodecError(`sha256s offset of record ${i} is out of bounds`);
    const p = present[i]!;
    let v: string;
    if (p === STORED) v = text.slice(start, end);
    else {
      if (end !== start)
        throw new ManifestColumnsCodecError(`sha256s: value of record ${i} not in the blob has characters`);
      if (p === ABSENT) {
        out[i] = undefined;
        continue;
      }
      if (p !== SHA256_FINGERPRINT_TAIL)
        throw new ManifestColumnsCodecError(`sha256s: presence byte ${p} of record ${i}`);
      const k = fpIndex[i]!;
      const fp = k === NO_FINGERPRINT ? undefined : fingerprints[k]!;
      if (fp === undefined || fp.length < SHA256_HEX_UNITS)
        throw new ManifestColumnsCodecError(`sha256 of record ${i}: no fingerprint to take it from`);
      v = tails[k] ??= fp.slice(-SHA256_HEX_UNITS);
    }
    out[i] = strings ? strings.internAt(3 * i + 2, v) : v;
    start = end;
  }
  if (start !== text.length) throw new ManifestColumnsCodecError('sha256s: characters after the last value');
  if (adopt) input!.adoptColumn!(2, out);
  return out;
}

/**
 * Version 2's sha256s read back when the fingerprints' blob is ASCII and so is the sha256s'
 * (its bytes as many as its UTF-16 units): a record's sha256 that is byte for byte the last
 * 64 characters of its fingerprint (the usual R12 binding: `sha256:` + the digest) is that
 * fingerprint's tail, one string per distinct fingerprint (a slice of it) for all the records
 * that have it; the sha256 blob is never decoded into a string (at 2M records, 128 MB and 2M
 * slices, docs/benchmarks.md, server-read). Other records' sha256s are decoded one by one.
 * The values are those stringColumn gives (null when absent); null when a blob is not ASCII.
 */
function shaColumnFromFingerprints(
  ends: Uint32Array,
  present: Uint8Array,
  blob: Uint8Array,
  fpIndex: Int32Array,
  fpEnds: Uint32Array,
  fpBlob: Uint8Array,
  fingerprints: string[],
): (string | null)[] | null {
  const n = ends.length;
  if ((n === 0 ? 0 : ends[n - 1]!) !== blob.length) return null;
  const tails = new Array<string | undefined>(fingerprints.length);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // Compared four bytes at a time (unaligned reads): twice as fast as byte by byte.
  const shaWords = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const fpWords = new DataView(fpBlob.buffer, fpBlob.byteOffset, fpBlob.byteLength);
  const out = new Array<string | null>(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i]!;
    if (start > end || end > blob.length)
      throw new ManifestColumnsCodecError(`sha256s offset of record ${i} is out of bounds`);
    if (!present[i]) {
      if (end !== start)
        throw new ManifestColumnsCodecError(`sha256s: absent value of record ${i} has characters`);
      out[i] = null;
      continue;
    }
    const k = fpIndex[i]!;
    let v: string | undefined;
    if (k >= 0 && end - start === SHA256_HEX_UNITS) {
      // The fingerprint's last 64 bytes (its blob is ASCII: byte offsets are unit offsets).
      const fpEnd = fpEnds[k]!;
      const at = fpEnd - SHA256_HEX_UNITS;
      if (at >= (k === 0 ? 0 : fpEnds[k - 1]!)) {
        let j = 0;
        while (j < SHA256_HEX_UNITS && shaWords.getInt32(start + j, true) === fpWords.getInt32(at + j, true))
          j += 4;
        if (j === SHA256_HEX_UNITS) v = tails[k] ??= fingerprints[k]!.slice(-SHA256_HEX_UNITS);
      }
    }
    if (v === undefined) {
      try {
        v = decoder.decode(blob.subarray(start, end));
      } catch (e) {
        throw new ManifestColumnsCodecError(`sha256s are not UTF-8: ${(e as Error).message}`);
      }
      // Offsets in UTF-16 units: a value that is not ASCII breaks their equality with bytes.
      if (v.length !== end - start) return null;
    }
    out[i] = v;
    start = end;
  }
  return out;
}

/**
 * The header and columns of an encoded form (version 1, 2 or 3), checked: a wrong magic or
 * version, a length past the bytes, an offset or index out of bounds, an unknown type or layout
 * code or trailing bytes throw ManifestColumnsCodecError. Strings are interned in `strings` at
 * the slots readStoredManifest uses, when given; `fingerprintIndex` is each record's
 * fingerprint's index in it when it took them as distinct values (internDistinct: version 2).
 */
export function decodeManifestColumns(
  bytes: Uint8Array | ColumnsByteSource,
  strings?: ColumnsStringInterner,
): { header: ManifestHeader; cols: ManifestColumns; fingerprintIndex?: Int32Array } {
  if (!isLittleEndian) throw new ManifestColumnsCodecError('a big-endian host reads no stored columns');
  const r = new Reader(bytes);
  const magic = r.take(12, 'the preamble');
  for (let k = 0; k < 8; k++)
    if (magic[k] !== COLUMNS_CODEC_MAGIC.charCodeAt(k))
      throw new ManifestColumnsCodecError('not a columnar manifest (magic)');
  const version = new DataView(magic.buffer, magic.byteOffset + 8, 4).getUint32(0, true);
  if (!READ_VERSIONS.includes(version))
    throw new ManifestColumnsCodecError(
      `version ${version}, this reader knows ${READ_VERSIONS.join(' and ')}`,
    );
  const pre = r.take(preambleBytes(version) - 12, 'the preamble');
  const dv = new DataView(pre.buffer, pre.byteOffset, pre.byteLength);
  const word = (k: number): number => dv.getUint32(4 * (k - 1), true);
  const flags = word(1);
  const n = word(2);
  const headerLen = word(3);
  const extrasLen = word(4);
  const blobLens = [word(5), word(6), word(7)];
  const header = parseJson(r.take(headerLen, 'the header'), 'the header') as ManifestHeader;
  if (typeof header !== 'object' || header === null || header.file_count !== n)
    throw new ManifestColumnsCodecError(`the header's file_count is not the ${n} records stored`);
  const extras = parseJson(r.take(extrasLen, 'the sparse fields'), 'the sparse fields');
  if (!Array.isArray(extras)) throw new ManifestColumnsCodecError('the sparse fields are not a list');
  r.take(padTo8(preambleBytes(version) + headerLen + extrasLen), 'the padding');
  const fixed = {} as Record<FixedColumn, Uint8Array>;
  const width: Record<FixedColumn, number> = {
    size: 8,
    mtime: 8,
    nid: 8,
    uid: 4,
    gid: 4,
    nlink: 4,
    mtimeNsec: 4,
    xattrIsize: 4,
    mode: 2,
    type: 1,
    layout: 1,
    inodeSize: 1,
  };
  for (const k of FIXED_COLUMNS) fixed[k] = r.take(width[k] * n, `column ${k}`);
  const inoBytes = flags & FLAG_INO ? r.take(8 * n, 'column ino') : null;
  const names = ['paths', 'fingerprints', 'sha256s'] as const;
  const u32s = (count: number, what: string): Uint32Array => {
    return typedColumn(Uint32Array, r.take(4 * count, what), count, r.owned);
  };
  const perRecord = (what: string): { ends: Uint32Array; present: Uint8Array } => ({
    ends: u32s(n, `${what} offsets`),
    present: r.take(n, `${what} presence`),
  });
  const pathOffsets = perRecord('paths');
  // Version 2: the fingerprints' index per record and the distinct values' ends, in place of
  // their per-record ends and presence bytes.
  const fpOffsets = version === 1 ? perRecord('fingerprints') : null;
  let fpIndex: Int32Array | null = null;
  let fpDistinctEnds: Uint32Array | null = null;
  if (!fpOffsets) {
    fpIndex = typedColumn(Int32Array, r.take(4 * n, 'fingerprint indices'), n, r.owned);
    fpDistinctEnds = u32s(word(8), 'fingerprints offsets');
  }
  const shaOffsets = perRecord('sha256s');
  // Version 3 reads its fingerprints and sha256s as text alone (distinctColumn, tailShaColumn), and
  // its paths unless they are interned from their bytes (stringColumn's internAtAscii): those
  // blobs are decoded as they are read, never whole in memory. Others keep their bytes.
  const pathsAsText = !strings || strings.canAdopt?.(0) === true || strings.internAtAscii === undefined;
  const asText = version >= 3 ? [pathsAsText, true, true] : [false, false, false];
  const blobs = blobLens.map((len, k) => (asText[k] ? r.takeText(len, names[k]!) : r.take(len, names[k]!)));
  if (r.at !== r.length) throw new ManifestColumnsCodecError(`${r.length - r.at} bytes after the last blob`);
  const column = <T extends TypedColumn>(make: TypedColumnOf<T>, stored: Uint8Array): T =>
    typedColumn(make, stored, n, r.owned);
  const type = column(Uint8Array, fixed.type);
  const layout = column(Uint8Array, fixed.layout);
  const inodeSize = column(Uint8Array, fixed.inodeSize);
  const mode = column(Uint16Array, fixed.mode);
  for (let i = 0; i < n; i++) {
    if (type[i]! >= FILE_TYPE_CODES.length)
      throw new ManifestColumnsCodecError(`record ${i}: type code ${type[i]}`);
    if (layout[i]! >= LAYOUT_CODES.length)
      throw new ManifestColumnsCodecError(`record ${i}: layout code ${layout[i]}`);
    // What the record validator allows (docs/manifest.md): four octal digits, 32- or 64-byte inodes.
    if (mode[i]! > 0o7777) throw new ManifestColumnsCodecError(`record ${i}: mode ${mode[i]}`);
    if (inodeSize[i] !== 32 && inodeSize[i] !== 64)
      throw new ManifestColumnsCodecError(`record ${i}: inode size ${inodeSize[i]}`);
  }
  const nid = column(Float64Array, fixed.nid);
  let ino = inoBytes ? column(Float64Array, inoBytes) : null;
  // push() makes the ino column for the first record with an ino: none, no column.
  if (ino?.every(Number.isNaN)) ino = null;
  const bigNids = new Map<number, string>();
  const targets = new Map<number, string>();
  const rdevs = new Map<number, [number, number]>();
  const xattrLists = new Map<number, Record<string, string>>();
  for (const e of extras as Extra[]) {
    if (!Array.isArray(e) || e.length !== 5 || !Number.isInteger(e[0]) || e[0] < 0 || e[0] >= n)
      throw new ManifestColumnsCodecError('a sparse field names no record');
    const [i, bigNid, target, rdev, xattrs] = e;
    if (bigNid !== null) {
      if (typeof bigNid !== 'string' || !Number.isNaN(nid[i]))
        throw new ManifestColumnsCodecError(`record ${i}: a decimal nid beside a number`);
      bigNids.set(i, bigNid);
    }
    if (target !== null) {
      if (typeof target !== 'string')
        throw new ManifestColumnsCodecError(`record ${i}: a target not a string`);
      targets.set(i, target);
    }
    if (rdev !== null) {
      if (!Array.isArray(rdev) || rdev.length !== 2 || !rdev.every(Number.isInteger))
        throw new ManifestColumnsCodecError(`record ${i}: a device not [major, minor]`);
      rdevs.set(i, rdev);
    }
    if (xattrs !== null) {
      if (
        typeof xattrs !== 'object' ||
        Array.isArray(xattrs) ||
        !Object.values(xattrs).every((v) => typeof v === 'string')
      )
        throw new ManifestColumnsCodecError(`record ${i}: xattrs not a map of strings`);
      xattrLists.set(i, xattrs);
    }
  }
  for (let i = 0; i < n; i++)
    if (Number.isNaN(nid[i]) && !bigNids.has(i))
      throw new ManifestColumnsCodecError(`record ${i} has no nid`);
  const paths = stringColumn(pathOffsets.ends, pathOffsets.present, blobs[0]!, 'paths', strings, 0);
  const distinct =
    fpIndex && fpDistinctEnds ? distinctColumn(fpDistinctEnds, fpIndex, blobs[1]!, strings) : null;
  const fingerprint = distinct
    ? distinct.out
    : stringColumn(fpOffsets!.ends, fpOffsets!.present, blobs[1]!, 'fingerprints', strings, 1);
  // Version 3: the sha256s that are their fingerprint's tail are flagged as such.
  const tailShas =
    version >= 3
      ? tailShaColumn(shaOffsets.ends, shaOffsets.present, blobs[2]!, fpIndex!, distinct!.values, strings)
      : null;
  // Version 2: the sha256s as stringColumn gives them when it adopts them or has no interner (a
  // lone manifest's, or any read by the server, which interns fingerprints alone), from the
  // fingerprints where they are their tails.
  const shaFromFps =
    !tailShas && distinct?.ascii && fpIndex && fpDistinctEnds && (!strings || strings.canAdopt?.(2) === true)
      ? shaColumnFromFingerprints(
          shaOffsets.ends,
          shaOffsets.present,
          blobs[2] as Uint8Array, // version 2: read as bytes (asText)
          fpIndex,
          fpDistinctEnds,
          blobs[1] as Uint8Array,
          distinct.values,
        )
      : null;
  if (shaFromFps && strings) strings.adoptColumn!(2, shaFromFps);
  // Versions 1 and 2 (null for an absent value, undefined once in the columns).
  const shas = tailShas
    ? null
    : (shaFromFps ?? stringColumn(shaOffsets.ends, shaOffsets.present, blobs[2]!, 'sha256s', strings, 2));
  const fingerprintIndex = distinct?.tableIndex;
  const noPath = paths.indexOf(null);
  if (noPath >= 0) throw new ManifestColumnsCodecError(`record ${noPath} has no path`);
  // As push() keeps them: no sha256 column unless a record has one (or the manifest is hashed).
  const anySha =
    (flags & FLAG_SHA256) !== 0 ||
    (tailShas ? tailShas.some((v) => v !== undefined) : shas!.some((v) => v !== null));
  const cols = ManifestColumns.fromColumns({
    n,
    type,
    layout,
    inodeSize,
    mode,
    uid: column(Uint32Array, fixed.uid),
    gid: column(Uint32Array, fixed.gid),
    nlink: column(Uint32Array, fixed.nlink),
    mtimeNsec: column(Uint32Array, fixed.mtimeNsec),
    xattrIsize: column(Uint32Array, fixed.xattrIsize),
    size: column(Float64Array, fixed.size),
    mtime: column(Float64Array, fixed.mtime),
    nid,
    ino,
    paths: paths as string[],
    fingerprint,
    sha256: anySha ? (tailShas ?? shas!.map((v) => v ?? undefined)) : null,
    bigNids,
    targets,
    rdevs,
    xattrLists,
  });
  return fingerprintIndex ? { header, cols, fingerprintIndex } : { header, cols };
}

/** Where ManifestColumnsStreamEncoder appends one section of the form (the caller's storage: a temp file, memory). */
export interface ColumnsSectionSink {
  write(bytes: Uint8Array): void;
}

/** Bytes a section gathers before handing them to its sink. */
const SECTION_CHUNK_BYTES = 256 * 1024;

/** A section's chunk before its first value and after each flush: nothing allocated. */
const NO_CHUNK = new Uint8Array(0);
const NO_VIEW = new DataView(NO_CHUNK.buffer);

/**
 * One section of the form, gathered in chunks: values are written as little-endian bytes. A
 * chunk is allocated at the first value written after creation or a flush, not before: an
 * encoder has 22 sections, and one of a one-record manifest allocated 5.5 MiB for them (twice,
 * its flush allocating them again), ~6 ms.
 */
class Section {
  private chunk = NO_CHUNK;
  private view = NO_VIEW;
  private at = 0;
  bytes = 0;
  constructor(readonly sink: ColumnsSectionSink) {}
  private room(k: number): void {
    if (this.at + k > this.chunk.length) {
      this.flush();
      this.chunk = new Uint8Array(SECTION_CHUNK_BYTES);
      this.view = new DataView(this.chunk.buffer);
    }
  }
  flush(): void {
    if (this.at === 0) return;
    this.sink.write(this.chunk.subarray(0, this.at));
    this.chunk = NO_CHUNK;
    this.view = NO_VIEW;
    this.at = 0;
  }
  u8(v: number): void {
    this.room(1);
    this.chunk[this.at++] = v;
    this.bytes++;
  }
  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.at, v, true);
    this.at += 2;
    this.bytes += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.at, v, true);
    this.at += 4;
    this.bytes += 4;
  }
  i32(v: number): void {
    this.room(4);
    this.view.setInt32(this.at, v, true);
    this.at += 4;
    this.bytes += 4;
  }
  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.at, v, true);
    this.at += 8;
    this.bytes += 8;
  }
  utf8(s: string): void {
    // At most 3 bytes per UTF-16 unit; a longer string goes to the sink whole.
    if (3 * s.length > SECTION_CHUNK_BYTES) {
      this.flush();
      const b = textEncoder.encode(s);
      this.sink.write(b);
      this.bytes += b.length;
      return;
    }
    this.room(3 * s.length);
    const { written } = textEncoder.encodeInto(s, this.chunk.subarray(this.at));
    this.at += written;
    this.bytes += written;
  }
}

/** A string column being written: its blob, each record's end offset (UTF-16 units) and presence. */
interface StringSection {
  blob: Section;
  ends: Section;
  present: Section;
  units: number;
}

/** The fingerprints being written deduplicated: distinct values' blob and ends, each record's index. */
interface DistinctSection {
  blob: Section;
  ends: Section;
  index: Section;
  seen: DistinctValues;
}

/**
 * encodeManifestColumns record by record, for a manifest that is never whole in memory (an
 * upload, validated and stored as it streams: docs/server.md#stored-columnar-manifests). Each
 * section of the form (a typed column, a string blob, its offsets) goes to its own sink as it
 * fills, in chunks of SECTION_CHUNK_BYTES; memory holds those chunks and the sparse fields.
 * `finish` gives the bytes that go before the sections and the sections in their order: the
 * form is those bytes, then each section's sink's bytes. The result is the very bytes
 * encodeManifestColumns makes of the same manifest, or null where it makes none (a lone
 * surrogate, a string blob past MAX_COLUMNS_STRING_UNITS).
 */
export class ManifestColumnsStreamEncoder {
  private n = 0;
  private readonly fixed: Record<FixedColumn, Section>;
  private ino: Section | null = null;
  /** Paths and sha256s. */
  private readonly strings: StringSection[];
  private readonly fingerprints: DistinctSection;
  private readonly extras: Extra[] = [];
  private anySha = false;
  /** Why the form cannot be made, once it cannot (then records are only counted). */
  refused: string | null = null;

  /** `sink(name)`: a new sink for the section `name` (called once per section). */
  constructor(private readonly sink: (name: string) => ColumnsSectionSink) {
    if (!isLittleEndian) this.refused = 'a big-endian host';
    this.fixed = Object.fromEntries(FIXED_COLUMNS.map((k) => [k, new Section(sink(k))])) as Record<
      FixedColumn,
      Section
    >;
    this.strings = ['paths', 'sha256s'].map((what) => ({
      blob: new Section(sink(what)),
      ends: new Section(sink(`${what} offsets`)),
      present: new Section(sink(`${what} presence`)),
      units: 0,
    }));
    this.fingerprints = {
      blob: new Section(sink('fingerprints')),
      ends: new Section(sink('fingerprints offsets')),
      index: new Section(sink('fingerprint indices')),
      seen: new DistinctValues(),
    };
  }

  /** Appends one validated record (as ManifestColumns.pushRecord takes it). */
  push(f: FileRecord): void {
    if (this.refused !== null) return;
    const i = this.n++;
    const c = this.fixed;
    c.size.f64(f.size);
    c.mtime.f64(f.mtime);
    c.nid.f64(typeof f.nid === 'number' ? f.nid : NaN);
    c.uid.u32(f.uid);
    c.gid.u32(f.gid);
    c.nlink.u32(f.nlink);
    c.mtimeNsec.u32(f.mtime_nsec);
    c.xattrIsize.u32(f.xattr_isize);
    c.mode.u16(parseInt(f.mode, 8));
    c.type.u8(FILE_TYPE_CODES.indexOf(f.type));
    c.layout.u8(LAYOUT_CODES.indexOf(f.layout));
    c.inodeSize.u8(f.inode_size);
    if (f.ino !== undefined && this.ino === null) {
      // The column starts with the first record that has an ino (push() does the same).
      this.ino = new Section(this.sink('ino'));
      for (let k = 0; k < i; k++) this.ino.f64(NaN);
    }
    this.ino?.f64(f.ino ?? NaN);
    if (f.sha256 !== undefined) this.anySha = true;
    const [paths, shas] = this.strings as [StringSection, StringSection];
    if (!this.pushString(paths, f.path)) return;
    if (f.sha256 !== undefined && isFingerprintTail(f.sha256, f.fingerprint)) {
      // Version 3: given back from the fingerprint, nothing in the blob.
      shas.present.u8(SHA256_FINGERPRINT_TAIL);
      shas.ends.u32(shas.units);
    } else if (!this.pushString(shas, f.sha256)) return;
    const fp = f.fingerprint;
    const fps = this.fingerprints;
    if (fp === null) fps.index.i32(NO_FINGERPRINT);
    else {
      // The blob's limit counts the distinct values alone (as distinctStrings does).
      if (!this.acceptable(fp, 0)) return;
      const { index, added } = fps.seen.indexOf(fp);
      if (added && !this.acceptable(fp, fps.seen.units)) return;
      fps.index.i32(index);
      if (added) {
        fps.blob.utf8(fp);
        fps.ends.u32(fps.seen.units);
      }
    }
    const bigNid = typeof f.nid === 'string' ? f.nid : null;
    const xattrs = isEmptyObject(f.xattrs) ? null : f.xattrs;
    if (bigNid !== null || f.target !== undefined || f.rdev !== undefined || xattrs !== null)
      this.extras.push([i, bigNid, f.target ?? null, f.rdev ?? null, xattrs]);
  }

  /** Appends a value (or its absence) to a string column; false when refused (`refused` says why). */
  private pushString(col: StringSection, s: string | null | undefined): boolean {
    if (s !== null && s !== undefined) {
      if (!this.acceptable(s, col.units + s.length)) return false;
      col.units += s.length;
      col.blob.utf8(s);
      col.present.u8(STORED);
    } else col.present.u8(ABSENT);
    col.ends.u32(col.units);
    return true;
  }

  /** Whether a string can go in a blob of `units` units with it; else sets `refused`. */
  private acceptable(s: string, units: number): boolean {
    if (!(s as WellFormedCheck).isWellFormed()) this.refused = 'a string with a lone surrogate';
    else if (units > MAX_COLUMNS_STRING_UNITS)
      this.refused = `a string blob past ${MAX_COLUMNS_STRING_UNITS} UTF-16 units`;
    return this.refused === null;
  }

  /**
   * The bytes before the sections and the sections' names in their order (every section is
   * flushed to its sink first), or null when the form cannot be made (`refused` says why).
   * `header.file_count` must be the records pushed.
   */
  finish(header: ManifestHeader): { head: Uint8Array; sections: string[] } | null {
    if (this.refused === null && header.file_count !== this.n)
      this.refused = `the header's file_count is not the ${this.n} records pushed`;
    if (this.refused !== null) return null;
    const flags = (this.anySha ? FLAG_SHA256 : 0) | (this.ino ? FLAG_INO : 0);
    const [paths, shas] = this.strings as [StringSection, StringSection];
    const fps = this.fingerprints;
    const head = headBytes(
      header,
      this.extras,
      flags,
      this.n,
      [paths.blob.bytes, fps.blob.bytes, shas.blob.bytes],
      fps.seen.count,
    );
    const sections: string[] = [...FIXED_COLUMNS];
    if (this.ino) sections.push('ino');
    sections.push('paths offsets', 'paths presence', 'fingerprint indices', 'fingerprints offsets');
    sections.push('sha256s offsets', 'sha256s presence', 'paths', 'fingerprints', 'sha256s');
    for (const s of Object.values(this.fixed)) s.flush();
    this.ino?.flush();
    for (const s of this.strings) {
      s.blob.flush();
      s.ends.flush();
      s.present.flush();
    }
    for (const s of [fps.blob, fps.ends, fps.index]) s.flush();
    return { head, sections };
  }
}

function isEmptyObject(o: object): boolean {
  for (const _ in o) return false;
  return true;
}
