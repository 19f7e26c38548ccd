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
}

export interface CachedSource extends ByteSource {
  /** Counters for tests and diagnostics. */
  readonly stats: { hits: number; misses: number; underlyingReads: number; underlyingBytes: number };
}

/**
 * An LRU block cache over another ByteSource (hyparquet's cachedAsyncBuffer, block
 * granular). A read is split into cache blocks; the missing ones are fetched with one
 * underlying read per run of contiguous missing blocks (read coalescing), and
 * concurrent readers of a block in flight share its fetch. A metadata scan that
 * touches inodes, dirents and xattrs scattered over a few MiB therefore issues a few
 * large reads instead of thousands of 32-byte ones.
 */
export function cachedSource(src: ByteSource, opts: CachedSourceOptions = {}): CachedSource {
  const blockSize = Math.max(512, Math.floor(opts.blockSize ?? 64 * 1024));
  const maxBytes = Math.max(blockSize, Math.floor(opts.maxBytes ?? 16 * 1024 * 1024));
  const maxBlocks = Math.max(1, Math.floor(maxBytes / blockSize));
  const bypassBytes =
    opts.bypassBytes ?? Math.max(blockSize * 2, Math.min(256 * 1024, Math.floor(maxBytes / 2)));
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

  /** The synchronous twin of `read` over a synchronous source: no promises, no in-flight table. */
  function readSync(offset: number, length: number): Uint8Array {
    const fast = oneBlockHit(offset, length);
    if (fast) return fast;
    checkRange(size, offset, length, 'image');
    if (length === 0) return new Uint8Array(0);
    if (length >= bypassBytes) {
      stats.underlyingReads++;
      stats.underlyingBytes += length;
      return src.readSync!(offset, length);
    }
    const first = Math.floor(offset / blockSize);
    const last = Math.floor((offset + length - 1) / blockSize);
    const parts: Uint8Array[] = [];
    for (let b = first; b <= last;) {
      const hit = lookup(b);
      if (hit) {
        stats.hits++;
        parts.push(hit);
        b++;
        continue;
      }
      // One underlying read for the run of missing blocks starting here.
      let end = b + 1;
      while (end <= last && !cache.has(end)) end++;
      const start = b * blockSize;
      const whole = src.readSync!(start, Math.min(size, end * blockSize) - start);
      stats.underlyingReads++;
      stats.underlyingBytes += whole.length;
      for (let i = b; i < end; i++) {
        stats.misses++;
        const data = whole.subarray((i - b) * blockSize, Math.min(whole.length, (i - b + 1) * blockSize));
        store(i, data);
        parts.push(data);
      }
      b = end;
    }
    return join(parts, offset - first * blockSize, length);
  }

  // A block evicted between scheduling and awaiting (only under extreme cache pressure).
  function fetchAndWait(b: number): Promise<Uint8Array> {
    fetchRun(b, 1);
    return inflight.get(b)!;
  }

  const out: CachedSource = src.readSync
    ? {
        size,
        readSync,
        read: (offset, length) => {
          try {
            return Promise.resolve(readSync(offset, length));
          } catch (e) {
            return Promise.reject(e);
          }
        },
        stats,
      }
    : { size, read, stats };
  if (src.close) out.close = () => src.close!();
  return out;
}
