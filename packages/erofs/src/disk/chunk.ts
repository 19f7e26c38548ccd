/** Chunk-based layout (docs/format.md#chunk-based): chunk format and table entries. */
import { ErofsError } from '../errors.js';
import { le16, le32 } from './bytes.js';

export const CHUNK_FORMAT_BLKBITS_MASK = 0x001f;
export const CHUNK_FORMAT_INDEXES = 0x0020;
export const CHUNK_FORMAT_48BIT = 0x0040;

export interface ChunkGeometry {
  chunkBits: number;
  chunkSize: number;
  /** Bytes per table entry: 8 (chunk index) or 4 (block map). */
  unit: 4 | 8;
  is48: boolean;
  count: number;
}

export function chunkGeometry(format: number, blkszbits: number, size: number, nid: number): ChunkGeometry {
  if (format & ~0x7f)
    throw new ErofsError('ENOTSUP', `unsupported chunk format 0x${format.toString(16)}`, { nid });
  const chunkBits = blkszbits + (format & CHUNK_FORMAT_BLKBITS_MASK);
  if (chunkBits > 47) throw new ErofsError('ECORRUPT', `chunk size 2^${chunkBits} too large`, { nid });
  const chunkSize = 2 ** chunkBits;
  const unit: 4 | 8 = format & CHUNK_FORMAT_INDEXES ? 8 : 4;
  return {
    chunkBits,
    chunkSize,
    unit,
    is48: (format & CHUNK_FORMAT_48BIT) !== 0,
    count: Math.ceil(size / chunkSize),
  };
}

export interface ChunkMapping {
  /** null = hole. */
  blkaddr: number | null;
  deviceId: number;
}

/** Decode table entry `b` (4 or 8 bytes). */
export function decodeChunkEntry(b: Uint8Array, g: ChunkGeometry, deviceIdMask: number): ChunkMapping {
  if (g.unit === 4) {
    const blk = le32(b, 0);
    return blk === 0xffffffff ? { blkaddr: null, deviceId: 0 } : { blkaddr: blk, deviceId: 0 };
  }
  const hi = g.is48 ? le16(b, 0) : 0;
  const lo = le32(b, 4);
  const addrMask = g.is48 ? 2 ** 48 - 1 : 2 ** 32 - 1;
  const start = hi * 0x1_0000_0000 + lo;
  if (start === addrMask) return { blkaddr: null, deviceId: 0 };
  return { blkaddr: start, deviceId: le16(b, 2) & deviceIdMask };
}
