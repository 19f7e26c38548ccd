/**
 * A ByteSource over a Blob read synchronously with FileReaderSync, which only workers have
 * (the scan worker). With `readInto` the reader caches the image in its synchronous block
 * cache (packages/erofs source/cached.ts: one arena, reads copied out of it) and decodes
 * metadata without a promise per inode, as it does over a file in Node; blobSource's
 * promise per read is what a scan of a million small files otherwise pays for each of them.
 */
import { ErofsError, type ByteSource } from '@sharemap/erofs';

/** FileReaderSync as the scan worker has it (lib "webworker"; the app's lib is "dom"). */
interface SyncReader {
  readAsArrayBuffer(blob: Blob): ArrayBuffer;
}
type SyncReaderClass = new () => SyncReader;

/** FileReaderSync where it exists (dedicated workers), else null. */
export function fileReaderSync(): SyncReaderClass | null {
  const c = (globalThis as { FileReaderSync?: SyncReaderClass }).FileReaderSync;
  return typeof c === 'function' ? c : null;
}

export function syncBlobSource(blob: Blob, Reader: SyncReaderClass): ByteSource {
  const reader = new Reader();
  const size = blob.size;
  const readInto = (offset: number, target: Uint8Array): void => {
    const length = target.length;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > size)
      throw new ErofsError('EIO', `read of ${length} bytes past the end of blob (size ${size})`, { offset });
    let buf: ArrayBuffer;
    try {
      buf = reader.readAsArrayBuffer(blob.slice(offset, offset + length));
    } catch (cause) {
      throw new ErofsError('EIO', `blob read of ${length} bytes failed`, { offset, cause });
    }
    if (buf.byteLength !== length)
      throw new ErofsError('EIO', `short blob read: ${buf.byteLength} of ${length} bytes`, { offset });
    target.set(new Uint8Array(buf));
  };
  return {
    size,
    readInto,
    read(offset: number, length: number): Promise<Uint8Array> {
      try {
        const out = new Uint8Array(length);
        readInto(offset, out);
        return Promise.resolve(out);
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
}
