/**
 * Metadata read in place (docs/reader.md#metadata-in-place): inodes and inline xattr areas
 * decoded where the block cache holds them give the scan the reader gives without a cache
 * (every read a copy). A tiny cache of 512-byte blocks puts many inodes and xattr areas across
 * two blocks (the copying fallback) and evicts blocks while the walk goes on.
 */
import { describe, expect, it } from 'vitest';
import { manifestToNdjson, scanManifest } from '../src/manifest.js';
import { nodeSha256, openImageFile } from '../src/node.js';
import { repositoryImages } from './repository-images.js';

async function scanText(
  path: string,
  devices: string[],
  cache: false | object,
  hash: boolean,
): Promise<string> {
  const opened = await openImageFile(path, { devices, cache });
  try {
    const m = await scanManifest(opened.image, {
      imageName: 'x.img',
      imageSize: 1,
      hash,
      hasher: nodeSha256,
    });
    return [...manifestToNdjson(m)].join('');
  } catch (e) {
    return `error: ${String(e)}`;
  } finally {
    await opened.close();
  }
}

describe('metadata in place', () => {
  const all = repositoryImages();
  it('covers the repository images', () => {
    expect(all.length).toBeGreaterThanOrEqual(40);
  });
  it.each(all.map((i) => [i.name, i] as const))(
    '%s: the scan through a tiny block cache is the scan without one',
    async (_name, { path, devices }) => {
      for (const hash of [false, true]) {
        const copied = await scanText(path, devices, false, hash);
        const inPlace = await scanText(path, devices, { blockSize: 512, maxBytes: 16 * 512 }, hash);
        expect(copied).not.toMatch(/^error/);
        expect(inPlace).toBe(copied);
      }
    },
    120_000,
  );
});
