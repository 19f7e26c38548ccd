/**
 * The NDJSON fast path's line scan in WebAssembly (wasm/ndjson-line.wat, assembled into
 * manifest-line-wasm-bytes.ts): a window of complete lines is copied into the instance's memory
 * once and one call validates up to MAX_LINES canonical record lines exactly as fastRecordLine()
 * (manifest-fast-line.ts) does, writing each line's numbers, enumeration indices, string spans
 * and string hashes into a record; the reader (NdjsonManifestParser.scannedLines) then only
 * interns and pushes. Lines the scan refuses go to fastRecordLine and the general parser as
 * before, which stay the fallback where WebAssembly is unavailable
 * (docs/manifest.md#columnar-in-memory-form).
 */
import { FAST_LINE_LITERALS } from './manifest-fast-line.js';
import { NDJSON_LINE_WASM_BASE64 } from './manifest-line-wasm-bytes.js';
import { STRING_HASH_SEED } from './manifest-strings.js';
import { instantiateWasm } from './wasm-instance.js';

/** Bytes of the window (wasm/ndjson-line.wat's IN region, before its slack). */
export const LINE_SCAN_WINDOW = 4 << 20;
/** The module's regions and record layout (wasm/ndjson-line.wat). */
const LIT = LINE_SCAN_WINDOW + 256;
const LENS = LIT + 1024;
const OUT = (4 << 20) + (64 << 10);
const MEMORY_BYTES = 130 << 16;
/** Bytes a line's record takes in OUT (i32 fields at 0..55, f64 fields at 64..119). */
const RECORD = 128;
/** The literals the module numbers (16 keys, 7 types, then the layouts; 32 slots of 32 bytes). */
const LAYOUTS = FAST_LINE_LITERALS.length - 23;

interface LineScanExports {
  memory: { readonly buffer: ArrayBuffer };
  scan(from: number, len: number, hashed: number, seed: number, layouts: number): number;
}

/** The instance of this thread: undefined until first used, null when it cannot be made. */
let wasm: LineScanExports | null | undefined;
let heap = new Uint8Array(0);
let i32 = new Int32Array(0);
let f64 = new Float64Array(0);

/**
 * Instantiated on first use, synchronously (2.3 KB), with the literals written into its memory
 * once. Null where WebAssembly is missing or refused (a Content-Security-Policy without
 * 'wasm-unsafe-eval'): readers then take every line through fastRecordLine.
 */
function instance(): LineScanExports | null {
  if (wasm !== undefined) return wasm;
  const exports = instantiateWasm(NDJSON_LINE_WASM_BASE64) as LineScanExports | null;
  if (!exports || LAYOUTS < 1 || FAST_LINE_LITERALS.length > 32) return (wasm = null);
  if (exports.memory.buffer.byteLength < MEMORY_BYTES) return (wasm = null);
  heap = new Uint8Array(exports.memory.buffer);
  i32 = new Int32Array(exports.memory.buffer);
  f64 = new Float64Array(exports.memory.buffer);
  FAST_LINE_LITERALS.forEach((l, k) => {
    heap.fill(0, LIT + 32 * k, LIT + 32 * (k + 1));
    heap.set(l, LIT + 32 * k);
    i32[(LENS >> 2) + k] = l.length;
  });
  return (wasm = exports);
}

/** Whether this thread can scan lines with WebAssembly. */
export function lineScanAvailable(): boolean {
  return instance() !== null;
}

/**
 * One line the scan read (valid until the next scan): `taken` when fastRecordLine would take it,
 * then its fields; `start` and `end` (its "\n") are offsets in `b` as given to forEachScannedLine.
 */
export interface ScannedLine {
  taken: boolean;
  start: number;
  end: number;
  nid: number;
  type: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  mtime: number;
  nsec: number;
  layout: number;
  inodeSize: number;
  xattrIsize: number;
  pathStart: number;
  pathEnd: number;
  /** -1: the fingerprint is null. */
  fpStart: number;
  fpEnd: number;
  fpHash: number;
  /** -1: no sha256. */
  shaStart: number;
  shaHash: number;
}

const line: ScannedLine = {
  taken: false,
  start: 0,
  end: 0,
  nid: 0,
  type: 0,
  mode: 0,
  uid: 0,
  gid: 0,
  size: 0,
  nlink: 0,
  mtime: 0,
  nsec: 0,
  layout: 0,
  inodeSize: 0,
  xattrIsize: 0,
  pathStart: 0,
  pathEnd: 0,
  fpStart: -1,
  fpEnd: -1,
  fpHash: 0,
  shaStart: -1,
  shaHash: 0,
};

/**
 * Calls `each` with every "\n"-separated line of b[pos, end] in order (`end` is a line's end: the
 * last line is [x, end)), read by the scan a window at a time; `line.taken` false for the lines
 * it refuses, which the caller reads another way. `hashed`: the manifest's records of regular
 * files carry sha256. Returns false, having called nothing, where WebAssembly is unavailable.
 * A line longer than the window is given untaken without being scanned.
 */
export function forEachScannedLine(
  b: Uint8Array,
  pos: number,
  end: number,
  hashed: boolean,
  each: (l: ScannedLine) => void,
): boolean {
  const w = instance();
  if (!w) return false;
  while (pos <= end) {
    let winEnd = end;
    if (end - pos >= LINE_SCAN_WINDOW) {
      winEnd = b.lastIndexOf(0x0a, pos + LINE_SCAN_WINDOW - 1);
      if (winEnd < pos) {
        // one line longer than the window
        const nl = b.indexOf(0x0a, pos);
        line.taken = false;
        line.start = pos;
        line.end = nl < 0 || nl > end ? end : nl;
        pos = line.end + 1;
        each(line);
        continue;
      }
    }
    const len = winEnd - pos;
    heap.set(b.subarray(pos, winEnd), 0);
    heap[len] = 0x0a;
    let from = 0;
    while (from <= len) {
      const count = w.scan(from, len, hashed ? 1 : 0, STRING_HASH_SEED, LAYOUTS);
      for (let k = 0; k < count; k++) {
        const r = (OUT + k * RECORD) >> 2;
        const e = i32[r + 1]!;
        line.start = pos + from;
        line.end = pos + e;
        from = e + 1;
        if ((line.taken = i32[r] === 1)) {
          const f = (OUT + k * RECORD + 64) >> 3;
          line.type = i32[r + 2]!;
          line.layout = i32[r + 3]!;
          line.mode = i32[r + 4]!;
          line.inodeSize = i32[r + 5]!;
          line.xattrIsize = i32[r + 6]!;
          line.pathStart = pos + i32[r + 7]!;
          line.pathEnd = pos + i32[r + 8]!;
          const fp = i32[r + 9]!;
          line.fpStart = fp < 0 ? -1 : pos + fp;
          line.fpEnd = fp < 0 ? -1 : pos + i32[r + 10]!;
          line.fpHash = i32[r + 12]!;
          const sha = i32[r + 11]!;
          line.shaStart = sha < 0 ? -1 : pos + sha;
          line.shaHash = i32[r + 13]!;
          line.nid = f64[f]!;
          line.uid = f64[f + 1]!;
          line.gid = f64[f + 2]!;
          line.size = f64[f + 3]!;
          line.nlink = f64[f + 4]!;
          line.mtime = f64[f + 5]!;
          line.nsec = f64[f + 6]!;
        }
        // `each` may scan again (it does not: the readers' fallbacks are JavaScript), but the
        // record is read into `line` before it is called.
        each(line);
      }
    }
    pos = winEnd + 1;
  }
  return true;
}
