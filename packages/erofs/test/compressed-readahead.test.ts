/**
 * CompressedFile.forEachPiece reads the pclusters of consecutive extents that lie back to back
 * on the device with one read (PCLUSTER_READAHEAD_BYTES, src/compressed/file.ts): the same bytes
 * as read(), one device read per contiguous run, and the extent-by-extent reads (and their
 * errors) when a span read fails.
 */
import { describe, expect, it } from 'vitest';
import { PCLUSTER_READAHEAD_BYTES } from '../src/compressed/file.js';
import { ALG_LZ4 } from '../src/compressed/context.js';
import { decompressPcluster, setLz4Decoder } from '../src/decompress/index.js';
import { LOCAL_FIXTURES, TestImage } from './compressed-harness.js';
import { randomBlock } from './lz4-decoders.js';

/** Options of a whole-block decode into a buffer of its own. */
const DECODE = { partial: false, maxOutput: 1 << 20 };

const TEXT_NID = 5603; // /text.txt in edge.lz4.img: compact indexes; 6 extents with stored bytes

/** readMain of `img` recording each call's length, refusing reads longer than `maxLength`. */
function recordingReads(img: TestImage, maxLength = Infinity) {
  const lengths: number[] = [];
  const readMain = (offset: number, length: number): Promise<Uint8Array> => {
    lengths.push(length);
    if (length > maxLength) return Promise.reject(new RangeError(`refused read of ${length} bytes`));
    return img.readMain(offset, length);
  };
  return { lengths, readMain };
}

async function pieces(file: { forEachPiece(sink: (p: Uint8Array) => void): Promise<void> }): Promise<Buffer> {
  const parts: Buffer[] = [];
  await file.forEachPiece((p) => parts.push(Buffer.from(p)));
  return Buffer.concat(parts);
}

describe('pcluster read-ahead in forEachPiece', () => {
  it('one read per run of back-to-back pclusters, the bytes of read()', async () => {
    const img = TestImage.load('edge.lz4');
    const expected = Buffer.from(await (await img.open(TEXT_NID)).read(0, Number.MAX_SAFE_INTEGER));
    const extents = (await (await img.open(TEXT_NID)).extents()).filter((e) => e.physicalLength > 0);
    expect(extents.length).toBe(6);
    // the runs, worked out from the extent table: a new run where a pcluster does not start at
    // the end of the previous one, or the run would pass the read-ahead bound
    const runs: number[] = [];
    let end = -1;
    for (const e of extents) {
      if (e.physicalAddr === end && runs.at(-1)! + e.physicalLength <= PCLUSTER_READAHEAD_BYTES) {
        runs[runs.length - 1]! += e.physicalLength;
      } else {
        runs.push(e.physicalLength);
      }
      end = e.physicalAddr + e.physicalLength;
    }
    expect(runs.length).toBeLessThan(extents.length); // the fixture has back-to-back pclusters
    const rec = recordingReads(img);
    const file = await img.open(TEXT_NID, { readMain: rec.readMain, readMeta: img.readMain });
    rec.lengths.length = 0; // the index reads of the open
    expect((await pieces(file)).equals(expected)).toBe(true);
    expect(rec.lengths).toEqual(runs);
  });

  it('a span read that fails falls back to one read per pcluster', async () => {
    const img = TestImage.load('edge.lz4');
    const expected = Buffer.from(await (await img.open(TEXT_NID)).read(0, Number.MAX_SAFE_INTEGER));
    const extents = (await (await img.open(TEXT_NID)).extents()).filter((e) => e.physicalLength > 0);
    const largest = Math.max(...extents.map((e) => e.physicalLength));
    const rec = recordingReads(img, largest);
    const file = await img.open(TEXT_NID, { readMain: rec.readMain, readMeta: img.readMain });
    rec.lengths.length = 0;
    expect((await pieces(file)).equals(expected)).toBe(true);
    // every pcluster was read on its own after the refused spans
    expect(rec.lengths.filter((n) => n <= largest)).toEqual(extents.map((e) => e.physicalLength));
  });
});

/** readMainInto of `img` recording each read's length; `refuse` picks reads to fail. */
function recordingReadsInto(
  img: TestImage,
  refuse: (offset: number, length: number) => boolean = () => false,
) {
  const lengths: number[] = [];
  const readMainInto = (offset: number, target: Uint8Array): void => {
    lengths.push(target.length);
    if (refuse(offset, target.length)) throw new RangeError(`refused read of ${target.length} bytes`);
    target.set(img.bytes.subarray(offset, offset + target.length));
  };
  return { lengths, readMainInto };
}

describe('pcluster read-ahead through a synchronous readMainInto', () => {
  /** /text.txt opened with a recorded readMain and readMainInto (`refuse` fails reads of the latter). */
  async function openRecorded(img: TestImage, refuse?: (offset: number, length: number) => boolean) {
    const rec = recordingReads(img);
    const into = recordingReadsInto(img, refuse);
    const file = await img.open(TEXT_NID, {
      readMain: rec.readMain,
      readMainInto: into.readMainInto,
      readMeta: img.readMain,
    });
    rec.lengths.length = 0; // the index reads of the open
    return { file, reads: rec.lengths, readsInto: into.lengths };
  }

  it('the same runs, read into one reused buffer, and no readMain for pclusters', async () => {
    const img = TestImage.load('edge.lz4');
    const expected = Buffer.from(await (await img.open(TEXT_NID)).read(0, Number.MAX_SAFE_INTEGER));
    const viaReadMain = recordingReads(img);
    const async = await img.open(TEXT_NID, { readMain: viaReadMain.readMain, readMeta: img.readMain });
    viaReadMain.lengths.length = 0;
    await pieces(async);
    const runs = [...viaReadMain.lengths];

    const { file, reads, readsInto } = await openRecorded(img);
    expect((await pieces(file)).equals(expected)).toBe(true);
    expect(readsInto).toEqual(runs);
    expect(reads).toEqual([]);
  });

  it('a failed synchronous read falls back to readMain for that pcluster alone', async () => {
    const img = TestImage.load('edge.lz4');
    const expected = Buffer.from(await (await img.open(TEXT_NID)).read(0, Number.MAX_SAFE_INTEGER));
    const extents = (await (await img.open(TEXT_NID)).extents()).filter((e) => e.physicalLength > 0);
    const { file, reads } = await openRecorded(img, () => true);
    expect((await pieces(file)).equals(expected)).toBe(true);
    expect(reads).toEqual(extents.map((e) => e.physicalLength));
  });

  it('a pass that runs while another holds a span re-reads rather than use its bytes', async () => {
    const img = TestImage.load('edge.lz4');
    const expected = Buffer.from(await (await img.open(TEXT_NID)).read(0, Number.MAX_SAFE_INTEGER));
    const extents = (await (await img.open(TEXT_NID)).extents()).filter((e) => e.physicalLength > 0);
    // One run holds all of the file's pclusters (the fixture stores them back to back).
    const total = extents.reduce((n, e) => n + e.physicalLength, 0);
    expect(extents.at(-1)!.physicalAddr + extents.at(-1)!.physicalLength - extents[0]!.physicalAddr).toBe(
      total,
    );
    // Pass B, another image's file, runs inside pass A's first sink: it reads its own run into
    // the shared buffer while A's span still covers A's later pclusters.
    const other = TestImage.load('lz4hc-compact-big', LOCAL_FIXTURES);
    const fileB = await other.open(44); // /dup1.txt, 40000 bytes
    const expectedB = Buffer.from(await fileB.read(0, fileB.size));
    const readsB = recordingReadsInto(other);
    const passB = await other.open(44, { readMainInto: readsB.readMainInto });
    const readsA = recordingReadsInto(img);
    const fileA = await img.open(TEXT_NID, { readMainInto: readsA.readMainInto });
    const partsA: Buffer[] = [];
    let b: Promise<Buffer> | undefined;
    await fileA.forEachPiece((p) => {
      partsA.push(Buffer.from(p));
      b ??= pieces(passB);
    });
    expect((await b!).equals(expectedB)).toBe(true);
    expect(readsB.lengths.length).toBeGreaterThan(0);
    expect(Buffer.concat(partsA).equals(expected)).toBe(true);
    // A read its whole run, then, once B had taken the buffer, the run from its second pcluster
    expect(readsA.lengths).toEqual([total, total - extents[0]!.physicalLength]);
  });

  for (const decoder of ['wasm', 'js'] as const) {
    it(`a decode of another stream during a pass (${decoder} decoder) makes it re-read, not use stale bytes`, async () => {
      const img = TestImage.load('edge.lz4');
      const expected = Buffer.from(await (await img.open(TEXT_NID)).read(0, Number.MAX_SAFE_INTEGER));
      const extents = (await (await img.open(TEXT_NID)).extents()).filter((e) => e.physicalLength > 0);
      const total = extents.reduce((n, e) => n + e.physicalLength, 0);
      const { block, out } = randomBlock(11);
      const readsA = recordingReadsInto(img);
      try {
        setLz4Decoder(decoder);
        const fileA = await img.open(TEXT_NID, { readMainInto: readsA.readMainInto });
        const parts: Buffer[] = [];
        await fileA.forEachPiece((p) => {
          parts.push(Buffer.from(p));
          // what read() of another file does on this thread: a decode of a stream it read itself
          if (parts.length === 1)
            expect(Buffer.from(decompressPcluster(ALG_LZ4, block, out.length, DECODE)).equals(out)).toBe(
              true,
            );
        });
        expect(Buffer.concat(parts).equals(expected)).toBe(true);
      } finally {
        setLz4Decoder('wasm');
      }
      // The WebAssembly decoder copied that stream over the run it held: the run is read again.
      // The JavaScript decoder's buffer is not the run's, which stays.
      expect(readsA.lengths).toEqual(
        decoder === 'wasm' ? [total, total - extents[0]!.physicalLength] : [total],
      );
    });
  }
});
