/**
 * Column-chunk decoding of a Parquet manifest (docs/manifest.md#columnar-form-parquet): the pages
 * of each column chunk of one row group are decoded with hyparquet's page functions (page
 * headers, decompression, PLAIN and RLE/bit-packed values) into flat typed arrays, without
 * hyparquet's row assembly (a JS value per row, then an array of them, then a record object per
 * row: most of the time and garbage of reading a 1M-record manifest, docs/benchmarks.md).
 *
 * Byte-array columns keep one entry per dictionary entry and an id per row (`ids`), so what is
 * derived from a value (its string, its hash, its type code) is computed once per dictionary
 * entry, not once per row. Integer columns become numbers per row (exact below 2^53; larger ones
 * are kept as bigints for the record checks to name).
 *
 * Only the shapes sharemap writes are decoded here (flat columns of the documented physical
 * types, PLAIN or dictionary pages, no compression or Snappy): anything else throws
 * NotColumnar and the caller reads that row group through hyparquet's general reader, whose
 * values and errors are those of every reader before this one.
 */
import { parquetHeader } from 'hyparquet/src/column.js';
import { decompressPage, readDataPage } from 'hyparquet/src/datapage.js';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { readPlain } from 'hyparquet/src/plain.js';
import type { parquetMetadata } from 'hyparquet';
import type { ColumnDecoder, DecodedArray, SchemaElement, SchemaTree } from 'hyparquet/src/types.js';
import { PARQUET_DECOMPRESSORS, snappyDecodeInto } from './snappy.js';

type FileMetaData = ReturnType<typeof parquetMetadata>;

/** Thrown when a column chunk is not one this decoder reads (the general reader takes the group). */
export class NotColumnar extends Error {}

/**
 * A BYTE_ARRAY column of one row group: value ids per row (-1: null) into its values (the
 * dictionaries' entries, then every PLAIN value, each once). Value `id` is the bytes
 * bufs[buf[id]][start[id], end[id]): offsets into the pages, not a Uint8Array view per value
 * (a million of them a file for the fingerprints, each an object for the collector:
 * docs/benchmarks.md#parquet-pair-the-parquet-read-without-garbage-2026-12-07).
 */
export interface ByteColumn {
  kind: 'bytes';
  ids: Int32Array;
  /** How many values. */
  count: number;
  /** By value id: the index of its page in `bufs`, and where it starts and ends there. */
  buf: Int32Array;
  start: Int32Array;
  end: Int32Array;
  /** The pages (or the whole file's bytes) the values are in. */
  bufs: Uint8Array[];
  /**
   * Snappy PLAIN pages are decompressed into this column's own buffer, one after the other,
   * reused by the next row group (its values are read by then): `storeAt` bytes are in use.
   */
  store: Uint8Array;
  storeAt: number;
}

/** Value `id` of a byte column as a view (the slow path's and the strings' accessor; the row loop reads the offsets). */
export function byteValue(c: ByteColumn, id: number): Uint8Array {
  return c.bufs[c.buf[id]!]!.subarray(c.start[id]!, c.end[id]!);
}

/** Room for `more` values past `count`. */
function moreValues(c: ByteColumn, more: number): void {
  const want = c.count + more;
  if (want <= c.start.length) return;
  const size = Math.max(want, 2 * c.start.length, 64);
  const grow = (a: Int32Array): Int32Array => {
    const b = new Int32Array(size);
    b.set(a.subarray(0, c.count));
    return b;
  };
  c.buf = grow(c.buf);
  c.start = grow(c.start);
  c.end = grow(c.end);
}

/**
 * `count` PLAIN byte-array values (a u32 length, then the bytes, each) at `at` in `page`,
 * appended to the column's values as offsets; throws NotColumnar when they overrun the page
 * (where hyparquet's readPlain throws a RangeError: the general reader then gives its error).
 */
function appendPlainBytes(c: ByteColumn, page: Uint8Array, at: number, count: number, name: string): void {
  moreValues(c, count);
  const b = c.bufs.length;
  c.bufs.push(page);
  const { buf, start, end } = c;
  const limit = page.length;
  let v = c.count;
  for (let k = 0; k < count; k++, v++) {
    if (at + 4 > limit) throw new NotColumnar(`column ${name}: values past the page`);
    const len = (page[at]! | (page[at + 1]! << 8) | (page[at + 2]! << 16) | (page[at + 3]! << 24)) >>> 0;
    at += 4;
    if (len > limit - at) throw new NotColumnar(`column ${name}: values past the page`);
    buf[v] = b;
    start[v] = at;
    end[v] = at + len;
    at += len;
  }
  c.count = v;
}

/** Values given as views (hyparquet's v1 data pages), appended as offsets into their own buffers. */
function appendViews(c: ByteColumn, values: DecodedArray, count: number): void {
  moreValues(c, count);
  for (let k = 0; k < count; k++) {
    const u = values[k] as Uint8Array;
    if (!(u instanceof Uint8Array)) throw new NotColumnar('unexpected byte value');
    c.buf[c.count] = c.bufs.length;
    c.bufs.push(u);
    c.start[c.count] = 0;
    c.end[c.count] = u.length;
    c.count++;
  }
}

/** `size` bytes of the column's store for a page decompressed into it (grown: a new buffer, the old one kept in `bufs`). */
function storeRoom(c: ByteColumn, size: number): Uint8Array {
  if (c.storeAt + size > c.store.length) {
    c.store = new Uint8Array(Math.max(size, 2 * c.store.length, 1 << 16));
    c.storeAt = 0;
  }
  const into = c.store.subarray(c.storeAt, c.storeAt + size);
  c.storeAt += size;
  return into;
}

/** Row states of an integer column. */
export const INT_OK = 0;
export const INT_NULL = 1;
/** An INT64 at or beyond +-2^53: its exact value is in `big`. */
export const INT_BIG = 2;

/** An INT32 or INT64 column of one row group: the value of each row as a number. */
export interface IntColumn {
  kind: 'int';
  /** INT64 (hyparquet gives bigints) rather than INT32 (numbers). */
  int64: boolean;
  num: Float64Array;
  state: Uint8Array;
  big: Map<number, bigint>;
}

export type DecodedColumn = ByteColumn | IntColumn;

/** The physical type and logical kind a manifest column must have to be decoded here. */
export type ColumnShape = 'string' | 'bytes' | 'int32' | 'int64';

/** Whether the platform stores typed arrays little-endian (INT64 halves read as two Int32s). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO_32 = 4294967296;

/**
 * The schema element of a top-level column, when it has `shape` exactly as sharemap writes it
 * (and as hyparquet turns into strings, bytes or plain numbers); null otherwise.
 */
export function columnSchema(
  tree: SchemaTree,
  name: string,
  shape: ColumnShape,
): { element: SchemaElement; path: SchemaTree[] } | null {
  const node = tree.children.find((c) => c.element.name === name);
  if (!node || node.children.length > 0) return null;
  const e = node.element;
  if (e.repetition_type !== 'REQUIRED' && e.repetition_type !== 'OPTIONAL') return null;
  const ctype = e.converted_type;
  const ltype = e.logical_type?.type;
  switch (shape) {
    case 'string':
      if (e.type !== 'BYTE_ARRAY' || !(ctype === 'UTF8' || ltype === 'STRING')) return null;
      if (ctype !== undefined && ctype !== 'UTF8') return null;
      if (ltype !== undefined && ltype !== 'STRING') return null;
      break;
    case 'bytes':
      if (e.type !== 'BYTE_ARRAY' || ctype !== undefined || ltype !== undefined) return null;
      break;
    case 'int32':
    case 'int64':
      if (e.type !== (shape === 'int32' ? 'INT32' : 'INT64') || ctype !== undefined || ltype !== undefined)
        return null;
      break;
  }
  return { element: e, path: [tree, node] };
}

/**
 * Decodes the chunk of column `name` of row group `group` (rows [0, rows)) from the whole file.
 * Throws NotColumnar for anything but flat PLAIN/dictionary pages of exactly `rows` values.
 */
export function decodeColumnChunk(
  file: Uint8Array,
  metadata: FileMetaData,
  group: number,
  name: string,
  schema: { element: SchemaElement; path: SchemaTree[] },
  rows: number,
  reuse?: DecodedColumn,
): DecodedColumn {
  const chunks = metadata.row_groups[group]!.columns.filter((c) => c.meta_data?.path_in_schema[0] === name);
  if (chunks.length !== 1) throw new NotColumnar(`column ${name}: ${chunks.length} chunks`);
  const chunk = chunks[0]!;
  const meta = chunk.meta_data!;
  if (chunk.file_path || meta.path_in_schema.length !== 1 || meta.type !== schema.element.type)
    throw new NotColumnar(`column ${name}: unexpected chunk`);
  if (meta.codec !== 'UNCOMPRESSED' && meta.codec !== 'SNAPPY') throw new NotColumnar(`codec ${meta.codec}`);
  // Where hyparquet starts a chunk (rowgroup.js: dictionary page offset, else the first data page).
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  const end = start + Number(meta.total_compressed_size);
  if (!(start >= 0 && end <= file.length && end > start))
    throw new NotColumnar(`column ${name}: chunk out of file`);
  const reader = { view: new DataView(file.buffer, file.byteOffset + start, end - start), offset: 0 };
  const decoder: ColumnDecoder = {
    pathInSchema: meta.path_in_schema,
    type: meta.type,
    element: schema.element,
    schemaPath: schema.path,
    codec: meta.codec,
    parsers: DEFAULT_PARSERS,
    utf8: false,
  };
  const optional = schema.element.repetition_type === 'OPTIONAL';
  const out = newColumn(meta.type, rows, reuse);
  // A byte column's store sized once for the chunk's pages (a hint: capped, grown if short).
  if (out.kind === 'bytes' && out.store.length === 0 && meta.codec === 'SNAPPY') {
    const hint = Number(meta.total_uncompressed_size);
    if (hint > 0) out.store = new Uint8Array(Math.min(hint, MAX_STORE_HINT));
  }
  let dictionary: DecodedArray | null = null;
  /** The dictionary's number of entries (-1: no dictionary page yet). */
  let dictionarySize = -1;
  /** An integer column's dictionary entries as numbers (converted once per chunk, not per page). */
  let dictInts: IntColumn | null = null;
  /** Where this chunk's dictionary entries start in a byte column's `values`. */
  let dictBase = 0;
  let row = 0;
  while (row < rows) {
    if (reader.offset >= reader.view.byteLength - 1) throw new NotColumnar(`column ${name}: too few values`);
    const header = parquetHeader(reader);
    const size = header.compressed_page_size;
    if (!(size >= 0 && reader.offset + size <= reader.view.byteLength))
      throw new NotColumnar(`column ${name}: page out of chunk`);
    const compressed = new Uint8Array(reader.view.buffer, reader.view.byteOffset + reader.offset, size);
    reader.offset += size;
    if (header.type === 'DICTIONARY_PAGE') {
      const dph = header.dictionary_page_header;
      if (!dph || dictionarySize >= 0) throw new NotColumnar(`column ${name}: second dictionary`);
      const page = decompressPage(
        compressed,
        Number(header.uncompressed_page_size),
        meta.codec,
        PARQUET_DECOMPRESSORS,
      );
      if (out.kind === 'bytes') {
        // The entries as offsets into the page (readPlain would make a view per entry).
        if (!(dph.num_values >= 0)) throw new NotColumnar(`column ${name}: dictionary size`);
        dictBase = out.count;
        appendPlainBytes(out, page, 0, dph.num_values, name);
        dictionarySize = dph.num_values;
        continue;
      }
      const view = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
      dictionary = readPlain(view, meta.type, dph.num_values, schema.element.type_length);
      dictionarySize = dictionary.length;
      continue;
    }
    let levels: ArrayLike<number> | undefined;
    let values: DecodedArray;
    /** A byte column's value count before this page (its PLAIN values are appended from here). */
    const valuesBefore = out.kind === 'bytes' ? out.count : 0;
    let encoding: string;
    let count: number;
    if (header.type === 'DATA_PAGE' && header.data_page_header) {
      const dph = header.data_page_header;
      const page = decompressPage(
        compressed,
        Number(header.uncompressed_page_size),
        meta.codec,
        PARQUET_DECOMPRESSORS,
      );
      ({ definitionLevels: levels, dataPage: values } = readDataPage(page, dph, decoder));
      encoding = dph.encoding;
      count = dph.num_values;
    } else if (header.type === 'DATA_PAGE_V2' && header.data_page_header_v2) {
      const dph = header.data_page_header_v2;
      if (!(dph.num_values >= 0 && row + dph.num_values <= rows))
        throw new NotColumnar(`column ${name}: too many values`);
      // PLAIN byte values are decompressed into the column's store and kept there as offsets
      // until the group is read; any other page may use the shared scratch buffer.
      ({ levels, values } = readPageV2(
        compressed,
        header,
        decoder,
        optional,
        out.kind === 'bytes' && dph.encoding === 'PLAIN' ? out : null,
        name,
      ));
      encoding = dph.encoding;
      count = dph.num_values;
      if (dph.num_rows !== count) throw new NotColumnar(`column ${name}: rows and values differ`);
    } else throw new NotColumnar(`column ${name}: page type ${header.type}`);
    const dictionaryEncoded = encoding === 'PLAIN_DICTIONARY' || encoding === 'RLE_DICTIONARY';
    if (!dictionaryEncoded && encoding !== 'PLAIN') throw new NotColumnar(`encoding ${encoding}`);
    if (dictionaryEncoded && dictionarySize < 0) throw new NotColumnar(`column ${name}: no dictionary`);
    if (!(count >= 0 && row + count <= rows)) throw new NotColumnar(`column ${name}: too many values`);
    const present = levels && levels.length > 0 ? levels : undefined;
    if (present && (!optional || present.length !== count)) throw new NotColumnar(`column ${name}: levels`);
    let nonNull = count;
    if (present) for (let k = 0; k < count; k++) if (present[k] !== 1) nonNull--;
    // A v2 page's PLAIN byte values are in the column already (readPageV2: PLAIN_APPENDED).
    const given =
      values === PLAIN_APPENDED && out.kind === 'bytes' ? out.count - valuesBefore : values.length;
    if (given < nonNull) throw new NotColumnar(`column ${name}: too few values`);
    if (out.kind === 'bytes') {
      let base = dictBase;
      if (!dictionaryEncoded) {
        // Value k of the page is value base + k (a v1 page's are hyparquet's views, appended here).
        base = valuesBefore;
        if (values !== PLAIN_APPENDED) appendViews(out, values, nonNull);
      }
      scatterIds(
        out.ids,
        row,
        count,
        present,
        dictionaryEncoded ? values : null,
        base,
        dictionaryEncoded ? dictionarySize : nonNull,
        name,
      );
    } else if (dictionaryEncoded) {
      // Each dictionary entry converted once per chunk, then copied to its rows.
      dictInts ??= intColumnOf(dictionary!, dictionary!.length, meta.type === 'INT64');
      if (!(values instanceof Int32Array)) throw new NotColumnar(`column ${name}: dictionary ids`);
      putDictionaryInts(out, row, count, present, values, dictInts, name);
    } else {
      const page = intColumnOf(values, nonNull, meta.type === 'INT64');
      for (let k = 0, v = 0; k < count; k++) {
        if (present && present[k] !== 1) {
          out.state[row + k] = INT_NULL;
          continue;
        }
        out.num[row + k] = page.num[v]!;
        const st = page.state[v]!;
        if (st !== INT_OK) {
          out.state[row + k] = st;
          out.big.set(row + k, page.big.get(v)!);
        }
        v++;
      }
    }
    row += count;
  }
  return out;
}

/**
 * Buffers reused from page to page (decoding is synchronous, and a page's levels, dictionary
 * ids and, for integer columns, decompressed bytes are consumed before the next page is read):
 * fresh arrays of a page's size for each, hundreds of MB over a 1M-record manifest, cost page
 * faults and collections (docs/benchmarks.md).
 */
/** The most a chunk's claimed size reserves for a byte column's store up front (it grows past it if needed). */
const MAX_STORE_HINT = 32 << 20;

/** readPageV2's answer for PLAIN byte values: appended to the column as offsets, no array made. */
const PLAIN_APPENDED = [] as unknown as DecodedArray;

let scratchPage = new Uint8Array(1 << 16);
let scratchLevels = new Uint8Array(1 << 12);
let scratchIds = new Int32Array(1 << 12);

function pageBuffer(size: number): Uint8Array {
  if (scratchPage.length < size) scratchPage = new Uint8Array(Math.max(size, 2 * scratchPage.length));
  return scratchPage.subarray(0, size);
}

/**
 * hyparquet's readDataPageV2 for a flat column (no repetition levels; definition levels of
 * width 1 when `optional`), giving the levels and dictionary ids as typed arrays (its arrays
 * are untyped, one per page, and every loop over them polymorphic) and decompressing Snappy
 * into the scratch buffer unless `keep`. The values are hyparquet's own (the same functions on
 * the same bytes: RLE/bit-packed ids are int32 arithmetic either way); encodings other than
 * PLAIN and dictionary are not read here.
 */
function readPageV2(
  compressed: Uint8Array,
  ph: ReturnType<typeof parquetHeader>,
  decoder: ColumnDecoder,
  optional: boolean,
  bytes: ByteColumn | null,
  name: string,
): { levels: Uint8Array | undefined; values: DecodedArray } {
  const daph2 = ph.data_page_header_v2!;
  const reader = {
    view: new DataView(compressed.buffer, compressed.byteOffset, compressed.byteLength),
    offset: daph2.repetition_levels_byte_length,
  };
  let levels: Uint8Array | undefined;
  if (optional) {
    if (scratchLevels.length < daph2.num_values)
      scratchLevels = new Uint8Array(Math.max(daph2.num_values, 2 * scratchLevels.length));
    levels = scratchLevels.subarray(0, daph2.num_values);
    readRleBitPackedHybrid(reader, 1, levels, daph2.definition_levels_byte_length);
  }
  const size =
    ph.uncompressed_page_size - daph2.definition_levels_byte_length - daph2.repetition_levels_byte_length;
  if (!(size >= 0)) throw new NotColumnar('negative page size');
  let page = compressed.subarray(reader.offset);
  if (daph2.is_compressed !== false && size) {
    if (decoder.codec === 'SNAPPY') {
      // PLAIN byte values stay where they are decompressed until the group is read: into the
      // column's own store (reused by the next group), not the page scratch or a new buffer.
      const into = bytes ? storeRoom(bytes, size) : pageBuffer(size);
      snappyDecodeInto(page, into);
      page = into;
    } else page = decompressPage(page, size, decoder.codec, PARQUET_DECOMPRESSORS);
  }
  const nValues = daph2.num_values - daph2.num_nulls;
  const encoding = daph2.encoding;
  if (bytes && encoding === 'PLAIN') {
    if (!(nValues >= 0)) throw new NotColumnar('negative value count');
    appendPlainBytes(bytes, page, 0, nValues, name);
    return { levels, values: PLAIN_APPENDED };
  }
  const pageReader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
  if (encoding === 'PLAIN')
    return { levels, values: readPlain(pageReader, decoder.type, nValues, decoder.element.type_length) };
  if (encoding !== 'PLAIN_DICTIONARY' && encoding !== 'RLE_DICTIONARY')
    throw new NotColumnar(`encoding ${encoding}`);
  const width = pageReader.view.getUint8(pageReader.offset++);
  if (!(nValues >= 0)) throw new NotColumnar('negative value count');
  if (scratchIds.length < nValues) scratchIds = new Int32Array(Math.max(nValues, 2 * scratchIds.length));
  const ids = scratchIds.subarray(0, nValues);
  readRleBitPackedHybrid(pageReader, width, ids, size - 1);
  return { levels, values: ids };
}

/**
 * Rows [row, row + count) of an integer column from dictionary ids (`ids`, one per non-null
 * row) into the dictionary's entries as numbers; null where a level says so.
 */
function putDictionaryInts(
  out: IntColumn,
  row: number,
  count: number,
  present: ArrayLike<number> | undefined,
  ids: Int32Array,
  entries: IntColumn,
  name: string,
): void {
  const { num, state } = out;
  const entryNum = entries.num;
  const limit = entryNum.length;
  const exact = entries.big.size === 0;
  for (let k = 0, v = 0; k < count; k++) {
    if (present !== undefined && present[k] !== 1) {
      state[row + k] = INT_NULL;
      continue;
    }
    const id = ids[v++]!;
    if (!(id >= 0 && id < limit)) throw new NotColumnar(`column ${name}: dictionary index out of range`);
    num[row + k] = entryNum[id]!;
    if (!exact) {
      const st = entries.state[id]!;
      if (st !== INT_OK) {
        state[row + k] = st;
        out.big.set(row + k, entries.big.get(id)!);
      }
    }
  }
}

/**
 * An empty column for `rows` rows, in `reuse`'s arrays when they are big enough (the previous row
 * group's: tens of MB of typed arrays a group, which would otherwise be garbage at every group).
 */
function newColumn(type: string, rows: number, reuse?: DecodedColumn): DecodedColumn {
  if (type === 'BYTE_ARRAY') {
    // The previous group's offsets and store are reused (its rows are read by now); its pages are let go.
    if (reuse?.kind === 'bytes' && reuse.ids.length >= rows)
      return {
        kind: 'bytes',
        ids: reuse.ids,
        count: 0,
        buf: reuse.buf,
        start: reuse.start,
        end: reuse.end,
        bufs: [],
        store: reuse.store,
        storeAt: 0,
      };
    const none = new Int32Array(0);
    return {
      kind: 'bytes',
      ids: new Int32Array(rows),
      count: 0,
      buf: none,
      start: none,
      end: none,
      bufs: [],
      store: new Uint8Array(0),
      storeAt: 0,
    };
  }
  if (type === 'INT32' || type === 'INT64') {
    const int64 = type === 'INT64';
    if (reuse?.kind === 'int' && reuse.num.length >= rows) {
      reuse.state.fill(INT_OK, 0, rows);
      reuse.big.clear();
      // The literal's shape, not a spread's: fast() reads 13 of these per row (one hidden class,
      // monomorphic loads; a spread made a second class, and those loads were the row loop's
      // largest cost in the profile).
      return { kind: 'int', int64, num: reuse.num, state: reuse.state, big: reuse.big };
    }
    return { kind: 'int', int64, num: new Float64Array(rows), state: new Uint8Array(rows), big: new Map() };
  }
  throw new NotColumnar(`type ${type}`);
}

/**
 * Ids [row, row + count) of `ids`: -1 where a definition level says null, else `base` + the
 * value's position (PLAIN: in order) or its dictionary index (`indices`), which must be < `limit`.
 */
function scatterIds(
  ids: Int32Array,
  row: number,
  count: number,
  present: ArrayLike<number> | undefined,
  indices: DecodedArray | null,
  base: number,
  limit: number,
  name: string,
): void {
  if (!present && indices) {
    for (let k = 0; k < count; k++) {
      const id = indices[k] as number;
      if (!(id >= 0 && id < limit)) throw new NotColumnar(`column ${name}: dictionary index out of range`);
      ids[row + k] = base + id;
    }
    return;
  }
  for (let k = 0, v = 0; k < count; k++) {
    if (present && present[k] !== 1) {
      ids[row + k] = -1;
      continue;
    }
    const id = indices ? (indices[v++] as number) : v++;
    if (!(id >= 0 && id < limit)) throw new NotColumnar(`column ${name}: dictionary index out of range`);
    ids[row + k] = base + id;
  }
}

/** The first `count` values of a decoded Int32Array or BigInt64Array as an IntColumn (no nulls). */
function intColumnOf(source: DecodedArray, count: number, int64: boolean): IntColumn {
  const out: IntColumn = {
    kind: 'int',
    int64,
    num: new Float64Array(count),
    state: new Uint8Array(count),
    big: new Map(),
  };
  if (count === 0) return out; // an all-null page: readPlain gives []
  if (source instanceof Int32Array && !int64) {
    out.num.set(source.subarray(0, count));
    return out;
  }
  if (!(source instanceof BigInt64Array) || !int64) throw new NotColumnar('unexpected integer array');
  const halves = LITTLE_ENDIAN ? new Int32Array(source.buffer, source.byteOffset, 2 * source.length) : null;
  for (let k = 0; k < count; k++) {
    if (halves) {
      const hi = halves[2 * k + 1]!;
      // |value| < 2^53: exact as a number without making a bigint.
      if (hi >= -0x200000 && hi < 0x200000) {
        out.num[k] = hi * TWO_32 + (halves[2 * k]! >>> 0);
        continue;
      }
    }
    const v = source[k]!;
    if (v > -(2n ** 53n) && v < 2n ** 53n) out.num[k] = Number(v);
    else {
      out.state[k] = INT_BIG;
      out.big.set(k, v);
    }
  }
  return out;
}

/** The value hyparquet's reader gives for row `row` (utf8: false): what the record checks see. */
export function intValue(c: IntColumn, row: number): bigint | number | null {
  const s = c.state[row]!;
  if (s === INT_NULL) return null;
  if (s === INT_BIG) return c.big.get(row)!;
  return c.int64 ? BigInt(c.num[row]!) : c.num[row]!;
}
