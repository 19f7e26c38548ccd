export type { ByteSource } from './types.js';
export { memorySource } from './memory.js';
export { blobSource } from './blob.js';
export { cachedSource, type CachedSource, type CachedSourceOptions } from './cached.js';
