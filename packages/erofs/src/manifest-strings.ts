/**
 * Interning of the strings of an analysis's manifests (paths, fingerprints, digests): one
 * string object per distinct value. The images of a fleet are mostly versions of one another,
 * so the same values recur in every manifest: interned, they are stored once, and the sharing
 * engine, which compares them by reference before comparing characters, finds equal ones at once.
 *
 * The table is its own open-addressing hash table over typed arrays rather than a `Map`: at two
 * million strings a `Map` cost ~3 µs an insertion here (the largest part of reading a 1M-record
 * manifest, docs/benchmarks.md#scale-analyze-analysis-at-a-million-files), and the NDJSON fast
 * path (manifest-fast-line.ts) can hash a value's bytes while it validates them and find the
 * string without making one from the bytes. The hash is FNV-1a over UTF-16 code units (bytes
 * of ASCII text hash alike), seeded once per process so that crafted inputs cannot aim at
 * collisions; equal strings are found whatever the hash, only the speed depends on it.
 */

/** FNV-1a's prime; the offset basis is replaced by a per-process random seed. */
const FNV_PRIME = 0x01000193;
/** The initial hash state (exported for the fast path, which hashes bytes as it scans them). */
export const STRING_HASH_SEED = (Math.random() * 0x100000000) | 0;

/** Mixes one code unit (or ASCII byte) into a hash state. */
export const hashStep = (h: number, c: number): number => Math.imul(h ^ c, FNV_PRIME);

/** The hash state of a whole string (hashStep over its code units from STRING_HASH_SEED). */
export function hashString(s: string): number {
  let h = STRING_HASH_SEED;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

/** The final mix of a hash state into a table index (FNV's low bits alone are weak). */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}

/** Slots kept for internAt's same-position shortcut: 3 per record of a 1M-record manifest. */
const MAX_INTERN_SLOTS = 3 * 1_000_000;
/** Initial table size (slots; a power of two). */
const INITIAL_TABLE = 1 << 10;
/**
 * Strings reserve() makes room for at most: 3 per record of MAX_PREALLOCATED_RECORDS
 * (manifest-columns.ts), a table of 8M slots (32 MB), whatever a header claims.
 */
export const MAX_RESERVED_STRINGS = 3 * (1 << 20);

export class StringTable {
  /** The distinct strings, in the order first seen. */
  private readonly strings: string[] = [];
  /** hashString() of each string, beside it. */
  private hashes = new Int32Array(INITIAL_TABLE >> 1);
  /** Open addressing, linear probing: 1 + the index of a string, 0 for empty; at most half full. */
  private table = new Int32Array(INITIAL_TABLE);
  /**
   * 1 + the index (see indexOf) of the string last returned for each (record index, field) slot,
   * 0 for none: manifests of one fleet list mostly the same values at the same positions, and
   * comparing with it skips the table. A typed array rather than two arrays of strings and
   * numbers: 4 bytes a slot instead of ~16, and its stores carry no write barrier
   * (docs/benchmarks.md#parquet-pair-the-parquet-read-without-garbage-2026-12-07).
   */
  private bySlotIndex = new Int32Array(0);
  /** Set by releaseLookups(): the table and hashes are gone until a lookup rebuilds them. */
  private released = false;
  /** Strings placed again because the table grew (see rehashedStrings). */
  private regrown = 0;

  /**
   * Columns taken as they are while nothing has been interned (adoptColumn), hashed into the
   * table only when a later call needs the table (flushAdopted): a report of one manifest,
   * the usual one, never hashes its strings.
   */
  private adopted: { field: number; values: readonly (string | null | undefined)[] }[] = [];

  /**
   * Takes one column of a manifest's strings (record i's value at slot 3i + field, as
   * internAt's callers number them) without interning them now, when no string has been
   * interned yet: then there is nothing in the table for them to be equal to, and they are
   * interned only if another manifest is read into this table after them. Returns false (and
   * takes nothing) when the table already holds strings: the caller interns them one by one.
   * The strings stay as given in the caller's column (two equal values of it may be two
   * objects); only strings interned later are deduplicated against them.
   */
  adoptColumn(field: number, values: readonly (string | null | undefined)[]): boolean {
    if (!this.canAdopt(field)) return false;
    this.adopted.push({ field, values });
    return true;
  }

  /**
   * Whether adoptColumn(field) would take its column: nothing interned yet, and no column of
   * that field adopted (a second one is another manifest's, whose values must be found equal
   * to the first's).
   */
  canAdopt(field: number): boolean {
    return this.strings.length === 0 && !this.adopted.some((a) => a.field === field);
  }

  /** Interns the adopted columns (first come, first kept), before any lookup. */
  private flushAdopted(): void {
    const batches = this.adopted;
    this.adopted = [];
    for (const { field, values } of batches)
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (typeof v === 'string') this.internAt(3 * i + field, v);
      }
  }

  intern(s: string): string {
    if (this.adopted.length || this.released) this.prepareLookups();
    return this.strings[this.internHashed(s, hashString(s))]!;
  }

  /** The index (indexOf) of s, interned first when the table has no string equal to it. */
  internIndex(s: string): number {
    if (this.adopted.length || this.released) this.prepareLookups();
    return this.internHashed(s, hashString(s));
  }

  /**
   * Interns distinct values (no two equal: a deduplicated column, the stored columnar form's
   * fingerprints, docs/manifest.md#stored-columnar-form) and gives each one's index; `values[k]`
   * becomes the table's string when an equal one was there already. Into an empty table they go
   * as they are, in their order (index k for values[k]), hashed only when a later lookup needs
   * the table (as after releaseLookups): a report of one manifest never hashes its
   * fingerprints. The caller vouches that they are distinct: two equal values would get two
   * indices.
   */
  internDistinct(values: string[]): Int32Array {
    const index = new Int32Array(values.length);
    if (this.strings.length === 0 && this.adopted.length === 0) {
      for (let k = 0; k < values.length; k++) {
        this.strings.push(values[k]!);
        index[k] = k;
      }
      this.releaseLookups();
      return index;
    }
    for (let k = 0; k < values.length; k++) {
      const at = this.internIndex(values[k]!);
      index[k] = at;
      values[k] = this.strings[at]!;
    }
    return index;
  }

  /** intern(s), first compared with the value returned for the same slot last time. */
  internAt(slot: number, s: string): string {
    if (this.adopted.length || this.released) this.prepareLookups();
    const last = this.lastAt(slot);
    if (last === s) return last;
    const index = this.internHashed(s, hashString(s));
    this.remember(slot, index);
    return this.strings[index]!;
  }

  /** The string last returned for `slot` (undefined: none). */
  private lastAt(slot: number): string | undefined {
    const k = slot < this.bySlotIndex.length ? this.bySlotIndex[slot]! : 0;
    return k === 0 ? undefined : this.strings[k - 1];
  }

  /** Records that `slot` last gave the string at `index`. */
  private remember(slot: number, index: number): void {
    if (slot >= MAX_INTERN_SLOTS) return;
    let by = this.bySlotIndex;
    if (slot >= by.length) {
      by = new Int32Array(Math.min(MAX_INTERN_SLOTS, Math.max(slot + 1, 2 * by.length, 1024)));
      by.set(this.bySlotIndex);
      this.bySlotIndex = by;
    }
    by[slot] = index + 1;
  }

  /**
   * The index of an interned string: 0 .. size - 1, in the order the strings were first seen,
   * -1 when the table has no string equal to `s`. A dense id callers can key typed arrays by
   * (the sharing engine's fingerprint ids: docs/manifest.md#fingerprint-ids) instead of hashing
   * the string again.
   */
  indexOf(s: string): number {
    if (this.adopted.length || this.released) this.prepareLookups();
    const hash = hashString(s);
    const mask = this.table.length - 1;
    const { table, hashes, strings } = this;
    for (let i = mix(hash) & mask; ; i = (i + 1) & mask) {
      const e = table[i]!;
      if (e === 0) return -1;
      if (hashes[e - 1] === hash && strings[e - 1] === s) return e - 1;
    }
  }

  /**
   * indexOf(s) where `s` is (usually) what internAt/internAtAscii just returned for `slot`: then
   * a reference comparison and an array read, no hashing.
   */
  indexAt(slot: number, s: string): number {
    const k = slot < this.bySlotIndex.length ? this.bySlotIndex[slot]! : 0;
    if (k !== 0 && this.strings[k - 1] === s) return k - 1;
    return this.indexOf(s);
  }

  /** The string at an index (indexOf's inverse). */
  stringAt(index: number): string | undefined {
    if (this.adopted.length) this.flushAdopted();
    return this.strings[index];
  }

  /**
   * internAt() of the ASCII bytes [start, end), whose hashString() state the caller computed
   * while scanning them (manifest-fast-line.ts): a string is made from the bytes only when the
   * table has none equal to them.
   */
  internAtAscii(
    slot: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    hash: number,
    make: (b: Uint8Array, start: number, end: number) => string,
  ): string {
    if (this.adopted.length || this.released) this.prepareLookups();
    const last = this.lastAt(slot);
    if (last !== undefined && sameAscii(last, bytes, start, end)) return last;
    const mask = this.table.length - 1;
    const { table, hashes, strings } = this;
    for (let i = mix(hash) & mask; ; i = (i + 1) & mask) {
      const e = table[i]!;
      if (e === 0) break;
      if (hashes[e - 1] === hash && sameAscii(strings[e - 1]!, bytes, start, end)) {
        this.remember(slot, e - 1);
        return strings[e - 1]!;
      }
    }
    const index = this.add(make(bytes, start, end), hash);
    this.remember(slot, index);
    return strings[index]!;
  }

  /**
   * Makes room for `total` strings in all (not `total` more) without growing: the table at
   * its final size at once, so a manifest's strings are placed once instead of rehashed at
   * every doubling (docs/benchmarks.md#ndjson-read-2026-12-06). A hint: the NDJSON reader
   * gives its header's `file_count` times the strings a record interns, capped at
   * MAX_RESERVED_STRINGS since a header is a claim; a later manifest of a fleet, whose strings
   * are mostly there already, asks for no more than the table holds.
   */
  reserve(total: number): void {
    if (this.released) this.prepareLookups();
    const want = Math.min(Math.max(0, Math.floor(total)), MAX_RESERVED_STRINGS);
    if (want > this.hashes.length) {
      const h = new Int32Array(want);
      h.set(this.hashes.subarray(0, this.strings.length));
      this.hashes = h;
    }
    let size = this.table.length;
    while (2 * want > size) size *= 2;
    if (size > this.table.length) this.grow(size);
  }

  /**
   * Drops what only lookups need (the hash table, the hashes, the per-slot memory of the last
   * value: ~100 MB at 4M strings) once every input is read, keeping the strings and their
   * indices (stringAt, size), which is all the analysis asks of the table: its ids were
   * declared to the columns as they were read (ManifestColumns.internedIn). A later lookup
   * rebuilds them first (one pass over the strings), so this never changes an answer.
   */
  releaseLookups(): void {
    // Adopted columns stay adopted (never hashed unless a lookup comes).
    this.released = true;
    this.hashes = new Int32Array(0);
    this.table = new Int32Array(0);
    this.bySlotIndex = new Int32Array(0);
  }

  /** Interns adopted columns and rebuilds what releaseLookups() dropped, before a lookup. */
  private prepareLookups(): void {
    if (this.released) {
      this.released = false;
      const n = this.strings.length;
      this.hashes = new Int32Array(Math.max(n, INITIAL_TABLE >> 1));
      for (let k = 0; k < n; k++) this.hashes[k] = hashString(this.strings[k]!);
      let size = INITIAL_TABLE;
      while (2 * n > size) size *= 2;
      this.rehash(size);
    }
    if (this.adopted.length) this.flushAdopted();
  }

  /**
   * How many strings were placed again because the table grew after they were in it (each
   * doubling re-places every string so far): 0 when reserve() sized the table for every input
   * before any was read (docs/benchmarks.md#analyze-reserve-2026-12-06). Not counting the
   * rebuild after releaseLookups().
   */
  get rehashedStrings(): number {
    return this.regrown;
  }

  /** Strings the table takes before it grows (it stays at most half full). */
  get capacity(): number {
    return this.table.length >> 1;
  }

  get size(): number {
    if (this.adopted.length) this.flushAdopted();
    return this.strings.length;
  }

  /** The index of s, added when absent. */
  private internHashed(s: string, hash: number): number {
    const mask = this.table.length - 1;
    const { table, hashes, strings } = this;
    for (let i = mix(hash) & mask; ; i = (i + 1) & mask) {
      const e = table[i]!;
      if (e === 0) break;
      if (hashes[e - 1] === hash && strings[e - 1] === s) return e - 1;
    }
    return this.add(s, hash);
  }

  /** Appends a string known to be absent (returns its index); grows the table to stay at most half full. */
  private add(s: string, hash: number): number {
    const n = this.strings.length;
    if (n === this.hashes.length) {
      const h = new Int32Array(2 * n);
      h.set(this.hashes);
      this.hashes = h;
    }
    this.strings.push(s);
    this.hashes[n] = hash;
    if (2 * (n + 1) > this.table.length) this.grow(2 * this.table.length);
    else this.place(n);
    return n;
  }

  private place(index: number): void {
    const mask = this.table.length - 1;
    let i = mix(this.hashes[index]!) & mask;
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = index + 1;
  }

  /** rehash(size) to make room, counted in rehashedStrings. */
  private grow(size: number): void {
    this.regrown += this.strings.length;
    this.rehash(size);
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size);
    for (let k = 0; k < this.strings.length; k++) this.place(k);
  }
}

/** Whether the string `s` is the ASCII bytes [start, end). */
function sameAscii(s: string, b: Uint8Array, start: number, end: number): boolean {
  if (s.length !== end - start) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== b[start + i]) return false;
  return true;
}
