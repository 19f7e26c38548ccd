import { ErofsError } from '../errors.js';

/**
 * The one byte-source interface of the reader (hyparquet's AsyncBuffer idea): a sized,
 * random-access, read-only byte array. Adapters: memorySource, blobSource, nodeFileSource
 * (node.ts); caching is a layer on top (cachedSource).
 *
 * Contract: `read(offset, length)` resolves to exactly `length` bytes or rejects with
 * ErofsError 'EIO' naming the offset; reads past `size` are errors, never short reads
 * or zero fill (docs/format.md#validate-superblock item 14). The returned array may alias internal buffers:
 * callers must not modify it.
 */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Optional: fill `target` with the `target.length` bytes at `offset`, synchronously (files
   * via readSync, memory by copy). Same contract as `read`, errors are thrown. With it the block
   * cache reuses its memory and metadata is decoded without a promise per inode. */
  readInto?(offset: number, target: Uint8Array): void;
  /** Optional: release resources (file handles). */
  close?(): Promise<void>;
}

/** Validate a read request against a source size; throws ErofsError EIO. */
export function checkRange(size: number, offset: number, length: number, what = 'source'): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new ErofsError('EIO', `invalid read of ${length} bytes from ${what}`, { offset });
  }
  if (offset + length > size) {
    throw new ErofsError('EIO', `read of ${length} bytes past the end of ${what} (size ${size})`, { offset });
  }
}
