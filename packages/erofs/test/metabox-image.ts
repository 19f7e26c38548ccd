// A synthetic METABOX image (docs/format.md#packed-metabox, docs/format.md#containers), built field by field:
// the mkfs.erofs versions of testdata/ cannot make one. Used by metabox.test.ts and, written
// to testdata/erofs/synthetic/, by the fuzzer.
//
// Layout (4 KiB blocks): the metabox inode is device nid 64 (compressed with LZ4, full
// indexes, or FLAT_PLAIN); its 12 KiB of data hold the root directory, four files and a
// symlink (bit-63 nids), the long xattr prefix table and the shared xattr area
// (SHARED_EA_IN_METABOX). One directory, /sub, is an ordinary inode on the device and holds a
// hard link back into the metabox. File data (flat, chunk-based, a compressed pcluster) is on
// the device; inline tails, chunk tables, compressed indexes and the ztailpacking pcluster are
// in the metabox next to their inodes.
import { fixSuperblockChecksum } from './fuzz-lib.mjs';
import {
  ImageBytes,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  compactInode,
  concat,
  dirBlock,
  lz4Compress,
  metaboxNid,
  utf8,
  writeSuperblock,
  xattrArea,
  xattrEntry,
} from './synthetic-image.js';

export const BS = 4096;
export const META_SLOTS = { root: 4, hello: 16, big: 24, chunked: 28, zfile: 32, link: 40 } as const;
export const METABOX_NID = 64; // device nid: byte 2048 of block 0
export const SUB_NID = 80; // device nid: byte 2560
/** Keys (disk/nid.ts) = the kernel's inode numbers: bit 63 of the nid becomes bit 31. */
export const key = (slot: number) => 2 ** 31 + slot;

export const BIG = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 0xff);
export const CHUNK = Uint8Array.from({ length: BS }, (_, i) => (i >> 4) & 0xff);
export const ZDATA = Uint8Array.from({ length: BS + 300 }, (_, i) =>
  i % 97 < 60 ? 0x61 + (i % 7) : (i * 13) & 0xff,
);
export const FP = concat(
  utf8('sha256:'),
  Uint8Array.from({ length: 32 }, (_, i) => i),
);

export interface BuildOptions {
  metabox: 'lz4' | 'plain';
  /** nid of /big in the root directory (to point it elsewhere). */
  bigNid?: bigint;
}

/** The whole image; every number below is a field of docs/format.md (superblock to compressed data). */
export function buildMetaboxImage(opts: BuildOptions): Uint8Array {
  const M = new ImageBytes(BS, 3); // metabox data
  const dev = new ImageBytes(BS, 8);
  const ino = (slot: number) => slot * 32;

  // root directory: inline dirents right after the inode (docs/format.md#flat-inline)
  const rootDir = dirBlock([
    ['.', metaboxNid(META_SLOTS.root), 2],
    ['..', metaboxNid(META_SLOTS.root), 2],
    ['big', opts.bigNid ?? metaboxNid(META_SLOTS.big), 1],
    ['chunked', metaboxNid(META_SLOTS.chunked), 1],
    ['hello', metaboxNid(META_SLOTS.hello), 1],
    ['link', metaboxNid(META_SLOTS.link), 7],
    ['sub', BigInt(SUB_NID), 2],
    ['zfile', metaboxNid(META_SLOTS.zfile), 1],
  ]);
  M.set(
    ino(META_SLOTS.root),
    compactInode({ layout: 2, mode: S_IFDIR | 0o755, size: rootDir.length, u: -1, nlink: 3 }),
  );
  M.set(ino(META_SLOTS.root) + 32, rootDir);

  // /hello: xattrs (a shared one from the metabox, an inline one, the fingerprint with a long
  // prefix from the metabox's prefix table) and an inline tail
  const xa = xattrArea(
    [0],
    [xattrEntry(1, 'a', utf8('1')), xattrEntry(0x80, '', FP)], // user.a, erofs.fingerprint.v1
  );
  const hello = utf8('hello world\n');
  M.set(
    ino(META_SLOTS.hello),
    compactInode({
      layout: 2,
      mode: S_IFREG | 0o644,
      size: hello.length,
      u: -1,
      nlink: 2,
      xattrIsize: xa.length,
    }),
  );
  M.set(ino(META_SLOTS.hello) + 32, xa);
  M.set(ino(META_SLOTS.hello) + 32 + xa.length, hello);

  // /big: FLAT_PLAIN, data in device blocks 4-5
  M.set(ino(META_SLOTS.big), compactInode({ layout: 0, mode: S_IFREG | 0o644, size: BIG.length, u: 4 }));
  dev.set(4 * BS, BIG);

  // /chunked: CHUNK_BASED, 4-byte block map in the metabox: block 6, hole, block 6 (docs/format.md#chunk-based)
  M.set(ino(META_SLOTS.chunked), compactInode({ layout: 4, mode: S_IFREG | 0o600, size: 3 * BS, u: 0 }));
  M.u32(ino(META_SLOTS.chunked) + 32, 6).u32(ino(META_SLOTS.chunked) + 36, 0xffffffff);
  M.u32(ino(META_SLOTS.chunked) + 40, 6);
  dev.set(6 * BS, CHUNK);

  // /zfile: COMPRESSED_FULL; lcluster 0 -> LZ4 pcluster in device block 7 (zero padded in
  // front), lcluster 1 -> ztailpacking pcluster inline in the metabox (docs/format.md#full-indexes, docs/format.md#ztailpacking)
  const z0 = lz4Compress(ZDATA.subarray(0, BS));
  const z1 = lz4Compress(ZDATA.subarray(BS));
  const zi = ino(META_SLOTS.zfile);
  M.set(zi, compactInode({ layout: 1, mode: S_IFREG | 0o644, size: ZDATA.length, u: 1 }));
  const H = Math.ceil((zi + 32) / 8) * 8;
  M.u16(H + 2, z1.length).u16(H + 4, 0x8); // h_idata_size, INLINE_PCLUSTER; lz4, lclusterbits 12
  M.u16(H + 16, 1).u32(H + 20, 7); // lcn 0: HEAD1 at block 7
  M.u16(H + 24, 1); // lcn 1: HEAD1 (inline)
  M.set(H + 32, z1);
  dev.set(8 * BS - z0.length, z0);

  // /link: inline symlink
  const target = utf8('hello');
  M.set(ino(META_SLOTS.link), compactInode({ layout: 2, mode: S_IFLNK | 0o777, size: target.length, u: -1 }));
  M.set(ino(META_SLOTS.link) + 32, target);

  // long prefix table (docs/format.md#xattr-long-prefixes: in the metabox without PLAIN_XATTR_PFX) at metabox byte 2048
  M.u16(2048, 21).u8(2050, 0).set(2051, utf8('erofs.fingerprint.v1'));
  // shared xattr area at xattr_blkaddr 2 of the metabox (docs/format.md#xattr-shared): id 0 = user.shared
  M.set(2 * BS, xattrEntry(1, 'shared', utf8('s')));

  // /sub: an ordinary directory on the device, with a hard link to /hello
  const subDir = dirBlock([
    ['.', BigInt(SUB_NID), 2],
    ['..', metaboxNid(META_SLOTS.root), 2],
    ['x', metaboxNid(META_SLOTS.hello), 1],
  ]);
  dev.set(
    SUB_NID * 32,
    compactInode({ layout: 2, mode: S_IFDIR | 0o755, size: subDir.length, u: -1, nlink: 2 }),
  );
  dev.set(SUB_NID * 32 + 32, subDir);

  // the metabox inode (docs/format.md#packed-metabox), data in device blocks 1-3
  const mb = METABOX_NID * 32;
  if (opts.metabox === 'plain') {
    dev.set(mb, compactInode({ layout: 0, mode: S_IFREG | 0o600, size: M.bytes.length, u: 1 }));
    dev.set(BS, M.bytes);
  } else {
    dev.set(mb, compactInode({ layout: 1, mode: S_IFREG | 0o600, size: M.bytes.length, u: 3 }));
    const h = Math.ceil((mb + 32) / 8) * 8;
    for (let lcn = 0; lcn < 3; lcn++) {
      dev.u16(h + 16 + 8 * lcn, 1).u32(h + 20 + 8 * lcn, 1 + lcn); // HEAD1 at block 1 + lcn
      const stream = lz4Compress(M.bytes.subarray(lcn * BS, (lcn + 1) * BS));
      dev.set((2 + lcn) * BS - stream.length, stream);
    }
  }

  writeSuperblock(dev, {
    compat: 0x01 | 0x08 | 0x20, // SB_CHKSUM, SHARED_EA_IN_METABOX, ISHARE_XATTRS
    incompat: 0x001 | 0x004 | 0x010 | 0x040 | 0x080 | 0x100, // LZ4_0PADDING CHUNKED ZTAILPACKING XATTR_PREFIXES 48BIT METABOX
    extslots: 1,
    rootNid8: metaboxNid(META_SLOTS.root),
    metaboxNid: BigInt(METABOX_NID),
    inos: 8,
    xattrBlkaddr: 2,
    prefixCount: 1,
    prefixStart: 2048 / 4,
    ishareId: 0,
  });
  fixSuperblockChecksum(dev.bytes);
  return dev.bytes;
}
