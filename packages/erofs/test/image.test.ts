/** The fs-like API, devices, hard links, symlinks, xattrs, streaming, layouts, walk limits. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErofsError } from '../src/errors.js';
import { openImage, type ErofsImage } from '../src/image.js';
import { openImageFile, scanImageFile } from '../src/node.js';
import { memorySource } from '../src/source/memory.js';
import { walk } from '../src/walk.js';
import type { FileRecord } from '../src/manifest-types.js';

const DIR = join(import.meta.dirname, '../../../testdata/erofs');
const bytes = (n: string) => new Uint8Array(readFileSync(join(DIR, n)));
const oracle = (n: string) =>
  JSON.parse(readFileSync(join(DIR, n.replace(/\.img$/, '.expected.json')), 'utf8')) as {
    files: FileRecord[];
  };
const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

async function collect(
  it: AsyncIterable<Uint8Array>,
): Promise<{ data: Uint8Array; maxChunk: number; chunks: number }> {
  const parts: Uint8Array[] = [];
  let maxChunk = 0;
  for await (const c of it) {
    parts.push(c);
    maxChunk = Math.max(maxChunk, c.length);
  }
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { data, maxChunk, chunks: parts.length };
}

describe('edge.img through the fs-like API', async () => {
  const img = await openImage(memorySource(bytes('edge.img')));
  const files = oracle('edge.img').files;
  const byPath = new Map(files.map((f) => [f.path, f]));

  it('readdir lists names without "." and ".."; withFileTypes carries nid and type', async () => {
    const names = await img.readdir('/links');
    expect(names).toEqual(files.filter((f) => f.path.startsWith('/links/')).map((f) => f.path.slice(7)));
    const ents = await img.readdir('/dev', { withFileTypes: true });
    for (const e of ents) {
      const rec = byPath.get(`/dev/${e.name}`)!;
      expect(e.nid).toBe(rec.nid);
      expect(e.type).toBe(rec.type);
    }
    await expect(img.readdir('/one')).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(img.readdir('/nope')).rejects.toMatchObject({ code: 'ENOENT', path: '/nope' });
  });

  it('a 3000-entry multi-block directory is complete and sorted', async () => {
    const names = await img.readdir('/manydir');
    expect(names.length).toBe(files.filter((f) => /^\/manydir\/[^/]+$/.test(f.path)).length);
    expect(names.length).toBeGreaterThanOrEqual(3000);
  });

  it('hard links share a nid; stat/lstat/readlink follow the right way', async () => {
    const a = await img.stat('/links/hl_a');
    const b = await img.stat('/links/hl_b');
    const c = await img.stat('/hl_c_toplevel');
    expect(a.nid).toBe(b.nid);
    expect(a.nid).toBe(c.nid);
    expect(a.nlink).toBe(3);
    expect((await img.lstat('/links/sl_short')).isSymbolicLink()).toBe(true);
    expect(await img.readlink('/links/sl_short')).toBe('../one');
    expect((await img.stat('/links/sl_short')).nid).toBe(byPath.get('/one')!.nid);
    await expect(img.stat('/links/sl_dangling')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(img.readlink('/one')).rejects.toMatchObject({ code: 'EINVAL' });
    expect(await img.readlink('/links/sl_verylong')).toBe(byPath.get('/links/sl_verylong')!.target);
    // lexical ".." and "." handling and relative paths
    expect((await img.stat('links/../one')).nid).toBe(byPath.get('/one')!.nid);
    expect((await img.stat('/./links/./hl_a')).nid).toBe(a.nid);
  });

  it('stat fields match the oracle (compact and extended inodes, devices)', async () => {
    for (const p of ['/', '/one', '/owners/huge', '/dev/bigdev', '/dev/sda', '/dev/fifo', '/dev/sock']) {
      const s = await img.lstat(p);
      const r = byPath.get(p)!;
      expect({
        nid: s.nid,
        type: s.type,
        uid: s.uid,
        gid: s.gid,
        size: s.size,
        nlink: s.nlink,
        mtime: s.mtime,
        mode: (s.mode & 0o7777).toString(8).padStart(4, '0'),
      }).toEqual({
        nid: r.nid,
        type: r.type,
        uid: r.uid,
        gid: r.gid,
        size: r.size,
        nlink: r.nlink,
        mtime: r.mtime,
        mode: r.mode,
      });
      expect(s.rdev).toEqual(r.rdev ?? null);
    }
  });

  it('getxattr / listxattr (inline and shared), ENODATA for absent names', async () => {
    const r = byPath.get('/xattr/shared/s1')!;
    expect(await img.listxattr('/xattr/shared/s1')).toEqual(expect.arrayContaining(Object.keys(r.xattrs)));
    for (const [n, v] of Object.entries(r.xattrs))
      expect(Buffer.from(await img.getxattr('/xattr/shared/s1', n)).toString('hex')).toBe(v);
    await expect(img.getxattr('/xattr/shared/s1', 'user.absent')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(img.getxattr('/one', 'user.x')).rejects.toMatchObject({ code: 'ENODATA' });
    const acl = byPath.get('/xattr/acl-file')!;
    expect(
      Buffer.from(await img.getxattr('/xattr/acl-file', 'system.posix_acl_access')).toString('hex'),
    ).toBe(acl.xattrs['system.posix_acl_access']);
  });

  it('readFile and createReadStream (bounded chunks) agree with the oracle sha256', async () => {
    for (const p of ['/one', '/exact4096', '/b16385', '/sparse.bin', '/empty', '/big/big.bin']) {
      const r = byPath.get(p);
      if (!r) continue;
      const { data, maxChunk } = await collect(img.createReadStream(p, { chunkSize: 5000 }));
      expect(sha(data), p).toBe(r.sha256);
      expect(maxChunk).toBeLessThanOrEqual(5000);
      if (r.size < 1 << 20) expect(sha(await img.readFile(p))).toBe(r.sha256);
    }
    const part = await collect(img.createReadStream('/b16385', { start: 4000, end: 4099 }));
    expect(part.data).toEqual((await img.readFile('/b16385')).subarray(4000, 4100));
    await expect(img.readFile('/links')).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('layoutOf reports inline tails, plain blocks and holes', async () => {
    const l = await img.layoutOf('/b16385');
    expect(l.layout).toBe('flat_inline');
    expect(l.extents.map((e) => e.kind)).toEqual(['data', 'inline']);
    expect(l.extents.reduce((n, e) => n + e.logicalLength, 0)).toBe(16385);
    const s = await img.layoutOf('/b4095');
    expect(s.extents).toHaveLength(1);
    expect(s.extents[0]!.physicalAddr! % 4096).toBe(0);
  });

  it('inode(nid) and superblock inspection', async () => {
    const nid = byPath.get('/owners/huge')!.nid;
    // nids up to Number.MAX_SAFE_INTEGER are JSON numbers in the manifest (docs/format.md#nid)
    assert(typeof nid === 'number');
    const i = await img.inode(nid);
    expect(i.extended).toBe(true);
    expect(i.uid).toBe(4000000000);
    expect(img.superblock.blockSize).toBe(4096);
    expect(img.superblock.checksumVerified).toBe(true);
  });

  it('limits: readFile size, walk depth and entry count, dir entries', async () => {
    const small = await openImage(memorySource(bytes('edge.img')), {
      limits: { maxReadFileSize: 100, maxPathDepth: 5 },
    });
    await expect(small.readFile('/b16385')).rejects.toMatchObject({ code: 'ELIMIT' });
    const walkAll = async (i: ErofsImage) => {
      for await (const _ of walk(i)) void _;
    };
    await expect(walkAll(small)).rejects.toMatchObject({ code: 'ELIMIT' });
    const few = await openImage(memorySource(bytes('edge.img')), { limits: { maxInodesWalked: 10 } });
    await expect(walkAll(few)).rejects.toThrow(/more than 10 entries/);
    const dirs = await openImage(memorySource(bytes('edge.img')), { limits: { maxDirEntries: 100 } });
    await expect(dirs.readdir('/manydir')).rejects.toMatchObject({ code: 'ELIMIT' });
    const content = await openImage(memorySource(bytes('edge.img')), { limits: { maxContentSize: 200_000 } });
    await expect(collect(content.createReadStream('/sparse.bin'))).rejects.toMatchObject({ code: 'ELIMIT' });
    expect((await content.readFile('/b16385')).length).toBe(16385);
  });
});

describe('I/O pattern', () => {
  it('a metadata scan of edge.img (3105 paths) issues a handful of large reads through the cache', async () => {
    const raw = memorySource(bytes('edge.img'));
    const calls: number[] = [];
    const img = await openImage({ size: raw.size, read: (o, l) => (calls.push(l), raw.read(o, l)) });
    let n = 0;
    for await (const e of walk(img)) {
      await img.xattrsOf(e.inode);
      n++;
    }
    expect(n).toBe(3105);
    expect(calls.length).toBeLessThanOrEqual(16);
  });
});

describe('devices', () => {
  it('--tar=i: file data read from the tar given as device 1', async () => {
    const { image, close } = await openImageFile(join(DIR, 'edge-mini.tar-i.img'), {
      devices: [join(DIR, 'edge-mini.tar-i.tar')],
    });
    try {
      const r = oracle('edge-mini.tar-i.img').files.find((f) => f.path === '/text.txt')!;
      expect(sha(await image.readFile('/text.txt'))).toBe(r.sha256);
      const l = await image.layoutOf('/text.txt');
      expect(l.layout).toBe('chunk_based');
      expect(new Set(l.extents.map((e) => e.device))).toEqual(new Set([1]));
    } finally {
      await close();
    }
  });

  it('a wrong number of devices is refused; without devices chunk reads fail cleanly', async () => {
    const blob = memorySource(bytes('edge-mini.chunk4k.blob.blob'));
    await expect(
      openImage(memorySource(bytes('edge-mini.chunk4k.blob.img')), { devices: [blob, blob] }),
    ).rejects.toMatchObject({ code: 'EINVAL_SUPERBLOCK' });
    const flat = await openImage(memorySource(bytes('edge-mini.chunk4k.blob.img')));
    await expect(flat.readFile('/b16385')).rejects.toBeInstanceOf(ErofsError);
    const ok = await openImage(memorySource(bytes('edge-mini.chunk4k.blob.img')), { devices: [blob] });
    const r = oracle('edge-mini.chunk4k.blob.img').files.find((f) => f.path === '/b16385')!;
    expect(sha(await ok.readFile('/b16385'))).toBe(r.sha256);
  });

  it('a read past the end of a truncated device names the device, the inode and the offset once', async () => {
    const blob = memorySource(bytes('edge-mini.chunk4k.blob.blob').subarray(0, 4096));
    const image = await openImage(memorySource(bytes('edge-mini.chunk4k.blob.img')), { devices: [blob] });
    const e = await image.readFile('/b16385').then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ErofsError);
    // The source's own "@ offset 0" is not repeated: the device read's offset is the same.
    expect((e as ErofsError).message).toBe(
      'EIO: read of 16384 bytes past the end of memory source (size 4096) (device 1) @ nid 57, offset 0',
    );
    expect((e as ErofsError).detail).toBe(
      'read of 16384 bytes past the end of memory source (size 4096) (device 1)',
    );
  });

  it('an image shorter than its superblock says is called truncated at open, naming no device', async () => {
    // checkNotTruncated (disk/superblock.ts) refuses it before any walk could read past its end.
    const e = await scanImageFile(join(DIR, 'broken/truncated-half.img'), { hash: true }).then(
      () => null,
      (x: unknown) => x,
    );
    expect((e as ErofsError).message).toBe(
      'EIO: truncated image: the superblock counts 54 blocks of 4096 bytes (221184 bytes), the file has 110592 @ offset 110592',
    );
  });
});

describe('ErofsError', () => {
  it('withPath keeps the whole detail (even one with " @ " in it) and adds the path to the location', () => {
    const e = new ErofsError('ECORRUPT', 'xattr name "a @ b" too long', { nid: 69, offset: 2260 });
    expect(e.message).toBe('ECORRUPT: xattr name "a @ b" too long @ nid 69, offset 2260');
    const p = e.withPath('/etc/x');
    expect(p.message).toBe('ECORRUPT: xattr name "a @ b" too long @ path "/etc/x", nid 69, offset 2260');
    expect([p.code, p.detail, p.nid, p.offset, p.path]).toEqual([
      'ECORRUPT',
      'xattr name "a @ b" too long',
      69,
      2260,
      '/etc/x',
    ]);
  });
});

describe('fingerprints', () => {
  it('hidden default name is not listed; trusted name is listed and is the fingerprint', async () => {
    const fp = await openImage(memorySource(bytes('app.fp.img')));
    expect(fp.fingerprintXattrName).toBe('erofs.fingerprint.v1');
    const f = oracle('app.fp.img').files.find((x) => x.fingerprint)!;
    expect(await fp.listxattr(f.path)).not.toContain('erofs.fingerprint.v1');
    // getxattr by the exact internal name still works (as inside the kernel)
    expect(Buffer.from(await fp.getxattr(f.path, 'erofs.fingerprint.v1')).toString('hex')).toBe(
      f.fingerprint,
    );
    const tr = await openImage(memorySource(bytes('edge-mini.fp-trusted.img')));
    expect(tr.fingerprintXattrName).toBe('trusted.erofs.fingerprint');
    expect(await tr.listxattr('/b16385')).toContain('trusted.erofs.fingerprint');
  });
});

describe('walk robustness', () => {
  it('a directory entry pointing back to the root is a cycle (ECORRUPT), not a hang', async () => {
    const raw = bytes('edge-mini.nosbcrc.img');
    const img = await openImage(memorySource(raw));
    const deep = await img.lstat('/deep');
    const ents = await img.dirents(await img.inode(deep.nid));
    const idx = ents.findIndex((e) => e.name.length > 2 || e.name[0] !== 0x2e);
    const lay = await img.layoutOf('/deep');
    const base = lay.extents.at(-1)!.physicalAddr!;
    const dv = new DataView(raw.buffer, raw.byteOffset);
    dv.setUint32(base + idx * 12, img.root.nid, true);
    dv.setUint32(base + idx * 12 + 4, 0, true);
    const bad = await openImage(memorySource(raw));
    const walkAll = async () => {
      for await (const _ of walk(bad)) void _;
    };
    await expect(walkAll()).rejects.toMatchObject({ code: 'ECORRUPT' });
    await expect(walkAll()).rejects.toThrow(/cycle|\.\./);
  });
});
