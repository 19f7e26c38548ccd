/**
 * Sorting millions of table rows by numeric keys without a comparator: a stable LSD radix sort
 * with 16-bit digits, over `key - min` for integer keys (one pass when they span less than
 * 2^16, two below 2^32) and over the bits of float64 keys otherwise (passes whose digit is the
 * same for every row are skipped). Several times faster than `Uint32Array.prototype.sort` with
 * a comparator on 2M rows.
 */

/**
 * `rows` reordered stably by `key(row)`, ascending (descending with `desc`; ties keep their
 * order either way). Keys are any numbers but NaN. Returns a new array.
 */
export function sortRowsBy(rows: Uint32Array, key: (row: number) => number, desc = false): Uint32Array {
  return sortRows(rows, [key], desc);
}

interface KeyValues {
  v: Float64Array;
  min: number;
  max: number;
  integral: boolean;
}

function evaluate(rows: Uint32Array, key: (row: number) => number, desc: boolean): KeyValues {
  const n = rows.length;
  const v = new Float64Array(n);
  let min = Infinity;
  let max = -Infinity;
  let integral = true;
  for (let i = 0; i < n; i++) {
    const k = desc ? -key(rows[i]!) : key(rows[i]!);
    v[i] = k === 0 ? 0 : k; // -0 counts as 0
    if (k < min) min = k;
    if (k > max) max = k;
    if (integral && !Number.isInteger(k)) integral = false;
  }
  return { v, min, max, integral };
}

/**
 * `rows` reordered stably by several keys, the most significant first, all ascending or all
 * descending. Integer keys whose ranges multiply to less than 2^32 become one key (one or two
 * passes); otherwise each key is a sort of its own, from the least significant.
 */
export function sortRows(rows: Uint32Array, keys: ((row: number) => number)[], desc = false): Uint32Array {
  const n = rows.length;
  if (n < 2 || keys.length === 0) return rows.slice();
  const vals = keys.map((k) => evaluate(rows, k, desc));
  let span = 1;
  for (const k of vals) span *= k.integral ? k.max - k.min + 1 : Infinity;
  if (span <= 2 ** 32) {
    const key = new Uint32Array(n);
    let mul = 1;
    for (let j = vals.length - 1; j >= 0; j--) {
      const { v, min, max } = vals[j]!;
      for (let i = 0; i < n; i++) key[i] = key[i]! + (v[i]! - min) * mul;
      mul *= max - min + 1;
    }
    return radix32(rows.slice(), key, span <= 65536 ? 1 : 2);
  }
  // Positions into `rows`, sorted key by key from the least significant (stable passes).
  let pos: Uint32Array = new Uint32Array(n);
  for (let i = 0; i < n; i++) pos[i] = i;
  for (let j = vals.length - 1; j >= 0; j--) pos = sortPositions(pos, vals[j]!);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = rows[pos[i]!]!;
  return out;
}

/** `pos` reordered stably by the key values `k.v[pos[i]]`. */
function sortPositions(pos: Uint32Array, k: KeyValues): Uint32Array {
  const n = pos.length;
  const { v, min, max, integral } = k;
  if (integral && max - min < 2 ** 32) {
    const lo = new Uint32Array(n);
    for (let i = 0; i < n; i++) lo[i] = v[pos[i]!]! - min;
    return radix32(pos, lo, max - min < 65536 ? 1 : 2);
  }
  // The float64 bits as a sortable unsigned 64-bit integer (hi, lo): flip the sign bit of
  // positives, every bit of negatives.
  const f = new Float64Array(n);
  for (let i = 0; i < n; i++) f[i] = v[pos[i]!]!;
  const words = new Uint32Array(f.buffer);
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const h = words[2 * i + 1]!;
    const l = words[2 * i]!;
    if (h & 0x80000000) {
      hi[i] = ~h >>> 0;
      lo[i] = ~l >>> 0;
    } else {
      hi[i] = (h | 0x80000000) >>> 0;
      lo[i] = l;
    }
  }
  return radix64(pos, hi, lo);
}

type Arrays = [Uint32Array, Uint32Array | null, Uint32Array | null];

/**
 * One stable counting pass by the 16-bit digit of `word` at `shift`: the permutation and the key
 * words later passes read (`a`, `b`) move into fresh arrays. Skipped (same arrays back) when
 * every element has the same digit.
 */
function pass(
  perm: Uint32Array,
  word: Uint32Array,
  shift: number,
  a: Uint32Array | null,
  b: Uint32Array | null,
): Arrays {
  const n = perm.length;
  const count = new Uint32Array(65536);
  for (let i = 0; i < n; i++) count[(word[i]! >>> shift) & 0xffff]!++;
  if (count[(word[0]! >>> shift) & 0xffff] === n) return [perm, a, b];
  let sum = 0;
  for (let d = 0; d < 65536; d++) {
    const c = count[d]!;
    count[d] = sum;
    sum += c;
  }
  const p2 = new Uint32Array(n);
  const a2 = a ? new Uint32Array(n) : null;
  const b2 = b ? new Uint32Array(n) : null;
  if (a2 && b2)
    for (let i = 0; i < n; i++) {
      const at = count[(word[i]! >>> shift) & 0xffff]!++;
      p2[at] = perm[i]!;
      a2[at] = a![i]!;
      b2[at] = b![i]!;
    }
  else if (a2)
    for (let i = 0; i < n; i++) {
      const at = count[(word[i]! >>> shift) & 0xffff]!++;
      p2[at] = perm[i]!;
      a2[at] = a![i]!;
    }
  else for (let i = 0; i < n; i++) p2[count[(word[i]! >>> shift) & 0xffff]!++] = perm[i]!;
  return [p2, a2, b2];
}

/** Stable LSD radix sort of `perm` by a 32-bit key (16-bit digits, `passes` 1 or 2). */
function radix32(perm: Uint32Array, key: Uint32Array, passes: number): Uint32Array {
  const [p, k] = pass(perm, key, 0, passes > 1 ? key : null, null);
  return passes > 1 ? pass(p, k!, 16, null, null)[0] : p;
}

/** Stable LSD radix sort of `perm` by a 64-bit key (`hi`, `lo`), four 16-bit digits. */
function radix64(perm: Uint32Array, hi: Uint32Array, lo: Uint32Array): Uint32Array {
  let p = perm;
  let h: Uint32Array | null = hi;
  let l: Uint32Array | null = lo;
  [p, l, h] = pass(p, l, 0, l, h);
  [p, h] = pass(p, l!, 16, h, null);
  [p, h] = pass(p, h!, 0, h, null);
  [p] = pass(p, h!, 16, null, null);
  return p;
}

/** Rank of each string in `values` in code-unit order (the order of `<`): equal strings, equal ranks. */
export function stringRanks(values: readonly string[]): Uint32Array {
  const distinct = [...new Set(values)].sort();
  const rank = new Map<string, number>();
  for (let i = 0; i < distinct.length; i++) rank.set(distinct[i]!, i);
  const out = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = rank.get(values[i]!)!;
  return out;
}
