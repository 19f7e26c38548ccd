/**
 * UTF-8 bytes of `JSON.stringify(value)`, in pieces of about `chunkBytes`, for reports of
 * millions of rows (the CLI's `--json`, the server's stored report JSON): no whole-report
 * string, no UTF-16 -> UTF-8 copy of it at the write, and nothing held but the piece being
 * filled (docs/benchmarks.md#report-json-as-bytes).
 *
 * The bytes are exactly `new TextEncoder().encode(JSON.stringify(value))` (the property test
 * in test/json-bytes.test.ts): the same members in the same order (`Object.keys`), `toJSON`
 * called with the same key, members whose value JSON cannot carry left out, `null` in arrays
 * for them, numbers as `Number.prototype.toString` writes them. Three fast paths carry a report:
 * safe integers are written digit by digit (runs of int32s in a column, -1 included, without a
 * call per element), strings of printable ASCII without `"` or `\` (paths, fingerprints,
 * statuses) byte by byte, and objects of one shape (900,000 shared inodes) with their member
 * names encoded once per shape; any other string goes through `JSON.stringify` (its escapes:
 * control characters, lone surrogates) and `TextEncoder`.
 * Anything that is not a plain object or an array (Date, Map, boxed values, typed arrays) is
 * `JSON.stringify`'s too.
 *
 * Why not a streaming-JSON library: those emit a token at a time through async streams, which
 * at tens of millions of numbers costs more than the report itself.
 */

import {
  AOPS_CLASSES,
  attachedGroupColumns,
  attachedPathStores,
  PATH_ASCII,
  type PathStore,
  type SharedGroupColumns,
} from '@sharemap/sharing';
import { nativeStringWrite } from './native-write.js';

/** Default piece size in bytes: one call into zlib or one write per piece. */
export const JSON_PIECE_BYTES = 256 * 1024;

/**
 * Plain objects nested less deep than this (the root is 0) are walked member by member, so that
 * a piece can be handed out between members (the report, its `files`/`paths`/`perInstance`
 * maps); deeper objects (one shared inode, one finding) are written whole, which is faster.
 * Arrays whose parent was walked are walked too (a 2M-element column is never held whole).
 */
const WALKED_OBJECT_DEPTH = 2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const MINUS = 0x2d;

const encoder = new TextEncoder();

/**
 * Node's native copy of a string's characters as bytes (`Buffer.prototype.latin1Write`, which
 * takes any Uint8Array), where there is one; null elsewhere (a browser). For strings known to
 * be printable ASCII without `"` or `\` (the engine's lower-hex fingerprints): 3-4x faster
 * than a loop over their 80 characters.
 */
const copyLatin1 = nativeStringWrite('latin1Write');

/**
 * Distinct object keys kept encoded per report: a report has a few dozen (its fields), but a
 * map keyed by image or instance name (`paths`, `perInstance`) has one per entry.
 */
const KEY_CACHE_SIZE = 1024;

/** Object shapes kept (by first member name): a report has a few dozen kinds of object. */
const SHAPE_CACHE_SIZE = 256;

/**
 * Pieces given back by the consumer of `jsonBytes(value, chunkBytes, pool)` once it has written
 * them (zlib has taken them: apps/server scan/report-blobs.ts), for the writer to fill again:
 * a 2M-row report's JSON is ~800 pieces of 256 KiB, each a fresh allocation the VM zeroes and
 * pages in otherwise, where the gzip stream's read-ahead holds a few dozen at a time. Only
 * pieces of `pieceBytes` are kept (a longer one, for one long string, is left to the garbage
 * collector), at most `max` of them.
 */
export class PiecePool {
  private readonly free: ArrayBuffer[] = [];

  constructor(
    readonly pieceBytes = JSON_PIECE_BYTES,
    readonly max = 64,
  ) {}

  /** A buffer of `pieceBytes` to fill: one given back (its old bytes still in it), or a new one. */
  take(): Uint8Array {
    const b = this.free.pop();
    return b !== undefined ? new Uint8Array(b) : new Uint8Array(this.pieceBytes);
  }

  /**
   * Give back a piece once nothing reads it any more (its buffer is filled again). A piece given
   * back twice is kept once.
   */
  give(piece: Uint8Array): void {
    const b = piece.buffer;
    if (
      b instanceof ArrayBuffer &&
      b.byteLength === this.pieceBytes &&
      this.free.length < this.max &&
      !this.free.includes(b)
    )
      this.free.push(b);
  }
}

/** Fills pieces of `chunkBytes` bytes; full pieces wait in `done` until taken. */
class PieceWriter {
  buf: Uint8Array;
  pos = 0;
  done: Uint8Array[] = [];
  readonly keys = new Map<string, Uint8Array>();
  readonly shapes = new Map<string, { names: string[]; keys: Uint8Array[] }>();

  constructor(
    readonly chunkBytes: number,
    /** Where new pieces come from when they are of its size (else each is a new buffer). */
    private readonly pool: PiecePool | null = null,
  ) {
    this.buf = this.fresh(chunkBytes);
  }

  /** A buffer for a piece of `n` bytes or more. */
  private fresh(n: number): Uint8Array {
    const pool = this.pool;
    return pool !== null && n === pool.pieceBytes ? pool.take() : new Uint8Array(n);
  }

  /** Room for `n` more bytes in the current piece: else it is done and a new one begins. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) this.done.push(this.buf.subarray(0, this.pos));
    this.buf = this.fresh(Math.max(this.chunkBytes, n));
    this.pos = 0;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** JSON text (already escaped) as UTF-8: at most 3 bytes per UTF-16 code unit. */
  text(s: string): void {
    this.ensure(s.length * 3);
    this.pos += encoder.encodeInto(s, this.buf.subarray(this.pos)).written;
  }

  /** A string as JSON: byte by byte while it is printable ASCII, else JSON.stringify's escapes. */
  string(s: string): void {
    const n = s.length;
    this.ensure(n + 2);
    const buf = this.buf;
    const start = this.pos;
    let p = start;
    buf[p++] = QUOTE;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) {
        this.pos = start;
        this.text(JSON.stringify(s));
        return;
      }
      buf[p++] = c;
    }
    buf[p++] = QUOTE;
    this.pos = p;
  }

  /** A number as JSON.stringify writes it: digits for safe integers (-0 is "0"), else its text. */
  number(v: number): void {
    if (v >= 0 && v <= 0x7fffffff && (v | 0) === v) {
      this.ensure(10);
      this.pos = writeUint32(this.buf, this.pos, v | 0);
      return;
    }
    if (!Number.isSafeInteger(v)) {
      this.text(JSON.stringify(v));
      return;
    }
    this.ensure(17);
    const buf = this.buf;
    if (v < 0) {
      buf[this.pos++] = 0x2d;
      v = -v;
    }
    if (v <= 0x7fffffff) {
      this.pos = writeUint32(buf, this.pos, v | 0);
      return;
    }
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    do {
      const q = Math.floor(v / 10);
      buf[--p] = 0x30 + (v - q * 10);
      v = q;
    } while (v > 0);
  }

  /**
   * Elements `from`.. of an array while they are numbers or strings, each after its comma: the
   * index of the first element not written. Stops early, when `untilPiece`, once a piece is
   * full (so that a walk can hand it out). A report's columns (2M numbers or statuses) go
   * through here rather than through `element`'s dispatch and a room check per byte.
   */
  primitives(v: readonly unknown[], from: number, untilPiece: boolean): number {
    const n = v.length;
    let i = from;
    if (untilPiece && this.done.length > 0) return i;
    // The piece and the position live in locals through a run of int32s (the common case of
    // a column); they go back to the writer around anything that may begin a new piece.
    let buf = this.buf;
    let p = this.pos;
    for (; i < n; i++) {
      const el = v[i];
      if (typeof el === 'number' && (el | 0) === el) {
        // An int32 (a count, an index, -1 for "none"; -0 is "0" as in JSON.stringify): a comma,
        // a sign and at most 10 digits.
        if (p + 12 > buf.length) {
          this.pos = p;
          this.ensure(12);
          buf = this.buf;
          p = this.pos;
          // A piece is full: the walk hands it out before this element is written.
          if (untilPiece && this.done.length > 0) break;
        }
        if (i > 0) buf[p++] = COMMA;
        if (el < 0) {
          buf[p++] = MINUS;
          p = writeUint32(buf, p, -el);
        } else p = writeUint32(buf, p, el);
      } else if (typeof el === 'string' || typeof el === 'number') {
        if (typeof el === 'string') {
          // A path or a status: in place while it is printable ASCII (a comma, quotes).
          if (p + el.length + 3 > buf.length) {
            this.pos = p;
            this.ensure(el.length + 3);
            buf = this.buf;
            p = this.pos;
            if (untilPiece && this.done.length > 0) break;
          }
          const q = plainString(buf, i > 0 ? p + 1 : p, el);
          if (q >= 0) {
            if (i > 0) buf[p] = COMMA;
            p = q;
            continue;
          }
        }
        // The general writer: a string with escapes or beyond ASCII, a number that is not an int32.
        this.pos = p;
        if (i > 0) this.byte(COMMA);
        if (typeof el === 'string') this.string(el);
        else this.number(el);
        buf = this.buf;
        p = this.pos;
        if (untilPiece && this.done.length > 0) {
          i++;
          break;
        }
      } else break;
    }
    this.pos = p;
    return i;
  }

  /** `"key":` of an object member; the few distinct keys of a report are encoded once. */
  key(k: string): void {
    this.raw(this.keyBytes(k));
  }

  /** `"key":` as UTF-8, from the cache of keys when it is there. */
  keyBytes(k: string): Uint8Array {
    let bytes = this.keys.get(k);
    if (bytes === undefined) {
      bytes = encoder.encode(JSON.stringify(k) + ':');
      if (this.keys.size < KEY_CACHE_SIZE) this.keys.set(k, bytes);
    }
    return bytes;
  }

  /** Bytes already encoded (a key), copied one by one: they are a few dozen at most. */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = bytes[i]!;
    this.pos = p;
  }

  /**
   * The encoded keys of an object with these member names (`Object.keys` order): a report's
   * 900,000 shared inodes (or findings, rows of a table) share one shape, so a member costs an
   * array index instead of a lookup by name. Shapes are found by their first name.
   */
  shape(names: string[]): Uint8Array[] {
    const cached = this.shapes.get(names[0]!);
    if (cached !== undefined && sameNames(cached.names, names)) return cached.keys;
    const keys = names.map((k) => this.keyBytes(k));
    if (cached !== undefined || this.shapes.size < SHAPE_CACHE_SIZE)
      this.shapes.set(names[0]!, { names, keys });
    return keys;
  }

  /** A value JSON can carry that is not walked: primitives fast, the rest JSON.stringify's. */
  leaf(v: unknown): void {
    if (typeof v === 'string') this.string(v);
    else if (typeof v === 'number') this.number(v);
    else if (v === true) this.text('true');
    else if (v === false) this.text('false');
    else if (v === null) this.text('null');
    // undefined, functions and symbols are `null` in an array (JSON.stringify gives undefined).
    else this.text(JSON.stringify(v) ?? 'null');
  }

  /** A whole value (after toJSON) at once; `v` is not undefined, a function or a symbol. */
  value(v: unknown): void {
    if (!isContainer(v)) {
      this.leaf(v);
      return;
    }
    if (Array.isArray(v)) {
      this.byte(0x5b);
      for (let i = this.primitives(v, 0, false); i < v.length; i = this.primitives(v, i + 1, false)) {
        if (i > 0) this.byte(COMMA);
        this.element(i, v[i] as unknown);
      }
      this.byte(0x5d);
      return;
    }
    this.byte(0x7b);
    const names = Object.keys(v);
    const keys = names.length > 0 ? this.shape(names) : [];
    let first = true;
    for (let i = 0; i < names.length; i++) {
      const k = names[i]!;
      let el = (v as Record<string, unknown>)[k];
      // Strings and numbers (most members of a shared inode or a finding) have no toJSON.
      const primitive = typeof el === 'string' || typeof el === 'number';
      if (!primitive) {
        el = withToJson(k, el);
        if (el === undefined || typeof el === 'function' || typeof el === 'symbol') continue;
      }
      if (!first) this.byte(COMMA);
      first = false;
      this.raw(keys[i]!);
      if (typeof el === 'string') this.string(el);
      else if (typeof el === 'number') this.number(el);
      else this.value(el);
    }
    this.byte(0x7d);
  }

  /** Element `i` of an array: what JSON cannot carry is `null` there. */
  element(i: number, el: unknown): void {
    if (typeof el === 'number') this.number(el);
    else if (typeof el === 'string') this.string(el);
    else {
      el = withToJson(i, el);
      if (el === undefined || typeof el === 'function' || typeof el === 'symbol') this.text('null');
      else this.value(el);
    }
  }
}

/**
 * `JSON.stringify(value)` as UTF-8, in pieces of `chunkBytes` bytes (the last shorter; a piece
 * is longer only when one string or one number's text alone needs more). A piece is a view
 * of a buffer of its own: the caller may keep it (a stream that has not written it yet) while
 * the next is filled, and with a `pool` give it back once written, to be filled again; it ends
 * at a whole UTF-8 character. Where `JSON.stringify(value)` is undefined (a function, a symbol, undefined) the text
 * is `null`, as `--json` always wrote. Throws where `JSON.stringify` throws (BigInt), and a
 * RangeError for a cycle.
 */
export function* jsonBytes(
  value: unknown,
  chunkBytes = JSON_PIECE_BYTES,
  /** Pieces given back by the consumer, filled again (`PiecePool`); without it every piece is new. */
  pool: PiecePool | null = null,
): Generator<Uint8Array> {
  const w = new PieceWriter(chunkBytes, pool);

  // Walked containers: between members the full pieces are handed out (bounded memory).
  function* walk(v: object, depth: number): Generator<Uint8Array> {
    if (Array.isArray(v)) {
      w.byte(0x5b);
      for (let i = 0; i < v.length;) {
        i = w.primitives(v, i, true);
        if (w.done.length > 0) yield* take();
        if (i >= v.length) break;
        const el = v[i] as unknown;
        if (typeof el === 'number' || typeof el === 'string') continue; // a full piece stopped the run
        if (i > 0) w.byte(COMMA);
        if (typeof el === 'object' && el !== null) {
          const j = withToJson(i, el);
          if (walked(j, depth + 1)) yield* walk(j, depth + 1);
          else if (j === undefined || typeof j === 'function' || typeof j === 'symbol') w.text('null');
          else w.value(j);
        } else w.element(i, el);
        if (w.done.length > 0) yield* take();
        i++;
      }
      w.byte(0x5d);
      return;
    }
    w.byte(0x7b);
    let first = true;
    // The engine's report keeps its shared inodes as columns until they are read as objects:
    // written from there, the objects are never made (sharing's group-columns.ts).
    const groupColumns = attachedGroupColumns(v);
    // The engine's report keeps the paths of manifests read as bytes as bytes (sharing's
    // report-paths.ts): written from there, their strings are never made.
    const pathStores = attachedPathStores(v);
    for (const k of Object.keys(v)) {
      const store = pathStores?.get(k);
      if (store !== undefined) {
        if (!first) w.byte(COMMA);
        first = false;
        w.key(k);
        yield* pathsFromStore(store);
        continue;
      }
      if (k === 'groups' && groupColumns !== null) {
        if (!first) w.byte(COMMA);
        first = false;
        w.key(k);
        yield* groupsFromColumns(groupColumns);
        continue;
      }
      const el = withToJson(k, (v as Record<string, unknown>)[k]);
      if (el === undefined || typeof el === 'function' || typeof el === 'symbol') continue;
      if (!first) w.byte(COMMA);
      first = false;
      w.key(k);
      if (walked(el, depth + 1)) yield* walk(el, depth + 1);
      else w.value(el);
      if (w.done.length > 0) yield* take();
    }
    w.byte(0x7d);
  }

  /**
   * `JSON.stringify(groupObjects(c))`'s bytes (each group's members in groupObject's order).
   * One room check per group (its bound: the fixed text, its fingerprint, its rows), then the
   * piece and the position in locals through the group: a group was a dozen writer calls, each
   * with its own room check (docs/benchmarks.md#analyze-write2-the-report-after-the-read-2026-12-07).
   */
  function* groupsFromColumns(c: SharedGroupColumns): Generator<Uint8Array> {
    const ascii = (t: string): Uint8Array => encoder.encode(t);
    const open = ascii('{"fingerprint":');
    /** `{"fingerprint":"`: the opening of a group whose fingerprint is copied as it is. */
    const openQuoted = ascii('{"fingerprint":"');
    const domainKeys = c.domainLabels.map((d) => ascii(`,"domain":${JSON.stringify(d)}`));
    const aopsSize = AOPS_CLASSES.map((a) => ascii(`,"aops":${JSON.stringify(a)},"size":`));
    // The text between a copied fingerprint and the size, `","domain":"...","aops":"...","size":`,
    // one copy per group instead of three: made at the first group of each (domain, aops) pair.
    const nAops = AOPS_CLASSES.length;
    const middles: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(
      c.domainLabels.length * nAops,
    );
    const middleOf = (d: number, a: number): Uint8Array => {
      const k = d * nAops + a;
      let m = middles[k];
      if (m === undefined) {
        const dk = domainKeys[d]!;
        const ak = aopsSize[a]!;
        m = new Uint8Array(1 + dk.length + ak.length);
        m[0] = QUOTE;
        m.set(dk, 1);
        m.set(ak, 1 + dk.length);
        middles[k] = m;
      }
      return m;
    };
    const pagesKey = ascii(',"pages":');
    const membersKey = ascii(',"members":[');
    const rejectedKey = ascii('],"rejected":[');
    const memberCountKey = ascii('],"memberCount":');
    const rejectedCountKey = ascii(',"rejectedCount":');
    const orderDependentKeys = [null, ascii(',"orderDependent":true'), ascii(',"orderDependent":false')];
    let longestDomain = 0;
    for (const k of domainKeys) longestDomain = Math.max(longestDomain, k.length);
    /** Bytes of a group besides its fingerprint and rows: the keys, four numbers, brackets. */
    const fixed =
      1 +
      open.length +
      2 +
      longestDomain +
      Math.max(...aopsSize.map((k) => k.length)) +
      24 +
      pagesKey.length +
      24 +
      membersKey.length +
      rejectedKey.length +
      memberCountKey.length +
      24 +
      rejectedCountKey.length +
      24 +
      orderDependentKeys[2]!.length +
      2;
    const { memberStart, memberRows, rejectedStart, rejectedRows, memberCount, rejectedCount } = c;
    const { fingerprints, fingerprint, domain, aops, size, pages, orderDependent } = c;
    // Lower-hex fingerprints (the engine saw each) are their JSON between quotes: copied natively.
    const copyFingerprint = c.plainFingerprints === true ? copyLatin1 : null;
    w.byte(0x5b);
    for (let g = 0; g < c.count; g++) {
      const fp = fingerprints[fingerprint[g]!]!;
      const m0 = memberStart[g]!;
      const m1 = memberStart[g + 1]!;
      const r0 = rejectedStart[g]!;
      const r1 = rejectedStart[g + 1]!;
      // A member row is an int32 of at most 10 digits and a comma.
      const need = fixed + fp.length + 11 * (m1 - m0 + r1 - r0);
      w.ensure(need);
      let buf = w.buf;
      let p = w.pos;
      if (g > 0) buf[p++] = COMMA;
      if (copyFingerprint !== null) {
        // `{"fingerprint":"`, the fingerprint, then its closing quote with the domain and aops keys.
        p = copyBytes(buf, p, openQuoted);
        p += copyFingerprint.call(buf, fp, p, fp.length);
        p = copyBytes(buf, p, middleOf(domain[g]!, aops[g]!));
      } else {
        p = copyBytes(buf, p, open);
        const q = plainString(buf, p, fp);
        if (q < 0) {
          // A fingerprint with characters JSON escapes (not what manifests carry): the writer's way.
          w.pos = p;
          w.string(fp);
          w.ensure(need);
          buf = w.buf;
          p = w.pos;
        } else p = q;
        p = copyBytes(buf, p, domainKeys[domain[g]!]!);
        p = copyBytes(buf, p, aopsSize[aops[g]!]!);
      }
      p = writeNumberInRoom(w, buf, p, size[g]!, need);
      buf = w.buf;
      p = copyBytes(buf, p, pagesKey);
      p = writeNumberInRoom(w, buf, p, pages[g]!, need);
      buf = w.buf;
      p = copyBytes(buf, p, membersKey);
      p = writeRows(buf, p, memberRows, m0, m1);
      p = copyBytes(buf, p, rejectedKey);
      p = writeRows(buf, p, rejectedRows, r0, r1);
      // Present only where they differ from the row counts (core.ts, groupObject).
      if (memberCount !== null && memberCount[g] !== m1 - m0) {
        p = copyBytes(buf, p, memberCountKey);
        p = writeNumberInRoom(w, buf, p, memberCount[g]!, need);
        buf = w.buf;
      } else buf[p++] = 0x5d;
      if (rejectedCount !== null && rejectedCount[g] !== r1 - r0) {
        p = copyBytes(buf, p, rejectedCountKey);
        p = writeNumberInRoom(w, buf, p, rejectedCount[g]!, need);
        buf = w.buf;
      }
      const od = orderDependentKeys[orderDependent[g]!];
      if (od) p = copyBytes(buf, p, od);
      buf[p++] = 0x7d;
      w.pos = p;
      if (w.done.length > 0) yield* take();
    }
    w.byte(0x5d);
  }

  /**
   * `JSON.stringify(store.strings())`'s bytes, from the paths' bytes: an ASCII path without
   * characters JSON escapes is copied between quotes; any other (an escape, UTF-16) goes through
   * the writer's string(), as the array's element would.
   */
  function* pathsFromStore(store: PathStore): Generator<Uint8Array> {
    const { bytes, ends, kinds, n } = store.view();
    w.byte(0x5b);
    let start = 0;
    for (let i = 0; i < n; i++) {
      const end = ends[i]!;
      w.ensure(end - start + 3);
      const buf = w.buf;
      let p = w.pos;
      if (i > 0) buf[p++] = COMMA;
      let k = start;
      if (kinds[i] === PATH_ASCII) {
        buf[p++] = QUOTE;
        for (; k < end; k++) {
          const c = bytes[k]!;
          if (c < 0x20 || c === QUOTE || c === BACKSLASH) break;
          buf[p++] = c;
        }
      }
      if (k === end && kinds[i] === PATH_ASCII) {
        buf[p++] = QUOTE;
        w.pos = p;
      } else {
        w.pos = i > 0 ? w.pos + 1 : w.pos;
        w.string(store.pathAt(i));
      }
      start = end;
      if (w.done.length > 0) yield* take();
    }
    w.byte(0x5d);
  }

  function* take(): Generator<Uint8Array> {
    const list = w.done;
    w.done = [];
    yield* list;
  }

  const root = withToJson('', value);
  if (walked(root, 0)) yield* walk(root, 0);
  else if (root === undefined || typeof root === 'function' || typeof root === 'symbol') w.text('null');
  else w.value(root);
  yield* take();
  if (w.pos > 0) yield w.buf.subarray(0, w.pos);
}

/** The ASCII digits of 0-99, two bytes each ("00", "01", ... "99"). */
const DIGIT_PAIRS = Uint8Array.from(
  { length: 200 },
  (_, k) => 0x30 + (k & 1 ? (k >> 1) % 10 : ((k >> 1) / 10) | 0),
);

/**
 * Writes `v` (0 <= v <= 2^31, an int32's magnitude) in decimal at `buf[p]`; returns the index
 * after its last digit.
 * Counts the digits by comparison first (a division per digit cost more than the writing), then
 * writes them two at a time from DIGIT_PAIRS: half the divisions of one digit at a time, ~1/3
 * less time for a report's 10M column numbers (docs/benchmarks.md#analyze-core4-post-read-allocations-and-digits-2026-12-07).
 */
function writeUint32(buf: Uint8Array, p: number, v: number): number {
  if (v < 10) {
    buf[p] = 0x30 + v;
    return p + 1;
  }
  let digits = 2;
  for (let t = 100; digits < 10 && v >= t; t *= 10) digits++;
  const end = p + digits;
  let q = end;
  while (v >= 100) {
    const d = (v / 100) | 0;
    const k = (v - d * 100) << 1;
    buf[--q] = DIGIT_PAIRS[k + 1]!;
    buf[--q] = DIGIT_PAIRS[k]!;
    v = d;
  }
  if (v >= 10) {
    const k = v << 1;
    buf[--q] = DIGIT_PAIRS[k + 1]!;
    buf[--q] = DIGIT_PAIRS[k]!;
  } else buf[--q] = 0x30 + v;
  return end;
}

/** Length from which copyBytes copies natively. */
const COPY_NATIVE_BYTES = 16;

/**
 * Copies `bytes` (a key, a few dozen bytes) to `buf[p]`; returns the index after them. From
 * COPY_NATIVE_BYTES on by `Uint8Array.prototype.set` (a native copy: for the shared inodes' keys,
 * 16-50 bytes, ~40 % less time than the loop); shorter ones by the loop, which is cheaper there
 * than the call (docs/benchmarks.md#analyze-core3-fewer-tables-and-copies-after-the-read-2026-12-07).
 */
function copyBytes(buf: Uint8Array, p: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n >= COPY_NATIVE_BYTES) {
    buf.set(bytes, p);
    return p + n;
  }
  for (let i = 0; i < n; i++) buf[p++] = bytes[i]!;
  return p;
}

/**
 * `s` as JSON at `buf[p]` (room for s.length + 2 bytes) when it is printable ASCII without `"`
 * or `\` (so its JSON is its characters, quoted): the index after it; else -1, nothing
 * meaningful written.
 */
function plainString(buf: Uint8Array, p: number, s: string): number {
  const n = s.length;
  buf[p++] = QUOTE;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) return -1;
    buf[p++] = c;
  }
  buf[p++] = QUOTE;
  return p;
}

/**
 * A number at `buf[p]`, `buf` being `w`'s piece with room for 24 bytes: in place for a
 * non-negative int32, else through the writer (which may begin a new piece: the caller checks
 * `w.buf`). Returns the position after it in whichever piece holds it (w.pos then).
 */
function writeNumber(w: PieceWriter, buf: Uint8Array, p: number, v: number): number {
  if (v >= 0 && v <= 0x7fffffff && (v | 0) === v) return writeUint32(buf, p, v);
  w.pos = p;
  w.number(v);
  return w.pos;
}

/**
 * writeNumber, then, where the number went through the writer and it moved to a new buffer, room
 * for `need` bytes again; the caller reads `w.buf` after it.
 */
function writeNumberInRoom(w: PieceWriter, buf: Uint8Array, p: number, v: number, need: number): number {
  p = writeNumber(w, buf, p, v);
  if (w.buf === buf) return p;
  w.ensure(need);
  return w.pos;
}

/** Non-negative int32s xs[from .. to - 1], comma-separated, at `buf[p]` (room for 11 each). */
function writeRows(buf: Uint8Array, p: number, xs: Int32Array, from: number, to: number): number {
  for (let k = from; k < to; k++) {
    if (k > from) buf[p++] = COMMA;
    p = writeUint32(buf, p, xs[k]!);
  }
  return p;
}

/** The same member names in the same order. */
function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Arrays under a walked parent, and plain objects above WALKED_OBJECT_DEPTH, are walked. */
function walked(v: unknown, depth: number): v is object {
  if (!isContainer(v)) return false;
  return Array.isArray(v) || depth < WALKED_OBJECT_DEPTH;
}

/** Plain objects and arrays are walked; anything else (Date, Map, boxed values...) is JSON.stringify's. */
function isContainer(v: unknown): v is object {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A value's `toJSON(key)` result when it has one (JSON.stringify's SerializeJSONProperty step 2).
 * An array element's key is its index, made a string only for a `toJSON` call (a report has
 * 1M shared inodes, and none has a toJSON).
 */
function withToJson(key: string | number, v: unknown): unknown {
  if (
    ((typeof v === 'object' && v !== null) || typeof v === 'bigint') &&
    typeof (v as { toJSON?: unknown }).toJSON === 'function'
  )
    return (v as { toJSON(k: string): unknown }).toJSON(String(key));
  return v;
}
