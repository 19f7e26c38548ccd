/**
 * A manifest record (docs/manifest.md) written as JSON bytes straight from a scan's fields
 * (RecordFields), without building the record object or any string: exactly the bytes of
 * `JSON.stringify(recordOf(fields))` in UTF-8. A streamed scan of a million paths spent more
 * time building and stringifying one object per path than reading the image
 * (docs/benchmarks.md#scale-scan-and-scale-verify-a-million-inodes).
 *
 * Fast paths cover what images hold almost always (ASCII paths without characters JSON
 * escapes, non-negative integers, hex); everything else goes through JSON.stringify of the
 * one value, so the output never depends on re-implementing its rules for rare inputs.
 */
import type { RecordFields } from './manifest-scan.js';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/**
 * A constant run of bytes (a key, a fragment) with its first whole 4-byte words as
 * little-endian integers: put() stores a word at a time through a DataView, a quarter of the
 * stores (and bounds checks) of a byte loop; on 300,000 records of a 1M-inode image the
 * record took ~30 % less CPU (docs/benchmarks.md#scan-encode-the-metadata-scans-ndjson-output-2026-12-06).
 */
interface Piece {
  bytes: Uint8Array;
  words: Uint32Array;
}

function piece(bytes: Uint8Array): Piece {
  const words = new Uint32Array(bytes.length >> 2);
  for (let i = 0; i < words.length; i++)
    words[i] =
      (bytes[4 * i]! | (bytes[4 * i + 1]! << 8) | (bytes[4 * i + 2]! << 16) | (bytes[4 * i + 3]! << 24)) >>>
      0;
  return { bytes, words };
}

const constant = (s: string): Piece => piece(ascii(s));

/** The fixed parts of a record, as bytes. */
const KEY = {
  path: constant('{"path":'),
  nid: constant(',"nid":'),
  ino: constant(',"ino":'),
  uid: constant('","uid":'), // closes the mode string
  gid: constant(',"gid":'),
  size: constant(',"size":'),
  nlink: constant(',"nlink":'),
  mtime: constant(',"mtime":'),
  mtimeNsec: constant(',"mtime_nsec":'),
  xattrIsize: constant(',"xattr_isize":'),
  target: constant(',"target":'),
  rdev: constant(',"rdev":['),
  xattrs: constant(',"xattrs":'),
  noXattrsFingerprint: constant(',"xattrs":{},"fingerprint":'),
  fingerprint: constant(',"fingerprint":'),
  null: constant('null'),
  sha256: constant(',"sha256":'),
};

/** The bytes of `before + JSON.stringify(value) + after`, per value every record repeats (types, layouts). */
function fragments(before: string, after: string): (value: string) => Piece {
  const cache = new Map<string, Piece>();
  return (value) => {
    let q = cache.get(value);
    if (!q) cache.set(value, (q = piece(utf8.encode(before + JSON.stringify(value) + after))));
    return q;
  };
}
const typeAndMode = fragments(',"type":', ',"mode":"');
const layoutAndInodeSize = fragments(',"layout":', ',"inode_size":');

/** The two ASCII hex digits of each byte value as one little-endian 16-bit value. */
const HEX_PAIRS = Uint16Array.from({ length: 256 }, (_, i) => {
  const h = i.toString(16).padStart(2, '0');
  return h.charCodeAt(0) | (h.charCodeAt(1) << 8);
});

const utf8 = new TextEncoder();

/**
 * A DataView of `out`, kept for the last output buffer seen: a writer encodes thousands of
 * records into one buffer, so this makes one view per buffer, not per record.
 */
let lastOut: Uint8Array | null = null;
let lastView: DataView = new DataView(new ArrayBuffer(0));
function viewOf(out: Uint8Array): DataView {
  if (out !== lastOut) {
    lastOut = out;
    lastView = new DataView(out.buffer, out.byteOffset, out.byteLength);
  }
  return lastView;
}

function put(out: Uint8Array, pos: number, k: Piece): number {
  const v = viewOf(out);
  const words = k.words;
  const nw = words.length;
  for (let i = 0; i < nw; i++) v.setUint32(pos + 4 * i, words[i]!, true);
  const bytes = k.bytes;
  const n = bytes.length;
  for (let i = 4 * nw; i < n; i++) out[pos + i] = bytes[i]!;
  return pos + n;
}

/** Anything JSON.stringify writes, as UTF-8 (the rare paths: escapes, non-ASCII, odd numbers). */
function putJson(out: Uint8Array, pos: number, v: unknown): number {
  const { read, written } = utf8.encodeInto(JSON.stringify(v), out.subarray(pos));
  void read;
  return pos + written;
}

/**
 * A key's bytes, then a number: one call per numeric field (encodeRecord is past V8's inlining
 * budget, so each helper call is a real call), and a one-digit value (most ids and times) written here.
 */
function putKeyNumber(out: Uint8Array, pos: number, key: Piece, n: number): number {
  pos = put(out, pos, key);
  if (n >>> 0 === n && n < 10) {
    out[pos] = 0x30 + n;
    return pos + 1;
  }
  return putNumber(out, pos, n);
}

/** "00" to "99": two ASCII digits per value below 100, so a number takes one division per two digits. */
const DIGIT_PAIRS = ascii(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''));

/** A number as JSON.stringify writes it: the digits of a safe non-negative integer, else its text. */
function putNumber(out: Uint8Array, pos: number, n: number): number {
  // Almost every field (ids, sizes below 4 GiB, times, nids) is a 32-bit unsigned integer:
  // digits by integer arithmetic. (-0 >>> 0 is 0 too, and JSON.stringify(-0) is "0".)
  if (n >>> 0 === n) return putUint32(out, pos, n);
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n)) return putJson(out, pos, n);
  let digits = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
  let i = pos + digits;
  for (let t = n; i > pos; t = Math.floor(t / 10)) out[--i] = 0x30 + (t % 10);
  return pos + digits;
}

/** The decimal digits of `n`, an integer from 0 to 2^32 - 1. */
function putUint32(out: Uint8Array, pos: number, n: number): number {
  if (n < 10) {
    out[pos] = 0x30 + n;
    return pos + 1;
  }
  const digits =
    n < 100
      ? 2
      : n < 1000
        ? 3
        : n < 10000
          ? 4
          : n < 100000
            ? 5
            : n < 1000000
              ? 6
              : n < 10000000
                ? 7
                : n < 100000000
                  ? 8
                  : n < 1000000000
                    ? 9
                    : 10;
  let i = pos + digits;
  let t = n;
  while (t >= 100) {
    const q = (t / 100) >>> 0;
    const j = 2 * (t - 100 * q);
    out[--i] = DIGIT_PAIRS[j + 1]!;
    out[--i] = DIGIT_PAIRS[j]!;
    t = q;
  }
  if (t >= 10) {
    out[--i] = DIGIT_PAIRS[2 * t + 1]!;
    out[--i] = DIGIT_PAIRS[2 * t]!;
  } else out[--i] = 0x30 + t;
  return pos + digits;
}

/**
 * A string from its UTF-8 bytes b[start, start + n) when they are plain ASCII that JSON
 * writes as is (no control characters, quote or backslash): the common path name. Returns -1
 * for anything else.
 */
function putPlainAscii(out: Uint8Array, pos: number, b: Uint8Array, start: number, n: number): number {
  out[pos] = 0x22;
  const at = pos + 1;
  for (let i = 0; i < n; i++) {
    const c = b[start + i]!;
    if (c < 0x20 || c >= 0x80 || c === 0x22 || c === 0x5c) return -1;
    out[at + i] = c;
  }
  out[at + n] = 0x22;
  return at + n + 1;
}

/** A JS string as a JSON string: copied when plain ASCII, else JSON.stringify's text. */
function putString(out: Uint8Array, pos: number, s: string): number {
  const start = pos;
  out[pos++] = 0x22;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x80 || c === 0x22 || c === 0x5c) return putJson(out, start, s);
    out[pos++] = c;
  }
  out[pos++] = 0x22;
  return pos;
}

function putHex(out: Uint8Array, pos: number, b: Uint8Array): number {
  const v = viewOf(out);
  const n = b.length;
  out[pos] = 0x22;
  let o = pos + 1;
  let i = 0;
  // Two bytes at a time: their four hex digits in one 32-bit store.
  for (; i + 1 < n; i += 2) {
    v.setUint32(o, HEX_PAIRS[b[i]!]! | (HEX_PAIRS[b[i + 1]!]! << 16), true);
    o += 4;
  }
  if (i < n) {
    const t = HEX_PAIRS[b[i]!]!;
    out[o] = t & 0xff;
    out[o + 1] = t >> 8;
    o += 2;
  }
  out[o] = 0x22;
  return o + 1;
}

/** Upper bound of a JSON string's UTF-8 bytes: 6 per UTF-16 unit (`\u001f`), plus quotes. */
const stringBound = (s: string): number => 6 * s.length + 2;

/** The bytes encodeRecord may write for `f` at most (the caller makes room for them first). */
export function recordBound(f: RecordFields): number {
  // Fixed keys and punctuation take under 250 bytes; each number at most 24 (JSON.stringify of a
  // double), 12 numbers at most: 800 leaves room to spare.
  let n = 800;
  // The path is written from its bytes (<= 6 each) or from its string (a byte decodes to at
  // most one UTF-16 unit, written in <= 6 bytes).
  n += 6 * f.pathLength + 2;
  if (typeof f.nid === 'string') n += stringBound(f.nid);
  if (f.target !== undefined) n += stringBound(f.target);
  if (f.xattrs !== null) for (const k in f.xattrs) n += stringBound(k) + stringBound(f.xattrs[k]!) + 2;
  if (f.fingerprint !== null) n += 2 * f.fingerprint.length + 2;
  if (f.sha256 !== undefined) n += stringBound(f.sha256);
  return n;
}

/**
 * Write the record of `f` as JSON (no newline) into `out` at `pos`, which has room for
 * recordBound(f) bytes; returns the position after it. The bytes equal
 * `JSON.stringify(recordOf(f))` encoded as UTF-8 (test/manifest-encode.test.ts).
 */
export function encodeRecord(f: RecordFields, out: Uint8Array, pos: number): number {
  const ino = f.inode;
  pos = put(out, pos, KEY.path);
  // Path bytes are written as they are only when they are what the path string encodes to:
  // ASCII. Other names were decoded with U+FFFD for invalid UTF-8 (and a leading BOM dropped):
  // the string is the truth there.
  const p = putPlainAscii(out, pos, f.pathBuf, f.pathStart, f.pathLength);
  pos = p >= 0 ? p : putJson(out, pos, f.path);
  pos = put(out, pos, KEY.nid);
  pos = typeof f.nid === 'number' ? putNumber(out, pos, f.nid) : putString(out, pos, f.nid);
  if (f.ino !== undefined) {
    pos = put(out, pos, KEY.ino);
    pos = putNumber(out, pos, f.ino);
  }
  pos = put(out, pos, typeAndMode(ino.type));
  // (mode & 0o7777).toString(8).padStart(4, '0'): always 4 octal digits.
  const mode = ino.mode & 0o7777;
  out[pos++] = 0x30 + ((mode >> 9) & 7);
  out[pos++] = 0x30 + ((mode >> 6) & 7);
  out[pos++] = 0x30 + ((mode >> 3) & 7);
  out[pos++] = 0x30 + (mode & 7);
  pos = putKeyNumber(out, pos, KEY.uid, ino.uid);
  pos = putKeyNumber(out, pos, KEY.gid, ino.gid);
  pos = putKeyNumber(out, pos, KEY.size, ino.size);
  pos = putKeyNumber(out, pos, KEY.nlink, ino.nlink);
  pos = putKeyNumber(out, pos, KEY.mtime, ino.mtime);
  pos = putKeyNumber(out, pos, KEY.mtimeNsec, ino.mtimeNsec);
  pos = putKeyNumber(out, pos, layoutAndInodeSize(ino.layoutName), ino.inodeSize);
  pos = putKeyNumber(out, pos, KEY.xattrIsize, ino.xattrIsize);
  if (f.target !== undefined) {
    pos = put(out, pos, KEY.target);
    pos = putString(out, pos, f.target);
  }
  if (ino.rdev) {
    pos = put(out, pos, KEY.rdev);
    pos = putNumber(out, pos, ino.rdev[0]);
    out[pos++] = 0x2c;
    pos = putNumber(out, pos, ino.rdev[1]);
    out[pos++] = 0x5d;
  }
  if (f.xattrs === null) pos = put(out, pos, KEY.noXattrsFingerprint);
  else {
    pos = put(out, pos, KEY.xattrs);
    // Own enumerable keys in insertion order, as JSON.stringify walks them (xattr names are
    // never array indices: every listed name starts with a prefix such as "user.").
    let sep = 0x7b; // "{"
    for (const k in f.xattrs) {
      out[pos++] = sep;
      sep = 0x2c;
      pos = putString(out, pos, k);
      out[pos++] = 0x3a;
      pos = putString(out, pos, f.xattrs[k]!);
    }
    if (sep === 0x7b) out[pos++] = 0x7b;
    out[pos++] = 0x7d;
    pos = put(out, pos, KEY.fingerprint);
  }
  pos = f.fingerprint === null ? put(out, pos, KEY.null) : putHex(out, pos, f.fingerprint);
  if (f.sha256 !== undefined) {
    pos = put(out, pos, KEY.sha256);
    pos = putString(out, pos, f.sha256);
  }
  out[pos++] = 0x7d;
  return pos;
}
