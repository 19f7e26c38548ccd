import { ErofsError } from '../errors.js';
import { checkRange, type ByteSource } from './types.js';

/** A ByteSource over a Blob (a browser File from <input type=file> or drag and drop). */
export function blobSource(blob: Blob): ByteSource {
  return {
    size: blob.size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      checkRange(blob.size, offset, length, 'blob');
      let buf: ArrayBuffer;
      try {
        buf = await blob.slice(offset, offset + length).arrayBuffer();
      } catch (cause) {
        throw new ErofsError('EIO', `blob read of ${length} bytes failed`, { offset, cause });
      }
      if (buf.byteLength !== length) {
        throw new ErofsError('EIO', `short blob read: ${buf.byteLength} of ${length} bytes`, { offset });
      }
      return new Uint8Array(buf);
    },
  };
}
