/**
 * Parsing and validating untrusted manifests (docs/manifest.md) field by field: the whole-text
 * parser, the incremental NDJSON parser and the streaming validator that keeps no records.
 */
import { compareUtf8, utf8Length } from './disk/bytes.js';
import { nidKey, nidOfKey } from './disk/nid.js';
import { ManifestError } from './errors.js';
import {
  MANIFEST_KIND,
  MANIFEST_VERSION,
  MANIFEST_VERSIONS_READ,
  MAX_LAYER_CHANGE_PATHS,
  type PredictedOciImage,
  type DataLayout,
  type FileRecord,
  type FileType,
  type Manifest,
  type ManifestHeader,
  type ManifestSuperblock,
  type Nid,
} from './manifest-types.js';
import { nidText } from './manifest-scan.js';
import {
  asciiString,
  fastLineSpans,
  fastRecordLine,
  setFastFields,
  type FastLineContext,
} from './manifest-fast-line.js';
import { forEachScannedLine, type ScannedLine } from './manifest-line-wasm.js';
import { StringTable } from './manifest-strings.js';
import {
  columnarManifest,
  FILE_TYPE_CODES,
  internMode,
  LAYOUT_CODES,
  ManifestColumns,
  newValidatedRecord,
  NO_XATTRS,
  recordOfValidated,
  type ValidatedRecord,
} from './manifest-columns.js';

export { StringTable };

export interface ParseManifestOptions {
  /** Intern paths, fingerprints and sha256s in this table (see StringTable). */
  strings?: StringTable;
  /** Most records accepted (default 10 M). */
  maxRecords?: number;
  /** Longest NDJSON line in characters (default 8 MiB: 64 KiB xattr values hex-encode to 128 KiB each). */
  maxLineLength?: number;
  /** Most xattrs per record (default 65536). */
  maxXattrs?: number;
  /**
   * Read NDJSON (and Parquet) records into columns (ManifestColumns, docs/manifest.md#columnar-in-memory-form)
   * instead of one object per record; `files` is made from them on first access. The JSON
   * form is read as records either way.
   */
  columnar?: boolean;
  /**
   * NDJSON read into columns without `strings`: each record's path, fingerprint and sha256 go to
   * this sink instead of the columns, which hold '' for each (null and undefined where there is
   * none). A manifest thread writes them straight into its handover's byte blobs, without making
   * a string of them (`@sharemap/erofs/node` ManifestStringsHandover,
   * docs/manifest.md#reading-manifests-on-threads). The JSON form is read as records and never
   * calls it.
   */
  handOver?: ManifestStringSink;
  /**
   * With `columnar` (and not `handOver`): keep the paths as bytes (ManifestColumns.pathStore),
   * not as strings and not interned in `strings` (a manifest's paths are distinct): the NDJSON
   * fast path and the Parquet column path copy each path's bytes and make no string of it
   * (docs/benchmarks.md#analyze-paths-paths-as-bytes-2026-12-07).
   */
  pathBytes?: boolean;
}

/** Takes each record's strings as the NDJSON reader validates them (ParseManifestOptions.handOver). */
export interface ManifestStringSink {
  /** Called once, at the header: `rows` records follow (the header's claim). */
  begin(rows: number): void;
  /** A record read by the general parser. */
  add(path: string, fingerprint: string | null, sha256: string | undefined): void;
  /**
   * A record read by the fast path: its strings are the ASCII bytes b[pathStart, pathEnd),
   * b[fpStart, fpEnd) (fpStart -1: no fingerprint) and b[shaStart, shaStart + 64) (-1: none).
   */
  addAscii(
    b: Uint8Array,
    pathStart: number,
    pathEnd: number,
    fpStart: number,
    fpEnd: number,
    shaStart: number,
  ): void;
}

const HEX_RE = /^(?:[0-9a-f]{2})*$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
const MODE_RE = /^[0-7]{4}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KERNEL_RE = /^\d{1,3}\.\d{1,3}$/;
const U32 = 0xffffffff;

type Obj = Record<string, unknown>;

const allowedKeys = new WeakMap<readonly string[], WeakMap<readonly string[], Set<string>>>();

class V {
  constructor(
    readonly line: number,
    readonly prefix = '',
  ) {}
  fail(msg: string, field?: string): never {
    throw new ManifestError(msg, this.line, field === undefined ? undefined : this.prefix + field);
  }
  obj(v: unknown, field?: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail('expected an object', field);
    return v as Obj;
  }
  keys(o: Obj, required: readonly string[], optional: readonly string[], where?: string): void {
    for (const k of required) if (!Object.hasOwn(o, k)) this.fail('missing', where ? `${where}.${k}` : k);
    // One Set per pair of field lists (the record's are module constants), not one per record.
    let all = allowedKeys.get(required)?.get(optional);
    if (!all) {
      all = new Set([...required, ...optional]);
      const byOptional = allowedKeys.get(required) ?? new WeakMap<readonly string[], Set<string>>();
      byOptional.set(optional, all);
      allowedKeys.set(required, byOptional);
    }
    for (const k in o) if (!all.has(k)) this.fail('unknown field', where ? `${where}.${k}` : k);
  }
  int(v: unknown, field: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
      this.fail(`expected an integer in ${min}..${max}, got ${JSON.stringify(v)}`, field);
    return v;
  }
  str(v: unknown, field: string, maxLen: number, re?: RegExp): string {
    if (typeof v !== 'string' || v.length > maxLen || (re && !re.test(v))) {
      this.fail(`invalid string ${JSON.stringify(v)?.slice(0, 80)}`, field);
    }
    return v;
  }
  /** A Nid: an integer 0..2^53-1, or the canonical decimal string of one in 2^53..2^64-1. */
  nid(v: unknown, field: string): Nid {
    if (typeof v === 'number') return this.int(v, field, 0, Number.MAX_SAFE_INTEGER);
    if (
      typeof v !== 'string' ||
      !/^[1-9][0-9]{15,19}$/.test(v) ||
      BigInt(v) <= BigInt(Number.MAX_SAFE_INTEGER) ||
      BigInt(v) >= 1n << 64n
    )
      this.fail(
        `expected a nid (an integer, or a decimal string above 2^53), got ${JSON.stringify(v)?.slice(0, 40)}`,
        field,
      );
    return v;
  }
  bool(v: unknown, field: string): boolean {
    if (typeof v !== 'boolean') this.fail('expected a boolean', field);
    return v;
  }
}

/** Path syntax: absolute, no empty/"."/".." components, no NUL, components <= 255 bytes. */
export function validManifestPath(p: string): boolean {
  if (p === '/') return true;
  if (p.length > 4096 || p.charCodeAt(0) !== SLASH) return false;
  // One pass, no substrings: components are p[start..i), checked at each '/' and at the end.
  let start = 1;
  for (let i = 1; i <= p.length; i++) {
    const c = i < p.length ? p.charCodeAt(i) : SLASH;
    if (c === 0) return false;
    if (c !== SLASH) continue;
    const n = i - start;
    if (n === 0) return false; // "//" or a trailing "/"
    if (n <= 2 && p.charCodeAt(start) === DOT && (n === 1 || p.charCodeAt(start + 1) === DOT)) return false;
    // a component's UTF-8 length is at most 3 bytes per UTF-16 unit: count only when it matters
    if (n > 85 && utf8Length(p.slice(start, i)) > 255) return false;
    start = i + 1;
  }
  return true;
}
const SLASH = 0x2f;
const DOT = 0x2e;

/**
 * What record validation needs from the header: whether records are hashed, whether the image
 * has METABOX (records carry `ino`, nids may have bit 63), and the version written (version 1
 * carried the kernel's inode number as `nid` on METABOX images; it is upgraded on reading).
 */
interface RecordContext {
  hashed: boolean;
  metabox: boolean;
  version: number;
}

const isMetabox = (sb: ManifestSuperblock): boolean => sb.feature_incompat.includes('metabox');

/**
 * A nid field of the given manifest version, as version 2 writes it. Version 1 wrote the
 * kernel's inode number on METABOX images (disk/nid.ts keys): back to the on-disk nid.
 */
function readNid(v: V, raw: unknown, field: string, metabox: boolean, version: number): Nid {
  if (version === 1 && metabox) return nidText(nidOfKey(v.int(raw, field, 0, Number.MAX_SAFE_INTEGER), true));
  const nid = v.nid(raw, field);
  if (!metabox && typeof nid === 'string') v.fail('a nid above 2^53 needs METABOX (bit 63)', field);
  if (metabox && nidKey(BigInt(nid), true) === null) v.fail('nid out of range', field);
  return nid;
}

function validateSuperblock(v: V, raw: unknown, version: number): ManifestSuperblock {
  const s = v.obj(raw, 'superblock');
  v.keys(
    s,
    [
      'block_size',
      'blocks',
      'meta_blkaddr',
      'xattr_blkaddr',
      'root_nid',
      'inodes',
      'sb_size',
      'feature_compat',
      'feature_incompat',
      'uuid',
      'build_time',
      'ishare',
      'fingerprint_xattr_name',
      'required_kernel',
      'devices',
    ],
    ['packed_nid', 'metabox_nid'],
    'superblock',
  );
  const bs = v.int(s.block_size, 'superblock.block_size', 512, 65536);
  if (bs & (bs - 1)) v.fail('block size must be a power of two', 'superblock.block_size');
  const names = (x: unknown, f: string) => {
    if (!Array.isArray(x) || x.length > 64) v.fail('expected an array of feature names', f);
    return x.map((n, i) => v.str(n, `${f}[${i}]`, 64, /^[a-z0-9_]+$/));
  };
  const devsRaw = s.devices;
  if (!Array.isArray(devsRaw) || devsRaw.length > 65535) v.fail('expected an array', 'superblock.devices');
  const devices = devsRaw.map((d, i) => {
    const o = v.obj(d, `superblock.devices[${i}]`);
    v.keys(o, ['tag', 'blocks', 'mapped_blkaddr'], [], `superblock.devices[${i}]`);
    return {
      tag: v.str(o.tag, `superblock.devices[${i}].tag`, 64),
      blocks: v.int(o.blocks, `superblock.devices[${i}].blocks`, 0, 2 ** 48),
      mapped_blkaddr: v.int(o.mapped_blkaddr, `superblock.devices[${i}].mapped_blkaddr`, 0, 2 ** 48),
    };
  });
  const out: ManifestSuperblock = {
    block_size: bs,
    blocks: v.int(s.blocks, 'superblock.blocks', 0, 2 ** 48),
    meta_blkaddr: v.int(s.meta_blkaddr, 'superblock.meta_blkaddr', 0, U32),
    xattr_blkaddr: v.int(s.xattr_blkaddr, 'superblock.xattr_blkaddr', 0, U32),
    root_nid: 0, // below: how it reads depends on the features
    inodes: v.int(s.inodes, 'superblock.inodes', 0, Number.MAX_SAFE_INTEGER),
    sb_size: v.int(s.sb_size, 'superblock.sb_size', 128, 3072),
    feature_compat: names(s.feature_compat, 'superblock.feature_compat'),
    feature_incompat: names(s.feature_incompat, 'superblock.feature_incompat'),
    uuid: v.str(s.uuid, 'superblock.uuid', 36, UUID_RE),
    build_time: v.int(s.build_time, 'superblock.build_time', -(2 ** 53) + 1, Number.MAX_SAFE_INTEGER),
    ishare: v.bool(s.ishare, 'superblock.ishare'),
    fingerprint_xattr_name:
      s.fingerprint_xattr_name === null
        ? null
        : v.str(s.fingerprint_xattr_name, 'superblock.fingerprint_xattr_name', 255, /^[^\0]+$/),
    required_kernel:
      s.required_kernel === null
        ? null
        : v.str(s.required_kernel, 'superblock.required_kernel', 7, KERNEL_RE),
    devices,
  };
  const metabox = isMetabox(out);
  out.root_nid = readNid(v, s.root_nid, 'superblock.root_nid', metabox, version);
  if (s.packed_nid !== undefined)
    out.packed_nid = readNid(v, s.packed_nid, 'superblock.packed_nid', metabox, version);
  if (s.metabox_nid !== undefined)
    out.metabox_nid = v.int(s.metabox_nid, 'superblock.metabox_nid', 0, Number.MAX_SAFE_INTEGER);
  return out;
}

/** Layers of one predicted OCI image (the OCI loader's maxLayers default). */
const MAX_PREDICTED_LAYERS = 1000;

function strList(v: V, raw: unknown, field: string, max: number, maxLen: number): string[] {
  if (!Array.isArray(raw) || raw.length > max) v.fail(`expected an array of at most ${max} strings`, field);
  return raw.map((x, i) => v.str(x, `${field}[${i}]`, maxLen));
}

/** predicted.image: the OCI image of a flattened prediction, every list bounded. */
function validatePredictedImage(v: V, raw: unknown): PredictedOciImage {
  const f = 'predicted.image';
  const o = v.obj(raw, f);
  v.keys(o, ['repoTags', 'configDigest', 'layers'], ['manifestDigest', 'platform'], f);
  const out: PredictedOciImage = {
    repoTags: strList(v, o.repoTags, `${f}.repoTags`, 256, 4096),
    configDigest: v.str(o.configDigest, `${f}.configDigest`, 80),
    layers: [],
  };
  if (o.manifestDigest !== undefined) out.manifestDigest = v.str(o.manifestDigest, `${f}.manifestDigest`, 80);
  if (o.platform !== undefined) out.platform = v.str(o.platform, `${f}.platform`, 64);
  if (!Array.isArray(o.layers) || o.layers.length > MAX_PREDICTED_LAYERS)
    v.fail(`expected an array of at most ${MAX_PREDICTED_LAYERS} layers`, `${f}.layers`);
  out.layers = o.layers.map((l, i) => {
    const lf = `${f}.layers[${i}]`;
    const lo = v.obj(l, lf);
    v.keys(
      lo,
      ['diffId', 'digest', 'compression', 'size', 'storedSize', 'added', 'changed', 'deleted', 'paths'],
      [],
      lf,
    );
    const po = v.obj(lo.paths, `${lf}.paths`);
    v.keys(po, ['added', 'changed', 'deleted'], [], `${lf}.paths`);
    const count = (k: string) => v.int(lo[k], `${lf}.${k}`, 0, Number.MAX_SAFE_INTEGER);
    const list = (k: string) => strList(v, po[k], `${lf}.paths.${k}`, MAX_LAYER_CHANGE_PATHS, 4096);
    return {
      diffId: v.str(lo.diffId, `${lf}.diffId`, 80),
      digest: v.str(lo.digest, `${lf}.digest`, 80),
      compression: v.str(lo.compression, `${lf}.compression`, 16),
      size: count('size'),
      storedSize: count('storedSize'),
      added: count('added'),
      changed: count('changed'),
      deleted: count('deleted'),
      paths: { added: list('added'), changed: list('changed'), deleted: list('deleted') },
    };
  });
  return out;
}

function validateHeader(v: V, raw: unknown, maxRecords: number, withFiles: boolean): ManifestHeader {
  const h = v.obj(raw);
  v.keys(
    h,
    ['kind', 'version', 'image', 'superblock', 'hashed', 'file_count'],
    withFiles ? ['files', 'predicted'] : ['predicted'],
  );
  if (h.kind !== MANIFEST_KIND) v.fail(`not a sharemap manifest (kind ${JSON.stringify(h.kind)})`, 'kind');
  if (typeof h.version !== 'number' || !MANIFEST_VERSIONS_READ.includes(h.version))
    v.fail(
      `unsupported manifest version ${JSON.stringify(h.version)} (this reader understands ${MANIFEST_VERSIONS_READ.join(' and ')})`,
      'version',
    );
  const im = v.obj(h.image, 'image');
  v.keys(im, ['name', 'size'], ['sha256'], 'image');
  const image: ManifestHeader['image'] = {
    name: v.str(im.name, 'image.name', 4096, /^[^\0/]+$/),
    size: v.int(im.size, 'image.size', 0, Number.MAX_SAFE_INTEGER),
  };
  if (im.sha256 !== undefined) image.sha256 = v.str(im.sha256, 'image.sha256', 64, SHA256_RE);
  const out: ManifestHeader = {
    kind: MANIFEST_KIND,
    version: MANIFEST_VERSION,
    image,
    superblock: validateSuperblock(v, h.superblock, h.version),
    hashed: v.bool(h.hashed, 'hashed'),
    file_count: v.int(h.file_count, 'file_count', 0, maxRecords),
  };
  if (h.predicted !== undefined) {
    const p = v.obj(h.predicted, 'predicted');
    v.keys(p, ['tool', 'options', 'source'], ['image'], 'predicted');
    const opts = p.options;
    if (!Array.isArray(opts) || opts.length > 64) v.fail('expected an array of options', 'predicted.options');
    out.predicted = {
      tool: v.str(p.tool, 'predicted.tool', 64),
      options: opts.map((o, i) => v.str(o, `predicted.options[${i}]`, 256)),
      source: v.str(p.source, 'predicted.source', 4096),
    };
    if (p.image !== undefined) out.predicted.image = validatePredictedImage(v, p.image);
  }
  return out;
}

const RECORD_FIELDS = [
  'path',
  'nid',
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
  'xattrs',
  'fingerprint',
] as const;
const RECORD_OPTIONAL_FIELDS = ['target', 'rdev', 'sha256', 'ino'] as const;

/**
 * Longest xattr name a record may carry, in UTF-8 bytes: the longest short prefix
 * ("system.posix_acl_default", 24) + a long-prefix infix (<= 256) + a suffix (<= 255), each
 * byte decoded to at most 3 UTF-8 bytes (U+FFFD): 1557, rounded up.
 */
export const MAX_XATTR_NAME_BYTES = 2048;

/**
 * Validates one record into `out` (a reused ValidatedRecord): the checks of
 * docs/manifest.md#validation-of-untrusted-manifests, in an order that decides which problem is
 * reported first. The record parser makes a FileRecord of it (recordOfValidated), the columnar
 * one appends it to its columns (ManifestColumns.push): both see the same checks and errors.
 */
function validateRecordInto(
  v: V,
  raw: unknown,
  ctx: RecordContext,
  maxXattrs: number,
  strings: StringTable | undefined,
  index: number,
  out: ValidatedRecord,
  /** false: the path is kept as it is (the columns keep paths as bytes), not interned. */
  internPath = true,
): ValidatedRecord {
  const r = v.obj(raw);
  v.keys(r, RECORD_FIELDS, RECORD_OPTIONAL_FIELDS);
  let path = v.str(r.path, 'path', 4096);
  if (!validManifestPath(path)) v.fail(`invalid path ${JSON.stringify(path).slice(0, 120)}`, 'path');
  if (strings && internPath) path = strings.internAt(3 * index, path);
  out.path = path;
  const type = r.type as FileType;
  if (!FILE_TYPE_CODES.includes(type)) v.fail(`invalid type ${JSON.stringify(r.type)}`, 'type');
  out.type = type;
  const layout = r.layout as DataLayout;
  if (!LAYOUT_CODES.includes(layout)) v.fail(`invalid layout ${JSON.stringify(r.layout)}`, 'layout');
  out.layout = layout;
  const inodeSize = r.inode_size;
  if (inodeSize !== 32 && inodeSize !== 64) v.fail('expected 32 or 64', 'inode_size');
  out.inode_size = inodeSize;
  const xattrIsize = v.int(r.xattr_isize, 'xattr_isize', 0, 12 + 4 * 65534);
  if (xattrIsize !== 0 && (xattrIsize < 12 || (xattrIsize - 12) % 4 !== 0))
    v.fail('not a valid xattr area size (0 or 12 + 4n)', 'xattr_isize');
  out.xattr_isize = xattrIsize;
  const xr = v.obj(r.xattrs, 'xattrs');
  const xnames = Object.keys(xr);
  if (xnames.length > maxXattrs) v.fail(`more than ${maxXattrs} xattrs`, 'xattrs');
  // Most records have no listed xattrs: they share one frozen empty object (~56 bytes each otherwise).
  const xattrs: Record<string, string> = xnames.length === 0 ? NO_XATTRS : {};
  for (const n of xnames) {
    // On disk a name is bytes (short prefix + long-prefix infix + suffix, docs/format.md#xattr-names): NUL bytes
    // are possible and the reader decodes invalid UTF-8 as U+FFFD, so only emptiness and size
    // are checked; whatever the reader lists must be accepted here (round trip, docs/manifest.md#validation-of-untrusted-manifests).
    if (n.length === 0 || utf8Length(n) > MAX_XATTR_NAME_BYTES) v.fail('invalid xattr name', 'xattrs');
    xattrs[n] = v.str(xr[n], `xattrs[${JSON.stringify(n)}]`, 2 * 65535, HEX_RE);
  }
  out.xattrs = xattrs;
  const { hashed, metabox } = ctx;
  const nid = readNid(v, r.nid, 'nid', metabox, ctx.version);
  out.nid = nid;
  // METABOX records carry the kernel's inode number, which follows from the nid (disk/nid.ts).
  let ino: number | undefined;
  if (metabox) {
    ino = nidKey(BigInt(nid), true)!;
    if (ctx.version >= 2 && r.ino !== ino)
      v.fail(`expected ${ino} (the inode number of nid ${nid}), got ${JSON.stringify(r.ino)}`, 'ino');
  } else if (r.ino !== undefined) v.fail('only METABOX images have ino', 'ino');
  out.ino = ino;
  // Checked in this order (the first problem is the one reported).
  out.mode = internMode(v.str(r.mode, 'mode', 4, MODE_RE));
  out.uid = v.int(r.uid, 'uid', 0, U32);
  out.gid = v.int(r.gid, 'gid', 0, U32);
  out.size = v.int(r.size, 'size', 0, Number.MAX_SAFE_INTEGER);
  out.nlink = v.int(r.nlink, 'nlink', 0, U32);
  out.mtime = v.int(r.mtime, 'mtime', -(2 ** 53) + 1, Number.MAX_SAFE_INTEGER);
  out.mtime_nsec = v.int(r.mtime_nsec, 'mtime_nsec', 0, 999_999_999);
  let target: string | undefined;
  if (type === 'symlink') {
    target = v.str(r.target, 'target', 4095, /^[^\0]+$/);
  } else if (r.target !== undefined) v.fail('only symlinks have a target', 'target');
  out.target = target;
  let rdev: [number, number] | undefined;
  if (type === 'chr' || type === 'blk') {
    const rd = r.rdev;
    if (!Array.isArray(rd) || rd.length !== 2) v.fail('expected [major, minor]', 'rdev');
    rdev = [v.int(rd[0], 'rdev[0]', 0, 0xfff), v.int(rd[1], 'rdev[1]', 0, 0xfffff)];
  } else if (r.rdev !== undefined) v.fail('only chr/blk have rdev', 'rdev');
  out.rdev = rdev;
  let fingerprint = r.fingerprint === null ? null : v.str(r.fingerprint, 'fingerprint', 2 * 65536, HEX_RE);
  if (strings && fingerprint !== null) fingerprint = strings.internAt(3 * index + 1, fingerprint);
  let sha256: string | undefined;
  if (hashed && type === 'file') {
    sha256 = v.str(r.sha256, 'sha256', 64, SHA256_RE);
    if (strings) sha256 = strings.internAt(3 * index + 2, sha256);
  } else if (r.sha256 !== undefined)
    v.fail(hashed ? 'only regular files have sha256' : 'sha256 in an unhashed manifest', 'sha256');
  out.fingerprint = fingerprint;
  out.sha256 = sha256;
  return out;
}

/** validateRecordInto, as a record object (the record parser). */
const recordOf = (...args: ValidateArgs): FileRecord =>
  recordOfValidated(validateRecordInto(...args, newValidatedRecord()));
type ValidateArgs = [V, unknown, RecordContext, number, StringTable | undefined, number];

function recordContext(header: ManifestHeader, version: number): RecordContext {
  return { hashed: header.hashed, metabox: isMetabox(header.superblock), version };
}

/** Record-order and count checks shared by both forms. */
class RecordSink {
  readonly files: FileRecord[] = [];
  private prev: string | null = null;
  /** checkAscii's copy of the last path's bytes (then `prev` is null until a string is needed). */
  private prevBytes: Uint8Array | null = null;
  private prevLength = 0;
  /** Records accepted so far (kept in `files` by add() unless `keep` is false). */
  count = 0;
  constructor(
    private readonly maxRecords: number,
    private readonly keep = true,
  ) {}
  /** The order and count checks of one more record with this path. */
  check(path: string, line: number): void {
    if (this.count === 0) {
      if (path !== '/') unsortedFirst(line);
    } else if (compareUtf8(this.previous(), path) >= 0) unsorted(path, line);
    this.prev = path;
    this.prevLength = 0;
    this.counted(line);
  }
  /**
   * check() of the path that is the ASCII bytes b[start, end), without making it a string: byte
   * order is compareUtf8's order, and the bytes are kept for the next record's comparison.
   */
  checkAscii(b: Uint8Array, start: number, end: number, line: number): void {
    const n = end - start;
    if (this.count === 0) {
      if (n !== 1 || b[start] !== 0x2f) unsortedFirst(line);
    } else if (this.prevLength === 0) {
      if (compareUtf8(this.prev!, asciiString(b, start, end)) >= 0)
        unsorted(asciiString(b, start, end), line);
    } else {
      const p = this.prevBytes!;
      const m = this.prevLength;
      let c = 0;
      for (let i = 0, k = Math.min(m, n); i < k && c === 0; i++) c = p[i]! - b[start + i]!;
      if ((c === 0 ? m - n : c) >= 0) unsorted(asciiString(b, start, end), line);
    }
    let p = this.prevBytes;
    if (!p || p.length < n) p = this.prevBytes = new Uint8Array(Math.max(256, 2 * n));
    for (let i = 0; i < n; i++) p[i] = b[start + i]!;
    this.prevLength = n;
    this.prev = null;
    this.counted(line);
  }
  /** The last path (a string made from checkAscii's bytes when that is how it came). */
  private previous(): string {
    return this.prevLength > 0 ? asciiString(this.prevBytes!, 0, this.prevLength) : this.prev!;
  }
  private counted(line: number): void {
    if (this.count >= this.maxRecords) throw new ManifestError(`more than ${this.maxRecords} records`, line);
    this.count++;
  }
  add(rec: FileRecord, line: number): void {
    this.check(rec.path, line);
    if (this.keep) this.files.push(rec);
  }
}

function unsortedFirst(line: number): never {
  throw new ManifestError('the first record must be "/"', line, 'path');
}

function unsorted(path: string, line: number): never {
  throw new ManifestError(
    `records not sorted by path bytes (or duplicate path ${JSON.stringify(path).slice(0, 120)})`,
    line,
    'path',
  );
}

/**
 * Validation of a manifest one record at a time without keeping the records (streamed
 * uploads: memory stays bounded by one record whatever the manifest's size). The caller
 * gives the header first, then each record in order, then calls `end()`; every rule of
 * parseManifest applies (fields, order by path bytes, "/" first, file_count).
 */
export class ManifestStreamValidator {
  private head: ManifestHeader | null = null;
  private ctx: RecordContext | null = null;
  private readonly sink: RecordSink;
  private readonly maxRecords: number;
  private readonly maxXattrs: number;

  constructor(opts: Omit<ParseManifestOptions, 'strings'> = {}) {
    this.maxRecords = opts.maxRecords ?? 10_000_000;
    this.maxXattrs = opts.maxXattrs ?? 65_536;
    this.sink = new RecordSink(this.maxRecords, false);
  }

  get manifestHeader(): ManifestHeader | null {
    return this.head;
  }

  get records(): number {
    return this.sink.count;
  }

  /** The header (an NDJSON first line, or the JSON form's fields other than `files`). */
  header(raw: unknown, line: number): ManifestHeader {
    if (this.head) throw new ManifestError('a second manifest header', line);
    this.head = validateHeader(new V(line), raw, this.maxRecords, false);
    this.ctx = recordContext(this.head, (raw as { version: number }).version);
    return this.head;
  }

  /** One record; `prefix` names it in errors of the JSON form (`files[12].`). */
  record(raw: unknown, line: number, prefix = ''): FileRecord {
    if (!this.head) throw new ManifestError('a record before the manifest header', line);
    const index = this.sink.count;
    const rec = recordOf(new V(line, prefix), raw, this.ctx!, this.maxXattrs, undefined, index);
    this.sink.add(rec, line);
    return rec;
  }

  /** record() into `out` (a reused ValidatedRecord) instead of a record object: the columnar readers. */
  recordInto(
    raw: unknown,
    line: number,
    out: ValidatedRecord,
    strings?: StringTable,
    internPath = true,
  ): void {
    if (!this.head) throw new ManifestError('a record before the manifest header', line);
    validateRecordInto(
      new V(line),
      raw,
      this.ctx!,
      this.maxXattrs,
      strings,
      this.sink.count,
      out,
      internPath,
    );
    this.sink.check(out.path, line);
  }

  /**
   * The order and count checks of a record whose fields the caller checked itself with exactly
   * the checks of recordInto (the Parquet reader's column path, manifest-parquet.ts).
   */
  acceptChecked(path: string, line: number): void {
    if (!this.head) throw new ManifestError('a record before the manifest header', line);
    this.sink.check(path, line);
  }

  /** acceptChecked() of the path that is the ASCII bytes b[start, end), without making it a string (order checked on the bytes). */
  acceptCheckedAscii(b: Uint8Array, start: number, end: number, line: number): void {
    if (!this.head) throw new ManifestError('a record before the manifest header', line);
    this.sink.checkAscii(b, start, end, line);
  }

  end(): ManifestHeader {
    if (!this.head) throw new ManifestError('empty manifest', 1);
    if (this.sink.count !== this.head.file_count)
      throw new ManifestError(
        `file_count is ${this.head.file_count} but ${this.sink.count} records follow`,
        1,
        'file_count',
      );
    return this.head;
  }
}

/**
 * Incremental NDJSON manifest parser for streamed uploads: feed lines (without or with
 * their "\n") with `line()`, then call `end()`. Each line is validated as it arrives, so
 * a bad upload is refused at the first bad line without buffering the rest.
 */
export class NdjsonManifestParser {
  private header: ManifestHeader | null = null;
  private ctx: RecordContext | null = null;
  private lineNo = 0;
  private blankAt = 0;
  private readonly sink: RecordSink;
  private readonly maxLine: number;
  private readonly maxXattrs: number;
  private readonly maxRecords: number;
  private readonly strings: StringTable | undefined;
  private readonly columnar: boolean;
  private columns: ManifestColumns | null = null;
  private readonly scratch = newValidatedRecord();
  /** Set by the header when its records can take the fast path (lineBytes). */
  private fast: FastLineContext | null = null;
  /** ParseManifestOptions.handOver. */
  private readonly handOver: ManifestStringSink | null;
  /** ParseManifestOptions.pathBytes (columnar, without handOver). */
  private readonly pathBytes: boolean;

  constructor(opts: ParseManifestOptions = {}) {
    this.maxRecords = opts.maxRecords ?? 10_000_000;
    this.maxLine = opts.maxLineLength ?? 8 * 1024 * 1024;
    this.maxXattrs = opts.maxXattrs ?? 65_536;
    this.sink = new RecordSink(this.maxRecords);
    this.strings = opts.strings;
    this.columnar = opts.columnar === true;
    this.handOver = opts.handOver ?? null;
    if (this.handOver && (!this.columnar || this.strings))
      throw new Error('NdjsonManifestParser: handOver takes columns without a StringTable');
    this.pathBytes = opts.pathBytes === true && this.columnar && !this.handOver;
  }

  /** Header, once the first line has been accepted. */
  get manifestHeader(): ManifestHeader | null {
    return this.header;
  }

  line(raw: string): void {
    this.lineNo++;
    let line = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length > this.maxLine)
      throw new ManifestError(`line longer than ${this.maxLine} characters`, this.lineNo);
    if (line.trim() === '') {
      // Only a final empty line (trailing newline) is allowed; remember and fail if more follows.
      if (!this.blankAt) this.blankAt = this.lineNo;
      return;
    }
    if (this.blankAt) throw new ManifestError('empty line', this.blankAt);
    let val: unknown;
    try {
      val = JSON.parse(line);
    } catch (e) {
      throw new ManifestError(`invalid JSON: ${(e as Error).message}`, this.lineNo);
    }
    const v: V = new V(this.lineNo);
    if (!this.header) {
      this.header = validateHeader(v, val, this.maxRecords, false);
      this.ctx = recordContext(this.header, (val as { version: number }).version);
      // Each record interns its path (unless it stays bytes) and fingerprint (and sha256 when
      // hashed): the table sized once.
      const perRecord = (this.ctx.hashed ? 3 : 2) - (this.pathBytes ? 1 : 0);
      this.strings?.reserve(perRecord * this.header.file_count);
      if (this.columnar) {
        this.columns = new ManifestColumns(this.header.file_count);
        if (this.strings) this.columns.internedIn(this.strings);
        if (this.pathBytes) this.columns.pathsAsBytes();
      }
      this.handOver?.begin(this.header.file_count);
      // Records of version 1, and METABOX records (ino, nids above 2^53), always take the general path.
      if (this.ctx.version === MANIFEST_VERSION && !this.ctx.metabox) this.fast = { hashed: this.ctx.hashed };
    } else if (this.columns) {
      // The columnar form: the validated fields go straight into the columns, no record object.
      const out = this.scratch;
      validateRecordInto(
        v,
        val,
        this.ctx!,
        this.maxXattrs,
        this.strings,
        this.lineNo - 2,
        out,
        !this.pathBytes,
      );
      this.sink.check(out.path, this.lineNo);
      if (this.handOver) {
        this.handOver.add(out.path, out.fingerprint, out.sha256);
        out.path = '';
        if (out.fingerprint !== null) out.fingerprint = '';
        if (out.sha256 !== undefined) out.sha256 = '';
      }
      this.columns.push(out);
    } else
      this.sink.add(recordOf(v, val, this.ctx!, this.maxXattrs, this.strings, this.lineNo - 2), this.lineNo);
  }

  /** Whether record lines can take the fast path (lineBytes), known once the header is read. */
  get fastLines(): boolean {
    return this.fast !== null;
  }

  /**
   * The next line as UTF-8 bytes [start, end) (without its "\n"), when it is a record line as
   * sharemap writes it (manifest-fast-line.ts): read without decoding it or JSON.parse, with the
   * values, checks and errors of line(). Returns false, having consumed nothing, for any other
   * line: the caller gives it to line() as text.
   */
  lineBytes(bytes: Uint8Array, start: number, end: number): boolean {
    if (!this.fast || this.blankAt) return false;
    if (end > start && bytes[end - 1] === 0x0d) end--; // "\r\n", as line() strips it
    if (end - start > this.maxLine) return false;
    const out = this.scratch;
    // index: this record's (lineNo - 2 once lineNo counts this line)
    const handOver = this.handOver;
    const pathBytes = this.pathBytes;
    if (
      !fastRecordLine(bytes, start, end, this.fast, this.strings, this.lineNo - 1, out, !handOver, pathBytes)
    )
      return false;
    this.lineNo++;
    if (pathBytes || handOver) {
      const s = fastLineSpans;
      this.pushAscii(bytes, s.pathStart, s.pathEnd, s.fpStart, s.fpEnd, s.shaStart, out);
    } else if (this.columns) {
      this.sink.check(out.path, this.lineNo);
      this.columns.push(out);
    } else this.sink.add(recordOfValidated(out), this.lineNo);
    return true;
  }

  /**
   * The lines of bytes[start, end] ("\n"-separated; `end` is a line's end), once the header is
   * read, scanned in WebAssembly a window at a time (manifest-line-wasm.ts): a line the scan
   * takes is pushed as lineBytes() would push it, any other is given to `other(start, end)`
   * (which reads it through lineBytes() or line()). Returns false, having read nothing, where the
   * scan does not apply: before the header, for records the fast path never takes, where a
   * record's path would be interned (the scan does not hash paths), or without WebAssembly.
   */
  scannedLines(
    bytes: Uint8Array,
    start: number,
    end: number,
    other: (start: number, end: number) => void,
  ): boolean {
    if (!this.fast || !(this.pathBytes || this.handOver)) return false;
    return forEachScannedLine(bytes, start, end, this.fast.hashed, (l) => {
      // after an empty line, or past the longest line: line() gives the error
      if (!l.taken || this.blankAt || l.end - l.start > this.maxLine) other(l.start, l.end);
      else this.takeScanned(bytes, l);
    });
  }

  /** lineBytes()'s work after fastRecordLine() took the line, for a line the scan took. */
  private takeScanned(b: Uint8Array, l: ScannedLine): void {
    const out = this.scratch;
    setFastFields(
      out,
      l.nid,
      l.type,
      l.mode,
      l.uid,
      l.gid,
      l.size,
      l.nlink,
      l.mtime,
      l.nsec,
      l.layout,
      l.inodeSize,
      l.xattrIsize,
    );
    // the record's index (the StringTable slots), as lineBytes gives it to fastRecordLine
    const index = this.lineNo - 1;
    this.lineNo++;
    if (this.handOver) {
      out.path = '';
      out.fingerprint = l.fpStart < 0 ? null : '';
      out.sha256 = l.shaStart < 0 ? undefined : '';
      this.pushAscii(b, l.pathStart, l.pathEnd, l.fpStart, l.fpEnd, l.shaStart, out);
      return;
    }
    const strings = this.strings;
    out.path = '';
    out.fingerprint =
      l.fpStart < 0
        ? null
        : strings
          ? strings.internAtAscii(3 * index + 1, b, l.fpStart, l.fpEnd, l.fpHash, asciiString)
          : asciiString(b, l.fpStart, l.fpEnd);
    out.sha256 =
      l.shaStart < 0
        ? undefined
        : strings
          ? strings.internAtAscii(3 * index + 2, b, l.shaStart, l.shaStart + 64, l.shaHash, asciiString)
          : asciiString(b, l.shaStart, l.shaStart + 64);
    this.pushAscii(b, l.pathStart, l.pathEnd, l.fpStart, l.fpEnd, l.shaStart, out);
  }

  /**
   * A taken line's record whose strings stay bytes (`b`'s ASCII spans; fpStart/shaStart -1: none):
   * the path checked for order as bytes, then with `handOver` all three written on by the sink and
   * the record pushed, else (`pathBytes`) the path copied into the columns' PathStore.
   */
  private pushAscii(
    b: Uint8Array,
    pathStart: number,
    pathEnd: number,
    fpStart: number,
    fpEnd: number,
    shaStart: number,
    out: ValidatedRecord,
  ): void {
    this.sink.checkAscii(b, pathStart, pathEnd, this.lineNo);
    if (this.handOver) {
      this.handOver.addAscii(b, pathStart, pathEnd, fpStart, fpEnd, shaStart);
      this.columns!.push(out);
    } else this.columns!.pushAsciiPath(b, pathStart, pathEnd, out);
  }

  end(): Manifest {
    if (!this.header) throw new ManifestError('empty manifest', 1);
    const count = this.sink.count;
    if (count !== this.header.file_count) {
      throw new ManifestError(
        `file_count is ${this.header.file_count} but ${count} records follow`,
        1,
        'file_count',
      );
    }
    return this.columns
      ? columnarManifest(this.header, this.columns)
      : { ...this.header, files: this.sink.files };
  }
}

/**
 * Parse and validate a manifest in JSON or NDJSON form (untrusted input). Every field is
 * type- and range-checked; records must be sorted by path bytes without duplicates, "/"
 * first, and their number must equal file_count. Throws ManifestError naming the line.
 */
export function parseManifest(text: string, opts: ParseManifestOptions = {}): Manifest {
  if (typeof text !== 'string') throw new ManifestError('manifest must be text', 0);
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (!trimmed) throw new ManifestError('empty manifest', 1);
  const nl = trimmed.indexOf('\n');
  let isNdjson = false;
  try {
    const first: unknown = JSON.parse(nl < 0 ? trimmed : trimmed.slice(0, nl));
    isNdjson =
      typeof first === 'object' && first !== null && !Array.isArray(first) && !Object.hasOwn(first, 'files');
  } catch {
    isNdjson = false;
  }
  if (isNdjson) {
    const p = new NdjsonManifestParser(opts);
    let start = 0;
    while (start <= trimmed.length) {
      const end = trimmed.indexOf('\n', start);
      if (end < 0) {
        if (start < trimmed.length) p.line(trimmed.slice(start));
        break;
      }
      p.line(trimmed.slice(start, end));
      start = end + 1;
    }
    return p.end();
  }
  const maxRecords = opts.maxRecords ?? 10_000_000;
  const maxXattrs = opts.maxXattrs ?? 65_536;
  let doc: unknown;
  try {
    doc = JSON.parse(trimmed);
  } catch (e) {
    throw new ManifestError(`invalid JSON: ${(e as Error).message}`, 1);
  }
  const v: V = new V(1);
  const o = v.obj(doc);
  const header = validateHeader(v, o, maxRecords, true);
  const ctx = recordContext(header, o.version as number);
  const list = o.files;
  if (!Array.isArray(list)) v.fail('expected an array', 'files');
  if (list.length > maxRecords) v.fail(`more than ${maxRecords} records`, 'files');
  const sink = new RecordSink(maxRecords);
  list.forEach((r: unknown, i: number) =>
    sink.add(recordOf(new V(1, `files[${i}].`), r, ctx, maxXattrs, opts.strings, i), 1),
  );
  if (sink.files.length !== header.file_count) {
    throw new ManifestError(
      `file_count is ${header.file_count} but ${sink.files.length} records follow`,
      1,
      'file_count',
    );
  }
  return { ...header, files: sink.files };
}
