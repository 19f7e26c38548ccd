export * from './report.js';
export * from './report-names.js';
export * from './mounts/index.js';
export * from './model/index.js';
export * from './render/index.js';
export * from './residency/index.js';
export * from './trust/index.js';
export * from './analysis-input.js';
