/** Unit tests of the disk/ decoders on crafted bytes (spec test vectors where given). */
import { describe, expect, it } from 'vitest';
import { crc32cUpdate } from '../src/disk/crc32c.js';
import { chunkGeometry, decodeChunkEntry } from '../src/disk/chunk.js';
import { parseDirBlock } from '../src/disk/dirent.js';
import { decodeInode } from '../src/disk/inode.js';
import {
  decodeSuperblock,
  readSuperblock,
  requiredKernel,
  superblockChecksum,
} from '../src/disk/superblock.js';
import {
  filterBit,
  parseXattrArea,
  readLongPrefixes,
  resolveName,
  splitName,
  xxh32,
} from '../src/disk/xattr.js';
import { ErofsError } from '../src/errors.js';
import { memorySource } from '../src/source/memory.js';

const hexBytes = (s: string) =>
  new Uint8Array(
    s
      .replace(/\s+/g, '')
      .match(/../g)!
      .map((h) => parseInt(h, 16)),
  );
const ascii = (s: string) => new TextEncoder().encode(s);

// docs/format.md#sb-checksum test vector (tv.img, first 128 superblock bytes)
const TV_SB = hexBytes(`
e2 e1 f5 e0 36 0c 88 71 37 00 00 00 0c 00 26 00
0c 00 00 00 00 00 00 00 00 f1 53 65 00 00 00 00
00 00 00 00 22 01 00 00 00 00 00 00 00 00 00 00
01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
40 00 00 00 00 00 00 00 00 00 00 01 29 01 00 00
${'00 '.repeat(32)}`);

function imageWith(sb: Uint8Array, size = 8192): Uint8Array {
  const img = new Uint8Array(size);
  img.set(sb, 1024);
  return img;
}

describe('superblock (docs/format.md#superblock)', () => {
  it('decodes the spec test vector', () => {
    const f = decodeSuperblock(TV_SB, 1 << 20);
    expect(f.checksum).toBe(0x71880c36);
    expect(f.featureCompat).toBe(0x37);
    expect(f.compatNames).toEqual(['sb_csum', 'mtime', 'xattr_filter', 'plain_xattr_pfx', 'ishare_xattrs']);
    expect(f.incompatNames).toEqual(['xattr_prefixes']);
    expect(f.blockSize).toBe(4096);
    expect(f.rootNid).toBe(38);
    expect(f.inodes).toBe(12);
    expect(f.epoch).toBe(1700000000);
    expect(f.blocks).toBe(290);
    expect(f.uuid).toBe('01234567-89ab-cdef-0123-456789abcdef');
    expect(f.xattrPrefixCount).toBe(1);
    expect(f.xattrPrefixStart * 4).toBe(1188);
    expect(f.requiredKernel).toBe('6.4');
    expect(f.sbSize).toBe(128);
  });

  it('crc32c: raw register from 0xFFFFFFFF, no final xor; the 8-byte shortcut state', () => {
    expect(crc32cUpdate(0xffffffff, hexBytes('e2e1f5e000000000'))).toBe(0x5045b54a);
    // standard check value "123456789" -> 0xE3069283 after final inversion
    expect((crc32cUpdate(0xffffffff, ascii('123456789')) ^ 0xffffffff) >>> 0).toBe(0xe3069283);
  });

  it('verifies and rejects the checksum', async () => {
    const sb = TV_SB.slice();
    const img = imageWith(sb);
    const crc = superblockChecksum(img.subarray(1024, 4096));
    new DataView(img.buffer).setUint32(1028, crc, true);
    // the tv vector's real crc covers bytes we do not have; put in the one we computed
    const ok = await readSuperblock(memorySource(img));
    expect(ok.checksumVerified).toBe(true);
    img[3000]! ^= 1;
    await expect(readSuperblock(memorySource(img))).rejects.toMatchObject({
      code: 'EINVAL_SUPERBLOCK',
      offset: 1028,
    });
  });

  it('rejects bad magic, blkszbits, dirblkbits, unknown incompat, ishare id', () => {
    const mut = (o: number, v: number) => {
      const b = TV_SB.slice();
      b[o] = v;
      return () => decodeSuperblock(b, 1 << 20);
    };
    expect(mut(0, 0)).toThrow(expect.objectContaining({ code: 'EBADMAGIC', offset: 1024 }));
    expect(mut(12, 8)).toThrow(expect.objectContaining({ code: 'EINVAL_SUPERBLOCK', offset: 1036 }));
    expect(mut(90, 1)).toThrow(expect.objectContaining({ code: 'EINVAL_SUPERBLOCK' }));
    expect(mut(81, 0x02)).toThrow(/unidentified incompatible feature 0x200/);
    expect(mut(105, 1)).toThrow(expect.objectContaining({ code: 'ECORRUPT', offset: 1129 }));
    expect(mut(13, 200)).toThrow(/sb_extslots/);
  });

  it('48-bit root nid and block count (docs/format.md#root-nid)', () => {
    const b = TV_SB.slice();
    b[80] = 0x80; // 48BIT only
    b[91] = 0;
    b[8] = 0x03;
    b[14] = 0x02; // blocks_hi = 2
    b[15] = 0;
    b[112] = 0x39; // rootnid_8b = 0x12345
    b[113] = 0x23;
    b[114] = 0x01;
    const f = decodeSuperblock(b, 1 << 20);
    expect(f.rootNid).toBe(0x12339);
    expect(f.blocks).toBe(2 * 2 ** 32 + 290);
  });

  it('required kernel like dump.erofs', () => {
    expect(requiredKernel(0, 0)).toBeNull();
    expect(requiredKernel(0x1, 1)).toBe('5.4');
    expect(requiredKernel(0x1 | 0x2, 0b100)).toBe('6.6');
    expect(requiredKernel(0x3, 0b1000)).toBe('6.10');
    expect(requiredKernel(0x3 | 0x20 | 0x10, 0b10)).toBe('6.1');
    expect(requiredKernel(0x8, 0)).toBe('5.16');
    expect(requiredKernel(0x80, 0)).toBe('6.15');
  });

  it('parses device table and compression config records', async () => {
    const b = TV_SB.slice();
    b[8] = 0x02; // no checksum
    b[80] = 0x0a; // COMPR_CFGS | DEVICE_TABLE
    b[91] = 0;
    b[84] = 0x03; // lz4 + lzma
    b[86] = 1; // one extra device
    b[88] = 20; // devt_slotoff -> 2560
    const img = imageWith(b);
    img.set([14, 0, 0xff, 0xff, 0x10, 0], 1152); // LZ4: len 14
    img.set([14, 0, 0, 0, 4, 0], 1168); // LZMA at round_up(1152+16, 4) = 1168, dict 0x40000
    img.set(ascii('blob-tag'), 2560);
    new DataView(img.buffer).setUint32(2560 + 64, 121, true);
    new DataView(img.buffer).setUint32(2560 + 68, 4, true);
    const sb = await readSuperblock(memorySource(img));
    expect(sb.comprCfgs.map((c) => [c.alg, c.offset, c.payload.length])).toEqual([
      [0, 1152, 14],
      [1, 1168, 14],
    ]);
    expect(sb.devices).toEqual([{ id: 1, tag: 'blob-tag', blocks: 121, mappedBlkaddr: 4, offset: 2560 }]);
    expect(sb.deviceIdMask).toBe(1);
    expect(sb.totalBlocks).toBe(290 + 121);
  });
});

describe('inode (docs/format.md#inodes)', () => {
  // docs/format.md#inode-example test vector: /a.txt, nid 46 at 1472
  const INODE = hexBytes('04000e00a48101000c00000000000000ffffffff020000000000000000000000');
  it('decodes the compact test vector', () => {
    const i = decodeInode(INODE, 46, 1472, { epoch: 1700000000, fixedNsec: 0 });
    expect(i).toMatchObject({
      extended: false,
      inodeSize: 32,
      layoutName: 'flat_inline',
      type: 'file',
      mode: 0o100644,
      nlink: 1,
      size: 12,
      mtime: 1700000000,
      xattrIcount: 14,
      xattrIsize: 64,
      dataOffset: 1472 + 32 + 64,
    });
  });
  it('decodes an extended inode with 48-bit start block, signed mtime', () => {
    const b = new Uint8Array(64);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, 0x0001, true); // extended, flat plain
    dv.setUint16(4, 0o100600, true);
    dv.setUint16(6, 0x0001, true); // startblk_hi
    dv.setUint32(8, 5, true);
    dv.setUint32(16, 7, true);
    dv.setUint32(24, 4000000000, true);
    dv.setUint32(28, 65534, true);
    dv.setInt32(32, -1, true);
    dv.setInt32(36, -1, true);
    dv.setUint32(40, 123, true);
    dv.setUint32(44, 3, true);
    const i = decodeInode(b, 1, 0, { epoch: 0, fixedNsec: 0 });
    expect(i).toMatchObject({
      extended: true,
      size: 5,
      startBlk: 2 ** 32 + 7,
      uid: 4000000000,
      gid: 65534,
      mtime: -1,
      mtimeNsec: 123,
      nlink: 3,
      hole: false,
    });
  });
  it('decodes in place at an index of a larger buffer (a block cache), the same inode', () => {
    const ctx = { epoch: 1700000000, fixedNsec: 0 };
    const block = new Uint8Array(4096).fill(0xff);
    block.set(INODE, 4064); // the block's last 32 bytes
    expect(decodeInode(block, 46, 1472, ctx, false, 4064)).toEqual(decodeInode(INODE, 46, 1472, ctx));
    // An extended i_format there needs 64 bytes: 32 are left
    block[4064] = 0x05;
    expect(() => decodeInode(block, 46, 1472, ctx, false, 4064)).toThrow(
      expect.objectContaining({ code: 'EIO', message: expect.stringMatching(/needs 64 bytes, have 32/) }),
    );
  });
  it('rdev, holes, bad layout and bad mode', () => {
    const b = new Uint8Array(32);
    const dv = new DataView(b.buffer);
    dv.setUint16(4, 0o020600, true);
    dv.setUint32(16, (300 << 8) | (70000 & 0xff) | ((70000 & 0xfff00) << 12), true);
    expect(decodeInode(b, 1, 0, { epoch: 0, fixedNsec: 0 }).rdev).toEqual([300, 70000]);
    dv.setUint16(4, 0o100644, true);
    dv.setUint32(16, 0xffffffff, true);
    expect(decodeInode(b, 1, 0, { epoch: 0, fixedNsec: 0 }).hole).toBe(true);
    dv.setUint16(0, 5 << 1, true);
    expect(() => decodeInode(b, 38, 1216, { epoch: 0, fixedNsec: 0 })).toThrow(
      expect.objectContaining({ code: 'ENOTSUP', nid: 38, offset: 1216 }),
    );
    dv.setUint16(0, 0x20, true);
    expect(() => decodeInode(b, 1, 0, { epoch: 0, fixedNsec: 0 })).toThrow(/i_format/);
    dv.setUint16(0, 0, true);
    dv.setUint16(4, 0o170644, true);
    expect(() => decodeInode(b, 1, 0, { epoch: 0, fixedNsec: 0 })).toThrow(
      expect.objectContaining({ code: 'ECORRUPT' }),
    );
  });
});

describe('xattrs (docs/format.md#xattrs)', () => {
  // docs/format.md#inode-example: xattr area of /a.txt (64 bytes): 2 shared ids + fingerprint entry
  const AREA = hexBytes(`ff9effff 02000000 00000000 20010000 25010000 00802700 7368613235363aa9
    48904f2f0f479b8f8197694b30184b0d 2ed1c1cd2a1ec0fb85d299a192a44700`);
  it('parses the inline area of the test vector', () => {
    const h = parseXattrArea(AREA, 1504, 46, 1000);
    expect(h.nameFilter).toBe(0xffff9eff);
    expect(h.sharedIds).toEqual([0x120, 0x125]);
    expect(h.inline).toHaveLength(1);
    expect(h.inline[0]!.nameIndex).toBe(0x80);
    expect(new TextDecoder().decode(h.inline[0]!.value.subarray(0, 7))).toBe('sha256:');
    expect(h.inline[0]!.value.length).toBe(39);
    const prefixes = [{ base: 0, infix: ascii('erofs.fingerprint.v1') }];
    expect(resolveName(h.inline[0]!, prefixes)).toMatchObject({
      full: 'erofs.fingerprint.v1',
      listed: false,
      base: 0,
    });
  });
  it('rejects overflowing shared count and entries; skips zero padding', () => {
    const bad = AREA.slice();
    bad[4] = 20;
    expect(() => parseXattrArea(bad, 0, 1, 1000)).toThrow(
      expect.objectContaining({ code: 'ECORRUPT', offset: 4 }),
    );
    const big = AREA.slice();
    big[22] = 0xff; // value size of the inline entry
    expect(() => parseXattrArea(big, 0, 1, 1000)).toThrow(/exceeds remaining/);
    const pad = new Uint8Array(12 + 8);
    expect(parseXattrArea(pad, 0, 1, 1000).inline).toEqual([]);
    expect(() => parseXattrArea(new Uint8Array(12).fill(0), 0, 1, 1000)).not.toThrow();
  });
  it('names: short prefixes, long prefixes, unknown indexes', () => {
    const p = [{ base: 4, infix: ascii('erofs.fingerprint') }];
    expect(resolveName({ nameIndex: 1, suffix: ascii('x') }, p)).toMatchObject({
      full: 'user.x',
      listed: true,
    });
    expect(resolveName({ nameIndex: 2, suffix: new Uint8Array() }, p)).toMatchObject({
      full: 'system.posix_acl_access',
      listed: true,
    });
    expect(resolveName({ nameIndex: 0x80, suffix: new Uint8Array() }, p)).toMatchObject({
      full: 'trusted.erofs.fingerprint',
      listed: true,
    });
    expect(resolveName({ nameIndex: 0x81, suffix: new Uint8Array() }, p).full).toBeNull();
    expect(resolveName({ nameIndex: 5, suffix: ascii('x') }, p).full).toBeNull();
    expect(splitName('trusted.overlay.opaque')).toEqual({ base: 4, rest: 'overlay.opaque' });
    expect(splitName('erofs.fingerprint.v1')).toEqual({ base: 0, rest: 'erofs.fingerprint.v1' });
  });
  it('long prefix records (docs/format.md#xattr-long-prefixes verified record)', async () => {
    const img = new Uint8Array(64);
    img.set(hexBytes('15000065726f66732e66696e6765727072696e742e7631'), 4);
    const p = await readLongPrefixes((o, l) => memorySource(img).read(o, l), 4, 1);
    expect(p).toHaveLength(1);
    expect(p[0]!.base).toBe(0);
    expect(new TextDecoder().decode(p[0]!.infix)).toBe('erofs.fingerprint.v1');
    img[4] = 0;
    img[5] = 2; // 512 > 256
    await expect(readLongPrefixes((o, l) => memorySource(img).read(o, l), 4, 1)).rejects.toMatchObject({
      code: 'ECORRUPT',
    });
  });
  it('xxh32 and bloom filter bits (docs/format.md#xattr-filter vectors)', () => {
    expect(xxh32(new Uint8Array(), 0)).toBe(0x02cc5d05);
    expect(xxh32(ascii('abc'), 0)).toBe(0x32d153ff);
    expect(xxh32(ascii('Nobody inspects the spammish repetition'), 0)).toBe(0xe2293b2f);
    expect(filterBit(2, new Uint8Array())).toBe(30);
    expect(filterBit(3, new Uint8Array())).toBe(21);
    expect(filterBit(1, ascii('test'))).toBe(14);
    expect(filterBit(1, ascii('common'))).toBe(13);
    expect(filterBit(4, ascii('overlay.opaque'))).toBe(20);
    expect(filterBit(0, ascii('erofs.fingerprint.v1'))).toBe(8);
  });
});

function dirBlock(names: [string, number, number][], size: number): Uint8Array {
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  let off = names.length * 12;
  names.forEach(([n, nid, ft], i) => {
    dv.setUint32(i * 12, nid, true);
    dv.setUint16(i * 12 + 8, off, true);
    b[i * 12 + 10] = ft;
    b.set(ascii(n), off);
    off += n.length;
  });
  return b;
}

describe('dirents (docs/format.md#directories)', () => {
  it('parses a block; last name ends at NUL or block end', () => {
    const b = dirBlock(
      [
        ['.', 38, 2],
        ['..', 38, 2],
        ['a', 40, 1],
        ['bb', 41, 7],
      ],
      4096,
    );
    const e = parseDirBlock(b, 4096, { nid: 38, lblk: 0 });
    expect(e.map((x) => [new TextDecoder().decode(x.name), x.nid, x.fileType])).toEqual([
      ['.', 38, 2],
      ['..', 38, 2],
      ['a', 40, 1],
      ['bb', 41, 7],
    ]);
    const short = b.subarray(0, 48 + 6);
    expect(parseDirBlock(short, 4096, { nid: 38, lblk: 0 })).toHaveLength(4);
  });
  it('rejects bad nameoff0, out-of-range nameoff, unsorted names, bad types and long names', () => {
    const b = dirBlock(
      [
        ['.', 38, 2],
        ['..', 38, 2],
        ['a', 40, 1],
      ],
      4096,
    );
    const w = { nid: 69, lblk: 0, offset: 2240 };
    const m1 = b.slice();
    m1[8] = 5;
    expect(() => parseDirBlock(m1, 4096, w)).toThrow(
      expect.objectContaining({ code: 'ECORRUPT', offset: 2248 }),
    );
    const m2 = b.slice();
    new DataView(m2.buffer).setUint16(20, 0xfff0, true);
    expect(() => parseDirBlock(m2.subarray(0, 160), 4096, w)).toThrow(
      expect.objectContaining({ code: 'ECORRUPT', nid: 69, offset: 2260 }),
    );
    expect(() =>
      parseDirBlock(
        dirBlock(
          [
            ['b', 1, 1],
            ['a', 2, 1],
          ],
          4096,
        ),
        4096,
        w,
      ),
    ).toThrow(/not sorted/);
    expect(() => parseDirBlock(dirBlock([['a', 1, 9]], 4096), 4096, w)).toThrow(/file_type/);
    expect(() => parseDirBlock(dirBlock([['a/b', 1, 1]], 4096), 4096, w)).toThrow(/'\/'/);
    expect(() => parseDirBlock(dirBlock([['x'.repeat(256), 1, 1]], 4096), 4096, w)).toThrow(
      /name length 256/,
    );
    expect(() => parseDirBlock(new Uint8Array(4), 4096, w)).toThrow(ErofsError);
  });
});

describe('chunks (docs/format.md#chunk-based)', () => {
  it('block map and chunk index entries, holes, device ids', () => {
    const g4 = chunkGeometry(0x01, 12, 20000, 1);
    expect(g4).toMatchObject({ chunkSize: 8192, unit: 4, count: 3 });
    expect(decodeChunkEntry(hexBytes('05000000'), g4, 0)).toEqual({ blkaddr: 5, deviceId: 0 });
    expect(decodeChunkEntry(hexBytes('ffffffff'), g4, 0)).toEqual({ blkaddr: null, deviceId: 0 });
    const g8 = chunkGeometry(0x20, 9, 512, 1);
    expect(g8.unit).toBe(8);
    expect(decodeChunkEntry(hexBytes('0700 0100 04000000'), g8, 1)).toEqual({ blkaddr: 4, deviceId: 1 }); // hi ignored (not 48-bit)
    expect(decodeChunkEntry(hexBytes('0000 0300 ffffffff'), g8, 1)).toEqual({ blkaddr: null, deviceId: 0 });
    const g48 = chunkGeometry(0x60, 12, 4096, 1);
    expect(decodeChunkEntry(hexBytes('0200 0100 01000000'), g48, 1)).toEqual({
      blkaddr: 2 * 2 ** 32 + 1,
      deviceId: 1,
    });
    expect(() => chunkGeometry(0x80, 12, 1, 7)).toThrow(expect.objectContaining({ code: 'ENOTSUP', nid: 7 }));
  });
});
