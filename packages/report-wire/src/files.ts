/**
 * The per-file parts of a report (`files`, `groups`, `paths`) in a compact columnar binary
 * encoding ("sharemap-files", version 1), for `GET /api/reports/:id/files`.
 *
 * Layout (little-endian):
 *
 *     "SMFILES1"  8 bytes
 *     u32         byte length H of the header
 *     header      H bytes of UTF-8 JSON (FilesHeader), padded with spaces to a multiple of 8
 *     sections    the column data, each section at an offset that is a multiple of 8
 *
 * Each column is a section of unsigned integers of the narrowest width that holds it (u8, u16,
 * u32; f64 for values that are not integers below 2^32). A section may store `value - bias`
 * (columns with negative values: `group` is -1 for rows outside shared inodes), or the
 * differences of consecutive values (`delta`: the `file` column counts up by one row after row,
 * which gzip then compresses to almost nothing). Strings are UTF-8: the distinct paths of all
 * images once, joined by NUL (paths never contain NUL), and per image the index of each of its
 * paths in that table; fingerprints as raw bytes (they are even-length hex).
 *
 * Optional sections (a decoder looks sections up by name, so encodings without them, and
 * decoders that do not know them, still work): `measured.pagesWithout` and `measured.pagesWith`,
 * the measured working set's per-row pages (`Report.measured`, docs/working-set.md), present
 * when the report has residency data. A compact file table (report version 2,
 * docs/metrics.md#compact-file-table) adds `files.rowsOf` (per instance, the instance whose
 * rows stand for it) and `groups.memberCount`, `groups.rejectedCount` (every instance counted);
 * its rows are the compact ones, so the encoding grows with files and instances, not with their
 * product. A decoder from before these sections would read such a table as per-instance rows:
 * the web UI and the static page always ship with the encoder that wrote them.
 *
 * The decoder runs in a browser worker: `decodeFiles` gives typed arrays (transferable) and a
 * few strings; `assembleFiles` turns them into the Report's shapes (typed arrays in place of
 * number arrays) on the main thread, step by step so that no step blocks it for long.
 */
import { AOPS_CLASSES, groupColumnsOf, groupMemberCount, groupRejectedCount } from '@sharemap/sharing';
import type { AopsClass, FileStatus, FileTable, Report, SharedGroup } from '@sharemap/sharing';
import { nativeStringWrite } from './native-write.js';

export const FILES_MAGIC = 'SMFILES1';
export const FILES_KIND = 'sharemap-files';
export const FILES_VERSION = 1;
export const FILES_CONTENT_TYPE = 'application/vnd.sharemap.files';

export type SectionType = 'u8' | 'u16' | 'u32' | 'i32' | 'f64';

export interface Section {
  name: string;
  /** How the values are stored. */
  type: SectionType;
  /** Number of values. */
  length: number;
  /** Byte offset from the start of the encoding (a multiple of 8). */
  offset: number;
  /** Decoded value = stored value + bias (before `delta`). */
  bias?: number;
  /** The stored values (after bias) are differences of consecutive values (the first from 0). */
  delta?: boolean;
  /** Type of the decoded values when `bias` or `delta` is set. */
  values?: SectionType;
}

export interface FilesHeader {
  kind: typeof FILES_KIND;
  version: typeof FILES_VERSION;
  rows: number;
  groups: number;
  hardlinks: number;
  /** Status code -> FileStatus (codes are indices). */
  statuses: string[];
  /** aops code -> AopsClass. */
  aops: string[];
  /** Domain code -> label (of the shared inodes). */
  domains: string[];
  /** Images in report.paths order: id and number of paths (the `paths.index` section, concatenated). */
  images: { id: string; paths: number }[];
  /** Distinct paths in `paths.text`. */
  strings: number;
  /** `bytes`: fingerprints as raw bytes of their hex (groups.fingerprint section); `list`: in `fingerprintList`. */
  fingerprints: 'bytes' | 'list';
  fingerprintList?: string[];
  sections: Section[];
}

type IntArray = Uint8Array | Uint16Array | Uint32Array | Int32Array;
type NumArray = IntArray | Float64Array;

const CTORS = {
  u8: Uint8Array,
  u16: Uint16Array,
  u32: Uint32Array,
  i32: Int32Array,
  f64: Float64Array,
} as const;

/** Narrowest unsigned type holding every value in [0, max], or f64. */
function widthFor(max: number, integral: boolean): SectionType {
  if (!integral || max >= 2 ** 32) return 'f64';
  return max < 256 ? 'u8' : max < 65536 ? 'u16' : 'u32';
}

interface PendingSection {
  name: string;
  /** The stored values, or (`paths.text`) UTF-8 bytes in chunks, never joined into one buffer. */
  data: NumArray | Uint8Array[];
  bias?: number;
  delta?: boolean;
  values?: SectionType;
}

/** A section's bytes as they are written: views of its values (nothing copied). */
function byteChunks(data: PendingSection['data']): Uint8Array[] {
  return Array.isArray(data) ? data : [new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
}

function byteLengthOf(data: PendingSection['data']): number {
  if (!Array.isArray(data)) return data.byteLength;
  let n = 0;
  for (const c of data) n += c.byteLength;
  return n;
}

function typeOf(a: PendingSection['data']): SectionType {
  return Array.isArray(a) || a instanceof Uint8Array
    ? 'u8'
    : a instanceof Uint16Array
      ? 'u16'
      : a instanceof Uint32Array
        ? 'u32'
        : a instanceof Int32Array
          ? 'i32'
          : 'f64';
}

/**
 * A numeric column in its narrowest form. Integers in [0, 2^32) only need a width; other
 * integers get a bias; anything else is stored as f64. With `delta`, differences are stored.
 */
function numericSection(
  name: string,
  values: ArrayLike<number>,
  opts: { delta?: boolean } = {},
): PendingSection {
  const n = values.length;
  let min = 0;
  let max = 0;
  let integral = true;
  // The differences' range in the same pass (a delta section's; unused otherwise).
  let dmin = 0;
  let dmax = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isSafeInteger(v)) integral = false;
    if (v < min) min = v;
    if (v > max) max = v;
    const d = v - prev;
    prev = v;
    if (d < dmin) dmin = d;
    if (d > dmax) dmax = d;
  }
  if (!integral || min < -(2 ** 31) || max >= 2 ** 32) {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = values[i]!;
    return { name, data: out };
  }
  const valuesType: SectionType = min < 0 ? (max < 2 ** 31 ? 'i32' : 'f64') : widthFor(max, true);
  if (opts.delta && n > 1) {
    const t = widthFor(dmax - dmin, true);
    if (t !== 'f64') {
      const out = new CTORS[t](n);
      prev = 0;
      for (let i = 0; i < n; i++) {
        out[i] = values[i]! - prev - dmin;
        prev = values[i]!;
      }
      return { name, data: out, delta: true, bias: dmin, values: valuesType };
    }
  }
  const t = widthFor(max - min, true);
  const out = new CTORS[t === 'f64' ? 'f64' : t](n);
  for (let i = 0; i < n; i++) out[i] = values[i]! - min;
  return min === 0 ? { name, data: out } : { name, data: out, bias: min, values: valuesType };
}

/** Value of a lower-case hex digit by char code; 255 for any other code below 128. */
const NIBBLE = new Uint8Array(128).fill(255);
for (let i = 0; i < 16; i++) NIBBLE['0123456789abcdef'.charCodeAt(i)] = i;

/**
 * The bytes of even-length `hex` at `out[at]`: false (some bytes written) when a character is
 * not a lower-case hex digit.
 */
function hexToBytes(hex: string, out: Uint8Array, at: number): boolean {
  const n = hex.length;
  for (let i = 0, j = at; i < n; i += 2, j++) {
    const a = hex.charCodeAt(i);
    const b = hex.charCodeAt(i + 1);
    const hi = a < 128 ? NIBBLE[a]! : 255;
    const lo = b < 128 ? NIBBLE[b]! : 255;
    if ((hi | lo) === 255) return false;
    out[j] = (hi << 4) | lo;
  }
  return true;
}

const enc = new TextEncoder();

/**
 * Node's native UTF-8 write of a string into a Uint8Array (`Buffer.prototype.utf8Write`: the
 * bytes of TextEncoder, lone surrogates U+FFFD), where there is one; null elsewhere (a
 * browser). Twice as fast as a loop over a path's characters, and no view per string as
 * `encodeInto` needs.
 */
const utf8Write = nativeStringWrite('utf8Write');

/** Bytes per chunk of `paths.text` (UTF-8 written a chunk at a time, never as one buffer). */
const TEXT_CHUNK_BYTES = 1 << 20;

/**
 * The strings joined by NUL as UTF-8, in chunks: the bytes of `TextEncoder.encode(list.join('\0'))`
 * (a lone surrogate is U+FFFD either way: NUL stands between strings, so none pairs across
 * them). ASCII is written byte by byte; a string with any other character goes to
 * `encodeInto`. Joining 65,536 paths into one string and encoding it was a third of the
 * encoder's time at 2M rows (docs/benchmarks.md#report-json-as-bytes). Under Node the
 * strings are written by its native UTF-8 write instead. With `refuseNul`, a string that holds
 * NUL (it would read as two) is a RangeError.
 */
export function joinedUtf8(
  list: readonly string[],
  refuseNul = false,
  /** Node's native write (the default where there is one), or null: the loop a browser runs. */
  native: typeof utf8Write = utf8Write,
): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let buf = new Uint8Array(TEXT_CHUNK_BYTES);
  let pos = 0;
  for (let i = 0; i < list.length; i++) {
    const s = list[i]!;
    const n = s.length;
    // NUL before every string but the first, and at most 3 bytes per UTF-16 code unit.
    if (pos + 1 + 3 * n > buf.length) {
      if (pos > 0) chunks.push(buf.subarray(0, pos));
      buf = new Uint8Array(Math.max(TEXT_CHUNK_BYTES, 1 + 3 * n));
      pos = 0;
    }
    if (i > 0) buf[pos++] = 0;
    if (native !== null) {
      if (refuseNul) refuseNulIn(s);
      pos += native.call(buf, s, pos, buf.length - pos);
      continue;
    }
    let p = pos;
    let ascii = true;
    for (let j = 0; j < n; j++) {
      const c = s.charCodeAt(j);
      // One comparison for both NUL and beyond ASCII (c - 1 wraps to 2^32 - 1 for NUL).
      if ((c - 1) >>> 0 >= 0x7f) {
        ascii = false;
        break;
      }
      buf[p++] = c;
    }
    if (ascii) pos = p;
    else {
      if (refuseNul) refuseNulIn(s);
      pos += enc.encodeInto(s, buf.subarray(pos)).written;
    }
  }
  if (pos > 0) chunks.push(buf.subarray(0, pos));
  return chunks;
}

/** A RangeError when `s` holds NUL (in `paths.text` it would read as two strings: joinedUtf8). */
function refuseNulIn(s: string): void {
  if (s.includes('\u0000')) throw new RangeError(`a path contains NUL: ${JSON.stringify(s)}`);
}

/** Padding between sections (fewer than 8 bytes, zeros). */
const PADDING = new Uint8Array(8);

/** True when every path sorts after the one before it (so none repeats). */
function strictlyAscending(list: readonly string[]): boolean {
  for (let i = 1; i < list.length; i++) if (!(list[i - 1]! < list[i]!)) return false;
  return true;
}

/** The parts `encodeFiles` encodes. */
export type FilesInput = Pick<Report, 'files' | 'groups' | 'paths'> & { measured?: MeasuredRows };

/** An encoding as the pieces it is made of, for a stream (e.g. into gzip) without one big buffer. */
export interface FilesEncoding {
  /** Length of the whole encoding in bytes. */
  byteLength: number;
  /**
   * The encoding's bytes in order: the magic, length and header, then each section's values and
   * its padding, none empty. Pieces are views of the encoder's columns (nothing is copied);
   * iterate as often as needed, but do not change them.
   */
  pieces(): Generator<Uint8Array>;
}

/** Encode the per-file parts of a report. */
export function encodeFiles(report: FilesInput): Uint8Array {
  const encoding = encodeFilesPieces(report);
  const out = new Uint8Array(encoding.byteLength);
  let at = 0;
  for (const piece of encoding.pieces()) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/**
 * Encode the per-file parts of a report as pieces: the same bytes as `encodeFiles`, without
 * copying the columns into one buffer (the server streams them into gzip:
 * docs/server.md#stored-manifests-and-analysis-inputs).
 */
export function encodeFilesPieces(report: FilesInput): FilesEncoding {
  const f = report.files;
  const rows = f.instance.length;
  const sections: PendingSection[] = [];

  // Rows.
  sections.push(numericSection('files.instance', f.instance));
  sections.push(numericSection('files.file', f.file, { delta: true }));
  const statuses: string[] = [];
  const statusCode = new Map<string, number>();
  const st = new Uint8Array(rows);
  // Runs of one status are common (a whole image private, say): the last code is reused
  // without a lookup.
  let lastStatus: string | undefined;
  let lastCode = 0;
  for (let i = 0; i < rows; i++) {
    const s = f.status[i]!;
    if (s !== lastStatus) {
      let c = statusCode.get(s);
      if (c === undefined) {
        c = statuses.length;
        if (c > 255) throw new RangeError('more than 256 distinct file statuses');
        statusCode.set(s, c);
        statuses.push(s);
      }
      lastStatus = s;
      lastCode = c;
    }
    st[i] = lastCode;
  }
  sections.push({ name: 'files.status', data: st });
  sections.push(numericSection('files.group', f.group, { delta: true }));
  sections.push(numericSection('files.pagesWithout', f.pagesWithout));
  sections.push(numericSection('files.pagesWith', f.pagesWith));
  sections.push(numericSection('files.size', f.size));
  sections.push(numericSection('files.hardlinks.row', f.hardlinks.row, { delta: true }));
  sections.push(numericSection('files.hardlinks.primary', f.hardlinks.primary));
  if (f.rowsOf) sections.push(numericSection('files.rowsOf', f.rowsOf));
  if (report.measured) {
    const m = report.measured;
    if (m.pagesWithout.length !== rows || m.pagesWith.length !== rows)
      throw new RangeError(
        `measured columns: ${m.pagesWithout.length}/${m.pagesWith.length} values, not ${rows}`,
      );
    sections.push(numericSection('measured.pagesWithout', m.pagesWithout));
    sections.push(numericSection('measured.pagesWith', m.pagesWith));
  }

  // Shared inodes, from their columns (the engine's report makes no objects for this: sharing's
  // group-columns.ts; a decoded report's objects are made columns first).
  const groups = groupColumnsOf(report);
  const g = groups.count;
  const domains: string[] = [];
  const domainCode = new Map<string, number>();
  const aops: string[] = [];
  const aopsCode = new Map<string, number>();
  const code = (m: Map<string, number>, list: string[], s: string): number => {
    let c = m.get(s);
    if (c === undefined) m.set(s, (c = list.push(s) - 1));
    return c;
  };
  // Typed columns (a number[] of more than a few thousand elements made by `new Array(n)` is
  // V8's slow dictionary form); views where the group columns hold the values already.
  const gDomain = new Int32Array(g);
  const gAops = new Uint8Array(g);
  const gSize = groups.size.subarray(0, g);
  const gPages = groups.pages.subarray(0, g);
  const gOrder = groups.orderDependent.subarray(0, g); // 0 absent, 1 true, 2 false: the section's codes too
  const memberEnds = groups.memberStart.subarray(1, g + 1);
  const rejectedEnds = groups.rejectedStart.subarray(1, g + 1);
  const nm = g === 0 ? 0 : groups.memberStart[g]!;
  const nr = g === 0 ? 0 : groups.rejectedStart[g]!;
  let fpChars = 0;
  let allHex = true;
  const fingerprintOf = (k: number): string => groups.fingerprints[groups.fingerprint[k]!]!;
  for (let k = 0; k < g; k++) {
    gDomain[k] = code(domainCode, domains, groups.domainLabels[groups.domain[k]!]!);
    const a = code(aopsCode, aops, AOPS_CLASSES[groups.aops[k]!]!);
    if (a > 255) throw new RangeError('more than 256 distinct aops classes');
    gAops[k] = a;
    const n = fingerprintOf(k).length;
    if ((n & 1) !== 0) allHex = false;
    fpChars += n;
  }
  const members = groups.memberRows.subarray(0, nm);
  const rejected = groups.rejectedRows.subarray(0, nr);
  // Fingerprints as the bytes of their hex, checked as they are converted: any character
  // other than a lower-case hex digit (or an odd length) and they go in the header's list.
  let fp: Uint8Array | null = allHex ? new Uint8Array(fpChars / 2) : null;
  const fpEnds = new Float64Array(g);
  let fpBytes = 0;
  for (let k = 0; k < g; k++) {
    const fingerprint = fingerprintOf(k);
    if (fp !== null && !hexToBytes(fingerprint, fp, fpBytes)) fp = null;
    fpEnds[k] = fpBytes += fingerprint.length / 2;
  }
  sections.push(numericSection('groups.domain', gDomain));
  sections.push({ name: 'groups.aops', data: gAops });
  sections.push(numericSection('groups.size', gSize));
  sections.push(numericSection('groups.pages', gPages));
  sections.push({ name: 'groups.orderDependent', data: gOrder });
  sections.push(numericSection('groups.memberEnds', memberEnds, { delta: true }));
  sections.push(numericSection('groups.members', members, { delta: true }));
  sections.push(numericSection('groups.rejectedEnds', rejectedEnds, { delta: true }));
  sections.push(numericSection('groups.rejected', rejected, { delta: true }));
  if (f.rowsOf) {
    const counts = (count: typeof groupMemberCount): number[] =>
      Array.from({ length: g }, (_, k) => count(groups, k));
    sections.push(numericSection('groups.memberCount', counts(groupMemberCount)));
    sections.push(numericSection('groups.rejectedCount', counts(groupRejectedCount)));
  }
  if (fp) {
    sections.push(numericSection('groups.fingerprintEnds', fpEnds, { delta: true }));
    sections.push({ name: 'groups.fingerprint', data: fp });
  }

  // Paths: distinct strings once, each image's paths as indices.
  const images: FilesHeader['images'] = [];
  const table = new Map<string, number>();
  let strings: string[] = [];
  const lists = Object.entries(report.paths);
  let total = 0;
  for (const [, list] of lists) total += list.length;
  const index = new Int32Array(total);
  let at = 0;
  for (let k = 0; k < lists.length; k++) {
    const [id, list] = lists[k]!;
    images.push({ id, paths: list.length });
    // No later image looks up the last image's paths, and a strictly ascending list (a
    // manifest's paths are sorted) repeats none of its own: they need not go into the table. A
    // one-image report then needs no table at all (its millions of insertions were most of the
    // encoder's time at 2M rows: docs/benchmarks.md#report-creation-phase-by-phase-report-phases).
    const keep = k < lists.length - 1 || !strictlyAscending(list);
    if (!keep && strings.length === 0) {
      // The only image's paths (no table): the strings are the list itself, in order.
      for (let i = 0; i < list.length; i++) index[at++] = i;
      strings = list;
      continue;
    }
    for (const p of list) {
      let c = table.size === 0 ? undefined : table.get(p);
      if (c === undefined) {
        // A path with NUL is refused by joinedUtf8 below, which looks at every character anyway.
        c = strings.push(p) - 1;
        if (keep) table.set(p, c);
      }
      index[at++] = c;
    }
  }
  sections.push(numericSection('paths.index', index, { delta: true }));
  sections.push({ name: 'paths.text', data: joinedUtf8(strings, true) });

  // Layout.
  const header: FilesHeader = {
    kind: FILES_KIND,
    version: FILES_VERSION,
    rows,
    groups: g,
    hardlinks: f.hardlinks.row.length,
    statuses,
    aops,
    domains,
    images,
    strings: strings.length,
    fingerprints: fp ? 'bytes' : 'list',
    sections: [],
  };
  if (!fp) header.fingerprintList = Array.from({ length: g }, (_, k) => fingerprintOf(k));
  const align = (n: number) => Math.ceil(n / 8) * 8;
  // The header holds the offsets, which depend on the header's length: grow it until it fits.
  let headerLen = 0;
  let offset = 0;
  let headerBytes = new Uint8Array(0);
  for (;;) {
    offset = 12 + headerLen;
    header.sections = sections.map((s) => {
      const bytes = byteLengthOf(s.data);
      const length = Array.isArray(s.data) ? bytes : s.data.length;
      const out: Section = { name: s.name, type: typeOf(s.data), length, offset };
      if (s.bias !== undefined) out.bias = s.bias;
      if (s.delta) out.delta = true;
      if (s.values !== undefined) out.values = s.values;
      offset = align(offset + bytes);
      return out;
    });
    headerBytes = enc.encode(JSON.stringify(header));
    if (headerBytes.length <= headerLen) break;
    headerLen = align(12 + headerBytes.length + 32) - 12;
  }
  const prefix = new Uint8Array(12 + headerLen);
  prefix.set(enc.encode(FILES_MAGIC), 0);
  new DataView(prefix.buffer).setUint32(8, headerLen, true);
  prefix.fill(0x20, 12);
  prefix.set(headerBytes, 12);
  const byteLength = offset;
  const layout = header.sections;
  return {
    byteLength,
    *pieces() {
      yield prefix;
      for (const [k, s] of sections.entries()) {
        let end = layout[k]!.offset;
        for (const chunk of byteChunks(s.data)) {
          // An empty section (no hard links) gives no piece: a stream may take an empty chunk for its end.
          if (chunk.length === 0) continue;
          yield chunk;
          end += chunk.length;
        }
        const next = k + 1 < layout.length ? layout[k + 1]!.offset : byteLength;
        if (next > end) yield PADDING.subarray(0, next - end);
      }
    },
  };
}

export class FilesFormatError extends Error {
  override readonly name = 'FilesFormatError';
}

/** The measured working set's per-row columns (`Report.measured`, without its totals). */
export type MeasuredRows = Pick<NonNullable<Report['measured']>, 'pagesWithout' | 'pagesWith'>;

/** Decoded columns: typed arrays (transferable to the main thread) and a few strings. */
export interface FilesColumns {
  rows: number;
  statuses: FileStatus[];
  instance: IntArray;
  file: IntArray;
  status: Uint8Array;
  group: IntArray;
  pagesWithout: NumArray;
  pagesWith: NumArray;
  size: NumArray;
  hardlinkRow: IntArray;
  hardlinkPrimary: IntArray;
  /** Measured pages per row, when the encoding has them (optional sections). */
  measured?: { pagesWithout: NumArray; pagesWith: NumArray };
  /** A compact file table's `FileTable.rowsOf` (optional section). */
  rowsOf?: IntArray;
  groups: {
    count: number;
    domains: string[];
    aops: AopsClass[];
    domain: IntArray;
    aopsCode: Uint8Array;
    size: NumArray;
    pages: NumArray;
    orderDependent: Uint8Array;
    memberEnds: IntArray;
    members: IntArray;
    rejectedEnds: IntArray;
    rejected: IntArray;
    /** A compact table's members and rejected candidates counting every instance (optional sections). */
    memberCount?: NumArray;
    rejectedCount?: NumArray;
    /**
     * All fingerprints concatenated, as a string or as its ASCII bytes (hex digits: moved to the
     * main thread without a copy, turned into a string there in one step); `fingerprintEnds` in
     * characters.
     */
    fingerprints: string | Uint8Array;
    fingerprintEnds: IntArray;
  };
  paths: {
    images: { id: string; paths: number }[];
    /** Distinct paths. */
    table: string[];
    /** Per image in order, `paths` indices into `table`. */
    index: IntArray;
  };
}

function readHeader(buf: ArrayBuffer): FilesHeader {
  const u8 = new Uint8Array(buf);
  if (u8.length < 12 || new TextDecoder().decode(u8.subarray(0, 8)) !== FILES_MAGIC)
    throw new FilesFormatError('not a sharemap-files encoding (bad magic)');
  const len = new DataView(buf).getUint32(8, true);
  if (12 + len > u8.length) throw new FilesFormatError('truncated header');
  let h: FilesHeader;
  try {
    h = JSON.parse(new TextDecoder().decode(u8.subarray(12, 12 + len))) as FilesHeader;
  } catch {
    throw new FilesFormatError('bad header');
  }
  if (h.kind !== FILES_KIND || h.version !== FILES_VERSION)
    throw new FilesFormatError(`unsupported encoding ${String(h.kind)} version ${String(h.version)}`);
  return h;
}

function sectionValues(buf: ArrayBuffer, s: Section): NumArray {
  const C = CTORS[s.type];
  if (!C || s.offset % 8 !== 0 || s.offset + s.length * C.BYTES_PER_ELEMENT > buf.byteLength)
    throw new FilesFormatError(`bad section ${s.name}`);
  const stored = new C(buf, s.offset, s.length);
  if (s.bias === undefined && !s.delta) return stored;
  const out = new CTORS[s.values ?? 'f64'](s.length);
  const bias = s.bias ?? 0;
  if (s.delta) {
    let v = 0;
    for (let i = 0; i < stored.length; i++) out[i] = v += stored[i]! + bias;
  } else for (let i = 0; i < stored.length; i++) out[i] = stored[i]! + bias;
  return out;
}

const HEX_ASCII = new TextEncoder().encode('0123456789abcdef');

/** Decode an encoding into columns (off the main thread: this is the expensive step). */
export function decodeFiles(buf: ArrayBuffer): FilesColumns {
  const h = readHeader(buf);
  const byName = new Map(h.sections.map((s) => [s.name, s]));
  const num = (name: string): NumArray => {
    const s = byName.get(name);
    if (!s) throw new FilesFormatError(`missing section ${name}`);
    return sectionValues(buf, s);
  };
  const int = (name: string): IntArray => {
    const a = num(name);
    if (a instanceof Float64Array) throw new FilesFormatError(`section ${name} is not integral`);
    return a;
  };
  const u8 = (name: string): Uint8Array => {
    const a = num(name);
    if (!(a instanceof Uint8Array)) throw new FilesFormatError(`section ${name} is not u8`);
    return a;
  };
  let fingerprints: string | Uint8Array;
  let fingerprintEnds: IntArray;
  if (h.fingerprints === 'bytes') {
    const bytes = u8('groups.fingerprint');
    const ends = int('groups.fingerprintEnds');
    // Hex digits as ASCII bytes (one decode into a string later: concatenation is far slower).
    const ascii = new Uint8Array(bytes.length * 2);
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      ascii[2 * i] = HEX_ASCII[b >> 4]!;
      ascii[2 * i + 1] = HEX_ASCII[b & 15]!;
    }
    fingerprints = ascii;
    fingerprintEnds = new Uint32Array(ends.length);
    for (let i = 0; i < ends.length; i++) fingerprintEnds[i] = ends[i]! * 2;
  } else {
    const list = h.fingerprintList ?? [];
    fingerprints = list.join('');
    fingerprintEnds = new Uint32Array(list.length);
    let at = 0;
    for (let i = 0; i < list.length; i++) fingerprintEnds[i] = at += list[i]!.length;
  }
  const text = new TextDecoder().decode(u8('paths.text'));
  const table = h.strings === 0 ? [] : text.split('\u0000');
  if (table.length !== h.strings) throw new FilesFormatError('path table length');
  const cols: FilesColumns = {
    rows: h.rows,
    statuses: h.statuses as FileStatus[],
    instance: int('files.instance'),
    file: int('files.file'),
    status: u8('files.status'),
    group: int('files.group'),
    pagesWithout: num('files.pagesWithout'),
    pagesWith: num('files.pagesWith'),
    size: num('files.size'),
    hardlinkRow: int('files.hardlinks.row'),
    hardlinkPrimary: int('files.hardlinks.primary'),
    groups: {
      count: h.groups,
      domains: h.domains,
      aops: h.aops as AopsClass[],
      domain: int('groups.domain'),
      aopsCode: u8('groups.aops'),
      size: num('groups.size'),
      pages: num('groups.pages'),
      orderDependent: u8('groups.orderDependent'),
      memberEnds: int('groups.memberEnds'),
      members: int('groups.members'),
      rejectedEnds: int('groups.rejectedEnds'),
      rejected: int('groups.rejected'),
      fingerprints,
      fingerprintEnds,
    },
    paths: { images: h.images, table, index: int('paths.index') },
  };
  for (const k of ['instance', 'file', 'status', 'group', 'pagesWithout', 'pagesWith', 'size'] as const)
    if (cols[k].length !== h.rows)
      throw new FilesFormatError(`column ${k}: ${cols[k].length} values, not ${h.rows}`);
  // Both measured columns or neither (optional: encodings from reports without residency data).
  const mw = byName.has('measured.pagesWithout');
  if (mw !== byName.has('measured.pagesWith'))
    throw new FilesFormatError(
      'measured columns: one of measured.pagesWithout and measured.pagesWith is missing',
    );
  if (mw) {
    const measured = { pagesWithout: num('measured.pagesWithout'), pagesWith: num('measured.pagesWith') };
    for (const k of ['pagesWithout', 'pagesWith'] as const)
      if (measured[k].length !== h.rows)
        throw new FilesFormatError(`column measured.${k}: ${measured[k].length} values, not ${h.rows}`);
    cols.measured = measured;
  }
  if (byName.has('files.rowsOf')) {
    const rowsOf = int('files.rowsOf');
    if (rowsOf.length === 0 || rowsOf.some((lead, i) => lead > i || rowsOf[lead] !== lead))
      throw new FilesFormatError('files.rowsOf: an instance reads the rows of a later one or of a non-lead');
    cols.rowsOf = rowsOf;
    const counts = [num('groups.memberCount'), num('groups.rejectedCount')];
    if (counts.some((c) => c.length !== h.groups))
      throw new FilesFormatError(`groups.memberCount / rejectedCount: not ${h.groups} values`);
    [cols.groups.memberCount, cols.groups.rejectedCount] = counts;
  }
  return cols;
}

/** The ArrayBuffers of the columns (for postMessage transfer lists; each listed once). */
export function transferables(c: FilesColumns): ArrayBuffer[] {
  const set = new Set<ArrayBuffer>();
  const add = (a: NumArray) => set.add(a.buffer as ArrayBuffer);
  for (const a of [
    c.instance,
    c.file,
    c.status,
    c.group,
    c.pagesWithout,
    c.pagesWith,
    c.size,
    c.hardlinkRow,
    c.hardlinkPrimary,
    ...(c.measured ? [c.measured.pagesWithout, c.measured.pagesWith] : []),
    ...(c.rowsOf ? [c.rowsOf] : []),
  ])
    add(a);
  const g = c.groups;
  for (const a of [
    g.domain,
    g.aopsCode,
    g.size,
    g.pages,
    g.orderDependent,
    g.memberEnds,
    g.members,
    g.rejectedEnds,
    g.rejected,
    g.fingerprintEnds,
    ...(g.memberCount && g.rejectedCount ? [g.memberCount, g.rejectedCount] : []),
  ])
    add(a);
  add(c.paths.index);
  if (typeof g.fingerprints !== 'string') add(g.fingerprints);
  return [...set];
}

/** The Report's per-file parts, with the measured per-row columns when the encoding has them. */
export type FilesParts = Pick<Report, 'files' | 'groups' | 'paths'> & { measuredRows?: MeasuredRows };

const NONE: number[] = Object.freeze([]) as unknown as number[];

/** Rows (and paths) per step of `assembleFilesSteps`; shared inodes per step: a sixteenth. */
export const ASSEMBLE_STEP = 1 << 18;

/**
 * The Report's per-file parts from decoded columns. Numeric columns stay typed arrays (the
 * FileTable type says number[]: they are read by index only). The generator yields between
 * steps of at most ASSEMBLE_STEP rows, so that a caller can let the event loop run.
 */
export function* assembleFilesSteps(c: FilesColumns): Generator<void, FilesParts> {
  const names = c.statuses;
  const status = new Array<FileStatus>(c.rows);
  for (let i0 = 0; i0 < c.rows; i0 += ASSEMBLE_STEP) {
    const i1 = Math.min(c.rows, i0 + ASSEMBLE_STEP);
    for (let i = i0; i < i1; i++) status[i] = names[c.status[i]!]!;
    yield;
  }
  const g = c.groups;
  const fps =
    typeof g.fingerprints === 'string' ? g.fingerprints : new TextDecoder('latin1').decode(g.fingerprints);
  yield;
  const groups = new Array<SharedGroup>(g.count);
  let m0 = 0;
  let r0 = 0;
  let f0 = 0;
  for (let k = 0; k < g.count; k++) {
    const m1 = g.memberEnds[k]!;
    const r1 = g.rejectedEnds[k]!;
    const f1 = g.fingerprintEnds[k]!;
    const members = new Array<number>(m1 - m0);
    for (let i = m0; i < m1; i++) members[i - m0] = g.members[i]!;
    // Most shared inodes reject no row: one empty array for all (fewer objects for the GC).
    const rejected = r1 === r0 ? NONE : new Array<number>(r1 - r0);
    for (let i = r0; i < r1; i++) rejected[i - r0] = g.rejected[i]!;
    const x: SharedGroup = {
      fingerprint: fps.slice(f0, f1),
      domain: g.domains[g.domain[k]!]!,
      aops: g.aops[g.aopsCode[k]!]!,
      size: g.size[k]!,
      pages: g.pages[k]!,
      members,
      rejected,
    };
    // Set only where they differ from the lists' lengths, as the engine sets them.
    const mc = g.memberCount?.[k];
    if (mc !== undefined && mc !== members.length) x.memberCount = mc;
    const rc = g.rejectedCount?.[k];
    if (rc !== undefined && rc !== rejected.length) x.rejectedCount = rc;
    const od = g.orderDependent[k]!;
    if (od !== 0) x.orderDependent = od === 1;
    groups[k] = x;
    m0 = m1;
    r0 = r1;
    f0 = f1;
    if (k % (ASSEMBLE_STEP >> 4) === (ASSEMBLE_STEP >> 4) - 1) yield;
  }
  yield;
  const paths: Record<string, string[]> = {};
  const table = c.paths.table;
  const index = c.paths.index;
  let at = 0;
  for (const im of c.paths.images) {
    const list = new Array<string>(im.paths);
    for (let i0 = 0; i0 < im.paths; i0 += ASSEMBLE_STEP) {
      const i1 = Math.min(im.paths, i0 + ASSEMBLE_STEP);
      for (let i = i0; i < i1; i++) list[i] = table[index[at++]!]!;
      if (i1 < im.paths) yield;
    }
    paths[im.id] = list;
    yield;
  }
  const files = {
    instance: c.instance,
    file: c.file,
    status,
    group: c.group,
    pagesWithout: c.pagesWithout,
    pagesWith: c.pagesWith,
    size: c.size,
    hardlinks: { row: c.hardlinkRow, primary: c.hardlinkPrimary },
    ...(c.rowsOf ? { rowsOf: c.rowsOf } : {}),
  } as unknown as FileTable;
  const out: FilesParts = { files, groups, paths };
  // Typed arrays like the other numeric columns (read by index only).
  if (c.measured) out.measuredRows = c.measured as unknown as MeasuredRows;
  return out;
}

/** All steps at once. */
export function assembleFiles(c: FilesColumns): FilesParts {
  const it = assembleFilesSteps(c);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}
