/**
 * JSON text of a large value in pieces, for `--json` reports of millions of rows: the pieces,
 * joined, are exactly `JSON.stringify(value)`, but no piece is much longer than `chunkChars`
 * unless one string alone is (a run of array elements is at most `chunkChars / 16` long). `JSON.stringify` of a 2M-row report makes one ~320 MB string
 * and its ~320 MB UTF-8 copy at the write (docs/benchmarks.md#scale-analyze-analysis-at-a-million-files);
 * these pieces are written and dropped one at a time.
 *
 * Why not a streaming-JSON library: those emit a value at a time through async streams, which
 * at tens of millions of numbers costs more than the report itself; the report is plain data
 * (objects, arrays, strings, numbers, booleans, null), so plain objects and arrays are walked
 * here and everything else (strings, Dates, ...) is left to `JSON.stringify` itself.
 */

/** Default piece length in UTF-16 code units (what `write.ts` writes at a time). */
export const JSON_CHUNK_CHARS = 64 * 1024;

/** `JSON.stringify(value)` in pieces (see above). Throws where `JSON.stringify` throws (BigInt, cycles via depth). */
export function* jsonChunks(value: unknown, chunkChars = JSON_CHUNK_CHARS): Generator<string> {
  let buf = '';
  // Containers recurse (a report nests a few levels); array elements are the many small parts.
  function* walk(key: string, v: unknown): Generator<string> {
    v = withToJson(key, v);
    if (!isContainer(v)) {
      buf += JSON.stringify(v) ?? 'null';
      return;
    }
    if (Array.isArray(v)) {
      buf += '[';
      // Runs of primitives (a report's columns: numbers, statuses, paths) go to JSON.stringify a
      // slice at a time: written natively, not one element at a time here.
      const run = Math.max(1, chunkChars >> 4);
      for (let i = 0; i < v.length; ) {
        if (i > 0) buf += ',';
        let j = i;
        while (j < v.length && j - i < run && isPrimitive(v[j])) j++;
        if (j > i) {
          buf += JSON.stringify(v.slice(i, j)).slice(1, -1);
          i = j;
        } else {
          const el = withToJson(String(i), v[i] as unknown);
          if (isContainer(el)) yield* walk(String(i), el);
          // An element that is undefined, a function or a symbol is `null` in an array.
          else buf += JSON.stringify(el) ?? 'null';
          i++;
        }
        if (buf.length >= chunkChars) {
          yield buf;
          buf = '';
        }
      }
      buf += ']';
      return;
    }
    buf += '{';
    let first = true;
    for (const k of Object.keys(v)) {
      const el = withToJson(k, (v as Record<string, unknown>)[k]);
      // Properties whose value JSON cannot carry are left out, as JSON.stringify does.
      if (el === undefined || typeof el === 'function' || typeof el === 'symbol') continue;
      buf += (first ? '' : ',') + JSON.stringify(k) + ':';
      first = false;
      yield* walk(k, el);
      if (buf.length >= chunkChars) {
        yield buf;
        buf = '';
      }
    }
    buf += '}';
  }
  yield* walk('', value);
  if (buf) yield buf;
}

/** Values JSON.stringify writes the same in an array whatever their key (no toJSON to call). */
function isPrimitive(v: unknown): boolean {
  const t = typeof v;
  return t === 'number' || t === 'string' || t === 'boolean' || v === null || v === undefined;
}

/** Plain objects and arrays are walked; anything else (Date, Map, boxed values...) is JSON.stringify's. */
function isContainer(v: unknown): v is object {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A value's `toJSON(key)` result when it has one (JSON.stringify's SerializeJSONProperty step 2). */
function withToJson(key: string, v: unknown): unknown {
  if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function')
    return (v as { toJSON(k: string): unknown }).toJSON(key);
  return v;
}
