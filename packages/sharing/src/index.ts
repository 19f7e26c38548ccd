export * from './report.js';
export * from './mounts/index.js';
