// Hand-built inodes for layouts no shared fixture contains: encoded extents (docs/format.md#encoded-extents) with
// 4-, 8- and 16-byte records, byte-aligned pclusters, holes, PARTIAL references, SHIFTED and
// INTERLACED uncompressed pclusters (docs/format.md#plain-pclusters), plus full indexes with PARTIAL_REF, HOLE and
// HEAD2 (docs/format.md#full-indexes, docs/format.md#dedupe, docs/format.md#sparse).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CompressedDataError,
  DEFAULT_COMPRESSED_LIMITS,
  openCompressedFile,
  type CompressedFileContext,
} from '../src/compressed/index.js';

const dir = join(import.meta.dirname, 'decompress-fixtures');
const sample = new Uint8Array(readFileSync(join(dir, 'sample.bin')));
const frame = new Uint8Array(readFileSync(join(dir, 'sample.lz4frame')));
const lz4Block = frame.subarray(19, 19 + new DataView(frame.buffer, frame.byteOffset).getUint32(15, true));

const BS = 4096;
const INODE = 4096; // inode at block 1 (nid 128, meta_blkaddr 0)
const H = INODE + 32; // map header (already 8-aligned)

class Img {
  readonly bytes = new Uint8Array(64 * BS);
  readonly dv = new DataView(this.bytes.buffer);
  u16(o: number, v: number) {
    this.dv.setUint16(o, v, true);
  }
  u32(o: number, v: number) {
    this.dv.setUint32(o, v, true);
  }
  ctx(layout: 1 | 3, size: number, extra: Partial<CompressedFileContext> = {}): CompressedFileContext {
    return {
      nid: 128,
      layout,
      size,
      inodeOffset: INODE,
      inodeSize: 32,
      xattrIsize: 0,
      iU: 0,
      blockSizeBits: 12,
      featureIncompat: 0x1 | 0x2 | 0x8 | 0x20 | 0x80,
      availableComprAlgs: 0b1111,
      comprConfigs: [],
      readMain: (o, n) => {
        if (o + n > this.bytes.length) return Promise.reject(new RangeError('out of range'));
        return Promise.resolve(this.bytes.subarray(o, o + n));
      },
      mainDeviceSize: this.bytes.length,
      limits: DEFAULT_COMPRESSED_LIMITS,
      ...extra,
    };
  }
}

const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const eq = (a: Uint8Array, b: Uint8Array) => expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);

describe('encoded extents, 16-byte records', () => {
  const img = new Img();
  const LZ4_AT = 8 * BS + 3; // byte-aligned pcluster, no padding
  const RAW_AT = 20 * BS + 7;
  img.bytes.set(lz4Block, LZ4_AT);
  const raw = sample.subarray(5000, 8000);
  img.bytes.set(raw, RAW_AT);
  // records: la, plen|fmt, pa
  const recs: [number, number, number][] = [
    [0, (1 << 28) | (1 << 27) | lz4Block.length, LZ4_AT], // lz4, PARTIAL: first 10000 bytes
    [10000, 0, 0], // hole of 5000
    [15000, raw.length, RAW_AT], // uncompressed, byte aligned -> SHIFTED
    [18000, (1 << 28) | (1 << 27) | lz4Block.length, LZ4_AT], // shared pcluster, 2000 bytes
    [20000, (1 << 28) | lz4Block.length, LZ4_AT], // whole pcluster: 26600 bytes, exact
  ];
  const size = 20000 + sample.length;
  img.u32(H, recs.length); // h_extents_lo
  img.u16(H + 4, 0x1 | (2 << 1) | 0x10); // EXTENTS, record size 16, INTERLACED (ignored: byte aligned)
  img.u16(H + 6, 0); // h_extents_hi
  const R0 = Math.ceil((H + 8) / 16) * 16;
  recs.forEach(([la, plen, pa], i) => {
    img.u32(R0 + 16 * i, plen);
    img.u32(R0 + 16 * i + 4, pa);
    img.u32(R0 + 16 * i + 8, 0);
    img.u32(R0 + 16 * i + 12, la);
  });
  const expected = cat(
    sample.subarray(0, 10000),
    new Uint8Array(5000),
    raw,
    sample.subarray(0, 2000),
    sample,
  );

  it('maps and reads every extent kind', async () => {
    const f = await openCompressedFile(img.ctx(1, size));
    const ex = await f.extents();
    expect(ex.map((e) => [e.kind, e.logicalStart, e.logicalLength, e.partial])).toEqual([
      ['lz4', 0, 10000, true],
      ['hole', 10000, 5000, false],
      ['shifted', 15000, 3000, false],
      ['lz4', 18000, 2000, true],
      ['lz4', 20000, sample.length, false],
    ]);
    eq(await f.read(0, size), expected);
    eq(await f.read(9990, 6000), expected.subarray(9990, 15990));
  });

  it('rejects out-of-order records', async () => {
    const bad = new Img();
    bad.bytes.set(img.bytes);
    bad.u32(R0 + 16 * 2 + 12, 9000);
    await expect(openCompressedFile(bad.ctx(1, size))).rejects.toThrow(/out of order/);
  });

  it('rejects a record beyond i_size', async () => {
    await expect(openCompressedFile(img.ctx(1, 19000))).rejects.toBeInstanceOf(CompressedDataError);
  });
});

describe('encoded extents, fixed-size records', () => {
  const size = 3 * BS + 100;
  const data = sample.subarray(0, size);

  it('8-byte records: INTERLACED block-aligned plain pclusters, SHIFTED byte-aligned ones, a hole', async () => {
    const img = new Img();
    img.u16(H + 4, 0x1 | (1 << 1) | 0x10); // EXTENTS, record size 8, INTERLACED
    img.bytes[H + 7] = 0; // lclusterbits = 12
    const R0 = Math.ceil((H + 8) / 8) * 8;
    // lcluster 0: interlaced full block at block 10 (la % bs == 0: stored as is)
    img.bytes.set(data.subarray(0, BS), 10 * BS);
    // lcluster 1: hole; lcluster 2: shifted, byte-aligned
    img.bytes.set(data.subarray(2 * BS, 3 * BS), 12 * BS + 5);
    // lcluster 3 (100 bytes): interlaced one-block pcluster -> data sits in its last 100 bytes
    img.bytes.set(data.subarray(3 * BS), 14 * BS + BS - 100);
    const recs = [
      [BS, 10 * BS],
      [0, 0],
      [BS, 12 * BS + 5],
      [BS, 14 * BS],
    ];
    recs.forEach(([plen, pa], i) => {
      img.u32(R0 + 8 * i, plen!);
      img.u32(R0 + 8 * i + 4, pa!);
    });
    const f = await openCompressedFile(img.ctx(1, size));
    expect((await f.extents()).map((e) => e.kind)).toEqual(['interlaced', 'hole', 'shifted', 'interlaced']);
    eq(await f.read(0, size), cat(data.subarray(0, BS), new Uint8Array(BS), data.subarray(2 * BS)));
  });

  it('4-byte records: contiguous pclusters from a 64-bit start address', async () => {
    const img = new Img();
    img.u16(H + 4, 0x1); // EXTENTS, record size 4
    const R0 = Math.ceil((H + 8) / 4) * 4;
    const start = 9 * BS + 1;
    img.u32(R0, start);
    img.u32(R0 + 4, 0);
    const lens = [BS, BS, BS, 100];
    let at = start;
    lens.forEach((len, i) => {
      img.u32(R0 + 8 + 4 * i, len);
      img.bytes.set(data.subarray(i * BS, i * BS + len), at);
      at += len;
    });
    const f = await openCompressedFile(img.ctx(1, size));
    expect((await f.extents()).map((e) => e.physicalAddr)).toEqual([
      start,
      start + BS,
      start + 2 * BS,
      start + 3 * BS,
    ]);
    eq(await f.read(0, size), data);
  });
});

describe('full indexes: PARTIAL_REF, HOLE, HEAD2, interlaced PLAIN', () => {
  // lcluster 0: HEAD1 lz4, 1-block pcluster at block 8, PARTIAL_REF (stream yields 4200 bytes,
  //             the extent uses 4196)
  // lcluster 1: PLAIN head at block 20, clusterofs 100, interlaced, big (CBLKCNT 2 in lcluster 2)
  // lcluster 3: HEAD2 with the HOLE bit (docs/format.md#sparse)
  const size = 4 * BS;
  const img = new Img();
  // hand-made lz4 block: 200 literals, then a 4000-byte match at offset 200
  const matchExtra = [...new Array<number>(15).fill(255), 3996 - 15 - 255 * 15];
  const block = Uint8Array.from([0xff, 200 - 15, ...sample.subarray(0, 200), 200, 0, ...matchExtra]);
  img.bytes.set(block, 9 * BS - block.length); // zero padding in front (docs/format.md#compressed-streams)
  const ext0 = new Uint8Array(BS + 100);
  for (let i = 0; i < ext0.length; i++) ext0[i] = sample[i % 200]!;
  // extent 1 covers [BS+100, 3*BS) = 8092 bytes, stored interlaced in 2 blocks at block 20:
  // c = BS - 100 first bytes live at the pcluster end.
  const ext1 = sample.subarray(BS + 100, 3 * BS);
  const c = BS - 100;
  img.bytes.set(ext1.subarray(0, c), 20 * BS + 2 * BS - c);
  img.bytes.set(ext1.subarray(c), 20 * BS);
  img.u16(H + 4, 0x2 | 0x4 | 0x10); // BIG_PCLUSTER_1/2, INTERLACED
  img.bytes[H + 6] = 0x00; // HEAD1 = lz4, HEAD2 = lz4
  img.bytes[H + 7] = 0; // lclusterbits 12
  const idx = (lcn: number, advise: number, clusterofs: number, w: number, w2 = 0) => {
    const o = H + 16 + 8 * lcn;
    img.u16(o, advise);
    img.u16(o + 2, clusterofs);
    img.u16(o + 4, w & 0xffff);
    img.u16(o + 6, w2 || w >>> 16);
  };
  const run = () => {
    idx(0, 0x8000 | 1, 0, 8); // HEAD1, PARTIAL_REF, block 8; lcluster 1 is a head -> 1 block
    idx(1, 0, 100, 20); // PLAIN head at block 20
    idx(2, 2, 0, 0x800 | 2, 1); // NONHEAD, CBLKCNT 2
    idx(3, 0x4000 | 3, 0, 30); // HEAD2 with HOLE
  };
  run();

  it('reads the expected content', async () => {
    const f = await openCompressedFile(img.ctx(1, size));
    const ex = await f.extents();
    expect(ex.map((e) => [e.kind, e.logicalStart, e.logicalLength, e.physicalLength, e.partial])).toEqual([
      ['lz4', 0, BS + 100, BS, true],
      ['interlaced', BS + 100, 2 * BS - 100, 2 * BS, false],
      ['hole', 3 * BS, BS, 0, false],
    ]);
    eq(await f.read(0, size), cat(ext0, ext1, new Uint8Array(BS)));
  });

  it('a bogus CBLKCNT after a big-pcluster head is corrupt', async () => {
    const bad = new Img();
    bad.bytes.set(img.bytes);
    const o = H + 16 + 8 * 2;
    bad.u16(o + 4, 3); // plain delta0 = 3 right after the PLAIN head
    await expect(openCompressedFile(bad.ctx(1, size))).rejects.toThrow(/lookback|CBLKCNT/);
  });
});
