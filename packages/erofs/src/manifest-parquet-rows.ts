/**
 * The records of one decoded row group of a Parquet manifest (manifest-parquet-columns.ts),
 * checked straight from the columns: `fast(j)` accepts a row only when every field passes the
 * record checks of the NDJSON parser (validateRecordInto in manifest-parse.ts, the rules of
 * docs/manifest.md#validation-of-untrusted-manifests) and fills the reused ValidatedRecord with
 * the values those checks would give; any other row (listed xattrs, a METABOX-only field, a value
 * out of range) is given to the record checks themselves as the object the general reader makes
 * (`value()`), so its values and its error (message, line, field) are exactly theirs.
 *
 * What depends only on a value (its string, its hash, its type code) is computed once per
 * dictionary entry: a directory's path prefix and hash once per distinct directory of the group,
 * not once per record.
 */
import {
  type ByteColumn,
  byteValue,
  type ColumnShape,
  type DecodedColumn,
  type IntColumn,
  INT_NULL,
  INT_OK,
  intValue,
} from './manifest-parquet-columns.js';
import {
  FILE_TYPE_CODES,
  internMode,
  LAYOUT_CODES,
  NO_XATTRS,
  setCheckedNumbers,
} from './manifest-columns.js';
import type { ValidatedRecord } from './manifest-columns.js';
import { asciiSliceable, asciiString } from './manifest-fast-line.js';
import { validManifestPath } from './manifest-parse.js';
import { hashStep, STRING_HASH_SEED, type StringTable } from './manifest-strings.js';

/** The manifest columns and the shape each must have for the column path (docs/manifest.md#columnar-form-parquet). */
export const PARQUET_COLUMN_SHAPES = {
  dir: 'string',
  name: 'string',
  nid: 'int64',
  ino: 'int64',
  type: 'string',
  mode: 'int32',
  uid: 'int64',
  gid: 'int64',
  size: 'int64',
  nlink: 'int64',
  mtime: 'int64',
  mtime_nsec: 'int32',
  layout: 'string',
  inode_size: 'int32',
  xattr_isize: 'int32',
  target: 'string',
  rdev_major: 'int32',
  rdev_minor: 'int32',
  xattrs: 'string',
  fingerprint: 'bytes',
  sha256: 'bytes',
} as const satisfies Record<string, ColumnShape>;

export type ParquetColumnName = keyof typeof PARQUET_COLUMN_SHAPES;
export type DecodedGroup = Record<ParquetColumnName, DecodedColumn>;
type StringColumnName = 'dir' | 'name' | 'type' | 'layout' | 'target' | 'xattrs';

/** The limits of the record checks (validateRecordInto), as the column path applies them. */
const U32 = 0xffffffff;
const MAX_PATH_CHARS = 4096;
const MAX_TARGET_CHARS = 4095;
const MAX_XATTR_ISIZE = 12 + 4 * 65534;
/** Fingerprint hex is at most 2 * 65536 characters: 65536 bytes. */
const MAX_FINGERPRINT_BYTES = 65536;
const SHA256_BYTES = 32;
const MAX_MTIME_NSEC = 999_999_999;
const SLASH = 0x2f;
const DOT = 0x2e;

/** hyparquet's string decoding (DEFAULT_PARSERS.stringFromBytes: UTF-8, BOM stripped, U+FFFD for bad bytes). */
const UTF8 = new TextDecoder();
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** Mode strings by permission bits, made once ("0755"; internMode's strings). */
const modeStrings: (string | undefined)[] = [];
function modeString(bits: number): string {
  return (modeStrings[bits] ??= internMode(bits.toString(8).padStart(4, '0')));
}

function isAscii(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i]! >= 0x80) return false;
  return true;
}

/** Per value id of a string column: its string, made once (hyparquet's decoding). */
class Strings {
  private readonly made: (string | undefined)[];
  constructor(private readonly col: ByteColumn) {
    this.made = new Array(col.count);
  }
  get(id: number): string {
    return (this.made[id] ??= UTF8.decode(byteValue(this.col, id)));
  }
}

export class GroupRows {
  private readonly dir: ByteColumn;
  private readonly name: ByteColumn;
  private readonly fp: ByteColumn;
  private readonly sha: ByteColumn;
  private readonly xattrs: ByteColumn;
  private readonly targetIds: Int32Array;
  private readonly typeIds: Int32Array;
  private readonly layoutIds: Int32Array;
  private readonly strings: Record<StringColumnName, Strings>;
  /** Per type / layout value id: its code (-1: not a valid value). */
  private readonly typeCode: Int8Array;
  private readonly layoutCode: Int8Array;
  /** Per directory id: whether its bytes are ASCII, and the FNV state of its path prefix. */
  private readonly dirAscii: Int8Array;
  private readonly dirHash: Int32Array;
  private readonly ints: Record<
    | 'nid'
    | 'ino'
    | 'mode'
    | 'uid'
    | 'gid'
    | 'size'
    | 'nlink'
    | 'mtime'
    | 'mtime_nsec'
    | 'inode_size'
    | 'xattr_isize'
    | 'rdev_major'
    | 'rdev_minor',
    IntColumn
  >;
  /**
   * The path (then hex) being made, as bytes (a Node Buffer where there is one: native latin1
   * strings). When the strings are handed over as bytes (`spans`), a row's path, fingerprint
   * hex and sha256 hex are in it one after the other, at pathEnd, fpStart/fpEnd and shaStart.
   */
  readonly buf = asciiSliceable(
    new Uint8Array(MAX_PATH_CHARS + 2 * MAX_FINGERPRINT_BYTES + 2 * SHA256_BYTES + 2),
  );
  /**
   * Set by fast() in `spans` mode: true when the row's strings are left in `buf` as ASCII bytes
   * (the record's path, fingerprint and sha256 then '' in `out`, null/undefined where absent),
   * false when they are in `out` as strings (a path that is not ASCII).
   */
  spanned = false;
  /**
   * Set by fast() in `pathBytes` mode: true when the row's path is left in `buf` [0, pathEnd) as
   * checked ASCII bytes (the record's path then ''), false when it is a string in `out` (not ASCII).
   */
  pathSpanned = false;
  /** Where fast() left the row's strings in `buf` when `spanned` (-1: no fingerprint, no sha256). */
  pathEnd = 0;
  fpStart = -1;
  fpEnd = -1;
  shaStart = -1;
  /** Where the next hex goes in `buf` (spans mode). */
  private at = 0;

  constructor(
    private readonly cols: DecodedGroup,
    private readonly hashed: boolean,
    private readonly table: StringTable | undefined,
    private readonly out: ValidatedRecord,
    /**
     * Leave ASCII strings as bytes in `buf` (`spanned`), for a sink that takes bytes (a thread's
     * handover: docs/manifest.md#reading-manifests-on-threads); never with a table.
     */
    private readonly spans = false,
    /**
     * Leave an ASCII path as bytes in `buf` (`pathSpanned`), the fingerprint and sha256 interned
     * in `table` (columns that keep their paths as bytes: ManifestColumns.pathStore).
     */
    private readonly pathBytes = false,
  ) {
    const bytes = (k: ParquetColumnName): ByteColumn => cols[k] as ByteColumn;
    const int = (k: ParquetColumnName): IntColumn => cols[k] as IntColumn;
    this.dir = bytes('dir');
    this.name = bytes('name');
    this.fp = bytes('fingerprint');
    this.sha = bytes('sha256');
    this.xattrs = bytes('xattrs');
    this.targetIds = bytes('target').ids;
    this.typeIds = bytes('type').ids;
    this.layoutIds = bytes('layout').ids;
    this.strings = {
      dir: new Strings(this.dir),
      name: new Strings(this.name),
      type: new Strings(bytes('type')),
      layout: new Strings(bytes('layout')),
      target: new Strings(bytes('target')),
      xattrs: new Strings(this.xattrs),
    };
    this.typeCode = codes(bytes('type'), this.strings.type, FILE_TYPE_CODES);
    this.layoutCode = codes(bytes('layout'), this.strings.layout, LAYOUT_CODES);
    this.dirAscii = new Int8Array(this.dir.count).fill(-1);
    this.dirHash = new Int32Array(this.dir.count);
    this.ints = {
      nid: int('nid'),
      ino: int('ino'),
      mode: int('mode'),
      uid: int('uid'),
      gid: int('gid'),
      size: int('size'),
      nlink: int('nlink'),
      mtime: int('mtime'),
      mtime_nsec: int('mtime_nsec'),
      inode_size: int('inode_size'),
      xattr_isize: int('xattr_isize'),
      rdev_major: int('rdev_major'),
      rdev_minor: int('rdev_minor'),
    };
  }

  /** The value hyparquet's reader gives for column `k` of row `j` (what rawRecord reads). */
  value(k: ParquetColumnName, j: number): unknown {
    const c = this.cols[k];
    if (c.kind === 'int') return intValue(c, j);
    const id = c.ids[j]!;
    if (id < 0) return null;
    if (k === 'fingerprint' || k === 'sha256') return byteValue(c, id);
    return this.strings[k as StringColumnName].get(id);
  }

  /**
   * Row j (record i) into `out` when every field passes the record checks; false (nothing to
   * undo: at most strings interned that the record checks intern too) otherwise.
   */
  fast(j: number, i: number): boolean {
    const out = this.out;
    const ints = this.ints;
    const typeId = this.typeIds[j]!;
    const layoutId = this.layoutIds[j]!;
    if (typeId < 0 || layoutId < 0 || this.xattrs.ids[j] !== -1) return false;
    const type = this.typeCode[typeId]!;
    const layout = this.layoutCode[layoutId]!;
    if (type < 0 || layout < 0) return false;
    const inodeSize = okInt(ints.inode_size, j);
    if (inodeSize !== 32 && inodeSize !== 64) return false;
    const xattrIsize = okInt(ints.xattr_isize, j);
    if (!(
      xattrIsize === 0 ||
      (xattrIsize >= 12 && xattrIsize <= MAX_XATTR_ISIZE && (xattrIsize - 12) % 4 === 0)
    ))
      return false;
    const nid = okInt(ints.nid, j);
    const mode = okInt(ints.mode, j);
    const uid = okInt(ints.uid, j);
    const gid = okInt(ints.gid, j);
    const size = okInt(ints.size, j);
    const nlink = okInt(ints.nlink, j);
    const mtime = okInt(ints.mtime, j);
    const nsec = okInt(ints.mtime_nsec, j);
    // NaN (null or beyond 2^53) fails every comparison.
    if (!(nid >= 0 && mode >= 0 && mode <= 0o7777 && uid >= 0 && uid <= U32 && gid >= 0 && gid <= U32))
      return false;
    if (!(size >= 0 && nlink >= 0 && nlink <= U32 && mtime === mtime && nsec >= 0 && nsec <= MAX_MTIME_NSEC))
      return false;
    // Not METABOX (the caller's rule): no ino.
    if (ints.ino.state[j] !== INT_NULL) return false;
    const typeName = FILE_TYPE_CODES[type]!;
    let target: string | undefined;
    const targetId = this.targetIds[j]!;
    if (typeName === 'symlink') {
      if (targetId < 0) return false;
      target = this.strings.target.get(targetId);
      if (target.length === 0 || target.length > MAX_TARGET_CHARS || target.includes('\0')) return false;
    } else if (targetId >= 0) return false;
    let rdev: [number, number] | undefined;
    if (typeName === 'chr' || typeName === 'blk') {
      const major = okInt(ints.rdev_major, j);
      const minor = okInt(ints.rdev_minor, j);
      if (!(major >= 0 && major <= 0xfff && minor >= 0 && minor <= 0xfffff)) return false;
      rdev = [major, minor];
    } else if (ints.rdev_major.state[j] !== INT_NULL) return false;
    const shaId = this.sha.ids[j]!;
    const wantSha = this.hashed && typeName === 'file';
    const sha = this.sha;
    if (wantSha ? shaId < 0 || sha.end[shaId]! - sha.start[shaId]! !== SHA256_BYTES : shaId >= 0)
      return false;
    const fp = this.fp;
    const fpId = fp.ids[j]!;
    if (fpId >= 0 && fp.end[fpId]! - fp.start[fpId]! > MAX_FINGERPRINT_BYTES) return false;
    const path = this.path(j, i);
    if (path === null) return false;
    // Spans: the path's bytes end at `at`; the hex values follow them.
    this.spanned = this.spans && this.at > 0;
    this.pathSpanned = this.pathBytes && this.at > 0;
    if (this.pathSpanned) this.pathEnd = this.at;
    out.path = path;
    out.nid = nid;
    out.ino = undefined;
    out.type = typeName;
    out.mode = modeString(mode);
    setCheckedNumbers(out, uid, gid, size, nlink, mtime, nsec);
    out.layout = LAYOUT_CODES[layout]!;
    out.inode_size = inodeSize;
    out.xattr_isize = xattrIsize;
    out.target = target;
    out.rdev = rdev;
    out.xattrs = NO_XATTRS;
    if (this.spanned) {
      this.pathEnd = this.at;
      this.fpStart = this.fpEnd = this.shaStart = -1;
      if (fpId >= 0) {
        this.fpStart = this.at;
        out.fingerprint = this.hexSpan(fp, fpId);
        this.fpEnd = this.at;
      } else out.fingerprint = null;
      if (wantSha) {
        this.shaStart = this.at;
        out.sha256 = this.hexSpan(sha, shaId);
      } else out.sha256 = undefined;
      return true;
    }
    out.fingerprint = fpId < 0 ? null : this.hex(fp, fpId, 3 * i + 1);
    out.sha256 = wantSha ? this.hex(sha, shaId, 3 * i + 2) : undefined;
    return true;
  }

  /** Record i's path (interned at its slot, as the record checks do), or null when not a valid one. */
  private path(j: number, i: number): string | null {
    const dirCol = this.dir;
    const nameCol = this.name;
    const dirId = dirCol.ids[j]!;
    const nameId = nameCol.ids[j]!;
    if (dirId < 0 || nameId < 0) return null;
    const dir = dirCol.bufs[dirCol.buf[dirId]!]!;
    const dirStart = dirCol.start[dirId]!;
    const dirEnd = dirCol.end[dirId]!;
    const name = nameCol.bufs[nameCol.buf[nameId]!]!;
    const nameStart = nameCol.start[nameId]!;
    const nameEnd = nameCol.end[nameId]!;
    const dirLength = dirEnd - dirStart;
    // The prefix of the joined path (rawRecord's joinPath): "/" for "" and "/", else dir + "/".
    const dirPrefix = dirLength > 1 || (dirLength === 1 && dir[dirStart] !== SLASH);
    let ascii = this.dirAscii[dirId]!;
    if (ascii < 0) {
      ascii = this.dirAscii[dirId] = isAscii(dir, dirStart, dirEnd) ? 1 : 0;
      let h = STRING_HASH_SEED;
      if (dirPrefix) for (let k = dirStart; k < dirEnd; k++) h = hashStep(h, dir[k]!);
      this.dirHash[dirId] = hashStep(h, SLASH);
    }
    let path: string;
    this.at = 0;
    if (ascii === 1 && isAscii(name, nameStart, nameEnd)) {
      const buf = this.buf;
      let n = 0;
      if (dirLength + 1 + nameEnd - nameStart > MAX_PATH_CHARS) return null;
      if (dirPrefix) for (let k = dirStart; k < dirEnd; k++) buf[n++] = dir[k]!;
      buf[n++] = SLASH;
      let h = this.dirHash[dirId]!;
      for (let k = nameStart; k < nameEnd; k++) {
        const c = name[k]!;
        buf[n++] = c;
        h = hashStep(h, c);
      }
      if (this.spans || this.pathBytes) {
        // No string: the bytes are checked (validManifestPath's rules) and handed over as they are.
        if (!validAsciiPath(buf, n)) return null;
        this.at = n;
        return '';
      }
      path = this.table ? this.table.internAtAscii(3 * i, buf, 0, n, h, asciiString) : asciiString(buf, 0, n);
      if (!validManifestPath(path)) return null;
    } else {
      // Not ASCII: the strings hyparquet makes, joined as rawRecord joins them.
      const d = this.strings.dir.get(dirId);
      const nm = this.strings.name.get(nameId);
      path = d === '' && nm === '' ? '/' : d === '/' ? `/${nm}` : `${d}/${nm}`;
      if (path.length > MAX_PATH_CHARS || !validManifestPath(path)) return null;
      if (this.table && !this.pathBytes) path = this.table.internAt(3 * i, path);
    }
    return path;
  }

  /** The lower-case hex of value `id` of `col` written into `buf` at `at` (spans mode): '' in its place. */
  private hexSpan(col: ByteColumn, id: number): string {
    const buf = this.buf;
    const b = col.bufs[col.buf[id]!]!;
    let n = this.at;
    for (let k = col.start[id]!, end = col.end[id]!; k < end; k++) {
      buf[n++] = HEX_DIGITS[b[k]! >> 4]!;
      buf[n++] = HEX_DIGITS[b[k]! & 15]!;
    }
    this.at = n;
    return '';
  }

  /**
   * Lower-case hex of value `id` of `col` (as bytesHex gives it), interned at `slot` when there is
   * a table; made in `buf` after the path's bytes (`at`) when those stay there (pathBytes).
   */
  private hex(col: ByteColumn, id: number, slot: number): string {
    const buf = this.buf;
    const b = col.bufs[col.buf[id]!]!;
    const start = col.start[id]!;
    const end = col.end[id]!;
    let h = STRING_HASH_SEED;
    const from = this.at;
    let n = from;
    for (let k = start; k < end; k++) {
      const hi = HEX_DIGITS[b[k]! >> 4]!;
      const lo = HEX_DIGITS[b[k]! & 15]!;
      buf[n++] = hi;
      buf[n++] = lo;
      h = hashStep(hashStep(h, hi), lo);
    }
    return this.table
      ? this.table.internAtAscii(slot, buf, from, n, h, asciiString)
      : asciiString(buf, from, n);
  }
}

/**
 * validManifestPath() of the ASCII path buf[0, n) (n > 0), on the bytes: absolute, no empty,
 * "." or ".." component, no NUL, at most 4096 characters, components of at most 255 bytes
 * (an ASCII component's UTF-8 length is its length).
 */
function validAsciiPath(buf: Uint8Array, n: number): boolean {
  if (buf[0] !== SLASH) return false;
  if (n === 1) return true;
  if (n > MAX_PATH_CHARS) return false;
  let start = 1;
  for (let i = 1; i <= n; i++) {
    const c = i < n ? buf[i]! : SLASH;
    if (c === 0) return false;
    if (c !== SLASH) continue;
    const len = i - start;
    if (len === 0 || len > 255) return false;
    if (len <= 2 && buf[start] === DOT && (len === 1 || buf[start + 1] === DOT)) return false;
    start = i + 1;
  }
  return true;
}

/** Row j of an integer column as a number; NaN when null or beyond 2^53 (the checks refuse NaN). */
function okInt(c: IntColumn, j: number): number {
  return c.state[j] === INT_OK ? c.num[j]! : NaN;
}

/** The code of each value id of a type or layout column (-1: not one of `names`). */
function codes(col: ByteColumn, strings: Strings, names: readonly string[]): Int8Array {
  const out = new Int8Array(col.count);
  for (let id = 0; id < out.length; id++) out[id] = names.indexOf(strings.get(id));
  return out;
}
