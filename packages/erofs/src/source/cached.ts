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
  // Map iteration order is insertion order: re-inserting on hit makes it an LRU list.
  const cache = new Map<number, Uint8Array>();
  const inflight = new Map<number, Promise<Uint8Array>>();
  const stats = { hits: 0, misses: 0, underlyingReads: 0, underlyingBytes: 0 };

  let newest = -1;
  function touch(idx: number, data: Uint8Array): void {
    // Consecutive reads mostly hit the block read last: it already heads the LRU order.
    if (idx === newest) return;
    newest = idx;
    cache.delete(idx);
    cache.set(idx, data);
    while (cache.size > maxBlocks) {
      const oldest = cache.keys().next().value as number;
      cache.delete(oldest);
    }
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
        touch(idx, data);
        return data;
      });
      // A failed fetch must not poison later reads of the block.
      const tracked = p.finally(() => inflight.delete(idx));
      tracked.catch(() => undefined);
      inflight.set(idx, tracked);
    }
  }

  function read(offset: number, length: number): Promise<Uint8Array> {
    // Fast path: a small read inside one cached block (an inode, a dirent block, an xattr)
    // is a subarray; no async frame, no copy.
    const first = Math.floor(offset / blockSize);
    if (length > 0 && offset >= 0 && offset + length <= Math.min(size, (first + 1) * blockSize)) {
      const hit = cache.get(first);
      if (hit) {
        stats.hits++;
        touch(first, hit);
        const at = offset - first * blockSize;
        return Promise.resolve(hit.subarray(at, at + length));
      }
    }
    return readSlow(offset, length);
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
      const missing = b <= last && !cache.has(b) && !inflight.has(b);
      if (missing) {
        if (runStart < 0) runStart = b;
      } else if (runStart >= 0) {
        fetchRun(runStart, b - runStart);
        runStart = -1;
      }
    }
    const parts: Uint8Array[] = [];
    for (let b = first; b <= last; b++) {
      const hit = cache.get(b);
      if (hit) {
        stats.hits++;
        touch(b, hit);
        parts.push(hit);
      } else {
        stats.misses++;
        parts.push(await (inflight.get(b) ?? fetchAndWait(b)));
      }
    }
    const startIn = offset - first * blockSize;
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
