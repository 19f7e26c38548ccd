import { checkRange, type ByteSource } from './types.js';

/** A ByteSource over bytes already in memory (tests, fetched images, small files). */
export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read(offset: number, length: number): Promise<Uint8Array> {
      try {
        checkRange(bytes.length, offset, length, 'memory source');
      } catch (e) {
        return Promise.reject(e);
      }
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
    readInto(offset: number, target: Uint8Array): void {
      checkRange(bytes.length, offset, target.length, 'memory source');
      target.set(bytes.subarray(offset, offset + target.length));
    },
  };
}
