/**
 * The fast path of the NDJSON reader: a record line exactly as sharemap writes it
 * (`manifestToNdjson()`: JSON.stringify of a record, fields in the documented order,
 * docs/manifest.md#records), read straight from its UTF-8 bytes in one pass, without
 * decoding the line to a string, without JSON.parse and without an intermediate object.
 *
 * It accepts only what it can prove the general parser (manifest-parse.ts, validateRecordInto)
 * accepts with the same values: ASCII strings without escapes, integers of at most 15 digits
 * (exact doubles, below 2^53) without sign tricks (-0), fraction or exponent, the keys in the
 * canonical order each once, no `ino`/`target`/`rdev` and no listed xattrs, no whitespace. Any
 * other line, valid or not, is left to the general parser (`false`), so every value and every
 * error (message, line, field) stays exactly what it was
 * (docs/manifest.md#columnar-in-memory-form; test/manifest-fast-line.test.ts compares the two).
 */
import {
  FILE_TYPE_CODES,
  internMode,
  LAYOUT_CODES,
  NO_XATTRS,
  setCheckedNumbers,
  type ValidatedRecord,
} from './manifest-columns.js';
import { hashStep, STRING_HASH_SEED, type StringTable } from './manifest-strings.js';
import type { DataLayout, FileType } from './manifest-types.js';

/** What the fast path needs from the header (the general parser's RecordContext). */
export interface FastLineContext {
  /** Records of regular files carry `sha256`. */
  hashed: boolean;
}

/** The interning the reader was given: StringTable.internAtAscii. */
export type AsciiInterner = Pick<StringTable, 'internAtAscii'>;

/**
 * Where the strings of the line fastRecordLine last accepted are in its bytes: the path
 * [pathStart, pathEnd), the fingerprint [fpStart, fpEnd) (fpStart -1: null), the sha256
 * [shaStart, shaStart + 64) (-1: none). All ASCII. What a reader that hands the bytes on
 * instead of making strings reads (`makeStrings` false: NdjsonManifestParser's handOver).
 */
export const fastLineSpans = { pathStart: 0, pathEnd: 0, fpStart: -1, fpEnd: -1, shaStart: -1 };

const enc = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const K_PATH = enc('{"path":"');
const K_NID = enc('","nid":');
const K_TYPE = enc(',"type":"');
const K_MODE = enc('","mode":"');
const K_UID = enc('","uid":');
const K_GID = enc(',"gid":');
const K_SIZE = enc(',"size":');
const K_NLINK = enc(',"nlink":');
const K_MTIME = enc(',"mtime":');
const K_NSEC = enc(',"mtime_nsec":');
const K_LAYOUT = enc(',"layout":"');
const K_ISIZE = enc('","inode_size":');
const K_XISIZE = enc(',"xattr_isize":');
const K_XATTRS_FP = enc(',"xattrs":{},"fingerprint":');
const K_NULL = enc('null');
const K_SHA = enc(',"sha256":"');

const TYPE_BYTES = FILE_TYPE_CODES.map(enc);
const LAYOUT_BYTES = LAYOUT_CODES.map(enc);

/**
 * The literals this module compares, in the order wasm/ndjson-line.wat numbers them (the keys,
 * then the file types, then the layouts): the WebAssembly line scan is given these very bytes
 * (manifest-line-wasm.ts), so the two compare with one set of literals.
 */
export const FAST_LINE_LITERALS: readonly Uint8Array[] = [
  K_PATH,
  K_NID,
  K_TYPE,
  K_MODE,
  K_UID,
  K_GID,
  K_SIZE,
  K_NLINK,
  K_MTIME,
  K_NSEC,
  K_LAYOUT,
  K_ISIZE,
  K_XISIZE,
  K_XATTRS_FP,
  K_NULL,
  K_SHA,
  ...TYPE_BYTES,
  ...LAYOUT_BYTES,
];

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const DOT = 0x2e;
const U32 = 0xffffffff;
/** Digits read at most: 15 decimal digits are below 2^53, so the double is exact. */
const MAX_DIGITS = 15;
/** Longest path (validManifestPath) and component, in bytes (ASCII: bytes = characters = UTF-8 bytes). */
const MAX_PATH = 4096;
const MAX_COMPONENT = 255;
/** Longest fingerprint hex (the general parser's 2 * 65536). */
const MAX_FINGERPRINT_HEX = 2 * 65536;

/** The mode strings by permission bits (interned, as the general parser's internMode gives them). */
const modeText: (string | undefined)[] = new Array(0o10000);

/** Position after `lit` when the bytes at `pos` are `lit`, else -1. */
function lit(b: Uint8Array, pos: number, end: number, l: Uint8Array): number {
  if (pos + l.length > end) return -1;
  for (let i = 0; i < l.length; i++) if (b[pos + i] !== l[i]) return -1;
  return pos + l.length;
}

// An integer's value and end are returned through these (no object per number).
let numValue = 0;
/** Reads a canonical JSON integer at pos (an optional '-' only when `signed`); its end, or -1. */
function int(b: Uint8Array, pos: number, end: number, signed: boolean): number {
  let neg = false;
  if (signed && b[pos] === 0x2d) {
    neg = true;
    pos++;
  }
  const first = pos;
  let v = 0;
  while (pos < end) {
    const d = b[pos]! - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    pos++;
  }
  const n = pos - first;
  if (n === 0 || n > MAX_DIGITS) return -1;
  // "01" is not JSON; "-0" parses to -0, which the fast path leaves to the general parser.
  if (b[first] === 0x30 && (n > 1 || neg)) return -1;
  // a fraction or an exponent follows: not an integer literal the fast path takes
  const next = b[pos];
  if (next === DOT || next === 0x65 || next === 0x45) return -1;
  numValue = neg ? -v : v;
  return pos;
}

/** The index of the quoted enumeration value at pos (its bytes up to the closing quote) in `list`, or -1. */
let enumEnd = 0;
/** The hashString() state of the string pathEnd() or hexEnd() last scanned (manifest-strings.ts). */
let scannedHash = 0;
function enumIndex(b: Uint8Array, pos: number, end: number, list: readonly Uint8Array[]): number {
  const close = b.indexOf(QUOTE, pos);
  if (close < 0 || close >= end) return -1;
  const n = close - pos;
  outer: for (let k = 0; k < list.length; k++) {
    const l = list[k]!;
    if (l.length !== n) continue;
    for (let i = 0; i < n; i++) if (b[pos + i] !== l[i]) continue outer;
    enumEnd = close;
    return k;
  }
  return -1;
}

/**
 * End (the closing quote) of a path string at pos whose bytes are printable ASCII without `"`
 * or `\` and which validManifestPath accepts (absolute, no empty, "." or ".." component,
 * components <= 255 bytes, <= 4096 characters), else -1.
 */
function pathEnd(b: Uint8Array, pos: number, end: number): number {
  if (b[pos] !== SLASH) return -1;
  let h = hashStep(STRING_HASH_SEED, SLASH);
  let start = pos + 1;
  let i = pos + 1;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === QUOTE) break;
    h = hashStep(h, c);
    if (c < 0x20 || c > 0x7e || c === BACKSLASH) return -1;
    if (c !== SLASH) continue;
    if (!componentOk(b, start, i)) return -1;
    start = i + 1;
  }
  if (i >= end || i - pos > MAX_PATH) return -1;
  // "/" alone is the root; otherwise the last component must be valid too (no trailing "/")
  if (i - pos > 1 && !componentOk(b, start, i)) return -1;
  scannedHash = h;
  return i;
}

function componentOk(b: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  if (n === 0 || n > MAX_COMPONENT) return false;
  return !(n <= 2 && b[start] === DOT && (n === 1 || b[start + 1] === DOT));
}

/** End (the closing quote) of lower-case hex of even length <= max at pos, else -1. */
function hexEnd(b: Uint8Array, pos: number, end: number, max: number): number {
  let h = STRING_HASH_SEED;
  let i = pos;
  for (; i < end; i++) {
    const c = b[i]!;
    if ((c < 0x30 || c > 0x39) && (c < 0x61 || c > 0x66)) break;
    h = hashStep(h, c);
  }
  if (i >= end || b[i] !== QUOTE || (i - pos) % 2 !== 0 || i - pos > max) return -1;
  scannedHash = h;
  return i;
}

/**
 * Reads the record line bytes[start, end) (without its newline) into `out` when it is a
 * canonical line the general parser would accept with the same values; returns false (and
 * interns nothing) otherwise. `index` is the record's index (the StringTable slots, as the
 * general parser uses them). `makeStrings` false: no string is made or interned; `out` gets
 * '' for the path and for a fingerprint or sha256 present (null and undefined where absent),
 * and the strings' places in `b` are in fastLineSpans.
 */
export function fastRecordLine(
  b: Uint8Array,
  start: number,
  end: number,
  ctx: FastLineContext,
  strings: AsciiInterner | undefined,
  index: number,
  out: ValidatedRecord,
  makeStrings = true,
  /** With `makeStrings`: the path is left as bytes too (out.path '', its place in fastLineSpans). */
  pathAsBytes = false,
): boolean {
  let p = lit(b, start, end, K_PATH);
  if (p < 0) return false;
  const pathStart = p;
  const pathClose = pathEnd(b, p, end);
  if (pathClose < 0) return false;
  const pathHash = scannedHash;
  if ((p = lit(b, pathClose, end, K_NID)) < 0 || (p = int(b, p, end, false)) < 0) return false;
  const nid = numValue;
  if ((p = lit(b, p, end, K_TYPE)) < 0) return false;
  const type = enumIndex(b, p, end, TYPE_BYTES);
  // symlinks carry `target`, devices `rdev`: left to the general parser
  if (type < 0 || type === 2 || type === 3 || type === 4) return false;
  if ((p = lit(b, enumEnd, end, K_MODE)) < 0 || p + 5 > end || b[p + 4] !== QUOTE) return false;
  let mode = 0;
  for (let i = 0; i < 4; i++) {
    const d = b[p + i]! - 0x30;
    if (d < 0 || d > 7) return false;
    mode = (mode << 3) | d;
  }
  p += 4;
  if ((p = lit(b, p, end, K_UID)) < 0 || (p = int(b, p, end, false)) < 0 || numValue > U32) return false;
  const uid = numValue;
  if ((p = lit(b, p, end, K_GID)) < 0 || (p = int(b, p, end, false)) < 0 || numValue > U32) return false;
  const gid = numValue;
  if ((p = lit(b, p, end, K_SIZE)) < 0 || (p = int(b, p, end, false)) < 0) return false;
  const size = numValue;
  if ((p = lit(b, p, end, K_NLINK)) < 0 || (p = int(b, p, end, false)) < 0 || numValue > U32) return false;
  const nlink = numValue;
  if ((p = lit(b, p, end, K_MTIME)) < 0 || (p = int(b, p, end, true)) < 0) return false;
  const mtime = numValue;
  if ((p = lit(b, p, end, K_NSEC)) < 0 || (p = int(b, p, end, false)) < 0 || numValue > 999_999_999)
    return false;
  const nsec = numValue;
  if ((p = lit(b, p, end, K_LAYOUT)) < 0) return false;
  const layout = enumIndex(b, p, end, LAYOUT_BYTES);
  if (layout < 0) return false;
  if ((p = lit(b, enumEnd, end, K_ISIZE)) < 0 || (p = int(b, p, end, false)) < 0) return false;
  const inodeSize = numValue;
  if (inodeSize !== 32 && inodeSize !== 64) return false;
  if ((p = lit(b, p, end, K_XISIZE)) < 0 || (p = int(b, p, end, false)) < 0) return false;
  const xattrIsize = numValue;
  // docs/format.md#xattrs: 0, or a 12-byte header plus 4-byte slots (at most 65534 of them)
  if (xattrIsize !== 0 && (xattrIsize < 12 || xattrIsize > 12 + 4 * 65534 || (xattrIsize - 12) % 4 !== 0))
    return false;
  if ((p = lit(b, p, end, K_XATTRS_FP)) < 0) return false;
  let fpStart = -1;
  let fpClose = -1;
  let fpHash = 0;
  if (b[p] === QUOTE) {
    fpStart = p + 1;
    if ((fpClose = hexEnd(b, fpStart, end, MAX_FINGERPRINT_HEX)) < 0) return false;
    fpHash = scannedHash;
    p = fpClose + 1;
  } else if ((p = lit(b, p, end, K_NULL)) < 0) return false;
  let shaStart = -1;
  let shaHash = 0;
  if (b[p] === 0x2c /* , */) {
    if ((p = lit(b, p, end, K_SHA)) < 0) return false;
    shaStart = p;
    if (hexEnd(b, p, end, 64) !== p + 64) return false;
    shaHash = scannedHash;
    p += 65;
  }
  // the general parser: sha256 exactly on the regular files of a hashed manifest
  if (shaStart >= 0 !== (ctx.hashed && type === 0)) return false;
  if (p + 1 !== end || b[p] !== 0x7d /* } */) return false;

  setFastFields(out, nid, type, mode, uid, gid, size, nlink, mtime, nsec, layout, inodeSize, xattrIsize);
  if (!makeStrings) {
    const spans = fastLineSpans;
    spans.pathStart = pathStart;
    spans.pathEnd = pathClose;
    spans.fpStart = fpStart;
    spans.fpEnd = fpClose;
    spans.shaStart = shaStart;
    out.path = '';
    out.fingerprint = fpStart < 0 ? null : '';
    out.sha256 = shaStart < 0 ? undefined : '';
    return true;
  }
  // Valid: the strings, interned in the general parser's slots.
  if (pathAsBytes) {
    fastLineSpans.pathStart = pathStart;
    fastLineSpans.pathEnd = pathClose;
    out.path = '';
  } else out.path = ascii(b, pathStart, pathClose, strings, 3 * index, pathHash);
  out.fingerprint = fpStart < 0 ? null : ascii(b, fpStart, fpClose, strings, 3 * index + 1, fpHash);
  out.sha256 = shaStart < 0 ? undefined : ascii(b, shaStart, shaStart + 64, strings, 3 * index + 2, shaHash);
  return true;
}

/**
 * Every field but the strings of a line the fast path took (fastRecordLine, or the WebAssembly
 * scan: manifest-line-wasm.ts), as the general parser sets them: `type` and `layout` are indices
 * into FILE_TYPE_CODES and LAYOUT_CODES, `mode` the permission bits.
 */
export function setFastFields(
  out: ValidatedRecord,
  nid: number,
  type: number,
  mode: number,
  uid: number,
  gid: number,
  size: number,
  nlink: number,
  mtime: number,
  nsec: number,
  layout: number,
  inodeSize: number,
  xattrIsize: number,
): void {
  out.nid = nid;
  out.ino = undefined;
  out.type = FILE_TYPE_CODES[type] as FileType;
  out.mode = modeText[mode] ??= internMode(mode.toString(8).padStart(4, '0'));
  setCheckedNumbers(out, uid, gid, size, nlink, mtime, nsec);
  out.layout = LAYOUT_CODES[layout] as DataLayout;
  out.inode_size = inodeSize as 32 | 64;
  out.xattr_isize = xattrIsize;
  out.target = undefined;
  out.rdev = undefined;
  out.xattrs = NO_XATTRS;
}

/** The ASCII bytes [start, end) as a string (interned in `slot` when a table is given; `hash`: their hashString()). */
function ascii(
  b: Uint8Array,
  start: number,
  end: number,
  strings: AsciiInterner | undefined,
  slot: number,
  hash: number,
): string {
  return strings ? strings.internAtAscii(slot, b, start, end, hash, asciiString) : asciiString(b, start, end);
}

/** A Uint8Array that is Node's Buffer: its latin1 slice makes a flat one-byte string natively. */
type MaybeNodeBuffer = Uint8Array & { latin1Slice?: (start: number, end: number) => string };
const NodeBuffer = (
  globalThis as { Buffer?: { from(b: ArrayBufferLike, off: number, len: number): MaybeNodeBuffer } }
).Buffer;
const LATIN1 = new TextDecoder('latin1');

/** `bytes` as Node's Buffer (one view, no copy) when there is one, so asciiString slices natively. */
export function asciiSliceable(bytes: Uint8Array): Uint8Array {
  if (!NodeBuffer || (bytes as MaybeNodeBuffer).latin1Slice) return bytes;
  return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** ASCII bytes as a string: every byte is its own character (latin1 and ASCII agree below 0x80). */
export function asciiString(b: Uint8Array, start: number, end: number): string {
  const slice = (b as MaybeNodeBuffer).latin1Slice;
  if (slice) return slice.call(b, start, end);
  return LATIN1.decode(b.subarray(start, end));
}
