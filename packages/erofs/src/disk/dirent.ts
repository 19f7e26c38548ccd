/** Directory blocks (docs/format.md#dirent). Pure decoder of one directory block. */
import { ErofsError } from '../errors.js';
import { compareBytes, le16, le32 } from './bytes.js';
import { decodeNid } from './nid.js';

export const DIRENT_SIZE = 12;
export const FT_NAMES = ['unknown', 'file', 'dir', 'chr', 'blk', 'fifo', 'sock', 'symlink'] as const;
export type DirentFileType = (typeof FT_NAMES)[number];

export interface RawDirent {
  nid: number;
  name: Uint8Array;
  fileType: number;
}

/**
 * Decode one directory block of `block.length` valid bytes (the last block may be short,
 * docs/format.md#directories). `blockSize` is the filesystem block size; `where` locates the block for errors.
 * Checks docs/format.md#validate-dirs: nameoff0 bounds and alignment, names inside the block, 1..maxName bytes,
 * contiguous offsets, file_type < 8, no '/' or NUL, sorted order within the block, and nids
 * (bit 63 only with METABOX, `metabox`). Returned nids are keys (disk/nid.ts).
 */
export function parseDirBlock(
  block: Uint8Array,
  blockSize: number,
  where: { nid: number; offset?: number; lblk: number },
  maxNameLength = 255,
  metabox = false,
): RawDirent[] {
  const len = block.length;
  const err = (msg: string, off?: number) =>
    new ErofsError('ECORRUPT', `${msg} (directory block ${where.lblk})`, {
      nid: where.nid,
      ...(where.offset !== undefined ? { offset: where.offset + (off ?? 0) } : {}),
    });
  if (len < DIRENT_SIZE) throw err(`directory block of ${len} bytes is too short`);
  const nameoff0 = le16(block, 8);
  if (nameoff0 < DIRENT_SIZE || nameoff0 >= blockSize || nameoff0 > len || nameoff0 % DIRENT_SIZE !== 0) {
    throw err(`invalid de[0].nameoff ${nameoff0}`, 8);
  }
  const count = nameoff0 / DIRENT_SIZE;
  const out: RawDirent[] = [];
  let expectOff = nameoff0;
  for (let i = 0; i < count; i++) {
    const d = i * DIRENT_SIZE;
    const nameoff = le16(block, d + 8);
    const fileType = block[d + 10]!;
    if (nameoff !== expectOff || nameoff > len) {
      throw err(
        `bogus dirent nameoff ${nameoff} at index ${i} (expected ${expectOff}, block length ${len})`,
        d + 8,
      );
    }
    let end: number;
    if (i + 1 < count) {
      end = le16(block, d + DIRENT_SIZE + 8);
      if (end > len || end < nameoff)
        throw err(`bogus dirent nameoff ${end} at index ${i + 1} (block length ${len})`, d + DIRENT_SIZE + 8);
    } else {
      end = nameoff;
      while (end < len && block[end] !== 0) end++;
    }
    const nameLen = end - nameoff;
    if (nameLen < 1 || nameLen > maxNameLength)
      throw err(`bogus dirent name length ${nameLen} at index ${i}`, d + 8);
    const name = block.subarray(nameoff, end);
    if (name.includes(0x2f) || name.includes(0))
      throw err(`dirent name at index ${i} contains '/' or NUL`, nameoff);
    if (fileType >= 8) throw err(`invalid dirent file_type ${fileType} at index ${i}`, d + 10);
    // docs/format.md#dirent: bit 63 = inode in the metabox (METABOX only); nids become keys
    const lo = le32(block, d);
    const hi = le32(block, d + 4);
    let nid: number;
    if (!metabox && hi < 0x200000) nid = hi * 0x1_0000_0000 + lo;
    else {
      try {
        nid = decodeNid((BigInt(hi) << 32n) | BigInt(lo), metabox, 'dirent nid');
      } catch (e) {
        throw err(`${e instanceof ErofsError ? e.detail : String(e)} at index ${i}`, d);
      }
    }
    if (out.length && compareBytes(out[out.length - 1]!.name, name) >= 0)
      throw err(`dirents not sorted at index ${i}`, nameoff);
    out.push({ nid, name, fileType });
    expectOff = end;
  }
  return out;
}
