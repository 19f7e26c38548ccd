/** Directory blocks (docs/format.md#dirent). Pure decoder of one directory block. */
import { ErofsError } from '../errors.js';
import { le16, le32 } from './bytes.js';
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
  const out: RawDirent[] = [];
  forEachDirent(block, blockSize, where, maxNameLength, metabox, (nid, fileType, start, end) => {
    out.push({ nid, name: block.subarray(start, end), fileType });
  });
  return out;
}

/**
 * parseDirBlock's checks and entries, each handed to `visit` as its nid, file type and the
 * bounds of its name in `block`, with no object per entry (a count of a million paths made
 * two million of them).
 */
export function forEachDirent(
  block: Uint8Array,
  blockSize: number,
  where: { nid: number; offset?: number; lblk: number },
  maxNameLength: number,
  metabox: boolean,
  visit: (nid: number, fileType: number, nameStart: number, nameEnd: number) => void,
): void {
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
  let expectOff = nameoff0;
  let prevStart = -1;
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
    for (let j = nameoff; j < end; j++) {
      const c = block[j]!;
      if (c === 0x2f || c === 0) throw err(`dirent name at index ${i} contains '/' or NUL`, nameoff);
    }
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
    // The previous name ends where this one starts (contiguous offsets, checked above).
    if (prevStart >= 0 && compareRange(block, prevStart, nameoff, nameoff, end) >= 0)
      throw err(`dirents not sorted at index ${i}`, nameoff);
    visit(nid, fileType, nameoff, end);
    prevStart = nameoff;
    expectOff = end;
  }
}

/** compareBytes of b[aStart..aEnd) and b[bStart..bEnd) (docs/format.md#dir-order). */
function compareRange(b: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    const d = b[aStart + i]! - b[bStart + i]!;
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}
