/**
 * The columnar in-memory form of a manifest (docs/manifest.md#columnar-in-memory-form): one
 * typed array per numeric or enumerated field, one array of (interned) strings for paths and
 * fingerprints, and sparse maps for the fields few records carry (symlink targets, devices,
 * listed xattrs, METABOX inode numbers). A record costs ~60 bytes plus its strings instead of a
 * ~150-byte object per record plus its fields, and the garbage collector has a handful of
 * arrays to trace instead of millions of objects (docs/benchmarks.md#scale-analyze-analysis-at-a-million-files).
 *
 * The NDJSON parser and the Parquet reader fill it straight from the validated fields
 * (`parseManifestBytes(bytes, { columnar: true })`, `parseParquetManifest(bytes, { columnar: true })`);
 * the sharing engine reads it through `manifestColumns()`. The manifest they return is an
 * ordinary `Manifest` whose `files` are made (once, on first access) from the columns, so
 * every consumer of records keeps working; `record(i)` makes one record on demand.
 */
import { LAYOUT_NAMES } from './disk/inode.js';
import type { DataLayout, FileRecord, FileType, Manifest, ManifestHeader } from './manifest-types.js';
import type { StringTable } from './manifest-strings.js';
import { PathStore } from './manifest-paths.js';

/** Type codes of the `type` column: an index into this list. */
export const FILE_TYPE_CODES: readonly FileType[] = ['file', 'dir', 'symlink', 'chr', 'blk', 'fifo', 'sock'];
/** Code of 'file' in the `type` column. */
export const TYPE_FILE = 0;
/**
 * Layout codes of the `layout` column: the on-disk datalayout numbers (docs/format.md#inodes),
 * an index into disk/inode.ts's LAYOUT_NAMES, which this is (one list, not a second order).
 */
export const LAYOUT_CODES: readonly DataLayout[] = LAYOUT_NAMES;
/** Records the columns are sized for up front, at most: a header's `file_count` is only a claim until the records are counted. */
export const MAX_PREALLOCATED_RECORDS = 1 << 20;

/**
 * The fields of one validated record, written into one reused object by the parsers: a
 * FileRecord whose optional fields are always there (undefined when absent), so every record
 * gives the object the same shape.
 */
export type ValidatedRecord = Required<Omit<FileRecord, 'ino' | 'target' | 'rdev' | 'sha256'>> & {
  [K in 'ino' | 'target' | 'rdev' | 'sha256']: FileRecord[K] | undefined;
};

export function newValidatedRecord(): ValidatedRecord {
  return {
    path: '/',
    nid: 0,
    ino: undefined,
    type: 'file',
    mode: '0000',
    uid: 0,
    gid: 0,
    size: 0,
    nlink: 0,
    mtime: 0,
    mtime_nsec: 0,
    layout: 'flat_plain',
    inode_size: 32,
    xattr_isize: 0,
    target: undefined,
    rdev: undefined,
    xattrs: NO_XATTRS,
    fingerprint: null,
    sha256: undefined,
  };
}

/**
 * The numeric fields of a record whose values were checked one by one (the NDJSON fast path,
 * manifest-fast-line.ts, and the Parquet column path, manifest-parquet-rows.ts).
 */
export function setCheckedNumbers(
  out: ValidatedRecord,
  uid: number,
  gid: number,
  size: number,
  nlink: number,
  mtime: number,
  mtimeNsec: number,
): void {
  out.uid = uid;
  out.gid = gid;
  out.size = size;
  out.nlink = nlink;
  out.mtime = mtime;
  out.mtime_nsec = mtimeNsec;
}

/** The `xattrs` of records that list none, shared (readers never write to a parsed record). */
export const NO_XATTRS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** One string per mode value (at most 4096: four octal digits) instead of one per record. */
const modeStrings = new Map<string, string>();
export function internMode(mode: string): string {
  const known = modeStrings.get(mode);
  if (known !== undefined) return known;
  modeStrings.set(mode, mode);
  return mode;
}

/**
 * The record object of validated fields, its fields in the documented order (docs/manifest.md,
 * what scanManifest writes), so a parsed manifest serialises to the same bytes as the one
 * scanned. The usual record (no ino, target or rdev) is one literal with every field but
 * sha256, so its object has them in place: added one by one they spill into a second
 * allocation, ~40 bytes more per record at millions.
 */
export function recordOfValidated(s: ValidatedRecord): FileRecord {
  const { path, nid, ino, target, rdev, xattrs, fingerprint, sha256 } = s;
  const plain: FileRecord = {
    path,
    nid,
    type: s.type,
    mode: s.mode,
    uid: s.uid,
    gid: s.gid,
    size: s.size,
    nlink: s.nlink,
    mtime: s.mtime,
    mtime_nsec: s.mtime_nsec,
    layout: s.layout,
    inode_size: s.inode_size,
    xattr_isize: s.xattr_isize,
    xattrs,
    fingerprint,
  };
  let rec = plain;
  if (ino !== undefined || target !== undefined || rdev !== undefined) {
    // METABOX records, symlinks and devices: `ino` after `nid`, `target`/`rdev` before `xattrs`.
    const { path: _path, nid: _nid, xattrs: _xattrs, fingerprint: _fingerprint, ...middle } = plain;
    rec = {
      path,
      nid,
      ...(ino !== undefined ? { ino } : {}),
      ...middle,
      ...(target !== undefined ? { target } : {}),
      ...(rdev !== undefined ? { rdev } : {}),
      xattrs,
      fingerprint,
    };
  }
  if (sha256 !== undefined) rec.sha256 = sha256;
  return rec;
}

/** The number of four octal digits ("0755" -> 493), without parseInt's generality. */
function modeBits(mode: string): number {
  return (
    ((mode.charCodeAt(0) - 48) << 9) |
    ((mode.charCodeAt(1) - 48) << 6) |
    ((mode.charCodeAt(2) - 48) << 3) |
    (mode.charCodeAt(3) - 48)
  );
}

type Column = Uint8Array | Uint16Array | Uint32Array | Float64Array;
/** The typed-array columns of ManifestColumns and their element types (allocated and grown together). */
const COLUMN_TYPES = {
  type: Uint8Array,
  layout: Uint8Array,
  inodeSize: Uint8Array,
  mode: Uint16Array,
  uid: Uint32Array,
  gid: Uint32Array,
  nlink: Uint32Array,
  mtimeNsec: Uint32Array,
  xattrIsize: Uint32Array,
  size: Float64Array,
  mtime: Float64Array,
  nid: Float64Array,
} satisfies Record<string, new (n: number) => Column>;
/** Names of the typed-array columns of ManifestColumns (each `n` long), in one place. */
export type TypedColumnName = keyof typeof COLUMN_TYPES;
export const TYPED_COLUMN_NAMES = Object.keys(COLUMN_TYPES) as readonly TypedColumnName[];

/** The whole columns ManifestColumns.fromColumns takes (each typed array and list `n` long). */
export interface WholeColumns {
  n: number;
  type: Uint8Array;
  layout: Uint8Array;
  inodeSize: Uint8Array;
  mode: Uint16Array;
  uid: Uint32Array;
  gid: Uint32Array;
  nlink: Uint32Array;
  mtimeNsec: Uint32Array;
  xattrIsize: Uint32Array;
  size: Float64Array;
  mtime: Float64Array;
  nid: Float64Array;
  ino: Float64Array | null;
  /** The paths as strings, or as bytes (a PathStore: ManifestColumns.pathStore). */
  paths: string[] | PathStore;
  fingerprint: (string | null)[];
  sha256: (string | undefined)[] | null;
  bigNids: Iterable<[number, string]>;
  targets: Iterable<[number, string]>;
  rdevs: Iterable<[number, [number, number]]>;
  xattrLists: Iterable<[number, Record<string, string>]>;
}

/** The records of one manifest as columns, in record order (sorted by path bytes). */
export class ManifestColumns {
  /** Number of records. */
  n = 0;
  private cap: number;
  /** Path of each record (made from `pathStore` at the first access when the paths are bytes, then kept). */
  get paths(): string[] {
    return this.pathStore ? this.pathStore.strings() : this.pathList;
  }
  /** Path of record i (one string, without making the others from `pathStore`). */
  pathAt(i: number): string {
    return this.pathStore ? this.pathStore.pathAt(i) : this.pathList[i]!;
  }
  /** Paths as strings (interned when the parser was given a StringTable), unless they are bytes. */
  private pathList: string[] = [];
  /**
   * The paths as bytes (pathsAsBytes, or adopted by fromColumns), null when they are strings: then
   * `paths` is made from it on first access (docs/manifest.md#columnar-in-memory-form).
   */
  pathStore: PathStore | null = null;
  /** Fingerprint hex, null when absent (interned like paths). */
  readonly fingerprint: (string | null)[] = [];
  /** sha256 hex of regular files of a hashed manifest; null when no record has one. */
  sha256: (string | undefined)[] | null = null;
  // Allocated by resize() (COLUMN_TYPES).
  type!: Uint8Array;
  layout!: Uint8Array;
  inodeSize!: Uint8Array;
  mode!: Uint16Array;
  uid!: Uint32Array;
  gid!: Uint32Array;
  nlink!: Uint32Array;
  mtimeNsec!: Uint32Array;
  xattrIsize!: Uint32Array;
  size!: Float64Array;
  mtime!: Float64Array;
  /** Nids that are numbers; NaN where the nid is a decimal string (METABOX, above 2^53: `bigNids`). */
  nid!: Float64Array;
  /** METABOX records' `ino`, null on other images. */
  ino: Float64Array | null = null;
  private readonly bigNids = new Map<number, string>();
  private readonly targets = new Map<number, string>();
  private readonly rdevs = new Map<number, [number, number]>();
  private readonly xattrLists = new Map<number, Record<string, string>>();
  /** pushRecord's reused fields. */
  private scratch: ValidatedRecord | null = null;
  /** The StringTable the parser interned this manifest's strings in (internedIn), else null. */
  strings: StringTable | null = null;
  /**
   * By record: the index of its fingerprint in `strings` (StringTable.indexOf), -1 for none;
   * null unless internedIn was called. The sharing engine takes its fingerprint ids from it
   * instead of hashing every fingerprint a second time (docs/manifest.md#fingerprint-ids).
   */
  fingerprintIndex: Int32Array | null = null;

  /** `expected`: the header's file_count (a claim: at most MAX_PREALLOCATED_RECORDS are allocated before records come). */
  constructor(expected = 0) {
    this.cap = Math.max(16, Math.min(expected, MAX_PREALLOCATED_RECORDS));
    this.resize(this.cap);
  }

  /** (Re)allocates every typed column for `cap` records, keeping the records so far. */
  private resize(cap: number): void {
    const cols = this as unknown as Record<string, Column | null>;
    for (const [k, make] of Object.entries(COLUMN_TYPES)) {
      const b = new make(cap);
      const a = cols[k];
      if (a) b.set(a);
      cols[k] = b;
    }
    if (this.ino) {
      const b = new Float64Array(cap).fill(NaN);
      b.set(this.ino);
      this.ino = b;
    }
    if (this.fingerprintIndex) {
      const b = new Int32Array(cap);
      b.set(this.fingerprintIndex);
      this.fingerprintIndex = b;
    }
    this.cap = cap;
  }

  /**
   * Declares that the parser interns every fingerprint in `strings`, record i's at the slot
   * 3i + 1 (the slots manifest-parse.ts and manifest-fast-line.ts intern at), so push() records
   * each fingerprint's index. Called before the first push.
   */
  internedIn(strings: StringTable): void {
    if (this.n !== 0) throw new Error('internedIn: records were pushed already');
    this.strings = strings;
    this.fingerprintIndex = new Int32Array(this.cap);
  }

  /**
   * Declares, after the fact, that this manifest's fingerprints are interned in `strings` (each
   * at slot 3i + 1, as internedIn's parsers intern them), so the sharing engine takes its
   * fingerprint ids from the table (docs/manifest.md#fingerprint-ids): for columns made
   * another way (the server's columnar file read after another manifest, a manifest handed over
   * by a thread). `index`: each record's index in `strings`, when the caller has it; else each
   * is looked up (indexAt: a reference comparison right after the slot was interned; the first
   * lookup interns adopted columns). Columns that declare a table already are left as they are.
   */
  declareInterned(strings: StringTable, index?: Int32Array): void {
    if (this.fingerprintIndex !== null) return;
    if (!index) {
      index = new Int32Array(this.n);
      const fps = this.fingerprint;
      for (let i = 0; i < this.n; i++) {
        const fp = fps[i];
        index[i] = fp === null || fp === undefined ? -1 : strings.indexAt(3 * i + 1, fp);
      }
    }
    this.strings = strings;
    this.fingerprintIndex = index;
  }

  /**
   * Keeps the paths as bytes (a PathStore) instead of strings: push() copies each path's bytes,
   * pushAsciiPath() takes them straight from the reader's. Called before the first push.
   */
  pathsAsBytes(): void {
    if (this.n !== 0) throw new Error('pathsAsBytes: records were pushed already');
    this.pathStore = new PathStore(this.cap, 64 * this.cap);
  }

  private grow(): void {
    this.resize(this.cap * 2);
  }

  /** Appends one validated record (the parsers have checked every field, order and count). */
  push(s: ValidatedRecord): void {
    if (this.pathStore) this.pathStore.add(s.path);
    else this.pathList.push(s.path);
    this.pushFields(s);
  }

  /**
   * push() of a record whose path is the printable ASCII bytes b[start, end) without `"` or `\`
   * (`s.path` is not read), into columns that keep the paths as bytes (pathsAsBytes).
   */
  pushAsciiPath(b: Uint8Array, start: number, end: number, s: ValidatedRecord): void {
    this.pathStore!.addAscii(b, start, end);
    this.pushFields(s);
  }

  /** Every field of push() but the path. */
  private pushFields(s: ValidatedRecord): void {
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.fingerprint.push(s.fingerprint);
    if (this.fingerprintIndex !== null)
      this.fingerprintIndex[i] =
        s.fingerprint === null ? -1 : this.strings!.indexAt(3 * i + 1, s.fingerprint);
    if (s.sha256 !== undefined) {
      this.sha256 ??= new Array<string | undefined>(i).fill(undefined);
      this.sha256[i] = s.sha256;
    } else if (this.sha256) this.sha256[i] = undefined;
    // The parsers hand over the module's constant strings (validated against the lists): indexOf
    // compares them by reference, cheaper than a Map's hash lookup per record.
    this.type[i] = FILE_TYPE_CODES.indexOf(s.type);
    this.layout[i] = LAYOUT_CODES.indexOf(s.layout);
    this.inodeSize[i] = s.inode_size;
    this.mode[i] = modeBits(s.mode);
    this.uid[i] = s.uid;
    this.gid[i] = s.gid;
    this.nlink[i] = s.nlink;
    this.mtimeNsec[i] = s.mtime_nsec;
    this.xattrIsize[i] = s.xattr_isize;
    this.size[i] = s.size;
    this.mtime[i] = s.mtime;
    if (typeof s.nid === 'number') this.nid[i] = s.nid;
    else {
      this.nid[i] = NaN;
      this.bigNids.set(i, s.nid);
    }
    if (s.ino !== undefined) {
      this.ino ??= new Float64Array(this.cap).fill(NaN);
      this.ino[i] = s.ino;
    }
    if (s.target !== undefined) this.targets.set(i, s.target);
    if (s.rdev !== undefined) this.rdevs.set(i, s.rdev);
    if (s.xattrs !== NO_XATTRS) this.xattrLists.set(i, s.xattrs);
  }

  /** The kernel's inode number of record i (inodeNumber() of its record). */
  inodeNumber(i: number): number {
    const ino = this.ino?.[i];
    if (ino !== undefined && !Number.isNaN(ino)) return ino;
    const nid = this.nid[i]!;
    return Number.isNaN(nid) ? Number(this.bigNids.get(i)) : nid;
  }

  /** Fills `out` with record i's fields. */
  fieldsOf(i: number, out: ValidatedRecord): ValidatedRecord {
    out.path = this.pathAt(i);
    const nid = this.nid[i]!;
    out.nid = Number.isNaN(nid) ? this.bigNids.get(i)! : nid;
    const ino = this.ino?.[i];
    out.ino = ino === undefined || Number.isNaN(ino) ? undefined : ino;
    out.type = FILE_TYPE_CODES[this.type[i]!]!;
    out.mode = internMode(this.mode[i]!.toString(8).padStart(4, '0'));
    out.uid = this.uid[i]!;
    out.gid = this.gid[i]!;
    out.size = this.size[i]!;
    out.nlink = this.nlink[i]!;
    out.mtime = this.mtime[i]!;
    out.mtime_nsec = this.mtimeNsec[i]!;
    out.layout = LAYOUT_CODES[this.layout[i]!]!;
    out.inode_size = this.inodeSize[i] as 32 | 64;
    out.xattr_isize = this.xattrIsize[i]!;
    out.target = this.targets.get(i);
    out.rdev = this.rdevs.get(i);
    out.xattrs = this.xattrLists.get(i) ?? NO_XATTRS;
    out.fingerprint = this.fingerprint[i]!;
    out.sha256 = this.sha256?.[i];
    return out;
  }

  /** Record i as the record parser makes it (same fields, same order, same values). */
  record(i: number): FileRecord {
    return recordOfValidated(this.fieldsOf(i, newValidatedRecord()));
  }

  /** Every record, made from the columns. */
  records(): FileRecord[] {
    const out = new Array<FileRecord>(this.n);
    const s = newValidatedRecord();
    for (let i = 0; i < this.n; i++) out[i] = recordOfValidated(this.fieldsOf(i, s));
    return out;
  }

  /** Appends a record object already valid (a parsed record, or one the server wrote and reads back). */
  pushRecord(f: FileRecord): void {
    const s = (this.scratch ??= newValidatedRecord());
    s.path = f.path;
    s.nid = f.nid;
    s.ino = f.ino;
    s.type = f.type;
    s.mode = f.mode;
    s.uid = f.uid;
    s.gid = f.gid;
    s.size = f.size;
    s.nlink = f.nlink;
    s.mtime = f.mtime;
    s.mtime_nsec = f.mtime_nsec;
    s.layout = f.layout;
    s.inode_size = f.inode_size;
    s.xattr_isize = f.xattr_isize;
    s.target = f.target;
    s.rdev = f.rdev;
    s.xattrs = isEmpty(f.xattrs) ? NO_XATTRS : f.xattrs;
    s.fingerprint = f.fingerprint;
    s.sha256 = f.sha256;
    this.push(s);
  }

  /**
   * Columns made from whole columns at once (the stored columnar form read back,
   * manifest-columns-codec.ts): each value is set once, where push() would fill every column
   * record by record. The arrays are taken, not copied; `n` is their length. The caller has
   * checked what push()'s callers check (codes in range, a big nid for each NaN nid).
   */
  static fromColumns(c: WholeColumns): ManifestColumns {
    const cols = new ManifestColumns(0);
    cols.n = c.n;
    cols.cap = c.n;
    const typed = cols as unknown as Record<string, Column>;
    for (const k of Object.keys(COLUMN_TYPES)) typed[k] = (c as unknown as Record<string, Column>)[k]!;
    if (c.paths instanceof PathStore) cols.pathStore = c.paths;
    else cols.pathList = c.paths;
    (cols as { fingerprint: (string | null)[] }).fingerprint = c.fingerprint;
    cols.sha256 = c.sha256;
    cols.ino = c.ino;
    for (const [i, v] of c.bigNids) cols.bigNids.set(i, v);
    for (const [i, v] of c.targets) cols.targets.set(i, v);
    for (const [i, v] of c.rdevs) cols.rdevs.set(i, v);
    for (const [i, v] of c.xattrLists) cols.xattrLists.set(i, v);
    return cols;
  }

  /**
   * The fields few records carry, by record index (fromColumns' `bigNids`, `targets`, `rdevs`,
   * `xattrLists`): what a reader needs besides the public columns to hand the columns to
   * another thread (node/columns-transfer.ts). The maps themselves, not copies: read only.
   */
  sparseFields(): {
    bigNids: ReadonlyMap<number, string>;
    targets: ReadonlyMap<number, string>;
    rdevs: ReadonlyMap<number, [number, number]>;
    xattrLists: ReadonlyMap<number, Record<string, string>>;
  } {
    return { bigNids: this.bigNids, targets: this.targets, rdevs: this.rdevs, xattrLists: this.xattrLists };
  }

  /** The columns of records already made. */
  static fromRecords(files: readonly FileRecord[]): ManifestColumns {
    const cols = new ManifestColumns(files.length);
    for (const f of files) cols.pushRecord(f);
    return cols;
  }
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

const columnsOf = new WeakMap<Manifest, ManifestColumns>();

/** The columns a manifest was read into (columnarManifest), undefined for a manifest of record objects. */
export function manifestColumns(m: Manifest): ManifestColumns | undefined {
  return columnsOf.get(m);
}

/**
 * A Manifest over columns: the header's fields, and `files` made from the columns on first
 * access (then kept). Assigning `files` replaces the records and drops the columns.
 */
export function columnarManifest(header: ManifestHeader, cols: ManifestColumns): Manifest {
  const m = { ...header } as Manifest;
  let files: FileRecord[] | undefined;
  Object.defineProperty(m, 'files', {
    enumerable: true,
    configurable: true,
    get: () => (files ??= cols.records()),
    set: (v: FileRecord[]) => {
      files = v;
      columnsOf.delete(m);
    },
  });
  columnsOf.set(m, cols);
  return m;
}
