/**
 * A manifest's columns handed from one thread to another (node:worker_threads): the typed
 * columns move as they are (their buffers transferred, not copied), the strings (paths,
 * fingerprints, sha256s) as one byte blob per field with each record's end offset, and the
 * few sparse fields (decimal-string nids, symlink targets, devices, listed xattrs) as lists of
 * entries. The receiving thread interns the strings into its own StringTable as the parsers
 * would have, record by record (docs/manifest.md#reading-manifests-on-threads).
 *
 * Why not the stored columnar form (manifest-columns-codec.ts): that one is UTF-8, so a path
 * with a lone surrogate (which NDJSON can carry as "\udXXX") cannot be in it, and its reader
 * interns a whole column before the next, in another order than the parsers. Here a string that
 * is not ASCII travels as UTF-16 code units, which keep every string exactly, and the strings
 * are interned in the parsers' order (path, fingerprint, sha256 of record 0, then of record 1, ...),
 * so the StringTable ends up as a sequential read would leave it.
 */
import { Buffer } from 'node:buffer';
import {
  columnarManifest,
  manifestColumns,
  ManifestColumns,
  TYPED_COLUMN_NAMES,
  type TypedColumnName,
  type WholeColumns,
} from '../manifest-columns.js';
import { hashStep, STRING_HASH_SEED, type StringTable } from '../manifest-strings.js';
import { PathStore } from '../manifest-paths.js';
import type { Manifest, ManifestHeader } from '../manifest-types.js';
import type { ManifestStringSink } from '../manifest-parse.js';

/** How one record's string of a TransferredStrings is stored. */
const ABSENT = 0;
/** ASCII: one byte per character (the usual case: paths and hex). */
const ASCII = 1;
/** Anything else: UTF-16LE code units, lone surrogates included. */
const UTF16 = 2;

/** One string field of every record. */
export interface TransferredStrings {
  /** The strings one after the other. */
  bytes: Uint8Array;
  /** By record: the end of its string in `bytes` (its start is the previous record's end). */
  ends: Uint32Array;
  /** By record: ABSENT, ASCII or UTF16. */
  kinds: Uint8Array;
}

/** A manifest in the form manifestForTransfer gives and manifestFromTransfer takes (structured-clonable). */
export interface TransferredManifest {
  header: ManifestHeader;
  /** The manifest was record objects (the JSON form), and is given back as records. */
  records: boolean;
  n: number;
  typed: Record<TypedColumnName, WholeColumns[TypedColumnName]>;
  ino: Float64Array | null;
  paths: TransferredStrings;
  fingerprints: TransferredStrings;
  /** null when no record has a sha256 column (ManifestColumns.sha256 null). */
  sha256s: TransferredStrings | null;
  bigNids: [number, string][];
  targets: [number, string][];
  rdevs: [number, [number, number]][];
  xattrLists: [number, Record<string, string>][];
}

/** Node's Buffer#utf8Write (what write(s, at, 'utf8') calls after its argument checks); @types/node does not list it. */
type Utf8Buffer = Buffer & { utf8Write(s: string, at: number, max: number): number };

/**
 * One string field of every record written record by record into a TransferredStrings (a
 * thread that reads a manifest hands its strings over this way without keeping them as
 * strings: ManifestStringsHandover). `bytes`: the expected size of the strings' bytes.
 */
export class TransferStringsWriter {
  private buf: Buffer;
  private at = 0;
  private n = 0;
  private ends: Uint32Array;
  private kinds: Uint8Array;

  constructor(records: number, bytes: number) {
    // allocUnsafeSlow: a buffer of its own (not a slice of Node's shared pool), so it can be transferred.
    this.buf = Buffer.allocUnsafeSlow(Math.max(16, bytes));
    this.ends = new Uint32Array(records);
    this.kinds = new Uint8Array(records);
  }

  /** Room for one more record. */
  private more(): void {
    const ends = new Uint32Array(Math.max(16, 2 * this.n));
    ends.set(this.ends);
    this.ends = ends;
    const kinds = new Uint8Array(ends.length);
    kinds.set(this.kinds);
    this.kinds = kinds;
  }

  /** The next record's string, given as the ASCII bytes b[start, end) (the NDJSON fast path's), copied as they are. */
  addAscii(b: Uint8Array, start: number, end: number): void {
    if (this.n === this.ends.length) this.more();
    const i = this.n++;
    let buf = this.buf;
    let at = this.at;
    const len = end - start;
    if (at + len > buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(2 * buf.length, at + len));
      buf.copy(grown, 0, 0, at);
      this.buf = buf = grown;
    }
    // A loop: these are tens of bytes, where a subarray and set() cost more than the copy.
    for (let k = start; k < end; k++) buf[at++] = b[k]!;
    this.at = at;
    this.kinds[i] = ASCII;
    this.ends[i] = at;
  }

  /** The next record with no string. */
  addAbsent(): void {
    if (this.n === this.ends.length) this.more();
    const i = this.n++;
    this.kinds[i] = ABSENT;
    this.ends[i] = this.at;
  }

  /** The next record's string (null or undefined: it has none). */
  add(s: string | null | undefined): void {
    if (this.n === this.ends.length) this.more();
    const i = this.n++;
    if (s !== null && s !== undefined) {
      let buf = this.buf;
      const at = this.at;
      // Room for the widest writing of s (UTF-8, up to 3 bytes a unit) before writing it.
      if (at + 3 * s.length > buf.length) {
        const grown = Buffer.allocUnsafeSlow(Math.max(2 * buf.length, at + 3 * s.length));
        buf.copy(grown, 0, 0, at);
        this.buf = buf = grown;
      }
      // As UTF-8 a string takes one byte a unit exactly when it is ASCII (a lone surrogate takes 3).
      // utf8Write: the binding itself, without write()'s argument checks (0.5 µs a call:
      // docs/benchmarks.md#ndjson-read3-2026-12-06).
      const ascii = (buf as Utf8Buffer).utf8Write(s, at, buf.length - at);
      if (ascii === s.length) {
        this.kinds[i] = ASCII;
        this.at = at + ascii;
      } else {
        this.kinds[i] = UTF16;
        this.at = at + buf.write(s, at, 'utf16le');
      }
    } else this.kinds[i] = ABSENT;
    this.ends[i] = this.at;
  }

  /**
   * The strings written. Their buffers are transferred whole: room never written to is address
   * space the kernel has not backed with memory (a copy to the exact size would touch as many
   * pages again while the original is alive).
   */
  finish(): TransferredStrings {
    return {
      bytes: new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.at),
      ends: this.ends.subarray(0, this.n),
      kinds: this.kinds.subarray(0, this.n),
    };
  }
}

/** One string field as bytes (see TransferredStrings). */
function stringsForTransfer(values: readonly (string | null | undefined)[], n: number): TransferredStrings {
  let units = 0;
  let longest = 0;
  for (let i = 0; i < n; i++) {
    const len = values[i]?.length ?? 0;
    units += len;
    if (len > longest) longest = len;
  }
  // Sized for every string in ASCII plus the widest writing of the longest one, so ASCII strings
  // never grow it: sized `units`, the room check doubled it near its end, and the whole buffer
  // is transferred (a 1M-record Parquet manifest's fingerprints went as 156 MB holding 78:
  // docs/benchmarks.md#parquet-threads-2026-12-06).
  const w = new TransferStringsWriter(n, units + 3 * longest + 16);
  for (let i = 0; i < n; i++) w.add(values[i]);
  return w.finish();
}

/**
 * The path, fingerprint and sha256 of every record of a manifest being read, taken as the
 * reader validates them (the Parquet reader's ParquetStringSink, the NDJSON reader's
 * ManifestStringSink) and written straight into the handover's byte blobs: the thread never
 * holds the manifest's strings as strings, which at a million records were ~160 MB of its heap
 * beside the blobs made from them (docs/benchmarks.md#parquet-threads-2026-12-06). The NDJSON
 * fast path gives the bytes of its line, copied without a string ever being made of them
 * (docs/benchmarks.md#analyze-read-ndjson-strings-handed-over-as-bytes-2026-12-07). Give
 * `strings()` to manifestForTransfer.
 */
export class ManifestStringsHandover implements ManifestStringSink {
  private fields: [TransferStringsWriter, TransferStringsWriter, TransferStringsWriter] | null = null;
  private sha = false;

  /** `rows` records follow. */
  begin(rows: number): void {
    // Room for paths of a few dozen bytes and fingerprints of 80 hex digits (pages the strings do
    // not reach are never touched), grown when longer; capped, as `rows` is the file's claim.
    const room = (perRecord: number): number => Math.min(perRecord * rows, 1 << 28);
    this.fields = [
      new TransferStringsWriter(rows, room(64)),
      new TransferStringsWriter(rows, room(80)),
      new TransferStringsWriter(rows, 0),
    ];
  }

  add(path: string, fingerprint: string | null, sha256: string | undefined): void {
    const f = this.fields!;
    f[0].add(path);
    f[1].add(fingerprint);
    f[2].add(sha256);
    if (sha256 !== undefined) this.sha = true;
  }

  addAscii(
    b: Uint8Array,
    pathStart: number,
    pathEnd: number,
    fpStart: number,
    fpEnd: number,
    shaStart: number,
  ): void {
    const f = this.fields!;
    f[0].addAscii(b, pathStart, pathEnd);
    if (fpStart < 0) f[1].addAbsent();
    else f[1].addAscii(b, fpStart, fpEnd);
    if (shaStart < 0) f[2].addAbsent();
    else {
      f[2].addAscii(b, shaStart, shaStart + 64);
      this.sha = true;
    }
  }

  /** Whether a reader took the strings (begin was called). */
  get used(): boolean {
    return this.fields !== null;
  }

  /** The strings taken, for manifestForTransfer. */
  strings(): HandedStrings {
    const f = this.fields!;
    return { paths: f[0].finish(), fingerprints: f[1].finish(), sha256s: this.sha ? f[2].finish() : null };
  }
}

/** The string fields of a manifest already in handover form (ManifestStringsHandover.strings()). */
export interface HandedStrings {
  paths: TransferredStrings;
  fingerprints: TransferredStrings;
  sha256s: TransferredStrings | null;
}

/** The header of a manifest: every field but `files` (read without making the records of a columnar one). */
function headerOf(m: Manifest): ManifestHeader {
  const header: Record<string, unknown> = {};
  for (const k of Object.keys(m)) if (k !== 'files') header[k] = (m as unknown as Record<string, unknown>)[k];
  return header as unknown as ManifestHeader;
}

/**
 * A manifest as a message to another thread, and the buffers to transfer with it
 * (`postMessage(message, transfer)`): after that the manifest's columns are unusable in this
 * thread. A manifest of record objects (the JSON form) is turned into columns first.
 */
export function manifestForTransfer(
  m: Manifest,
  handed?: HandedStrings,
): { message: TransferredManifest; transfer: ArrayBuffer[] } {
  const known = manifestColumns(m);
  const cols = known ?? ManifestColumns.fromRecords(m.files);
  const n = cols.n;
  const transfer = new Set<ArrayBuffer>();
  const take = <T extends WholeColumns[TypedColumnName] | Float64Array>(a: T): T => {
    // A column whose buffer is its own goes as it is; one that shares a buffer is copied.
    const own = a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && !transfer.has(a.buffer);
    const v = (own ? a.subarray(0, n) : a.slice(0, n)) as T;
    transfer.add(v.buffer as ArrayBuffer);
    return v;
  };
  const typed = {} as Record<TypedColumnName, WholeColumns[TypedColumnName]>;
  for (const k of TYPED_COLUMN_NAMES) typed[k] = take(cols[k]);
  // `handed`: the reader gave the strings to a ManifestStringsHandover (the columns hold placeholders).
  const strings = handed
    ? [handed.paths, handed.fingerprints, handed.sha256s]
    : [
        stringsForTransfer(cols.paths, n),
        stringsForTransfer(cols.fingerprint, n),
        cols.sha256 ? stringsForTransfer(cols.sha256, n) : null,
      ];
  for (const s of strings)
    if (s) for (const a of [s.bytes, s.ends, s.kinds]) transfer.add(a.buffer as ArrayBuffer);
  const sparse = cols.sparseFields();
  const message: TransferredManifest = {
    header: headerOf(m),
    records: !known,
    n,
    typed,
    ino: cols.ino ? take(cols.ino) : null,
    paths: strings[0]!,
    fingerprints: strings[1]!,
    sha256s: strings[2] ?? null,
    bigNids: [...sparse.bigNids],
    targets: [...sparse.targets],
    rdevs: [...sparse.rdevs],
    xattrLists: [...sparse.xattrLists],
  };
  return { message, transfer: [...transfer] };
}

/** Whether the string `s` is the ASCII bytes [start, end). */
function sameAscii(s: string, b: Uint8Array, start: number, end: number): boolean {
  if (s.length !== end - start) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== b[start + i]) return false;
  return true;
}

/** Node's Buffer has latin1Slice (what toString('latin1') calls, without its argument checks); @types/node does not list it. */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };
const latin1 = (b: Uint8Array, start: number, end: number): string =>
  (b as Latin1Buffer).latin1Slice(start, end);

/**
 * Interns one string field of every record in `strings` at the parsers' slots (3i + field),
 * the way the parsers do: `previous[i]`, a string of the manifest read into `strings` before
 * (so already interned), is taken when the bytes are equal to it, which is what the table's own
 * same-slot shortcut finds for versions of one image; other strings are looked up in the table
 * straight from their bytes, and a string is made only for a value the table lacks.
 */
class StringField {
  private readonly buf: Buffer;
  constructor(
    private readonly t: TransferredStrings,
    private readonly field: number,
    private readonly strings: StringTable,
    private readonly previous: readonly (string | null | undefined)[] | null,
  ) {
    this.buf = Buffer.from(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  }

  /** Record i's string (interned), or null when it has none. */
  at(i: number): string | null {
    const { kinds, ends } = this.t;
    const bytes = this.buf;
    const kind = kinds[i]!;
    if (kind === ABSENT) return null;
    const start = i === 0 ? 0 : ends[i - 1]!;
    const end = ends[i]!;
    const slot = 3 * i + this.field;
    if (kind === ASCII) {
      const prev = this.previous?.[i];
      if (typeof prev === 'string' && sameAscii(prev, bytes, start, end)) return prev;
      let h = STRING_HASH_SEED;
      for (let k = start; k < end; k++) h = hashStep(h, bytes[k]!);
      return this.strings.internAtAscii(slot, bytes, start, end, h, latin1);
    }
    return this.strings.internAt(slot, bytes.toString('utf16le', start, end));
  }
}

/** Checks a transferred manifest's shape (it comes from this program's own thread, but a bug there must not become a wrong report). */
function check(t: TransferredManifest): void {
  const n = t.n;
  const bad = (what: string): never => {
    throw new Error(`a manifest handed over by a thread is malformed: ${what}`);
  };
  if (!Number.isInteger(n) || n < 0) bad('record count');
  for (const k of TYPED_COLUMN_NAMES) if (t.typed[k]?.length !== n) bad(`column ${k}`);
  if (t.ino && t.ino.length !== n) bad('column ino');
  for (const s of [t.paths, t.fingerprints, t.sha256s]) {
    if (!s) continue;
    if (s.ends.length !== n || s.kinds.length !== n) bad('string offsets');
    let start = 0;
    for (let i = 0; i < n; i++) {
      const end = s.ends[i]!;
      if (end < start || end > s.bytes.length || (s.kinds[i] === UTF16 && (end - start) % 2 !== 0))
        bad(`string offset of record ${i}`);
      start = end;
    }
  }
}

/**
 * Frees the string buffers of a handed-over manifest once its strings are interned (they are
 * garbage then; its typed columns stay, the manifest's own). A buffer's memory goes only when
 * the GC collects its object, and buffers that lived through the interning are in the old
 * generation: at a million records ~110 MB of them stayed until a full collection late in the
 * analysis, at its peak (docs/benchmarks.md#parquet-mem-the-handover-released-at-once-2026-12-07).
 * Transferring a buffer to a clone that is dropped detaches it: the young clone, and the memory
 * with it, goes at the next scavenge. A buffer that cannot be transferred is left to the GC.
 */
function releaseStrings(t: TransferredManifest, keepPaths = false): void {
  const buffers = new Set<ArrayBuffer>();
  for (const s of [keepPaths ? null : t.paths, t.fingerprints, t.sha256s])
    if (s)
      for (const a of [s.bytes, s.ends, s.kinds]) if (a.buffer instanceof ArrayBuffer) buffers.add(a.buffer);
  for (const b of buffers) {
    if (b.byteLength === 0) continue;
    try {
      structuredClone(b, { transfer: [b] });
    } catch {
      // Not detachable (e.g. a view of memory shared with something else): the GC frees it.
    }
  }
}

/**
 * The manifest of manifestForTransfer, in this thread: its strings interned in `strings` as the
 * parsers intern them (docs/manifest.md#reading-manifests-on-threads), its columns carrying
 * their fingerprints' indices in `strings` (ManifestColumns.internedIn's fingerprintIndex).
 * `previous`: the columns of the manifest read into `strings` just before this one, if any (its
 * strings must be `strings`' own): equal strings at equal records are taken from it unhashed.
 * `t`'s string buffers are detached once read (releaseStrings): `t` is used up. `pathBytes`: the
 * paths of columns (not of the JSON form's records) are not interned but adopted as they came,
 * bytes (ManifestColumns.pathStore), as the readers keep them with ParseManifestOptions.pathBytes: no work
 * per path (docs/benchmarks.md#analyze-paths-paths-as-bytes-2026-12-07).
 */
export function manifestFromTransfer(
  t: TransferredManifest,
  strings: StringTable,
  previous: ManifestColumns | null = null,
  how: { pathBytes?: boolean } = {},
): Manifest {
  check(t);
  // A manifest of records (the JSON form) interns its paths as the record parser does.
  const pathBytes = how.pathBytes === true && !t.records;
  const n = t.n;
  const paths = pathBytes ? null : new Array<string>(n);
  const fingerprint = new Array<string | null>(n);
  const sha256 = t.sha256s ? new Array<string | undefined>(n) : null;
  const fingerprintIndex = new Int32Array(n);
  if (pathBytes) {
    const kinds = t.paths.kinds;
    for (let i = 0; i < n; i++)
      if (kinds[i] === ABSENT)
        throw new Error(`a manifest handed over by a thread is malformed: record ${i} has no path`);
  }
  // The previous manifest's paths are `strings`' own only when they are strings (not bytes).
  const previousPaths = previous && !previous.pathStore ? previous.paths : null;
  const pathField = pathBytes ? null : new StringField(t.paths, 0, strings, previousPaths);
  const fpField = new StringField(t.fingerprints, 1, strings, previous?.fingerprint ?? null);
  const shaField = t.sha256s ? new StringField(t.sha256s, 2, strings, previous?.sha256 ?? null) : null;
  const prevFp = previous?.fingerprint;
  const prevIndex = previous?.strings === strings ? previous.fingerprintIndex : null;
  for (let i = 0; i < n; i++) {
    if (pathField !== null) {
      const path = pathField.at(i);
      if (path === null)
        throw new Error(`a manifest handed over by a thread is malformed: record ${i} has no path`);
      paths![i] = path;
    }
    const fp = fpField.at(i);
    fingerprint[i] = fp;
    fingerprintIndex[i] =
      fp === null
        ? -1
        : prevIndex !== null && i < prevIndex.length && prevFp![i] === fp
          ? prevIndex[i]!
          : strings.indexAt(3 * i + 1, fp);
    if (shaField) sha256![i] = shaField.at(i) ?? undefined;
  }
  releaseStrings(t, pathBytes);
  const cols = ManifestColumns.fromColumns({
    n,
    ...t.typed,
    ino: t.ino,
    paths: paths ?? PathStore.fromBytes(t.paths),
    fingerprint,
    sha256,
    bigNids: t.bigNids,
    targets: t.targets,
    rdevs: t.rdevs,
    xattrLists: t.xattrLists,
  } as WholeColumns);
  if (t.records) return { ...t.header, files: cols.records() };
  cols.declareInterned(strings, fingerprintIndex);
  return columnarManifest(t.header, cols);
}
