/**
 * Inode numbers (docs/format.md#nid). On-disk nids are 64-bit; bit 63 (METABOX images only) puts the
 * inode inside the metabox inode's data. The reader names every inode by one non-negative
 * safe integer, its *key*, which is also the inode number `stat` shows under Linux:
 *
 *  - without METABOX the kernel's st_ino is the nid, and so is the key;
 *  - with METABOX it is erofs_nid_to_ino64(): bit 63 moves to bit 31 and bits 31..62 move up
 *    one place, `((nid << 1) & 0xFFFFFFFF00000000) | (nid & 0x7FFFFFFF) | ((nid >> 63) << 31)`.
 *
 * The mapping is a bijection on 64-bit values, so a key always leads back to its nid. Keys
 * are what Inode.nid, dirent nids, walks and manifests carry: a bit-63 nid does not fit a
 * JSON number, the kernel's inode number does (for nids below 2^52, i.e. any real image).
 */
import { ErofsError } from '../errors.js';

export const NID_METABOX_BIT = 1n << 63n;
const LOW31 = 0x8000_0000;

/** Key of a 64-bit on-disk nid; null if it is not a safe integer (no image can address it). */
export function nidKey(nid: bigint, metabox: boolean): number | null {
  if (!metabox) return nid <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(nid) : null;
  const inBox = nid >> 63n;
  const rest = nid & (NID_METABOX_BIT - 1n);
  const key = ((rest >> 31n) << 32n) | (inBox << 31n) | (rest & 0x7fff_ffffn);
  return key <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(key) : null;
}

/** Where inode `key` lives: its 32-byte slot number and whether that is in the metabox data. */
export function nidLocation(key: number, metabox: boolean): { slot: number; inMetabox: boolean } {
  if (!metabox) return { slot: key, inMetabox: false };
  const hi = Math.floor(key / 2 ** 32);
  const inMetabox = Math.floor(key / LOW31) % 2 === 1;
  return { slot: hi * LOW31 + (key % LOW31), inMetabox };
}

/** The 64-bit on-disk nid of a key (for messages). */
export function nidOfKey(key: number, metabox: boolean): bigint {
  const { slot, inMetabox } = nidLocation(key, metabox);
  return BigInt(slot) | (inMetabox ? NID_METABOX_BIT : 0n);
}

/**
 * Decode a 64-bit nid field (dirent, superblock) into a key: bit 63 without METABOX and
 * nids no image can address are corruption (docs/format.md#nid: the kernel's EFSCORRUPTED).
 */
export function decodeNid(nid: bigint, metabox: boolean, what: string, offset?: number): number {
  if (nid & NID_METABOX_BIT && !metabox)
    throw new ErofsError('ECORRUPT', `${what} 0x${nid.toString(16)} has bit 63 (metabox) without METABOX`, {
      ...(offset !== undefined ? { offset } : {}),
    });
  const key = nidKey(nid, metabox);
  if (key === null)
    throw new ErofsError('ECORRUPT', `${what} 0x${nid.toString(16)} out of range`, {
      ...(offset !== undefined ? { offset } : {}),
    });
  return key;
}
