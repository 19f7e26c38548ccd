/**
 * The walk's synchronous path for small files (docs/reader.md#small-files-in-the-walking-thread):
 * ErofsImage.dataNow returns exactly readFile's bytes whenever it returns anything, takes every
 * flat file of at most one block of a synchronous source, and a hashed scan with
 * ScanOptions.hashNow writes the same manifest, or throws the same error, as one without it, on
 * every image of testdata/erofs (the broken, synthetic and METABOX ones included).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErofsError } from '../src/errors.js';
import { openImage, type ErofsImage } from '../src/image.js';
import { scanManifest } from '../src/manifest.js';
import { nodeSha256, nodeSha256Now, openImageFile } from '../src/node.js';
import { memorySource } from '../src/source/memory.js';
import { walk } from '../src/walk.js';

const DIR = join(import.meta.dirname, '../../../testdata/erofs');

function imagesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...imagesUnder(path));
    else if (name.endsWith('.img')) out.push(path);
  }
  return out;
}

describe('dataNow', () => {
  const IMAGES = [
    'edge.img',
    'edge-mini.b512.img',
    'edge-mini.noinline.img',
    'edge-mini.b16k.img',
    'app.fp.img',
  ];
  for (const name of IMAGES) {
    it(`returns readFile's bytes for every small flat file of ${name} (file and memory sources)`, async () => {
      const fromFile = await openImageFile(join(DIR, name));
      const fromMemory = await openImage(memorySource(new Uint8Array(readFileSync(join(DIR, name)))));
      try {
        let taken = 0;
        for await (const e of walk(fromFile.image)) {
          if (e.inode.type !== 'file') continue;
          const expected = await fromFile.image.readFile(e.path);
          for (const image of [fromFile.image, fromMemory] as ErofsImage[]) {
            const ino = await image.resolve(e.path, false);
            const bs = image.blockSize;
            // stale bytes in the scratch must not leak into the result
            const got = image.dataNow(ino, new Uint8Array(bs).fill(0xa5));
            const flat = ino.layoutName === 'flat_plain' || ino.layoutName === 'flat_inline';
            if (flat && ino.size <= bs) {
              expect(got, e.path).toBeDefined();
              expect(Buffer.from(got!).equals(Buffer.from(expected)), e.path).toBe(true);
              taken++;
            } else expect(got, e.path).toBeUndefined();
          }
        }
        expect(taken).toBeGreaterThan(0);
      } finally {
        await fromFile.close();
      }
    });
  }

  it('is undefined for a non-empty file of a source without synchronous reads (a browser Blob)', async () => {
    const mem = memorySource(new Uint8Array(readFileSync(join(DIR, 'edge.img'))));
    const image = await openImage({ size: mem.size, read: (o, l) => mem.read(o, l) });
    let files = 0;
    for await (const e of walk(image)) {
      if (e.inode.type !== 'file') continue;
      files++;
      const got = image.dataNow(e.inode, new Uint8Array(image.blockSize));
      // an empty file needs no read: its content is known without one
      if (e.inode.size === 0) expect(got?.length, e.path).toBe(0);
      else expect(got, e.path).toBeUndefined();
    }
    expect(files).toBeGreaterThan(0);
  });
});

/** The hashed manifest of an image as JSON, or its error as code, message and where. */
async function hashedScan(path: string, hashNow: boolean): Promise<string> {
  try {
    const { image, size, close } = await openImageFile(path);
    try {
      const m = await scanManifest(image, {
        imageName: 'x.img',
        imageSize: size,
        hash: true,
        hasher: nodeSha256,
        ...(hashNow ? { hashNow: nodeSha256Now } : {}),
      });
      return JSON.stringify(m);
    } finally {
      await close();
    }
  } catch (e) {
    if (!(e instanceof ErofsError)) throw e;
    return JSON.stringify({ code: e.code, message: e.message, nid: e.nid, offset: e.offset, path: e.path });
  }
}

describe('a hashed scan with hashNow', () => {
  const all = imagesUnder(DIR);
  it('finds the images', () => {
    expect(all.length).toBeGreaterThanOrEqual(38);
  });
  for (const path of all) {
    it(`writes what a scan without it writes: ${relative(DIR, path)}`, { timeout: 60_000 }, async () => {
      const [withNow, without] = [await hashedScan(path, true), await hashedScan(path, false)];
      expect(withNow).toBe(without);
    });
  }
});
