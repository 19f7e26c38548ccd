// Types of fuzz-lib.mjs (plain ESM shared by the tests and scripts/fuzz.mjs).
import type { ErofsError } from '../src/errors.js';
import type { ErofsImage, OpenImageOptions } from '../src/image.js';
import type { ScanOptions } from '../src/manifest.js';
import type { Manifest } from '../src/manifest-types.js';
import type { HasherFactory } from '../src/hash.js';
import type { ByteSource } from '../src/source/types.js';
import type { WalkEntry } from '../src/walk.js';

/** The reader as the fuzz code uses it (from src in tests, from dist in scripts/fuzz.mjs). */
export interface FuzzApi {
  openImage(src: ByteSource, opts?: OpenImageOptions): Promise<ErofsImage>;
  memorySource(bytes: Uint8Array): ByteSource;
  scanManifest(image: ErofsImage, opts: ScanOptions): Promise<Manifest>;
  nodeSha256: HasherFactory;
  ErofsError: typeof ErofsError;
  walk(image: ErofsImage): AsyncGenerator<WalkEntry>;
}

export type FuzzOp =
  | { op: 'flip'; offset: number; bit: number }
  | { op: 'byte'; offset: number; value: number }
  | { op: 'field'; offset: number; width: 1 | 2 | 4 | 8; value: string }
  | { op: 'zero'; offset: number; length: number }
  | { op: 'copy'; from: number; to: number; length: number }
  | { op: 'truncate'; length: number }
  | { op: 'crc' };

export interface Region {
  kind: 'superblock' | 'inode' | 'dir' | 'xattr' | 'zmeta' | 'pcluster';
  offset: number;
  length: number;
  fields?: [number, number][];
}

export function rng(seed: number): () => number;
export function caseSeed(seed: number, index: number): number;
export function fixSuperblockChecksum(bytes: Uint8Array): boolean;
export function applyOps(base: Uint8Array, ops: readonly FuzzOp[]): Uint8Array;
export function describeOps(ops: readonly FuzzOp[]): string;
export function collectRegions(
  api: FuzzApi,
  image: ErofsImage,
  opts?: { maxInodes?: number },
): Promise<Region[]>;
export function cleanPaths(api: FuzzApi, image: ErofsImage): Promise<string[]>;
export function drawCase(r: () => number, size: number, regions: readonly Region[]): FuzzOp[];
export const FUZZ_LIMITS: Readonly<{
  maxReadFileSize: number;
  maxContentSize: number;
  maxDirEntries: number;
  maxInodesWalked: number;
}>;
export function isTypedError(api: FuzzApi, e: unknown): e is ErofsError;
export function fuzzSource(api: FuzzApi, bytes: Uint8Array, asyncOnly?: boolean): ByteSource;
export function exerciseImage(
  api: FuzzApi,
  bytes: Uint8Array,
  opts?: { devices?: Uint8Array[]; paths?: readonly string[]; asyncOnly?: boolean },
): Promise<{ scan: string; codes: Map<string, number> }>;
export function scanOutcome(api: FuzzApi, bytes: Uint8Array, asyncOnly?: boolean): Promise<string>;
