// Damaged images must fail with a typed CompressedDataError (docs/format.md#validate-compressed), never hang or read
// out of bounds.
import { describe, expect, it } from 'vitest';
import { CompressedDataError, type CompressedErrorCode } from '../src/compressed/index.js';
import { CompactIndex } from '../src/compressed/zmap.js';
import { ErofsError } from '../src/errors.js';
import { openImage } from '../src/image.js';
import { memorySource } from '../src/source/memory.js';
import { loadOracle, TestImage } from './compressed-harness.js';
import { fixSuperblockChecksum } from './fuzz-lib.mjs';
import { LZ4_DECODER_KINDS, useLz4Decoder } from './lz4-decoders.js';
import { seededInts } from './seeded-random.js';

const TEXT_NID = 5603; // /text.txt in edge.lz4.img: compact indexes, 40 lz4 pclusters

async function expectError(
  p: Promise<unknown>,
  code: CompressedErrorCode,
  msg?: RegExp,
): Promise<CompressedDataError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CompressedDataError);
  const e = err as CompressedDataError;
  expect(e.code).toBe(code);
  if (msg) expect(e.message).toMatch(msg);
  expect(e.nid).toBe(TEXT_NID);
  return e;
}

/** A fresh copy of edge.lz4.img plus the geometry of /text.txt's compact index. */
function damaged() {
  const base = TestImage.load('edge.lz4');
  const img = new TestImage(base.bytes.slice());
  const ctx = img.context(TEXT_NID);
  const header = Math.ceil((ctx.inodeOffset + ctx.inodeSize + ctx.xattrIsize) / 8) * 8;
  const ci = new CompactIndex(header + 8, Math.ceil(ctx.size / 4096), img.bytes[header + 4]!, 12);
  return { img, ctx, header, ci };
}

/** Rewrite the 2-bit type and `lo` of compact entry `lcn`. */
function setEntry(img: TestImage, ci: CompactIndex, lcn: number, type: number, lo: number): void {
  const loc = ci.locate(lcn);
  const bit = loc.k * loc.bits;
  const at = loc.packStart + (bit >>> 3);
  const dv = new DataView(img.bytes.buffer, img.bytes.byteOffset);
  let v = dv.getUint32(at, true);
  const mask = ((1 << (ci.lobits + 2)) - 1) << (bit & 7);
  v = (v & ~mask) | (((type << ci.lobits) | lo) << (bit & 7));
  dv.setUint32(at, v >>> 0, true);
}

// Every case runs with each LZ4 decoder (docs/reader.md#lz4-decoders): the same typed errors.
describe.each(LZ4_DECODER_KINDS)('%s LZ4 decoder', (kind) => {
  useLz4Decoder(kind);

  describe('corrupt compressed inodes', () => {
    it('the undamaged file reads', async () => {
      const { img } = damaged();
      const f = await img.open(TEXT_NID);
      expect((await f.read(0, f.size)).length).toBe(162890);
    });

    it('NONHEAD at lcn 0 (bad lcluster type) -> bogus lookback', async () => {
      const { img, ci } = damaged();
      setEntry(img, ci, 0, 2, 1);
      await expectError(img.open(TEXT_NID), 'ECORRUPT', /lookback/);
    });

    it('lookback past the extent head -> ECORRUPT', async () => {
      const { img, ci } = damaged();
      // an entry that stores delta[0] itself (not the last of its pack), pointing before lcn 0
      let lcn = 1;
      while (ci.locate(lcn).k + 1 === ci.locate(lcn).vcnt) lcn++;
      setEntry(img, ci, lcn, 2, lcn + 1);
      await expectError(img.open(TEXT_NID), 'ECORRUPT', /lookback/);
    });

    it('first head with clusterofs != 0 -> ECORRUPT', async () => {
      const { img, ci } = damaged();
      setEntry(img, ci, 0, 1, 100);
      await expectError(img.open(TEXT_NID), 'ECORRUPT', /first extent/);
    });

    it('out-of-range block address -> ECORRUPT at open', async () => {
      const { img, ci } = damaged();
      const loc = ci.locate(0);
      new DataView(img.bytes.buffer).setUint32(loc.packStart + loc.packSize - 4, 0x7ffffff0, true);
      await expectError(img.open(TEXT_NID), 'ECORRUPT', /beyond the \d+-byte device/);
    });

    it('truncated image (pcluster past the end) -> ECORRUPT', async () => {
      const { img } = damaged();
      const f = await img.open(TEXT_NID);
      const last = (await f.extents()).at(-1)!;
      // the inode sits behind its data, so model the truncation through the device size
      await expectError(
        img.open(TEXT_NID, { mainDeviceSize: last.physicalAddr + 100 }),
        'ECORRUPT',
        /beyond/,
      );
    });

    it('zeroed pcluster -> compressed data start not found', async () => {
      const { img } = damaged();
      const e = (await (await img.open(TEXT_NID)).extents())[3]!;
      img.bytes.fill(0, e.physicalAddr, e.physicalAddr + e.physicalLength);
      const f = await img.open(TEXT_NID);
      await f.read(0, e.logicalStart); // earlier extents still read
      const err = await expectError(f.read(e.logicalStart, 10), 'ECORRUPT', /start not found/);
      expect(err.offset).toBe(e.physicalAddr);
    });

    it('garbage inside a pcluster -> ECORRUPT from the decoder', async () => {
      const { img } = damaged();
      const e = (await (await img.open(TEXT_NID)).extents())[2]!;
      img.bytes.fill(0xff, e.physicalAddr + e.physicalLength - 600, e.physicalAddr + e.physicalLength);
      await expectError((await img.open(TEXT_NID)).read(e.logicalStart, e.logicalLength), 'ECORRUPT', /lz4/);
    });

    it('map header consistency (docs/format.md#map-advise)', async () => {
      let d = damaged();
      d.img.bytes[d.header + 4] = 0x02; // BIG_PCLUSTER_1 without _2 on compact indexes
      await expectError(d.img.open(TEXT_NID), 'ECORRUPT', /big pcluster/);
      d = damaged();
      d.img.bytes[d.header + 4] = 0x28; // INLINE_PCLUSTER | FRAGMENT_PCLUSTER
      await expectError(d.img.open(TEXT_NID), 'ECORRUPT');
      d = damaged();
      d.img.bytes[d.header + 6] = 0x05; // unknown HEAD1 algorithm
      await expectError(d.img.open(TEXT_NID), 'ENOTSUP', /algorithm/);
      d = damaged();
      d.img.bytes[d.header + 7] = 0x05; // lclusterbits 17 on compact indexes
      await expectError(d.img.open(TEXT_NID), 'ENOTSUP', /lclusterbits/);
    });

    it('algorithm not in available_compr_algs -> ECORRUPT', async () => {
      const { img } = damaged();
      await expectError(
        img.open(TEXT_NID, { availableComprAlgs: 0b1000 }),
        'ECORRUPT',
        /inconsistent algorithmtype/,
      );
      await expectError(img.open(TEXT_NID, { availableComprAlgs: 0 }), 'ECORRUPT', /plain filesystem/);
    });

    it('limits -> ELIMIT', async () => {
      const { img } = damaged();
      await expectError(
        img.open(TEXT_NID, { limits: { maxExtents: 10, maxFileSize: 1 << 30, maxPclusterBytes: 1 << 20 } }),
        'ELIMIT',
      );
      await expectError(
        img.open(TEXT_NID, { limits: { maxExtents: 1e6, maxFileSize: 1000, maxPclusterBytes: 1 << 20 } }),
        'ELIMIT',
      );
    });
  });

  describe('mutation fuzzing of map headers, indexes and pclusters', () => {
    it.each([
      ['edge.lz4', 5603],
      ['edge-mini.mkfs15.lz4hc', -1],
      ['edge.lzma.frag-dedupe-ztail', -1],
    ] as const)('%s: only typed errors', async (name, nidHint) => {
      const base = TestImage.load(name);
      const oracle = loadOracle(name);
      const f = oracle.files.find((x) =>
        nidHint < 0 ? x.layout.startsWith('compressed') && x.size > 9000 : x.nid === nidHint,
      )!;
      const ctx = base.context(f.nid);
      const header = Math.ceil((ctx.inodeOffset + ctx.inodeSize + ctx.xattrIsize) / 8) * 8;
      const extents = await (await base.open(f.nid)).extents();
      const pcl = extents.find((e) => e.physicalLength > 0);
      const rnd = seededInts(12345);
      for (let i = 0; i < 150; i++) {
        const img = new TestImage(base.bytes.slice());
        for (let j = 0; j < 3; j++) {
          const inIndex = i % 3 !== 2 || !pcl;
          const at = inIndex ? header + rnd(64) : pcl.physicalAddr + rnd(pcl.physicalLength);
          img.bytes[at] = rnd(256);
        }
        try {
          const file = await img.open(f.nid);
          await file.read(0, file.size);
        } catch (e) {
          // Nothing else: no read reaches the harness's readMain or readPacked out of range
          // (pclusters are checked against mainDeviceSize, fragments against packedSize).
          if (!(e instanceof CompressedDataError)) throw e;
        }
      }
    });
  });
});

// docs/format.md#validate-compressed, rule 11: a fragment past the packed inode's data is
// refused when the file is opened, by the compressed reader itself (not left to readPacked).
describe('a fragment offset beyond the packed inode', () => {
  const NAME = 'edge.lzma.frag-dedupe-ztail';
  /** edge.lzma.frag-dedupe-ztail with /b16385's fragment offset (its map header's first 4 bytes) made 0xffffffff. */
  function farFragment() {
    const img = new TestImage(TestImage.load(NAME).bytes.slice());
    const nid = loadOracle(NAME).files.find((f) => f.path === '/b16385')!.nid;
    const ctx = img.context(nid);
    const header = Math.ceil((ctx.inodeOffset + ctx.inodeSize + ctx.xattrIsize) / 8) * 8;
    return { img, nid, header };
  }

  it('is ECORRUPT at open, naming the packed inode', async () => {
    const { img, nid, header } = farFragment();
    const f = await img.open(nid);
    const fragment = (await f.extents()).find((e) => e.kind === 'fragment')!;
    expect(fragment).toBeTruthy();
    expect(fragment.fragmentOffset! + fragment.logicalLength).toBeLessThanOrEqual(
      img.context(img.packedNid).size,
    );
    img.bytes.fill(0xff, header, header + 4);
    const err = await img.open(nid).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CompressedDataError);
    expect(err).toMatchObject({ code: 'ECORRUPT', nid });
    expect((err as Error).message).toMatch(
      /fragment \d+\+\d+ of extent at \d+ is beyond the \d+-byte packed inode/,
    );
    // Without the packed inode's size the open passes and only readPacked refuses the read.
    const unchecked = await img.open(nid, { packedSize: undefined });
    await expect(unchecked.read(0, unchecked.size)).rejects.toThrow(/beyond packed inode size/);
  });

  it('is the same ECORRUPT through the image reader', async () => {
    const { img, header } = farFragment();
    img.bytes.fill(0xff, header, header + 4);
    fixSuperblockChecksum(img.bytes); // the map header is in the superblock's (checksummed) block
    const image = await openImage(memorySource(img.bytes));
    const err = await image.readFile('/b16385').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ErofsError);
    expect(err).toMatchObject({ code: 'ECORRUPT' });
    expect((err as Error).message).toMatch(/beyond the \d+-byte packed inode/);
    // The other files still read.
    expect((await image.readFile('/b4095')).length).toBe(4095);
  });
});
