export * from './manifest-types.js';
