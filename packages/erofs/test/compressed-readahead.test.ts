/**
 * CompressedFile.forEachPiece reads the pclusters of consecutive extents that lie back to back
 * on the device with one read (PCLUSTER_READAHEAD_BYTES, src/compressed/file.ts): the same bytes
 * as read(), one device read per contiguous run, and the extent-by-extent reads (and their
 * errors) when a span read fails.
 */
import { describe, expect, it } from 'vitest';
import { PCLUSTER_READAHEAD_BYTES } from '../src/compressed/file.js';
import { TestImage } from './compressed-harness.js';

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
