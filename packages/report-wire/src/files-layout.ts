/**
 * The sharemap-files encoding's layout (files.ts has the format): the sections of a handover
 * (`filesHandover` of files.ts: the report's strings already codes and bytes) in their
 * narrowest form, the header and the pieces. Numbers only, and no import: the server's files
 * worker (apps/server scan/files-worker.ts) loads this module alone, not the sharing engine.
 */
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

export type IntArray = Uint8Array | Uint16Array | Uint32Array | Int32Array;
export type NumArray = IntArray | Float64Array;

export const CTORS = {
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

const enc = new TextEncoder();

/** Padding between sections (fewer than 8 bytes, zeros). */
const PADDING = new Uint8Array(8);

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

/**
 * A column of the encoding before its layout: `numeric` values are stored in their narrowest
 * form (`numericSection`), `raw` ones as they are (u8 codes and bytes, or UTF-8 chunks).
 */
export type HandoverColumn =
  | { name: string; numeric: ArrayLike<number>; delta?: boolean }
  | { name: string; raw: Uint8Array | Uint8Array[] };

/**
 * What the encoding needs of a report once its strings are codes and bytes (`filesHandover`):
 * the columns in section order and the header's lists. With `transfer`, every typed array in it
 * owns its buffer (a copy of the report's column, or made for it) and `transfer` lists those
 * buffers once each, so it can be posted to a worker thread without a copy
 * (apps/server scan/files-worker.ts); the rest of the encoding, `encodeFilesHandover`, is
 * numbers only.
 */
export interface FilesHandover {
  header: Omit<FilesHeader, 'sections' | 'fingerprintList'>;
  /** The fingerprints when they are not all lower-case hex (`header.fingerprints` is `list`). */
  fingerprintList?: string[];
  columns: HandoverColumn[];
  /** The buffers of the columns (only from `filesHandover(report, { transfer: true })`). */
  transfer?: ArrayBuffer[];
}

/**
 * The encoding of a handover (`filesHandover`): each numeric column in its narrowest form, the
 * layout and the header. Numbers only: it runs where the handover was posted to (a worker
 * thread) or where it was made.
 */
export function encodeFilesHandover(handover: FilesHandover): FilesEncoding {
  const sections: PendingSection[] = handover.columns.map((c) =>
    'raw' in c
      ? { name: c.name, data: c.raw }
      : numericSection(c.name, c.numeric, c.delta ? { delta: true } : {}),
  );

  // Layout.
  // The header's keys in the order the encoder always wrote them (the list, when present, last).
  const header: FilesHeader = { ...handover.header, sections: [] };
  if (handover.fingerprintList) header.fingerprintList = handover.fingerprintList;
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
