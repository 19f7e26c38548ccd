/**
 * The manifest (docs/manifest.md), split along its concepts: manifest-scan.ts builds it from an
 * image, manifest-serialise.ts writes its NDJSON and JSON forms, manifest-parse.ts validates
 * untrusted text field by field, manifest-columns.ts holds records as columns. This module is their common entry.
 */
export * from './manifest-scan.js';
export * from './manifest-serialise.js';
export * from './manifest-parse.js';
export * from './manifest-columns.js';
