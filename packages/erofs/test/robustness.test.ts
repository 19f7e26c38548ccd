/**
 * Corrupted images fail cleanly: deterministic byte mutations of a small uncompressed
 * image (no superblock checksum, so every mutation reaches the decoders) must give
 * either a successful scan or an ErofsError - never a TypeError/RangeError, hang or
 * unbounded allocation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErofsError } from '../src/errors.js';
import { openImage } from '../src/image.js';
import { scanManifest } from '../src/manifest.js';
import { nodeSha256 } from '../src/node.js';
import { memorySource } from '../src/source/memory.js';

const DIR = join(import.meta.dirname, '../../../testdata/erofs');

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    s = (s ^ (s >>> 12)) >>> 0;
    return s / 2 ** 32;
  };
}

async function scanOutcome(bytes: Uint8Array): Promise<'ok' | string> {
  try {
    const img = await openImage(memorySource(bytes), {
      limits: {
        maxReadFileSize: 1 << 24,
        maxContentSize: 1 << 26,
        maxDirEntries: 50_000,
        maxInodesWalked: 50_000,
      },
    });
    await scanManifest(img, { imageName: 'x', imageSize: bytes.length, hash: true, hasher: nodeSha256 });
    return 'ok';
  } catch (e) {
    if (e instanceof ErofsError) return e.code;
    throw e;
  }
}

describe('mutated images', () => {
  const base = new Uint8Array(readFileSync(join(DIR, 'edge-mini.nosbcrc.img')));
  // Metadata lives in the first blocks (superblock, inodes, inline dirents, xattrs).
  const metaEnd = 16 * 4096;

  it('byte mutations in the metadata area', async () => {
    const r = rng(12345);
    const codes = new Map<string, number>();
    for (let i = 0; i < 150; i++) {
      const img = base.slice();
      const n = 1 + Math.floor(r() * 4);
      for (let k = 0; k < n; k++) img[1024 + Math.floor(r() * (metaEnd - 1024))] = Math.floor(r() * 256);
      const out = await scanOutcome(img);
      codes.set(out, (codes.get(out) ?? 0) + 1);
    }
    expect([...codes.keys()].every((c) => /^(ok|E[A-Z_]+)$/.test(c))).toBe(true);
  });

  it('targeted mutations of inodes, xattr areas and directory blocks', async () => {
    // Hot spots: every inode (and what follows it) and every directory's dirent bytes.
    const img0 = await openImage(memorySource(base));
    const hot: [number, number][] = [];
    for (const rec of JSON.parse(readFileSync(join(DIR, 'edge-mini.nosbcrc.expected.json'), 'utf8'))
      .files as { path: string; nid: number; type: string; inode_size: number; xattr_isize: number }[]) {
      hot.push([rec.nid * 32, rec.inode_size + rec.xattr_isize]);
      if (rec.type === 'dir')
        for (const e of (await img0.layoutOf(rec.path)).extents)
          if (e.physicalAddr !== null) hot.push([e.physicalAddr, Math.min(e.logicalLength, 512)]);
    }
    const r = rng(777);
    const codes = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const img = base.slice();
      const [off, len] = hot[Math.floor(r() * hot.length)]!;
      img[off + Math.floor(r() * len)] = r() < 0.3 ? 0xff : Math.floor(r() * 256);
      const out = await scanOutcome(img);
      codes.set(out, (codes.get(out) ?? 0) + 1);
    }
    expect([...codes.keys()].every((c) => /^(ok|E[A-Z_]+)$/.test(c))).toBe(true);
    // most targeted mutations are detected
    expect(codes.get('ok') ?? 0).toBeLessThan(300);
  });

  it('mutations of a compressed image (lz4hc) also fail cleanly', async () => {
    const z = new Uint8Array(readFileSync(join(DIR, 'edge-mini.mkfs15.lz4hc.img')));
    const r = rng(4242);
    for (let i = 0; i < 80; i++) {
      const img = z.slice();
      for (let k = 0; k < 3; k++) img[1024 + Math.floor(r() * (z.length - 1024))] = Math.floor(r() * 256);
      expect(await scanOutcome(img)).toMatch(/^(ok|E[A-Z_]+)$/);
    }
  });

  it('truncations at many lengths', async () => {
    for (let len = 0; len < base.length; len += 37_813) {
      const out = await scanOutcome(base.slice(0, len));
      expect(out).toMatch(/^(ok|E[A-Z_]+)$/);
    }
  });
});
