// A small uncompressed EROFS image built field by field (docs/format.md#superblock to docs/format.md#directories) from a description: a
// root directory of regular files, symlinks and empty directories, each inode in its own
// block with its inline xattrs and inline data (FLAT_INLINE). Fingerprints (docs/format.md#fingerprints) use a
// long xattr prefix (PLAIN_XATTR_PFX: the table sits on the device), so a test can give a file
// any fingerprint value: none, empty (R4: private), or any bytes. Used by property tests.
import {
  ImageBytes,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  compactInode,
  dirBlock,
  utf8,
  writeSuperblock,
  xattrArea,
  xattrEntry,
} from './synthetic-image.js';

export const FLAT_BS = 4096;
/** nid of the root directory: block 1 (meta_blkaddr 0, 32-byte slots). */
export const FLAT_ROOT_NID = FLAT_BS / 32;

export interface FlatEntry {
  name: string;
  kind: 'file' | 'symlink' | 'dir';
  /** File content or symlink target bytes (ignored for dirs). At most ~3 KiB with xattrs. */
  data: Uint8Array;
  perm: number;
  uid: number;
  gid: number;
  mtime: number;
  /** user.* xattrs: suffix -> value. */
  xattrs: [string, Uint8Array][];
  /** Fingerprint xattr value; null = no fingerprint xattr. */
  fingerprint: Uint8Array | null;
}

export interface FlatImage {
  /** Full name of the fingerprint xattr: 'erofs.fingerprint.v1' (hidden) or 'trusted.erofs.fingerprint'. */
  fingerprintName: 'erofs.fingerprint.v1' | 'trusted.erofs.fingerprint';
  entries: FlatEntry[];
}

const FT = { file: 1, dir: 2, symlink: 7 } as const;

export function buildFlatImage(spec: FlatImage): Uint8Array {
  const n = spec.entries.length;
  const img = new ImageBytes(FLAT_BS, 2 + n);
  const nidOf = (k: number) => BigInt(((2 + k) * FLAT_BS) / 32);
  // long prefix table at byte 2048 of block 0 (docs/format.md#xattr-long-prefixes): u16 size, u8 base index, infix
  const [base, infix] =
    spec.fingerprintName === 'erofs.fingerprint.v1' ? [0, 'erofs.fingerprint.v1'] : [4, 'erofs.fingerprint'];
  img
    .u16(2048, 1 + infix.length)
    .u8(2050, base)
    .set(2051, utf8(infix));

  const rootDir = dirBlock([
    ['.', BigInt(FLAT_ROOT_NID), FT.dir],
    ['..', BigInt(FLAT_ROOT_NID), FT.dir],
    ...spec.entries.map((e, k): [string, bigint, number] => [e.name, nidOf(k), FT[e.kind]]),
  ]);
  const subdirs = spec.entries.filter((e) => e.kind === 'dir').length;
  img.set(
    FLAT_BS,
    compactInode({ layout: 2, mode: S_IFDIR | 0o755, size: rootDir.length, u: -1, nlink: 2 + subdirs }),
  );
  img.set(FLAT_BS + 32, rootDir);

  spec.entries.forEach((e, k) => {
    const at = (2 + k) * FLAT_BS;
    const entries = e.xattrs.map(([suffix, value]) => xattrEntry(1, suffix, value));
    if (e.fingerprint !== null) entries.push(xattrEntry(0x80, '', e.fingerprint)); // long prefix 0
    const xa = entries.length > 0 ? xattrArea([], entries) : new Uint8Array(0);
    const data =
      e.kind === 'dir'
        ? dirBlock([
            ['.', nidOf(k), FT.dir],
            ['..', BigInt(FLAT_ROOT_NID), FT.dir],
          ])
        : e.data;
    const type = e.kind === 'file' ? S_IFREG : e.kind === 'dir' ? S_IFDIR : S_IFLNK;
    img.set(
      at,
      compactInode({
        layout: data.length === 0 ? 0 : 2, // empty files are FLAT_PLAIN, as mkfs writes them
        mode: type | (e.kind === 'symlink' ? 0o777 : e.perm),
        size: data.length,
        u: data.length === 0 ? 0 : -1,
        nlink: e.kind === 'dir' ? 2 : 1,
        xattrIsize: xa.length,
        mtime: e.mtime,
        uid: e.uid,
        gid: e.gid,
      }),
    );
    img.set(at + 32, xa);
    img.set(at + 32 + xa.length, data);
  });

  writeSuperblock(img, {
    compat: 0x10 | 0x20, // PLAIN_XATTR_PFX, ISHARE_XATTRS
    incompat: 0x40, // XATTR_PREFIXES
    rootNid16: FLAT_ROOT_NID,
    inos: n + 1,
    prefixCount: 1,
    prefixStart: 2048 / 4,
    ishareId: 0,
  });
  return img.bytes;
}

const enc = new TextEncoder();
/** testdata/erofs/synthetic/empty-fingerprint.img: the same content with a sha256 fingerprint
 * (`/shared`) and with a present but empty fingerprint xattr (`/private`, R4: never shared). */
export const EMPTY_FINGERPRINT_IMAGE: FlatImage = {
  fingerprintName: 'erofs.fingerprint.v1',
  entries: [
    { name: 'private', fingerprint: new Uint8Array(0) },
    {
      name: 'shared',
      fingerprint: Uint8Array.from([
        ...enc.encode('sha256:'),
        // sha256 of the content below
        ...Uint8Array.from(
          'ae131b69ee5d6b7591141c242b7916e9d8c286fed284eb24423ca5c422ee5f03'
            .match(/../g)!
            .map((h) => parseInt(h, 16)),
        ),
      ]),
    },
  ].map((e) => ({
    name: e.name,
    kind: 'file' as const,
    data: enc.encode('the same 40 bytes of content in both.\n\n\n'),
    perm: 0o644,
    uid: 0,
    gid: 0,
    mtime: 0,
    xattrs: [],
    fingerprint: e.fingerprint,
  })),
};
