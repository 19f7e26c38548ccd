/**
 * Every fixture oracle (testdata/erofs/*.expected.json): superblock fields and every field
 * of every file record, metadata-only and (where content can be read) with hashes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openImage } from '../src/image.js';
import { scanManifest } from '../src/manifest.js';
import { nodeSha256, scanImageFile, openImageFile } from '../src/node.js';
import type { ByteSource } from '../src/source/types.js';
import type { FileRecord } from '../src/manifest-types.js';
import { memorySource } from '../src/source/memory.js';

const DIR = join(import.meta.dirname, '../../../testdata/erofs');

interface Oracle {
  image: string;
  devices?: string[];
  image_size: number;
  superblock: {
    block_size: number;
    blocks: number;
    meta_blkaddr: number;
    xattr_blkaddr: number;
    root_nid: number;
    packed_nid?: number;
    inodes: number;
    sb_size: number;
    feature_compat: string[];
    feature_incompat: string[];
    uuid: string;
    created: string;
    ishare: boolean;
    fingerprint_xattr_name: string | null;
    required_kernel?: string;
  };
  files: FileRecord[];
}

const oracles = readdirSync(DIR)
  .filter((f) => f.endsWith('.expected.json'))
  .sort()
  .map((f) => ({ file: f, oracle: JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Oracle }));

const isCompressed = (f: FileRecord) => f.layout.startsWith('compressed');

function withoutHash(r: FileRecord): FileRecord {
  const { sha256: _s, ...rest } = r;
  return rest as FileRecord;
}

describe.each(oracles)('oracle $file', ({ oracle }) => {
  const img = join(DIR, oracle.image);
  const devices = (oracle.devices ?? []).map((d) => join(DIR, d));

  it('superblock matches', async () => {
    const m = await scanImageFile(img, { devices });
    const s = oracle.superblock;
    const got = m.superblock;
    expect(got.block_size).toBe(s.block_size);
    expect(got.blocks).toBe(s.blocks);
    expect(got.meta_blkaddr).toBe(s.meta_blkaddr);
    expect(got.xattr_blkaddr).toBe(s.xattr_blkaddr);
    expect(got.root_nid).toBe(s.root_nid);
    expect(got.packed_nid).toBe(s.packed_nid);
    expect(got.inodes).toBe(s.inodes);
    expect(got.sb_size).toBe(s.sb_size);
    expect(got.feature_compat).toEqual(s.feature_compat);
    expect(got.feature_incompat).toEqual(s.feature_incompat);
    expect(got.uuid).toBe(s.uuid);
    expect(got.ishare).toBe(s.ishare);
    expect(got.fingerprint_xattr_name).toBe(s.fingerprint_xattr_name);
    expect(got.required_kernel).toBe(s.required_kernel ?? null);
    expect(got.build_time).toBe(Date.parse(`${s.created} UTC`) / 1000);
    expect(got.devices.length).toBe(devices.length);
    expect(m.image.size).toBe(oracle.image_size);
  });

  it('every file record matches (metadata scan)', async () => {
    const m = await scanImageFile(img, { devices });
    expect(m.files.map((f) => f.path)).toEqual(oracle.files.map((f) => f.path));
    const want = oracle.files.map(withoutHash);
    for (let i = 0; i < want.length; i++) {
      expect(m.files[i], want[i]!.path).toEqual(want[i]);
      // byte-for-byte: same field order and encoding as the oracle
      expect(JSON.stringify(m.files[i])).toBe(JSON.stringify(want[i]));
    }
  });

  it('every sha256 matches (hash scan)', async () => {
    const m = await scanImageFile(img, { devices, hash: true });
    for (let i = 0; i < oracle.files.length; i++) {
      expect(m.files[i]!.sha256, oracle.files[i]!.path).toBe(oracle.files[i]!.sha256);
    }
  });

  it('an asynchronous-only source (as a browser Blob) gives the same hashed manifest as a file', async () => {
    // No readInto: the async block cache, inode cache and awaited walk, as in a browser.
    const asyncOnly = (path: string): ByteSource => {
      const mem = memorySource(readFileSync(path));
      return { size: mem.size, read: (o, l) => mem.read(o, l) };
    };
    const image = await openImage(asyncOnly(img), { devices: devices.map(asyncOnly) });
    const viaAsync = await scanManifest(image, {
      imageName: oracle.image,
      imageSize: image.source.size,
      hash: true,
      hasher: nodeSha256,
    });
    const viaFile = await scanImageFile(img, { devices, hash: true });
    expect(JSON.stringify(viaAsync)).toBe(JSON.stringify(viaFile));
  });

  it('readFile agrees with the hashed content of a few files', async () => {
    const { image, close } = await openImageFile(img, { devices });
    try {
      const files = oracle.files
        .filter((f) => f.type === 'file')
        // Compressed files first: a compressed image's reads go through the decompressors.
        .sort((a, b) => Number(isCompressed(b)) - Number(isCompressed(a)))
        .slice(0, 5);
      const { createHash } = await import('node:crypto');
      for (const f of files) {
        const data = await image.readFile(f.path);
        expect(data.length).toBe(f.size);
        expect(createHash('sha256').update(data).digest('hex')).toBe(f.sha256);
      }
    } finally {
      await close();
    }
  });
});
