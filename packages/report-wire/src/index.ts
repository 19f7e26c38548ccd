export * from './summary.js';
export * from './files.js';
export * from './static.js';
export * from './json-bytes.js';
