/** testdata/erofs/broken/: each image fails cleanly with the documented typed error. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErofsError } from '../src/errors.js';
import { openImage } from '../src/image.js';
import { scanManifest } from '../src/manifest.js';
import { nodeSha256 } from '../src/node.js';
import { memorySource } from '../src/source/memory.js';

const DIR = join(import.meta.dirname, '../../../testdata/erofs/broken');
const load = (name: string) => memorySource(new Uint8Array(readFileSync(join(DIR, name))));

/** Open, list, stat, scan and hash everything; returns the first error. */
async function exercise(name: string): Promise<unknown> {
  try {
    const img = await openImage(load(name));
    await img.stat('/');
    await img.readdir('/');
    await scanManifest(img, { imageName: name, imageSize: img.source.size, hash: true, hasher: nodeSha256 });
    return null;
  } catch (e) {
    return e;
  }
}

describe('broken images', () => {
  it('zeroed-magic.img: not an EROFS image (EBADMAGIC at offset 1024)', async () => {
    const e = await exercise('zeroed-magic.img');
    expect(e).toBeInstanceOf(ErofsError);
    expect(e).toMatchObject({ code: 'EBADMAGIC', offset: 1024 });
    expect((e as Error).message).toMatch(/bad superblock magic 0x00000000/);
  });

  it('truncated-half.img: EIO calling it truncated, with the size it should have', async () => {
    const e = await exercise('truncated-half.img');
    expect(e).toBeInstanceOf(ErofsError);
    expect(e).toMatchObject({ code: 'EIO', offset: 110592 });
    expect((e as Error).message).toBe(
      'EIO: truncated image: the superblock counts 54 blocks of 4096 bytes (221184 bytes), the file has 110592 @ offset 110592',
    );
  });

  it('flipped-inode-byte.img: unsupported data layout 5 for nid 38', async () => {
    const e = await exercise('flipped-inode-byte.img');
    expect(e).toBeInstanceOf(ErofsError);
    expect(e).toMatchObject({ code: 'ENOTSUP', nid: 38, offset: 1216 });
    expect((e as Error).message).toMatch(/data layout 5/);
  });

  it('dirent-nameoff-out-of-range.img: corrupt /links directory', async () => {
    const e = await exercise('dirent-nameoff-out-of-range.img');
    expect(e).toBeInstanceOf(ErofsError);
    expect(e).toMatchObject({ code: 'ECORRUPT', nid: 69, path: '/links' });
    expect((e as Error).message).toMatch(/nameoff 65520/);
    // the byte offset of the planted nameoff (2260) is named
    expect((e as ErofsError).offset).toBe(2260);
    // other paths still work, and resolving through /links fails the same way
    const img = await openImage(load('dirent-nameoff-out-of-range.img'));
    expect((await img.stat('/')).isDirectory()).toBe(true);
    await expect(img.readdir('/links')).rejects.toMatchObject({ code: 'ECORRUPT', nid: 69 });
    await expect(img.stat('/links/anything')).rejects.toMatchObject({ code: 'ECORRUPT', nid: 69 });
  });
});
