export * from './summary.js';
export * from './files.js';
