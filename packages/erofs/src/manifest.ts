/**
 * The manifest (docs/manifest.md), split along its concepts: manifest-scan.ts builds it from an
 * image, manifest-serialise.ts writes its NDJSON and JSON forms, manifest-parse.ts validates
 * untrusted text field by field (manifest-parse-bytes.ts: from bytes, a piece at a time),
 * manifest-columns.ts holds records as columns. This module is their common entry.
 */
export * from './manifest-scan.js';
export * from './manifest-serialise.js';
export * from './manifest-parse.js';
export * from './manifest-parse-bytes.js';
export * from './manifest-columns.js';
export * from './manifest-paths.js';
