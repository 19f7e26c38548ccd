import QuickLRU from 'quick-lru';
import { checkRange, type ByteSource } from './types.js';

export interface CachedSourceOptions {
  /** Cache granularity in bytes (power of two not required). Default 64 KiB. */
  blockSize?: number;
  /** Upper bound of cached bytes (LRU eviction). Default 16 MiB. */
  maxBytes?: number;
  /** Reads of at least this many bytes bypass the cache, so streamed file content does not evict
   * metadata. Default max(2 blocks, 256 KiB), capped at maxBytes / 2. */
  bypassBytes?: number;
  /**
   * Over a synchronous source only: when a miss follows the previous miss closely (a walk
   * reading inodes in nid order, which mkfs lays out densely), fetch up to this many bytes
   * from the missing block on with one read instead of one block at a time. At most
   * MAX_READAHEAD_BYTES; default 0 (none). docs/reader.md#metadata-readahead
   */
  readaheadBytes?: number;
}

/**
 * The most bytes one readahead fetches (docs/reader.md#metadata-readahead). 256 KiB: large
 * enough that the 4 KiB inode blocks of a dense inode area cost one read per 64 blocks, small
 * enough that a misjudged run (inodes among data blocks) reads little data.
 */
export const MAX_READAHEAD_BYTES = 256 * 1024;

export interface CachedSource extends ByteSource {
  /** Counters for tests and diagnostics. */
  readonly stats: { hits: number; misses: number; underlyingReads: number; underlyingBytes: number };
  /** Over a synchronous source only: the cache's blocks read in place (BlockView). */
  readonly blocks?: BlockView;
}

/**
 * In-place reads of a synchronous cache (its arena): a metadata walk decodes an inode or an
 * xattr area where the cache holds it instead of copying it out first (the copies were the
 * largest cost of the walk itself, docs/reader.md#metadata-in-place).
 */
export interface BlockView {
  /**
   * The index in `bytes` of the `length` bytes at `offset` when they lie inside one cache block
   * (read in if missing, as readInto would), or -1 when they span two (then readInto them).
   * Valid until the next read of the cache. Throws readInto's errors (a range past the end).
   */
  at(offset: number, length: number): number;
  /** The cache's memory, the same array for the cache's life once `at` has returned an index. */
  readonly bytes: Uint8Array;
}

/**
 * An LRU block cache over another ByteSource (hyparquet's cachedAsyncBuffer, block
 * granular). A read is split into cache blocks; the missing ones are fetched with one
 * underlying read per run of contiguous missing blocks (read coalescing), and
 * concurrent readers of a block in flight share its fetch. A metadata scan that
 * touches inodes, dirents and xattrs scattered over a few MiB therefore issues a few
 * large reads instead of thousands of 32-byte ones. Over a synchronous source (`readInto`:
 * files, memory) the cache is syncCachedSource below instead: an arena, no promises.
 */
export function cachedSource(src: ByteSource, opts: CachedSourceOptions = {}): CachedSource {
  const blockSize = Math.max(512, Math.floor(opts.blockSize ?? 64 * 1024));
  const maxBytes = Math.max(blockSize, Math.floor(opts.maxBytes ?? 16 * 1024 * 1024));
  const maxBlocks = Math.max(1, Math.floor(maxBytes / blockSize));
  const bypassBytes =
    opts.bypassBytes ?? Math.max(blockSize * 2, Math.min(256 * 1024, Math.floor(maxBytes / 2)));
  const readaheadBytes = Math.max(0, Math.min(MAX_READAHEAD_BYTES, Math.floor(opts.readaheadBytes ?? 0)));
  if (src.readInto)
    return syncCachedSource(src, src.readInto.bind(src), blockSize, maxBlocks, bypassBytes, readaheadBytes);
  const size = src.size;
  // quick-lru keeps two generations of at most maxSize blocks each, hence half the blocks.
  // (A Map re-inserted on every hit and evicted via keys().next() degrades in V8: deleted
  // entries stay in the table until a rehash and the iterator skips them one by one.)
  const cache = new QuickLRU<number, Uint8Array>({ maxSize: Math.max(1, Math.ceil(maxBlocks / 2)) });
  const inflight = new Map<number, Promise<Uint8Array>>();
  const stats = { hits: 0, misses: 0, underlyingReads: 0, underlyingBytes: 0 };

  // Consecutive reads mostly hit the block read last: remember it outside the LRU.
  let lastIdx = -1;
  let lastData: Uint8Array | undefined;
  function lookup(idx: number): Uint8Array | undefined {
    if (idx === lastIdx) return lastData;
    const data = cache.get(idx);
    if (data) {
      lastIdx = idx;
      lastData = data;
    }
    return data;
  }
  function store(idx: number, data: Uint8Array): void {
    cache.set(idx, data);
    lastIdx = idx;
    lastData = data;
  }

  function fetchRun(first: number, count: number): void {
    const start = first * blockSize;
    const end = Math.min(size, (first + count) * blockSize);
    stats.underlyingReads++;
    stats.underlyingBytes += end - start;
    const whole = src.read(start, end - start);
    for (let i = 0; i < count; i++) {
      const idx = first + i;
      const p = whole.then((buf) => {
        const s = i * blockSize;
        const data = buf.subarray(s, Math.min(buf.length, s + blockSize));
        store(idx, data);
        return data;
      });
      // A failed fetch must not poison later reads of the block.
      const tracked = p.finally(() => inflight.delete(idx));
      tracked.catch(() => undefined);
      inflight.set(idx, tracked);
    }
  }

  /** Fast path: a small read inside one cached block (an inode, a dirent block, an xattr) is
   * a subarray; no async frame, no copy. Undefined when the read needs more. */
  function oneBlockHit(offset: number, length: number): Uint8Array | undefined {
    const first = Math.floor(offset / blockSize);
    if (length > 0 && offset >= 0 && offset + length <= Math.min(size, (first + 1) * blockSize)) {
      const hit = lookup(first);
      if (hit) {
        stats.hits++;
        const at = offset - first * blockSize;
        return hit.subarray(at, at + length);
      }
    }
    return undefined;
  }

  function read(offset: number, length: number): Promise<Uint8Array> {
    const hit = oneBlockHit(offset, length);
    return hit ? Promise.resolve(hit) : readSlow(offset, length);
  }

  async function readSlow(offset: number, length: number): Promise<Uint8Array> {
    checkRange(size, offset, length, 'image');
    if (length === 0) return new Uint8Array(0);
    if (length >= bypassBytes) {
      stats.underlyingReads++;
      stats.underlyingBytes += length;
      return src.read(offset, length);
    }
    const first = Math.floor(offset / blockSize);
    const last = Math.floor((offset + length - 1) / blockSize);
    // Start fetches for all missing blocks, coalescing contiguous runs.
    let runStart = -1;
    for (let b = first; b <= last + 1; b++) {
      const missing = b <= last && b !== lastIdx && !cache.has(b) && !inflight.has(b);
      if (missing) {
        if (runStart < 0) runStart = b;
      } else if (runStart >= 0) {
        fetchRun(runStart, b - runStart);
        runStart = -1;
      }
    }
    const parts: Uint8Array[] = [];
    for (let b = first; b <= last; b++) {
      const hit = lookup(b);
      if (hit) {
        stats.hits++;
        parts.push(hit);
      } else {
        stats.misses++;
        parts.push(await (inflight.get(b) ?? fetchAndWait(b)));
      }
    }
    return join(parts, offset - first * blockSize, length);
  }

  /** `length` bytes from `startIn` on, out of consecutive blocks (a subarray when one block). */
  function join(parts: Uint8Array[], startIn: number, length: number): Uint8Array {
    if (parts.length === 1) return parts[0]!.subarray(startIn, startIn + length);
    const out = new Uint8Array(length);
    let pos = 0;
    let skip = startIn;
    for (const part of parts) {
      const slice = part.subarray(skip, Math.min(part.length, skip + (length - pos)));
      out.set(slice, pos);
      pos += slice.length;
      skip = 0;
    }
    return out;
  }

  // A block evicted between scheduling and awaiting (only under extreme cache pressure).
  function fetchAndWait(b: number): Promise<Uint8Array> {
    fetchRun(b, 1);
    return inflight.get(b)!;
  }

  const out: CachedSource = { size, read, stats };
  if (src.close) out.close = () => src.close!();
  return out;
}

/**
 * The cache over a synchronous source (a file, memory): blocks live in one arena of maxBlocks
 * slots, evicted by the clock algorithm, filled by `readInto`; reads copy out of it. No
 * ArrayBuffer per block and none per read up to 64 bytes (V8 keeps those on its heap): on a
 * metadata scan, allocating and collecting 16 KiB blocks cost more than reading them.
 * Copies also mean callers never alias cache memory. A request's run of missing blocks is
 * fetched with one read.
 */
const MAX_RUN_BLOCKS = 16;
const EMPTY = new Uint8Array(0);

function syncCachedSource(
  src: ByteSource,
  readInto: (offset: number, target: Uint8Array) => void,
  blockSize: number,
  maxBlocks: number,
  bypassBytes: number,
  readaheadBytes: number,
): CachedSource {
  const size = src.size;
  const slots = Math.max(1, Math.min(maxBlocks, Math.ceil(size / blockSize)));
  let arena: Uint8Array | null = null; // allocated on the first miss
  const slotOf = new Map<number, number>(); // block index -> slot
  const blockIn = new Float64Array(slots).fill(-1); // slot -> block index
  const referenced = new Uint8Array(slots); // clock bits
  let filled = 0;
  let hand = 0;
  const stats = { hits: 0, misses: 0, underlyingReads: 0, underlyingBytes: 0 };

  // A run of missing blocks is fetched with one read, of at most a quarter of the slots, so
  // that installing the run cannot evict its own first block.
  const maxRun = Math.max(1, Math.min(MAX_RUN_BLOCKS, Math.floor(slots / 4)));
  // Readahead runs obey the same quarter-of-the-slots bound.
  const aheadRun = Math.max(1, Math.min(Math.floor(readaheadBytes / blockSize), Math.floor(slots / 4)));
  const scratchBlocks = Math.max(maxRun, aheadRun);
  // The block after the last fetched run: a miss at most one readahead past it is taken as a
  // forward walk (the next inode block, or one a few files later) and read ahead.
  let nextMiss = -1;
  let scratch: Uint8Array | null = null;

  // The block of the last lookup and its slot: a metadata walk reads inode after inode from
  // one block (a 4 KiB block holds 128 compact inodes), so most lookups skip the map.
  let lastBlock = -1;
  let lastSlot = -1;

  function freeSlot(): number {
    if (filled < slots) return filled++;
    while (referenced[hand]) {
      referenced[hand] = 0;
      hand = (hand + 1) % slots;
    }
    const slot = hand;
    hand = (hand + 1) % slots;
    slotOf.delete(blockIn[slot]!);
    if (slot === lastSlot) lastBlock = lastSlot = -1;
    blockIn[slot] = -1;
    return slot;
  }

  function install(b: number, slot: number): void {
    slotOf.set(b, slot);
    blockIn[slot] = b;
    referenced[slot] = 1;
  }

  /**
   * Byte offset in the arena of block `b`, fetching it if needed, together with the missing
   * blocks that follow it up to block `wanted` (the rest of the caller's range).
   */
  function slotStart(b: number, wanted: number): number {
    if (b === lastBlock) {
      stats.hits++;
      referenced[lastSlot] = 1;
      return lastSlot * blockSize;
    }
    const cached = slotOf.get(b);
    if (cached !== undefined) {
      stats.hits++;
      referenced[cached] = 1;
      lastBlock = b;
      lastSlot = cached;
      return cached * blockSize;
    }
    let count = 1;
    while (b + count <= wanted && count < maxRun && !slotOf.has(b + count)) count++;
    if (aheadRun > count && nextMiss >= 0 && b >= nextMiss && b - nextMiss < aheadRun) {
      // Stop at the end of the source and at the first block already cached.
      const last = Math.ceil(size / blockSize);
      while (count < aheadRun && b + count < last && !slotOf.has(b + count)) count++;
    }
    nextMiss = b + count;
    const start = b * blockSize;
    const length = Math.min(size, (b + count) * blockSize) - start;
    arena ??= new Uint8Array(slots * blockSize);
    stats.misses += count;
    stats.underlyingReads++;
    stats.underlyingBytes += length;
    // Through a scratch buffer: the run's slots need not be adjacent.
    scratch ??= new Uint8Array(scratchBlocks * blockSize);
    readInto(start, scratch.subarray(0, length));
    let first = -1;
    for (let i = 0; i < count; i++) {
      const slot = freeSlot();
      const from = i * blockSize;
      arena.set(scratch.subarray(from, Math.min(length, from + blockSize)), slot * blockSize);
      install(b + i, slot);
      if (i === 0) first = slot;
    }
    return first * blockSize;
  }

  function readIntoCached(offset: number, target: Uint8Array): void {
    const length = target.length;
    checkRange(size, offset, length, 'image');
    if (length >= bypassBytes) {
      stats.underlyingReads++;
      stats.underlyingBytes += length;
      readInto(offset, target);
      return;
    }
    let pos = 0;
    while (pos < length) {
      const at = offset + pos;
      const b = Math.floor(at / blockSize);
      const from = slotStart(b, Math.floor((offset + length - 1) / blockSize)) + (at - b * blockSize);
      const n = Math.min(length - pos, (b + 1) * blockSize - at);
      // An inode or a dirent header: a loop beats making a view to copy from.
      if (n <= 64) for (let i = 0; i < n; i++) target[pos + i] = arena![from + i]!;
      else target.set(arena!.subarray(from, from + n), pos);
      pos += n;
    }
  }

  const blocks: BlockView = {
    at(offset: number, length: number): number {
      checkRange(size, offset, length, 'image');
      const b = Math.floor(offset / blockSize);
      const within = offset - b * blockSize;
      if (within + length > blockSize) return -1;
      return slotStart(b, b) + within;
    },
    get bytes(): Uint8Array {
      return arena ?? EMPTY;
    },
  };

  return {
    size,
    stats,
    blocks,
    readInto: readIntoCached,
    read(offset: number, length: number): Promise<Uint8Array> {
      try {
        checkRange(size, offset, length, 'image');
        const out = new Uint8Array(length);
        readIntoCached(offset, out);
        return Promise.resolve(out);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    ...(src.close ? { close: () => src.close!() } : {}),
  };
}
