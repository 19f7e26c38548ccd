/**
 * METABOX (metadata compression, docs/format.md#packed-metabox, docs/format.md#containers) on the
 * synthetic images of metabox-image.ts (layout described there).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDirBlock } from '../src/disk/dirent.js';
import { decodeNid, nidKey, nidLocation, nidOfKey } from '../src/disk/nid.js';
import { ErofsError } from '../src/errors.js';
import { openImage, type ErofsImage } from '../src/image.js';
import { manifestToNdjson, parseManifest, scanManifest } from '../src/manifest.js';
import { nodeSha256 } from '../src/node.js';
import { memorySource } from '../src/source/memory.js';
import { walk } from '../src/walk.js';
import { fixSuperblockChecksum } from './fuzz-lib.mjs';
import {
  BIG,
  BS,
  CHUNK,
  FP,
  META_SLOTS,
  METABOX_NID,
  SUB_NID,
  ZDATA,
  buildMetaboxImage as build,
  key,
} from './metabox-image.js';
import { ImageBytes, concat, dirBlock, metaboxNid, utf8 } from './synthetic-image.js';

/** Patch superblock bytes and fix the checksum. */
function patchSb(bytes: Uint8Array, fn: (b: ImageBytes) => void): Uint8Array {
  const b = new ImageBytes(BS, 0);
  b.bytes = bytes.slice();
  fn(b);
  fixSuperblockChecksum(b.bytes);
  return b.bytes;
}

const open = (bytes: Uint8Array) => openImage(memorySource(bytes));
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const eq = (a: Uint8Array, b: Uint8Array) => expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);

describe('nid keys (docs/format.md#nid)', () => {
  it('are the kernel inode numbers and lead back to the nid', () => {
    const ino64 = (nid: bigint) =>
      ((nid << 1n) & 0xffffffff00000000n) | (nid & 0x7fffffffn) | ((nid >> 63n) << 31n);
    for (const nid of [
      0n,
      38n,
      0x7fffffffn,
      0x80000000n,
      0x123456789n,
      metaboxNid(0),
      metaboxNid(4),
      metaboxNid(0x80000005),
    ]) {
      const k = nidKey(nid, true)!;
      expect(BigInt(k)).toBe(ino64(nid) & 0xffffffffffffffffn);
      expect(nidOfKey(k, true)).toBe(nid);
      expect(nidLocation(k, true)).toEqual({
        slot: Number(nid & ((1n << 63n) - 1n)),
        inMetabox: nid >> 63n === 1n,
      });
    }
    // without METABOX the key is the nid itself
    expect(nidKey(0x80000000n, false)).toBe(0x80000000);
    expect(nidLocation(0x80000000, false)).toEqual({ slot: 0x80000000, inMetabox: false });
  });

  it('bit 63 without METABOX, and nids no image can address, are corrupt', () => {
    expect(() => decodeNid(metaboxNid(4), false, 'nid')).toThrow(
      expect.objectContaining({ code: 'ECORRUPT' }),
    );
    expect(() => decodeNid(1n << 62n, true, 'nid')).toThrow(/out of range/);
    const block = dirBlock([
      ['.', 38n, 2],
      ['..', 38n, 2],
      ['a', metaboxNid(9), 1],
    ]);
    expect(() => parseDirBlock(block, BS, { nid: 38, lblk: 0 })).toThrow(
      /bit 63 \(metabox\) without METABOX/,
    );
    expect(parseDirBlock(block, BS, { nid: 38, lblk: 0 }, 255, true)[2]!.nid).toBe(key(9));
  });
});

describe.each(['lz4', 'plain'] as const)('a METABOX image (%s metabox inode)', (kind) => {
  const bytes = build({ metabox: kind });

  it('opens: root in the metabox, prefixes and fingerprint name from the metabox', async () => {
    const img = await open(bytes);
    expect(img.superblock.incompatNames).toContain('metabox');
    expect(img.superblock.rootNid).toBe(key(META_SLOTS.root));
    expect(img.superblock.metaboxNid).toBe(METABOX_NID);
    expect(img.root).toMatchObject({ nid: key(META_SLOTS.root), inMetabox: true, offset: 128, type: 'dir' });
    expect(img.fingerprintXattrName).toBe('erofs.fingerprint.v1');
    expect(await img.readdir('/')).toEqual(['big', 'chunked', 'hello', 'link', 'sub', 'zfile']);
    // the metabox inode itself is an ordinary device inode (docs/format.md#packed-metabox)
    expect(await img.inode(METABOX_NID)).toMatchObject({
      inMetabox: false,
      offset: METABOX_NID * 32,
      layoutName: kind === 'lz4' ? 'compressed_full' : 'flat_plain',
    });
  });

  it('reads every file: inline tails, chunk tables and compressed indexes from the metabox', async () => {
    const img = await open(bytes);
    expect(text(await img.readFile('/hello'))).toBe('hello world\n');
    eq(await img.readFile('/big'), BIG);
    eq(await img.readFile('/chunked'), concat(CHUNK, new Uint8Array(BS), CHUNK));
    eq(await img.readFile('/zfile'), ZDATA);
    expect(await img.readlink('/link')).toBe('hello');
    expect(text(await img.readFile('/link'))).toBe('hello world\n');
    const chunks: Uint8Array[] = [];
    for await (const c of img.createReadStream('/zfile', { chunkSize: 1000 })) chunks.push(c);
    eq(concat(...chunks), ZDATA);
  });

  it('stats carry the kernel inode numbers; a device directory links into the metabox', async () => {
    const img = await open(bytes);
    const hello = await img.stat('/hello');
    expect(hello).toMatchObject({
      nid: key(META_SLOTS.hello),
      ino: key(META_SLOTS.hello),
      nlink: 2,
      size: 12,
    });
    expect(await img.stat('/sub/x')).toMatchObject({ nid: hello.nid });
    const sub = await img.resolve('/sub');
    expect(sub).toMatchObject({ nid: SUB_NID, inMetabox: false, offset: SUB_NID * 32 });
    expect(await img.readdir('/sub')).toEqual(['x']);
    expect(text(await img.readFile('/sub/x'))).toBe('hello world\n');
    expect(img.inodeLocation(key(META_SLOTS.zfile))).toEqual({
      inMetabox: true,
      offset: 32 * META_SLOTS.zfile,
    });
  });

  it('xattrs: inline, shared (SHARED_EA_IN_METABOX) and long-prefixed', async () => {
    const img = await open(bytes);
    expect(await img.listxattr('/hello')).toEqual(['user.a', 'user.shared']);
    expect(text(await img.getxattr('/hello', 'user.shared'))).toBe('s');
    expect(text(await img.getxattr('/hello', 'user.a'))).toBe('1');
    eq((await img.fingerprintOf(await img.resolve('/hello')))!, FP);
    await expect(img.getxattr('/big', 'user.a')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('layoutOf: data on the device has addresses, data in the metabox has none', async () => {
    const img = await open(bytes);
    expect((await img.layoutOf('/hello')).extents).toEqual([
      expect.objectContaining({ kind: 'inline', physicalAddr: null, logicalLength: 12 }),
    ]);
    expect((await img.layoutOf('/big')).extents[0]).toMatchObject({ kind: 'data', physicalAddr: 4 * BS });
    expect((await img.layoutOf('/zfile')).extents.map((e) => [e.kind, e.physicalAddr])).toEqual([
      ['lz4', 7 * BS],
      ['lz4', null],
    ]);
    expect((await img.layoutOf('/chunked')).extents.map((e) => e.kind)).toEqual(['data', 'hole', 'data']);
  });

  it('a hashed manifest scan: nids as erofs-utils prints them (bit 63), inode numbers beside them, valid for parseManifest', async () => {
    const img = await open(bytes);
    const m = await scanManifest(img, {
      imageName: 'mb.img',
      imageSize: bytes.length,
      hash: true,
      hasher: nodeSha256,
    });
    const nid = (slot: number) => String((1n << 63n) | BigInt(slot));
    expect(m.files.map((f) => [f.path, f.nid, f.ino, f.type, f.layout])).toEqual([
      ['/', nid(META_SLOTS.root), key(META_SLOTS.root), 'dir', 'flat_inline'],
      ['/big', nid(META_SLOTS.big), key(META_SLOTS.big), 'file', 'flat_plain'],
      ['/chunked', nid(META_SLOTS.chunked), key(META_SLOTS.chunked), 'file', 'chunk_based'],
      ['/hello', nid(META_SLOTS.hello), key(META_SLOTS.hello), 'file', 'flat_inline'],
      ['/link', nid(META_SLOTS.link), key(META_SLOTS.link), 'symlink', 'flat_inline'],
      ['/sub', SUB_NID, SUB_NID, 'dir', 'flat_inline'],
      ['/sub/x', nid(META_SLOTS.hello), key(META_SLOTS.hello), 'file', 'flat_inline'],
      ['/zfile', nid(META_SLOTS.zfile), key(META_SLOTS.zfile), 'file', 'compressed_full'],
    ]);
    const rec = m.files.find((f) => f.path === '/hello')!;
    expect(rec.xattrs).toEqual({ 'user.a': '31', 'user.shared': '73' });
    expect(rec.fingerprint).toBe(Buffer.from(FP).toString('hex'));
    expect(rec.sha256).toBe(nodeSha256Hex(utf8('hello world\n')));
    expect(m.superblock).toMatchObject({
      root_nid: nid(META_SLOTS.root),
      metabox_nid: METABOX_NID,
      sb_size: 144,
    });
    expect(m.superblock.feature_compat).toEqual(['sb_csum', 'shared_ea_in_metabox', 'ishare_xattrs']);
    expect(parseManifest([...manifestToNdjson(m)].join('')).files).toEqual(m.files);
  });
});

function nodeSha256Hex(b: Uint8Array): string {
  const h = nodeSha256() as { update(d: Uint8Array): void; digestHex(): string };
  h.update(b);
  return h.digestHex();
}

describe('damaged METABOX images fail with typed errors', () => {
  const bytes = build({ metabox: 'plain' });

  it('metabox_nid with bit 63 (the metabox inside itself) -> ECORRUPT', async () => {
    const bad = patchSb(bytes, (b) => b.u64(1024 + 128, metaboxNid(METABOX_NID)));
    await expect(open(bad)).rejects.toMatchObject({ code: 'ECORRUPT', offset: 1024 + 128 });
  });

  it('METABOX without the extension slot (sb_extslots 0) -> ECORRUPT', async () => {
    await expect(open(patchSb(bytes, (b) => b.u8(1024 + 13, 0)))).rejects.toMatchObject({ code: 'ECORRUPT' });
  });

  it('a bit-63 root nid without METABOX -> ECORRUPT', async () => {
    const bad = patchSb(bytes, (b) => b.u32(1024 + 80, 0x001 | 0x004 | 0x010 | 0x040 | 0x080));
    await expect(open(bad)).rejects.toThrow(/root nid .* bit 63 \(metabox\) without METABOX/);
  });

  it('a nid past the end of the metabox data -> ECORRUPT naming it', async () => {
    const img = await open(build({ metabox: 'plain', bigNid: metaboxNid(100_000) }));
    await expect(img.stat('/big')).rejects.toMatchObject({ code: 'ECORRUPT', path: '/big' });
    await expect(img.stat('/big')).rejects.toThrow(/past the end of the 12288-byte metabox data/);
    expect(text(await img.readFile('/hello'))).toBe('hello world\n');
  });

  it('a metabox whose compressed data is destroyed -> ECORRUPT at open', async () => {
    const lz = build({ metabox: 'lz4' });
    lz.fill(0, BS, 2 * BS); // the pcluster holding the root inode
    await expect(open(lz)).rejects.toMatchObject({ code: 'ECORRUPT', nid: METABOX_NID });
  });

  it('the packed inode must not be in the metabox -> ECORRUPT', async () => {
    const bad = patchSb(bytes, (b) => {
      b.u32(1024 + 80, 0x001 | 0x004 | 0x010 | 0x020 | 0x040 | 0x080 | 0x100);
      b.u64(1024 + 96, metaboxNid(8));
    });
    await expect(open(bad)).rejects.toMatchObject({ code: 'ECORRUPT', offset: 1024 + 96 });
  });

  it('SHARED_EA_IN_METABOX without METABOX: shared xattrs -> ECORRUPT, the rest reads', async () => {
    // edge-mini.x1 (mkfs -x1) shares xattrs; set the compat bit on it
    const DATA = join(import.meta.dirname, '../../../testdata/erofs');
    const x1 = new Uint8Array(readFileSync(join(DATA, 'edge-mini.x1.img')));
    const img0 = await open(x1);
    let path: string | undefined;
    for await (const e of walk(img0))
      if ((await img0.xattrsOf(e.inode)).some((x) => x.shared)) path ??= e.path;
    expect(path).toBeDefined();
    const bad = patchSb(x1, (b) => b.u32(1024 + 8, new DataView(x1.buffer).getUint32(1024 + 8, true) | 0x08));
    const img: ErofsImage = await open(bad);
    expect((await img.stat(path!)).nid).toBe((await img0.stat(path!)).nid);
    await expect(img.listxattr(path!)).rejects.toMatchObject({ code: 'ECORRUPT' });
    await expect(img.listxattr(path!)).rejects.toBeInstanceOf(ErofsError);
  });
});

describe('testdata/erofs/synthetic: the METABOX images the fuzzer mutates', () => {
  const SYNTH = join(import.meta.dirname, '../../../testdata/erofs/synthetic');
  it.each(['lz4', 'plain'] as const)('metabox.%s.img is what buildMetaboxImage makes', (kind) => {
    const file = join(SYNTH, `metabox.${kind}.img`);
    const want = build({ metabox: kind });
    // regenerate after changing metabox-image.ts: UPDATE_SYNTHETIC=1 npx vitest run packages/erofs/test/metabox
    if (process.env.UPDATE_SYNTHETIC) writeFileSync(file, want);
    expect(Buffer.from(readFileSync(file)).equals(Buffer.from(want))).toBe(true);
  });
});
