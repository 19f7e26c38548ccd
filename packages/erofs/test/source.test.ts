/** Byte sources: bounds, blob adapter, LRU block cache with read coalescing. */
import { describe, expect, it } from 'vitest';
import { blobSource } from '../src/source/blob.js';
import { cachedSource, MAX_READAHEAD_BYTES } from '../src/source/cached.js';
import { memorySource } from '../src/source/memory.js';
import type { ByteSource } from '../src/source/types.js';
import { seededInts } from './seeded-random.js';

/** A source over bytes i & 0xff that records its underlying reads; `sync` adds readInto. */
function counting(size: number, sync = false): ByteSource & { calls: [number, number][] } {
  const inner = memorySource(new Uint8Array(size).map((_, i) => i & 0xff));
  const calls: [number, number][] = [];
  if (sync)
    return {
      size,
      calls,
      read: (o, l) => inner.read(o, l),
      readInto(o, target) {
        calls.push([o, target.length]);
        inner.readInto!(o, target);
      },
    };
  return {
    size,
    calls,
    read(o, l) {
      calls.push([o, l]);
      return inner.read(o, l);
    },
  };
}

describe('memorySource / blobSource', () => {
  it('reads exact ranges and rejects reads past the end with EIO and the offset', async () => {
    const m = memorySource(new Uint8Array([1, 2, 3, 4]));
    expect(Array.from(await m.read(1, 2))).toEqual([2, 3]);
    await expect(m.read(3, 2)).rejects.toMatchObject({ code: 'EIO', offset: 3 });
    await expect(m.read(-1, 1)).rejects.toMatchObject({ code: 'EIO' });
    const b = blobSource(new Blob([new Uint8Array([9, 8, 7])]));
    expect(b.size).toBe(3);
    expect(Array.from(await b.read(1, 2))).toEqual([8, 7]);
    await expect(b.read(2, 2)).rejects.toMatchObject({ code: 'EIO', offset: 2 });
  });
});

describe('cachedSource', () => {
  it('coalesces a read spanning many missing blocks into one underlying read', async () => {
    const src = counting(1 << 20);
    const c = cachedSource(src, { blockSize: 4096, maxBytes: 1 << 20, bypassBytes: 1 << 20 });
    const got = await c.read(100, 10 * 4096);
    expect(got.length).toBe(40960);
    expect(got[0]).toBe(100);
    expect(src.calls).toEqual([[0, 11 * 4096]]);
    // everything inside is now cached
    await c.read(5000, 30000);
    expect(src.calls.length).toBe(1);
    // a read overlapping cached and missing blocks fetches only the missing run
    await c.read(10 * 4096, 3 * 4096);
    expect(src.calls).toEqual([
      [0, 11 * 4096],
      [11 * 4096, 2 * 4096],
    ]);
  });

  it('shares in-flight fetches between concurrent readers', async () => {
    const src = counting(1 << 16);
    const c = cachedSource(src, { blockSize: 4096, maxBytes: 1 << 16 });
    const rs = await Promise.all([c.read(0, 32), c.read(64, 32), c.read(4000, 200), c.read(32, 32)]);
    expect(rs.map((r) => r[0])).toEqual([0, 64, 4000 & 0xff, 32]);
    expect(src.calls).toEqual([
      [0, 4096],
      [4096, 4096],
    ]);
  });

  it('many small metadata reads issue few large reads; LRU eviction bounds memory', async () => {
    const src = counting(4 << 20);
    const c = cachedSource(src, { blockSize: 64 * 1024, maxBytes: 256 * 1024 });
    for (let off = 0; off < 1 << 20; off += 32) await c.read(off, 32);
    expect(src.calls.length).toBe(16); // 1 MiB / 64 KiB
    expect(c.stats.underlyingReads).toBe(16);
    // only the last 4 blocks are cached: reading block 0 again goes to the source
    await c.read(0, 32);
    expect(src.calls.length).toBe(17);
    await c.read((1 << 20) - 32, 32);
    expect(src.calls.length).toBe(17);
  });

  it('returns the source bytes for any range, from the one-block fast path, coalesced runs or bypass', async () => {
    const src = counting(300_000);
    const direct = memorySource(new Uint8Array(300_000).map((_, i) => i & 0xff));
    const c = cachedSource(src, { blockSize: 4096, maxBytes: 64 * 1024, bypassBytes: 32 * 1024 });
    const rand = seededInts(7);
    for (let i = 0; i < 2000; i++) {
      const off = rand(300_000);
      const len = Math.min(300_000 - off, [1, 32, 64, 4096, 9000, 40_000][rand(6)]!);
      const [got, want] = [await c.read(off, len), await direct.read(off, len)];
      // Compared as hex: toEqual on large typed arrays is slow.
      expect(Buffer.from(got).toString('hex')).toBe(Buffer.from(want).toString('hex'));
    }
    expect(c.stats.hits).toBeGreaterThan(0);
    await expect(c.read(299_999, 2)).rejects.toMatchObject({ code: 'EIO' });
    await expect(c.read(-1, 2)).rejects.toMatchObject({ code: 'EIO' });
  });

  it('large reads bypass the cache; the last partial block is clipped; errors propagate', async () => {
    const src = counting(10_000);
    const c = cachedSource(src, { blockSize: 4096, maxBytes: 16384, bypassBytes: 8192 });
    await c.read(0, 9000);
    expect(src.calls).toEqual([[0, 9000]]);
    const tail = await c.read(9990, 10);
    expect(tail.length).toBe(10);
    expect(src.calls[1]).toEqual([8192, 10_000 - 8192]);
    await expect(c.read(9995, 10)).rejects.toMatchObject({ code: 'EIO', offset: 9995 });
    let fail = true;
    const flaky: ByteSource = {
      size: 8192,
      read: (o, l) =>
        fail ? Promise.reject(new Error('boom')) : memorySource(new Uint8Array(8192)).read(o, l),
    };
    const fc = cachedSource(flaky, { blockSize: 4096 });
    await expect(fc.read(0, 10)).rejects.toThrow('boom');
    fail = false;
    expect((await fc.read(0, 10)).length).toBe(10);
  });

  it('over a synchronous source: same bytes, one read per missing run, clock eviction, copies', async () => {
    const src = counting(300_000, true);
    const direct = memorySource(new Uint8Array(300_000).map((_, i) => i & 0xff));
    const c = cachedSource(src, { blockSize: 4096, maxBytes: 64 * 1024, bypassBytes: 32 * 1024 });
    expect(c.readInto).toBeTypeOf('function');
    const rand = seededInts(11);
    for (let i = 0; i < 2000; i++) {
      const off = rand(300_000);
      const len = Math.min(300_000 - off, [1, 32, 4096, 9000, 40_000][rand(5)]!);
      let got: Uint8Array;
      if (i % 2) c.readInto!(off, (got = new Uint8Array(len)));
      else got = await c.read(off, len);
      expect(Buffer.from(got).toString('hex')).toBe(Buffer.from(await direct.read(off, len)).toString('hex'));
    }
    expect(() => c.readInto!(299_999, new Uint8Array(2))).toThrow(expect.objectContaining({ code: 'EIO' }));
    await expect(c.read(299_999, 2)).rejects.toMatchObject({ code: 'EIO' });

    const fresh = counting(1 << 20, true);
    const f = cachedSource(fresh, { blockSize: 4096, maxBytes: 16 * 4096 });
    const first = await f.read(4096, 16);
    f.readInto!(0, new Uint8Array(3 * 4096)); // blocks 0 and 2 fetched, block 1 cached
    f.readInto!(10 * 4096 + 100, new Uint8Array(3 * 4096)); // blocks 10-13 missing: one read
    expect(fresh.calls).toEqual([
      [4096, 4096],
      [0, 4096],
      [2 * 4096, 4096],
      [10 * 4096, 4 * 4096],
    ]);
    expect((await f.read(12 * 4096, 1))[0]).toBe((12 * 4096) & 0xff); // cached by that read
    first[0] = 0xee; // a copy: the cache is not affected
    expect((await f.read(4096, 1))[0]).toBe(0);
    for (let b = 0; b < 64; b++) f.readInto!(b * 4096, new Uint8Array(16));
    const before = fresh.calls.length;
    f.readInto!(0, new Uint8Array(16)); // evicted long ago: read again
    expect(fresh.calls.length).toBe(before + 1);
    f.readInto!(63 * 4096, new Uint8Array(16)); // still cached
    expect(fresh.calls.length).toBe(before + 1);
  });

  it('readahead (docs/reader.md#metadata-readahead): a miss close after the last one reads a run', () => {
    const size = (1 << 20) + 100; // the last block is partial
    const src = counting(size, true);
    const direct = new Uint8Array(size).map((_, i) => i & 0xff);
    // 257 slots: readahead runs of 64 KiB = 16 blocks (under the quarter-of-the-slots bound)
    const c = cachedSource(src, { blockSize: 4096, maxBytes: 4 << 20, readaheadBytes: 64 * 1024 });
    const B = 4096;
    const at = (block: number) => {
      const got = new Uint8Array(16);
      c.readInto!(block * B + 8, got);
      expect(Buffer.from(got).equals(Buffer.from(direct.subarray(block * B + 8, block * B + 24)))).toBe(true);
    };
    at(0); // the first miss: one block
    at(1); // the next block: a run of 16
    for (let b = 2; b <= 16; b++) at(b); // all cached
    at(200); // far ahead: one block
    at(100); // backwards: one block
    at(101); // next: a run
    at(190); // far: one block
    at(192); // close ahead: a run that stops at block 200, cached
    at(250); // far: one block
    at(252); // close ahead: a run that stops at the end of the source
    expect(src.calls).toEqual([
      [0, B],
      [B, 16 * B],
      [200 * B, B],
      [100 * B, B],
      [101 * B, 16 * B],
      [190 * B, B],
      [192 * B, 8 * B],
      [250 * B, B],
      [252 * B, size - 252 * B],
    ]);
  });

  it('readahead is bounded by MAX_READAHEAD_BYTES and off by default', () => {
    const big = counting(4 << 20, true);
    const c = cachedSource(big, { blockSize: 4096, maxBytes: 16 << 20, readaheadBytes: 10 << 20 });
    c.readInto!(0, new Uint8Array(8));
    c.readInto!(4096, new Uint8Array(8));
    expect(big.calls).toEqual([
      [0, 4096],
      [4096, MAX_READAHEAD_BYTES],
    ]);
    const plain = counting(4 << 20, true);
    const d = cachedSource(plain, { blockSize: 4096, maxBytes: 16 << 20 });
    for (let b = 0; b < 4; b++) d.readInto!(b * 4096, new Uint8Array(8));
    expect(plain.calls).toEqual([0, 1, 2, 3].map((b) => [b * 4096, 4096]));
  });

  it('an async-only source gets no readInto', () => {
    expect(cachedSource(counting(4096)).readInto).toBeUndefined();
    expect(cachedSource(counting(4096)).blocks).toBeUndefined();
  });

  it('blocks (docs/reader.md#metadata-in-place): one-block ranges in place, through the same cache', () => {
    const size = 64 * 4096 + 100;
    const src = counting(size, true);
    const c = cachedSource(src, { blockSize: 4096, maxBytes: 8 * 4096 });
    const view = c.blocks!;
    const expectAt = (offset: number, length: number) => {
      const at = view.at(offset, length);
      expect(at).toBeGreaterThanOrEqual(0);
      const got = view.bytes.subarray(at, at + length);
      expect([...got]).toEqual(Array.from({ length }, (_, i) => (offset + i) & 0xff));
    };
    expectAt(5 * 4096 + 32, 64); // a miss: the block is read in
    expectAt(5 * 4096 + 4000, 96); // up to the block's last byte, a hit
    expect(src.calls).toEqual([[5 * 4096, 4096]]);
    c.readInto!(6 * 4096, new Uint8Array(8)); // readInto and the view share the blocks
    expectAt(6 * 4096 + 8, 8);
    expect(src.calls.length).toBe(2);
    expect(view.at(5 * 4096 + 4064, 64)).toBe(-1); // across two blocks: readInto's job
    expectAt(64 * 4096, 100); // the short last block
    for (let b = 10; b < 40; b++) expectAt(b * 4096, 32); // evictions: the arena is reused
    expectAt(5 * 4096 + 100, 4); // read again after its eviction, still right
    expect(() => view.at(size - 10, 11)).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(() => view.at(-1, 4)).toThrow(expect.objectContaining({ code: 'EIO' }));
  });
});
