/**
 * ErofsImage.forEachDataPiece (the hashing path of `scan --hash`) passes on exactly the bytes
 * readFile returns, for every regular file of images covering each data layout: flat plain and
 * inline (direct positional reads), chunk-based, lz4/lz4hc/deflate/lzma/zstd with fragments,
 * dedupe and ztailpacking (CompressedFile.forEachPiece). A scratch of 1000 bytes, not a multiple
 * of any block size, puts piece boundaries inside blocks and inside the inline tail's block.
 * Every file with data is read; of the empty ones, the first EMPTY_FILES.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openImage } from '../src/image.js';
import { openImageFile } from '../src/node.js';
import { memorySource } from '../src/source/memory.js';
import { walk } from '../src/walk.js';

const DIR = join(import.meta.dirname, '../../../testdata/erofs');
const IMAGES = [
  'edge.img',
  'edge-mini.noinline.img',
  'edge-mini.b512.img',
  'edge-mini.chunk4k.img',
  'edge.lz4.img',
  'edge.deflate.img',
  'edge.lzma.frag-dedupe-ztail.img',
  'edge.zstd.fp.img',
  'app.fp.lz4hc.img',
];

/** How many empty files of an image are read (the rest are the same case again). */
const EMPTY_FILES = 5;

async function piecesOf(
  image: Awaited<ReturnType<typeof openImage>>,
  path: string,
  scratchBytes: number,
): Promise<{ data: Uint8Array; largest: number }> {
  const ino = await image.resolve(path, false);
  const parts: Uint8Array[] = [];
  let largest = 0;
  // Pieces may alias the scratch buffer: copy each before the next one arrives.
  await image.forEachDataPiece(ino, new Uint8Array(scratchBytes), (p) => {
    parts.push(p.slice());
    largest = Math.max(largest, p.length);
  });
  const data = Buffer.concat(parts);
  return { data, largest };
}

describe('forEachDataPiece passes on the bytes readFile returns', () => {
  for (const name of IMAGES) {
    it(`every regular file of ${name}, from a file source and a memory source`, async () => {
      const fromFile = await openImageFile(join(DIR, name));
      const fromMemory = await openImage(memorySource(new Uint8Array(readFileSync(join(DIR, name)))));
      try {
        let files = 0;
        let empty = 0;
        for await (const e of walk(fromFile.image)) {
          if (e.inode.type !== 'file') continue;
          // A few empty files, not all: edge, edge.zstd.fp and edge-mini.b512 each hold 2,970
          // in /manydir, the same zero-length case that was most of this file's time.
          if (e.inode.size === 0 && ++empty > EMPTY_FILES) continue;
          files++;
          const expected = await fromFile.image.readFile(e.path);
          for (const image of [fromFile.image, fromMemory]) {
            const { data, largest } = await piecesOf(image, e.path, 1000);
            expect(data.length, e.path).toBe(expected.length);
            expect(Buffer.compare(data, expected), e.path).toBe(0);
            // Flat plain files are read through the scratch buffer, so no piece outgrows it.
            if (e.inode.layoutName === 'flat_plain') expect(largest, e.path).toBeLessThanOrEqual(1000);
          }
        }
        expect(files).toBeGreaterThan(0);
      } finally {
        await fromFile.close();
      }
    });
  }
});
