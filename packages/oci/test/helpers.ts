import { createReadStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FileRecord, Manifest, Nid } from '@sharemap/erofs';
import { nodeSha256, scanImageFile } from '@sharemap/erofs/node';
import { readTar, resolveOciLimits } from '../src/index.js';

export const OCI_DATA = fileURLToPath(new URL('../../../testdata/oci/', import.meta.url));
export const hasher = nodeSha256;

export function fileChunks(path: string): AsyncIterable<Uint8Array> {
  return createReadStream(path, { highWaterMark: 64 * 1024 }) as AsyncIterable<Uint8Array>;
}

export async function* bytesChunks(b: Uint8Array, size = 1000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

/** The bytes of member `name` of a tar file. */
export async function tarMember(path: string, name: string): Promise<Uint8Array> {
  const dec = new TextDecoder();
  for await (const e of readTar(bytesChunks(readFileSync(path), 65536), resolveOciLimits())) {
    if (dec.decode(e.name) === name) {
      const parts: Uint8Array[] = [];
      for await (const c of e.data()) parts.push(c.slice());
      return Buffer.concat(parts);
    }
  }
  throw new Error(`no member ${name} in ${path}`);
}

/** A record without the on-disk fields a prediction cannot know (nid, layout). */
export function comparable(f: FileRecord): Omit<FileRecord, 'nid' | 'layout'> {
  const { nid: _n, layout: _l, ...rest } = f;
  return rest;
}

export async function scanned(img: string): Promise<Manifest> {
  return scanImageFile(OCI_DATA + img, { hash: true });
}

/** Hard-link groups as sorted path lists, keyed by nid (predicted nids are inode ordinals). */
export function linkGroups(m: Manifest): string[][] {
  const by = new Map<Nid, string[]>();
  for (const f of m.files) if (f.type !== 'dir') by.set(f.nid, [...(by.get(f.nid) ?? []), f.path]);
  return [...by.values()]
    .filter((g) => g.length > 1)
    .map((g) => g.sort())
    .sort();
}

/** Deterministic pseudo-random bytes (xorshift32), so no two blocks of test data are alike. */
export function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
