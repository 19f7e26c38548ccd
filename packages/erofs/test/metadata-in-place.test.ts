/**
 * Metadata read in place (docs/reader.md#metadata-in-place): inodes and inline xattr areas
 * decoded where the block cache holds them give the scan the reader gives without a cache
 * (every read a copy). A tiny cache of 512-byte blocks puts many inodes and xattr areas across
 * two blocks (the copying fallback) and evicts blocks while the walk goes on.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestToNdjson, scanManifest } from '../src/manifest.js';
import { nodeSha256, openImageFile } from '../src/node.js';

const ROOT = join(import.meta.dirname, '../../../testdata');

function images(): { name: string; path: string; devices: string[] }[] {
  const out: { name: string; path: string; devices: string[] }[] = [];
  for (const sub of ['erofs', 'erofs/synthetic', 'erofs/metabox', 'oci']) {
    const dir = join(ROOT, sub);
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.img')) continue;
      let devices: string[] = [];
      try {
        const o = JSON.parse(readFileSync(join(dir, f.replace(/\.img$/, '.expected.json')), 'utf8')) as {
          devices?: string[];
        };
        devices = (o.devices ?? []).map((d) => join(dir, d));
      } catch {
        // no oracle: no extra devices
      }
      out.push({ name: `${sub}/${f}`, path: join(dir, f), devices });
    }
  }
  return out;
}

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
  const all = images();
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
