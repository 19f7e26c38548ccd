export * from './context.js';
export * from './errors.js';
export { openCompressedFile } from './file.js';
