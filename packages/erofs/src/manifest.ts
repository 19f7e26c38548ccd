/**
 * The manifest (docs/manifest.md), split along its concepts: manifest-scan.ts builds it from an
 * image, manifest-serialise.ts writes its NDJSON and JSON forms, manifest-parse.ts validates
 * untrusted text field by field. This module is their common entry.
 */
export * from './manifest-scan.js';
export * from './manifest-serialise.js';
export * from './manifest-parse.js';
