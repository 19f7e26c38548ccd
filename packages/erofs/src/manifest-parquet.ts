/**
 * The columnar manifest form: one Apache Parquet file, one row per record (docs/manifest.md,
 * "Columnar form"). Users open it with their own tools (DuckDB, pandas, polars); sharemap reads
 * it back into the same Manifest the NDJSON form gives, validated by the same rules
 * (ManifestStreamValidator), so both forms carry the same manifest
 * (test/manifest-parquet.test.ts).
 *
 * Why Parquet rather than Arrow IPC: on a 1M-record manifest it is 8x smaller than Arrow IPC
 * (dictionary pages and Snappy: 18 MB vs 138 MB, vs 317 MB of NDJSON) with less peak memory to
 * write (docs/benchmarks.md, "Columnar manifest form").
 *
 * Layout (COLUMNAR_MANIFEST_VERSION 1): the manifest header (every field but `files`) is the
 * JSON value of the key-value metadata entry `sharemap.manifest`; `sharemap.columnar` holds the
 * columnar version. Paths are split into `dir` (the parent path, dictionary-encoded by the
 * writer as directories repeat) and `name`; fingerprints and digests are raw bytes; numbers are
 * integer columns. Loaded on demand (its own entry point, `@sharemap/erofs/parquet`) so the web
 * bundle does not carry the Parquet library.
 */
import { parquetMetadata, parquetRead } from 'hyparquet';
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';
import { ManifestError } from './errors.js';
import { isParquet } from './manifest-magic.js';
import {
  columnarManifest,
  ManifestColumns,
  newValidatedRecord,
  recordOfValidated,
} from './manifest-columns.js';
import { manifestHeader, ManifestStreamValidator, type ParseManifestOptions } from './manifest.js';
import type { ManifestStringSink } from './manifest-parse.js';
import type { FileRecord, Manifest } from './manifest-types.js';
import { columnSchema, decodeColumnChunk, type DecodedColumn } from './manifest-parquet-columns.js';
import {
  type DecodedGroup,
  GroupRows,
  PARQUET_COLUMN_SHAPES,
  type ParquetColumnName,
} from './manifest-parquet-rows.js';
import { parquetSchema } from 'hyparquet/src/metadata.js';
import { PARQUET_DECOMPRESSORS } from './snappy.js';

export { isParquet };

/** The columnar layout's own version (the manifest's `version` is in the header as usual). */
export const COLUMNAR_MANIFEST_VERSION = 1;
/** Key-value metadata keys of the Parquet file. */
export const PARQUET_HEADER_KEY = 'sharemap.manifest';
export const PARQUET_VERSION_KEY = 'sharemap.columnar';
/** Largest header JSON accepted (the header is small: superblock + device table). */
export const MAX_PARQUET_HEADER_CHARS = 1024 * 1024;

/** Rows per row group: big enough for good compression, small enough to read in pieces. */
const ROW_GROUP_ROWS = 262_144;

/** The column names, in file order (docs/manifest.md lists their types). */
export const PARQUET_MANIFEST_COLUMNS = [
  'dir',
  'name',
  'nid',
  'ino',
  'type',
  'mode',
  'uid',
  'gid',
  'size',
  'nlink',
  'mtime',
  'mtime_nsec',
  'layout',
  'inode_size',
  'xattr_isize',
  'target',
  'rdev_major',
  'rdev_minor',
  'xattrs',
  'fingerprint',
  'sha256',
] as const;

/** ASCII codes of the hex digits. */
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const LATIN1 = new TextDecoder('latin1');

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Node's Buffer, when there (its hex encoder is native); the browser uses the TextDecoder path. */
const NodeBuffer = (
  globalThis as {
    Buffer?: { from(b: ArrayBuffer, off: number, len: number): { toString(enc: 'hex'): string } };
  }
).Buffer;

/**
 * Lower-case hex of `b` as one flat string. A string built by 2n concatenations is a rope that
 * every StringTable lookup and comparison flattens again: that was the largest cost of reading
 * a 1M-record manifest in the profile (docs/benchmarks.md).
 */
function bytesToHex(b: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength).toString('hex');
  return portableHex(b);
}

/** bytesToHex without Node's Buffer (browsers): the digits written as bytes, decoded in one call. Exported for its test. */
export function portableHex(b: Uint8Array): string {
  const out = new Uint8Array(2 * b.length);
  for (let i = 0; i < b.length; i++) {
    out[2 * i] = HEX_DIGITS[b[i]! >> 4]!;
    out[2 * i + 1] = HEX_DIGITS[b[i]! & 15]!;
  }
  return LATIN1.decode(out);
}

/** "/usr/lib/x" -> ["/usr/lib", "x"]; "/x" -> ["/", "x"]; the root "/" -> ["", ""]. */
function splitPath(path: string): [string, string] {
  if (path === '/') return ['', ''];
  const s = path.lastIndexOf('/');
  return [s === 0 ? '/' : path.slice(0, s), path.slice(s + 1)];
}

function joinPath(dir: string, name: string): string {
  if (dir === '' && name === '') return '/';
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** A nid (number or decimal string, up to 2^64 - 1) as the INT64 bit pattern Parquet stores. */
function nidToInt64(nid: number | string): bigint {
  return BigInt.asIntN(64, BigInt(nid));
}

/** The Parquet form of a manifest (what `sharemap scan --format parquet` writes); `rowGroupRows` for tests. */
export function manifestToParquet(m: Manifest, rowGroupRows = ROW_GROUP_ROWS): Uint8Array {
  const buf = parquetWriteBuffer({
    columnData: manifestParquetColumns(m),
    kvMetadata: manifestParquetMetadata(m),
    rowGroupSize: rowGroupRows,
    createdBy: 'sharemap',
  });
  return new Uint8Array(buf);
}

/** The key-value metadata of a manifest's Parquet form (its header and the columnar version). */
export function manifestParquetMetadata(m: Manifest): { key: string; value: string }[] {
  return [
    { key: PARQUET_VERSION_KEY, value: String(COLUMNAR_MANIFEST_VERSION) },
    { key: PARQUET_HEADER_KEY, value: JSON.stringify(manifestHeader(m)) },
  ];
}

/** The columns of a manifest's Parquet form, as hyparquet-writer takes them (tests write them with other options). */
export function manifestParquetColumns(m: Manifest): ColumnSource[] {
  const n = m.files.length;
  const dir: string[] = new Array(n);
  const name: string[] = new Array(n);
  const nid = new BigInt64Array(n);
  const ino: (bigint | null)[] = new Array(n);
  const type: string[] = new Array(n);
  const mode = new Int32Array(n);
  const uid = new BigInt64Array(n);
  const gid = new BigInt64Array(n);
  const size = new BigInt64Array(n);
  const nlink = new BigInt64Array(n);
  const mtime = new BigInt64Array(n);
  const mtimeNsec = new Int32Array(n);
  const layout: string[] = new Array(n);
  const inodeSize = new Int32Array(n);
  const xattrIsize = new Int32Array(n);
  const target: (string | null)[] = new Array(n);
  const rdevMajor: (number | null)[] = new Array(n);
  const rdevMinor: (number | null)[] = new Array(n);
  const xattrs: (string | null)[] = new Array(n);
  const fingerprint: (Uint8Array | null)[] = new Array(n);
  const sha256: (Uint8Array | null)[] = new Array(n);
  // Equal fingerprints (hard links, duplicated files) share one byte array.
  const fpBytes = new Map<string, Uint8Array>();
  for (let i = 0; i < n; i++) {
    const f = m.files[i]!;
    [dir[i], name[i]] = splitPath(f.path);
    nid[i] = nidToInt64(f.nid);
    ino[i] = f.ino === undefined ? null : BigInt(f.ino);
    type[i] = f.type;
    mode[i] = parseInt(f.mode, 8);
    uid[i] = BigInt(f.uid);
    gid[i] = BigInt(f.gid);
    size[i] = BigInt(f.size);
    nlink[i] = BigInt(f.nlink);
    mtime[i] = BigInt(f.mtime);
    mtimeNsec[i] = f.mtime_nsec;
    layout[i] = f.layout;
    inodeSize[i] = f.inode_size;
    xattrIsize[i] = f.xattr_isize;
    target[i] = f.target ?? null;
    rdevMajor[i] = f.rdev ? f.rdev[0] : null;
    rdevMinor[i] = f.rdev ? f.rdev[1] : null;
    // Names are kept in the record's order (byte order, as scan lists them).
    xattrs[i] = Object.keys(f.xattrs).length === 0 ? null : JSON.stringify(f.xattrs);
    if (f.fingerprint === null) fingerprint[i] = null;
    else {
      let b = fpBytes.get(f.fingerprint);
      if (!b) fpBytes.set(f.fingerprint, (b = hexToBytes(f.fingerprint)));
      fingerprint[i] = b;
    }
    sha256[i] = f.sha256 === undefined ? null : hexToBytes(f.sha256);
  }
  return [
    { name: 'dir', data: dir, type: 'STRING', nullable: false },
    { name: 'name', data: name, type: 'STRING', nullable: false },
    { name: 'nid', data: nid, type: 'INT64', nullable: false },
    { name: 'ino', data: ino, type: 'INT64' },
    { name: 'type', data: type, type: 'STRING', nullable: false },
    { name: 'mode', data: mode, type: 'INT32', nullable: false },
    { name: 'uid', data: uid, type: 'INT64', nullable: false },
    { name: 'gid', data: gid, type: 'INT64', nullable: false },
    { name: 'size', data: size, type: 'INT64', nullable: false },
    { name: 'nlink', data: nlink, type: 'INT64', nullable: false },
    { name: 'mtime', data: mtime, type: 'INT64', nullable: false },
    { name: 'mtime_nsec', data: mtimeNsec, type: 'INT32', nullable: false },
    { name: 'layout', data: layout, type: 'STRING', nullable: false },
    { name: 'inode_size', data: inodeSize, type: 'INT32', nullable: false },
    { name: 'xattr_isize', data: xattrIsize, type: 'INT32', nullable: false },
    { name: 'target', data: target, type: 'STRING' },
    { name: 'rdev_major', data: rdevMajor, type: 'INT32' },
    { name: 'rdev_minor', data: rdevMinor, type: 'INT32' },
    { name: 'xattrs', data: xattrs, type: 'STRING' },
    { name: 'fingerprint', data: fingerprint, type: 'BYTE_ARRAY' },
    { name: 'sha256', data: sha256, type: 'BYTE_ARRAY' },
  ];
}

type Column = ArrayLike<unknown>;

/** A bigint column value back to a JS number (throws on values past 2^53: the validator names the field). */
function num(v: unknown): unknown {
  return typeof v === 'bigint' ? (v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v.toString()) : v;
}

function nidValue(v: unknown): unknown {
  if (typeof v !== 'bigint') return v;
  const u = BigInt.asUintN(64, v);
  return u <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(u) : u.toString();
}

function bytesHex(v: unknown, field: string, row: number): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return bytesToHex(v);
  throw new ManifestError(`expected bytes`, row + 2, field);
}

/** The values of rows [from, to) of every manifest column, by column name (hostile files: ManifestError). */
async function readRows(
  file: ArrayBuffer,
  metadata: ReturnType<typeof parquetMetadata>,
  from: number,
  to: number,
): Promise<Map<string, unknown[]>> {
  const cols = new Map<string, unknown[]>();
  for (const c of PARQUET_MANIFEST_COLUMNS) cols.set(c, new Array(to - from));
  try {
    await parquetRead({
      file,
      metadata,
      columns: [...PARQUET_MANIFEST_COLUMNS],
      rowStart: from,
      rowEnd: to,
      // STRING columns decode to strings, plain BYTE_ARRAY stays bytes, INT64 stays bigint.
      utf8: false,
      // Snappy pages through our own decoder: hyparquet's can loop for ever on a hostile page.
      compressors: PARQUET_DECOMPRESSORS,
      onChunk: (chunk) => {
        const col = cols.get(chunk.columnName);
        if (!col) return;
        const data = chunk.columnData as Column;
        if (chunk.rowStart < from || chunk.rowStart + data.length > to)
          throw new Error(`column ${chunk.columnName}: rows out of range`);
        for (let i = 0; i < data.length; i++) col[chunk.rowStart - from + i] = data[i];
      },
    });
  } catch (e) {
    if (e instanceof ManifestError) throw e;
    throw new ManifestError(`bad Parquet file: ${(e as Error).message}`, 0);
  }
  return cols;
}

/**
 * Takes each record's strings as the Parquet reader validates them, instead of the columns
 * keeping them (a manifest thread writes them straight into its handover's byte blobs:
 * `@sharemap/erofs/node` ManifestStringsHandover).
 */
export type ParquetStringSink = Omit<ManifestStringSink, 'addAscii'> &
  /**
   * When there: the records the column path reads with ASCII paths come as bytes instead, never
   * made into strings (the NDJSON reader's sink always has it; a Parquet sink may not).
   */
  Partial<Pick<ManifestStringSink, 'addAscii'>>;

/** How parseParquetManifest reads row groups (tests compare the two paths and check which one ran). */
export interface ParquetReadHow {
  /**
   * Each record's path, fingerprint and sha256 go to this sink; the columns then hold '' for
   * each (null and undefined where there is none), to be replaced by what the sink made. Not
   * with `opts.strings` (the strings are interned where the sink's output is read).
   */
  handOver?: ParquetStringSink;
  /** false: every row group through hyparquet's general reader (default true: the column path where it applies). */
  columnPath?: boolean;
  /** Counts, filled in as the file is read. */
  stats?: { groupsByColumns: number; groupsGeneral: number; rowsFast: number };
}

type ColumnSchemas = Record<ParquetColumnName, NonNullable<ReturnType<typeof columnSchema>>>;

/** Each manifest column's schema when all have the shape sharemap writes (the column path); null otherwise. */
function fastColumnSchemas(metadata: ReturnType<typeof parquetMetadata>): ColumnSchemas | null {
  let tree;
  try {
    tree = parquetSchema(metadata);
  } catch {
    return null;
  }
  const out: Partial<ColumnSchemas> = {};
  for (const [name, shape] of Object.entries(PARQUET_COLUMN_SHAPES)) {
    const s = columnSchema(tree, name, shape);
    if (!s) return null;
    out[name as ParquetColumnName] = s;
  }
  return out as ColumnSchemas;
}

/**
 * Every manifest column of row group `g` decoded (manifest-parquet-columns.ts), or null when a
 * chunk is not of the shape the column path reads: the group is then read by hyparquet's
 * general reader, which gives such files the values and errors they always had.
 */
function decodeGroup(
  file: Uint8Array,
  metadata: ReturnType<typeof parquetMetadata>,
  g: number,
  schemas: ColumnSchemas,
  rows: number,
  previous: DecodedGroup | null,
): DecodedGroup | null {
  const out: Partial<Record<ParquetColumnName, DecodedColumn>> = {};
  try {
    for (const name of PARQUET_MANIFEST_COLUMNS)
      out[name] = decodeColumnChunk(file, metadata, g, name, schemas[name], rows, previous?.[name]);
  } catch {
    // NotColumnar, or a page hyparquet's functions refuse: the general reader names the problem.
    return null;
  }
  return out as DecodedGroup;
}

type ColumnName = (typeof PARQUET_MANIFEST_COLUMNS)[number];

/**
 * The record of row `i` from its column values as hyparquet gives them (strings, bytes, bigints,
 * numbers, null), in the NDJSON form's fields, for the record checks (ManifestStreamValidator).
 */
function rawRecord(get: (column: ColumnName) => unknown, i: number): Record<string, unknown> {
  const line = i + 2;
  const dir = get('dir');
  const name = get('name');
  if (typeof dir !== 'string' || typeof name !== 'string')
    throw new ManifestError('expected a string', line, 'path');
  const m = get('mode');
  const raw: Record<string, unknown> = {
    path: joinPath(dir, name),
    nid: nidValue(get('nid')),
    type: get('type'),
    // Permission bits back to the 4 octal digits of the NDJSON form (range checked there).
    mode: typeof m === 'number' && m >= 0 && m <= 0o7777 ? m.toString(8).padStart(4, '0') : m,
    uid: num(get('uid')),
    gid: num(get('gid')),
    size: num(get('size')),
    nlink: num(get('nlink')),
    mtime: num(get('mtime')),
    mtime_nsec: get('mtime_nsec'),
    layout: get('layout'),
    inode_size: get('inode_size'),
    xattr_isize: get('xattr_isize'),
    fingerprint: bytesHex(get('fingerprint'), 'fingerprint', i),
  };
  const ino = get('ino');
  if (ino !== null && ino !== undefined) raw.ino = num(ino);
  const target = get('target');
  if (target !== null && target !== undefined) raw.target = target;
  const major = get('rdev_major');
  if (major !== null && major !== undefined) raw.rdev = [major, get('rdev_minor')];
  const x = get('xattrs');
  if (x === null || x === undefined) raw.xattrs = {};
  else {
    if (typeof x !== 'string') throw new ManifestError('expected JSON text', line, 'xattrs');
    try {
      raw.xattrs = JSON.parse(x);
    } catch (e) {
      throw new ManifestError(`invalid JSON: ${(e as Error).message}`, line, 'xattrs');
    }
  }
  const digest = bytesHex(get('sha256'), 'sha256', i);
  if (digest !== null) raw.sha256 = digest;
  return raw;
}

/**
 * The manifest header a Parquet manifest's footer carries (its `sharemap.manifest` metadata,
 * parsed but not validated), from the file's last bytes (`tail`: at least the footer, its
 * length and the closing magic); undefined when they hold no such header. For a hint before
 * reading (the records a file declares), never for what the reader accepts.
 */
export function parquetFooterHeader(tail: Uint8Array): unknown {
  try {
    const kv = parquetMetadata(tail).key_value_metadata ?? [];
    const text = kv.find((e) => e.key === PARQUET_HEADER_KEY)?.value;
    return text === undefined || text.length > MAX_PARQUET_HEADER_CHARS
      ? undefined
      : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

/**
 * Read and validate a manifest in Parquet form (untrusted input): the header and every record
 * go through the checks of parseManifest (ManifestStreamValidator), so what this accepts is
 * exactly what the NDJSON form of the same manifest gives. Errors are ManifestError; `line` is
 * the record's row + 2, the line the record has in the NDJSON form.
 */
export async function parseParquetManifest(
  bytes: Uint8Array,
  opts: ParseManifestOptions = {},
  how: ParquetReadHow = {},
): Promise<Manifest> {
  if (!isParquet(bytes)) throw new ManifestError('not a Parquet file (no PAR1 magic)', 0);
  // hyparquet reads an ArrayBuffer: the bytes' own when they are all of it (a whole file read
  // into one buffer), else a copy (17 MB a 1M-record manifest, alive while it is read).
  const file =
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
      ? bytes.buffer
      : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  let metadata: ReturnType<typeof parquetMetadata>;
  try {
    metadata = parquetMetadata(file);
  } catch (e) {
    throw new ManifestError(`bad Parquet file: ${(e as Error).message}`, 0);
  }
  const kv = new Map((metadata.key_value_metadata ?? []).map((e) => [e.key, e.value]));
  const version = kv.get(PARQUET_VERSION_KEY);
  if (version !== String(COLUMNAR_MANIFEST_VERSION))
    throw new ManifestError(
      version === undefined
        ? `not a sharemap manifest (no ${PARQUET_VERSION_KEY} metadata)`
        : `unsupported columnar manifest version ${JSON.stringify(version).slice(0, 40)} (this reader knows ${COLUMNAR_MANIFEST_VERSION})`,
      1,
    );
  const headerText = kv.get(PARQUET_HEADER_KEY);
  if (headerText === undefined || headerText.length > MAX_PARQUET_HEADER_CHARS)
    throw new ManifestError(`missing or oversized ${PARQUET_HEADER_KEY} metadata`, 1);
  let rawHeader: unknown;
  try {
    rawHeader = JSON.parse(headerText);
  } catch (e) {
    throw new ManifestError(`invalid header JSON: ${(e as Error).message}`, 1);
  }
  const validator = new ManifestStreamValidator(opts);
  const header = validator.header(rawHeader, 1);
  const rows = Number(metadata.num_rows);
  // The header's file_count is bounded by maxRecords; the rows must match before anything is decoded.
  if (rows !== header.file_count)
    throw new ManifestError(
      `file_count is ${header.file_count} but the file has ${rows} rows`,
      1,
      'file_count',
    );
  const names = new Set(metadata.schema.slice(1).map((s) => s.name));
  for (const c of PARQUET_MANIFEST_COLUMNS)
    if (!names.has(c)) throw new ManifestError(`missing column ${c}`, 1, c);

  const strings = opts.strings;
  // Columnar: the validated fields go straight into the columns (docs/manifest.md#columnar-in-memory-form).
  const columns = opts.columnar === true ? new ManifestColumns(rows) : null;
  // Both paths intern record i's fingerprint at slot 3i + 1 (GroupRows.fast, the record checks):
  // the columns carry its index, and the engine takes its fingerprint ids from the table
  // instead of hashing every fingerprint again (docs/manifest.md#fingerprint-ids).
  if (columns && strings) columns.internedIn(strings);
  const sink = how.handOver;
  /** Paths kept as bytes (ParseManifestOptions.pathBytes): not interned, no string made on the column path. */
  const pathBytes = opts.pathBytes === true && columns !== null && !sink;
  if (pathBytes) columns.pathsAsBytes();
  const files: FileRecord[] = columns ? [] : new Array(rows);
  const scratch = newValidatedRecord();
  if (sink) {
    if (!columns || strings)
      throw new Error('parseParquetManifest: handOver takes columns without a StringTable');
    sink.begin(rows);
  }
  const take = (i: number): void => {
    if (sink) {
      // The strings go to the sink; the columns keep placeholders (one shared '' each).
      sink.add(scratch.path, scratch.fingerprint, scratch.sha256);
      scratch.path = '';
      if (scratch.fingerprint !== null) scratch.fingerprint = '';
      if (scratch.sha256 !== undefined) scratch.sha256 = '';
    }
    if (columns) columns.push(scratch);
    else files[i] = recordOfValidated(scratch);
  };
  // The column path decodes files of the shape sharemap writes (METABOX manifests, whose ino and
  // nid rules only the record checks know, take the general one).
  const metabox = header.superblock.feature_incompat.includes('metabox');
  const shapes = metabox || how.columnPath === false ? null : fastColumnSchemas(metadata);
  const stats = how.stats;
  /** The column path leaves ASCII strings as bytes for a sink that takes them. */
  const spans = sink?.addAscii !== undefined;
  const u8 = new Uint8Array(file);
  // One row group at a time: only its decoded values are alive at once, not those of every row.
  let from = 0;
  let previousGroup: DecodedGroup | null = null;
  for (let g = 0; g < metadata.row_groups.length; g++) {
    const to = Math.min(rows, from + Number(metadata.row_groups[g]!.num_rows));
    if (to <= from) continue;
    // The previous group's arrays are reused: its records are in `columns` or `files` by now.
    const decoded: DecodedGroup | null = shapes
      ? decodeGroup(u8, metadata, g, shapes, to - from, previousGroup)
      : null;
    if (decoded) {
      previousGroup = decoded;
      const group = new GroupRows(decoded, header.hashed, strings, scratch, spans, pathBytes);
      if (stats) stats.groupsByColumns++;
      for (let i = from; i < to; i++) {
        if (group.fast(i - from, i)) {
          if (stats) stats.rowsFast++;
          if (group.spanned) {
            // The strings stay bytes (group.buf): order checked on them, copied by the sink.
            validator.acceptCheckedAscii(group.buf, 0, group.pathEnd, i + 2);
            sink!.addAscii!(group.buf, 0, group.pathEnd, group.fpStart, group.fpEnd, group.shaStart);
            columns!.push(scratch);
            continue;
          }
          if (group.pathSpanned) {
            // The path stays bytes (group.buf): order checked on them, copied into the PathStore.
            validator.acceptCheckedAscii(group.buf, 0, group.pathEnd, i + 2);
            columns!.pushAsciiPath(group.buf, 0, group.pathEnd, scratch);
            continue;
          }
          validator.acceptChecked(scratch.path, i + 2);
        } else
          validator.recordInto(
            rawRecord((k) => group.value(k, i - from), i),
            i + 2,
            scratch,
            strings,
            !pathBytes,
          );
        take(i);
      }
    } else {
      if (stats) stats.groupsGeneral++;
      const cols = await readRows(file, metadata, from, to);
      for (let i = from; i < to; i++) {
        const j = i - from;
        validator.recordInto(
          rawRecord((k) => cols.get(k)![j], i),
          i + 2,
          scratch,
          strings,
          !pathBytes,
        );
        take(i);
      }
    }
    from = to;
  }
  if (from !== rows) throw new ManifestError(`the row groups hold ${from} of ${rows} rows`, 0);
  validator.end();
  return columns ? columnarManifest(header, columns) : { ...header, files };
}
