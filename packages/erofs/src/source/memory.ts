import { checkRange, type ByteSource } from './types.js';

/** A ByteSource over bytes already in memory (tests, fetched images, small files). */
export function memorySource(bytes: Uint8Array): ByteSource {
  function readSync(offset: number, length: number): Uint8Array {
    checkRange(bytes.length, offset, length, 'memory source');
    return bytes.subarray(offset, offset + length);
  }
  return {
    size: bytes.length,
    read(offset: number, length: number): Promise<Uint8Array> {
      try {
        return Promise.resolve(readSync(offset, length));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    readSync,
  };
}
