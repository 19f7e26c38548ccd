import { describe, expect, it } from 'vitest';
import { TestImage, loadOracle, sha256 } from './compressed-harness.js';

const IMAGES = [
  'edge.lz4',
  'edge-mini.mkfs15.lz4hc',
  'app.fp.lz4hc',
  'base-v1.fp.lz4hc',
  'base-v2.fp.lz4hc',
  'edge.lzma.frag-dedupe-ztail',
  'edge.deflate',
  'edge.zstd.fp',
];

describe.each(IMAGES)('compressed fixture %s', (name) => {
  const oracle = loadOracle(name);
  const files = oracle.files.filter((f) => f.type === 'file' && f.layout.startsWith('compressed'));
  const img = TestImage.load(name);

  it('has compressed files', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files.map((f) => [f.path, f] as const))('%s matches sha256', async (_p, f) => {
    const file = await img.open(f.nid);
    expect(file.size).toBe(f.size);
    const data = await file.read(0, f.size);
    expect(sha256(data)).toBe(f.sha256);
    // extents cover [0, size) contiguously
    let at = 0;
    for (const e of await file.extents()) {
      expect(e.logicalStart).toBe(at);
      at += e.logicalLength;
    }
    expect(at).toBe(f.size);
  });
});

describe('pcluster cache', () => {
  it('sequential small reads decode each pcluster once', async () => {
    const img = TestImage.load('edge.lz4');
    const f0 = await img.open(5603); // /text.txt
    const extents = await f0.extents();
    let reads = 0;
    const f = await img.open(5603, {
      readMain: (o, n) => {
        reads++;
        return img.readMain(o, n);
      },
    });
    reads = 0;
    const parts: Uint8Array[] = [];
    for (let at = 0; at < f.size; at += 1000) parts.push(await f.read(at, 1000));
    expect(reads).toBe(extents.length);
    expect(sha256(Buffer.concat(parts))).toBe(sha256(await f0.read(0, f0.size)));
  });
});

describe('extent tables from one reused lcluster table', () => {
  // zmap.ts decodes every file's index into one table per thread and clears nothing between
  // files: each file's extents must not depend on the files decoded before it. Largest first,
  // so that the table holds a larger file's entries past each smaller file's end.
  it.each(IMAGES)('%s: every file the same after any other', async (name) => {
    const oracle = loadOracle(name);
    const files = oracle.files
      .filter((f) => f.type === 'file' && f.layout.startsWith('compressed'))
      .sort((a, b) => b.size - a.size);
    const img = TestImage.load(name);
    const alone = new Map<number, unknown>();
    for (const f of files) {
      // after the largest file (or itself): the table then holds its entries
      await (await img.open(files[0]!.nid)).extents();
      alone.set(f.nid, await (await img.open(f.nid)).extents());
    }
    for (const order of [files, [...files].reverse()])
      for (const f of order) expect(await (await img.open(f.nid)).extents()).toEqual(alone.get(f.nid));
  });
});
