/**
 * One test per tar / layer case the prediction must handle (docs/oci.md#how-layers-are-applied-flattening): whiteouts, opaque
 * directories, hard links across layers, file -> dir -> file, long names (PAX and GNU),
 * non-UTF-8 names, sparse members, huge sizes, and the hostile inputs (escapes, tar bombs,
 * truncation) that must fail with a typed error and no result.
 */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '@sharemap/erofs';
import {
  FLAT_BUILD,
  LAYER_BUILD,
  flattenLayers,
  predictTar,
  readLayer,
  readTar,
  resolveOciLimits,
  treeToManifest,
  type BuildOptions,
  type OciLimits,
} from '../src/index.js';
import { bytesChunks, hasher } from './helpers.js';
import { concat, gnuLong, member, pax, tar } from './tar-writer.js';

const limits = resolveOciLimits();
const layer = (t: Uint8Array, l: Partial<OciLimits> = {}) =>
  readLayer(bytesChunks(t, 777), { hasher, limits: { ...limits, ...l } });
const build = (t: Uint8Array, b: BuildOptions = FLAT_BUILD) =>
  predictTar(bytesChunks(t, 777), { hasher, build: b, imageName: 't', imageSize: t.length, hash: true });
async function flat(...tars: Uint8Array[]): Promise<Manifest> {
  const layers = [];
  for (const t of tars) layers.push(await layer(t));
  return treeToManifest(flattenLayers(layers), {
    build: FLAT_BUILD,
    imageName: 'flat',
    imageSize: 0,
    hash: true,
    source: 'test',
  });
}
const rec = (m: Manifest, p: string) => m.files.find((f) => f.path === p);
const paths = (m: Manifest) => m.files.map((f) => f.path);
const dir = (name: string, mode = 0o755) => member({ name, type: '5', mode });
const file = (name: string, data: string, extra = {}) => member({ name, data, ...extra });

describe('whiteouts and opaque directories', () => {
  const lower = tar(
    dir('etc/'),
    file('etc/a', 'A'),
    file('etc/b', 'B'),
    dir('opt/'),
    dir('opt/d/'),
    file('opt/d/x', 'X'),
    file('opt/d/y', 'Y'),
  );
  const upper = tar(
    file('etc/.wh.a', ''),
    dir('opt/d/'),
    file('opt/d/.wh..wh..opq', ''),
    file('opt/d/new', 'N'),
  );

  it('flattening: .wh.NAME deletes NAME of lower layers, .wh..wh..opq hides the lower directory content', async () => {
    const m = await flat(lower, upper);
    expect(paths(m)).toEqual(['/', '/etc', '/etc/b', '/opt', '/opt/d', '/opt/d/new']);
  });

  it('a whiteout never hides an entry of its own layer', async () => {
    const m = await flat(
      tar(file('k', '1')),
      tar(
        file('k2', 'same layer'),
        file('.wh.k2', ''),
        dir('d/'),
        file('d/keep', 'K'),
        file('d/.wh..wh..opq', ''),
      ),
    );
    expect(paths(m)).toEqual(['/', '/d', '/d/keep', '/k', '/k2']);
  });

  it('per layer (--aufs): whiteouts become chr 0:0 mode 0000, their directory gets trusted.overlay.origin, opaque -> trusted.overlay.opaque=y', async () => {
    const m = await build(upper, LAYER_BUILD);
    expect(rec(m, '/etc/a')).toMatchObject({ type: 'chr', mode: '0000', rdev: [0, 0], fingerprint: null });
    expect(rec(m, '/etc')!.xattrs).toEqual({ 'trusted.overlay.origin': '' });
    expect(rec(m, '/opt/d')!.xattrs).toEqual({ 'trusted.overlay.opaque': '79' });
    expect(paths(m).some((p) => p.includes('.wh.'))).toBe(false);
  });

  it('without --aufs, .wh.* members stay ordinary empty files (rule 16)', async () => {
    const m = await build(upper, FLAT_BUILD);
    expect(rec(m, '/etc/.wh.a')).toMatchObject({ type: 'file', size: 0, fingerprint: null });
    expect(rec(m, '/opt/d/.wh..wh..opq')).toMatchObject({ type: 'file' });
  });
});

describe('hard links', () => {
  it('across layers: flattening links the upper name to the lower inode', async () => {
    const m = await flat(tar(file('a', 'shared data')), tar(member({ name: 'b', type: '1', linkname: 'a' })));
    expect(rec(m, '/a')!.nid).toBe(rec(m, '/b')!.nid);
    expect(rec(m, '/a')!.nlink).toBe(2);
    expect(rec(m, '/b')!.fingerprint).toBe(rec(m, '/a')!.fingerprint);
  });

  it('across layers: the upper layer alone cannot be built (mkfs.erofs fails: the target is not in its tar)', async () => {
    await expect(build(tar(member({ name: 'b', type: '1', linkname: 'a' })), LAYER_BUILD)).rejects.toThrow(
      /EMKFS: hard link to "\/a", which is not in the tar before it/,
    );
  });

  it('a deleted name leaves a plain nlink-1 file; a link to a directory fails (EISDIR)', async () => {
    const m = await flat(
      tar(file('a', 'x'), member({ name: 'b', type: '1', linkname: 'a' })),
      tar(file('.wh.a', '')),
    );
    expect(rec(m, '/b')).toMatchObject({ type: 'file', nlink: 1 });
    await expect(build(tar(dir('d/'), member({ name: 'l', type: '1', linkname: 'd' })))).rejects.toThrow(
      /EISDIR/,
    );
  });
});

describe('file -> directory -> file', () => {
  it('each layer replaces the whole lower path', async () => {
    const l1 = tar(file('x', 'file one'));
    const l2 = tar(dir('x/'), file('x/inside', 'in dir'));
    const l3 = tar(file('x', 'file three'));
    const m2 = await flat(l1, l2);
    expect(rec(m2, '/x')!.type).toBe('dir');
    expect(paths(m2)).toContain('/x/inside');
    const m3 = await flat(l1, l2, l3);
    expect(rec(m3, '/x')).toMatchObject({ type: 'file', size: 10 });
    expect(paths(m3)).not.toContain('/x/inside');
  });

  it('within one tar a later member replaces an earlier one; a file in the way of a path fails like mkfs (ENOTDIR)', async () => {
    const m = await build(tar(dir('d/'), file('d/f', 'old'), file('d', 'now a file')));
    expect(paths(m)).toEqual(['/', '/d']);
    await expect(build(tar(file('f', '1'), file('f/g', '2')))).rejects.toThrow(/ENOTDIR/);
  });
});

describe('names', () => {
  const long = 'dir-' + 'n'.repeat(120) + '/' + 'f'.repeat(200);
  it('long names: PAX path, GNU L (name) and K (link name), ustar prefix all give the full path', async () => {
    const t = tar(
      pax([['path', long]], { name: 'short-pax', data: 'p' }),
      [...gnuLong('L', long + '-gnu'), ...member({ name: 'truncated-gnu', data: 'g', magic: 'gnu' })],
      [
        ...gnuLong('K', '/' + 'l'.repeat(150)),
        ...gnuLong('L', 'link-' + 'k'.repeat(110)),
        ...member({ name: 'x', type: '2', linkname: 'trunc', magic: 'gnu' }),
      ],
      member({ name: 'f'.repeat(100), data: 'u', raw: [[345, new TextEncoder().encode('prefix-dir')]] }),
    );
    const m = await build(t);
    expect(rec(m, '/' + long)!.size).toBe(1);
    expect(rec(m, '/' + long + '-gnu')!.size).toBe(1);
    expect(rec(m, '/link-' + 'k'.repeat(110))).toMatchObject({
      type: 'symlink',
      target: '/' + 'l'.repeat(150),
      size: 151,
    });
    expect(rec(m, '/prefix-dir/' + 'f'.repeat(100))!.size).toBe(1);
  });

  it('non-UTF-8 names are bytes: shown with U+FFFD, sorted and counted by their bytes', async () => {
    const latin1 = new Uint8Array([...new TextEncoder().encode('caf'), 0xe9]);
    const m = await build(
      tar(member({ name: latin1, data: 'latin1' }), member({ name: 'café', data: 'utf8' })),
    );
    // By bytes "caf\xc3\xa9" < "caf\xe9", whatever their display forms.
    expect(paths(m)).toEqual(['/', '/café', '/caf\ufffd']);
    expect(rec(m, '/')!.size).toBe(12 * 4 + 1 + 2 + 4 + 5); // dirents: ".", "..", 4-byte and 5-byte names
  });
});

describe('sparse and huge members', () => {
  it('a GNU sparse member (typeflag S) is skipped, as mkfs.erofs does', async () => {
    const m = await build(
      tar(member({ name: 'sparse', type: 'S', data: 'stored bytes' }), file('after', 'ok')),
    );
    expect(paths(m)).toEqual(['/', '/after']);
  });

  it('a PAX-format sparse file becomes a regular file at its literal GNUSparseFile.N/ name', async () => {
    const t = tar(
      pax(
        [
          ['GNU.sparse.major', '1'],
          ['GNU.sparse.minor', '0'],
          ['GNU.sparse.name', 'big'],
          ['GNU.sparse.realsize', '1048576'],
        ],
        { name: 'GNUSparseFile.42/big', data: '1\n0\n5\nhello' },
      ),
    );
    const m = await build(t);
    expect(rec(m, '/GNUSparseFile.42/big')).toMatchObject({ type: 'file', size: 11 });
    expect(rec(m, '/big')).toBeUndefined();
  });

  it('a PAX size above 8 GiB is read exactly (header only: the data is then missing)', async () => {
    const size = 9 * 2 ** 30 + 7;
    const t = concat(pax([['size', String(size)]], { name: 'huge.img', size: 0 }));
    const it = readTar(bytesChunks(t), limits)[Symbol.asyncIterator]();
    const e = (await it.next()).value!;
    expect(e.size).toBe(size);
    await expect(it.next()).rejects.toThrow(/ETRUNCATED: archive ends inside the data of a member/);
  });

  it('GNU base-256 numbers (size, uid) are read', async () => {
    const t = concat(
      member({
        name: 'b256',
        size: 8 ** 11 + 1,
        uid: 0,
        raw: [[108, new Uint8Array([0x80, 0, 0, 0, 0, 0x0f, 0x42, 0x40])]],
      }),
    );
    const e = (await readTar(bytesChunks(t), limits)[Symbol.asyncIterator]().next()).value!;
    expect(e.size).toBe(8 ** 11 + 1);
    expect(e.uid).toBe(1000000);
  });
});

describe('hostile tars fail with a typed error', () => {
  it('a member path, hard link or symlink climbing above the root: EESCAPE', async () => {
    await expect(build(tar(file('../../etc/evil', 'x')))).rejects.toThrow(
      /EESCAPE: member path climbs above the root/,
    );
    await expect(
      build(tar(file('a', 'x'), member({ name: 'l', type: '1', linkname: '../a' }))),
    ).rejects.toThrow(/EESCAPE: hard link target "..\/a"/);
    await expect(
      build(tar(dir('usr/'), member({ name: 'usr/s', type: '2', linkname: '../../etc/shadow' }))),
    ).rejects.toThrow(/EESCAPE: symlink target/);
    // Inside the root, relative and absolute targets are fine (also dangling ones).
    const m = await build(
      tar(
        dir('usr/'),
        member({ name: 'usr/s', type: '2', linkname: '../etc/x' }),
        member({ name: 'abs', type: '2', linkname: '/usr/none' }),
      ),
    );
    expect(rec(m, '/usr/s')!.target).toBe('../etc/x');
  });

  it('tar bombs: too many members, an absurd size (ELIMIT, named limits)', async () => {
    const many = tar(...Array.from({ length: 11 }, (_, i) => file(`f${i}`, '')));
    await expect(layer(many, { maxEntries: 10 })).rejects.toThrow(/ELIMIT: more than maxEntries \(10\)/);
    const absurd = concat(pax([['size', String(2 ** 50)]], { name: 'bomb', size: 0 }));
    await expect(layer(absurd)).rejects.toThrow(
      /ELIMIT: member of 1125899906842624 bytes exceeds maxMemberSize/,
    );
  });

  it('truncation: inside data, inside a header, and without end-of-archive blocks: ETRUNCATED', async () => {
    const t = tar(file('a', 'x'.repeat(2000)), file('b', 'y'));
    await expect(layer(t.subarray(0, 1000))).rejects.toThrow(/ETRUNCATED: archive ends inside the data/);
    await expect(layer(t.subarray(0, 2560 + 100))).rejects.toThrow(
      /ETRUNCATED: archive ends inside a header/,
    );
    await expect(layer(t.subarray(0, t.length - 1024))).rejects.toThrow(
      /ETRUNCATED: archive ends without the end-of-archive blocks/,
    );
  });

  it('a corrupt header is EFORMAT (checksum)', async () => {
    const t = tar(file('a', 'x'));
    t[10] = 0x41;
    await expect(layer(t)).rejects.toThrow(/EFORMAT: bad tar header checksum/);
  });
});
