/**
 * Index of an archive that is itself a tar (`docker save`, a tarred OCI layout): member
 * name -> data range, read header by header from a random-access source, never touching
 * the layers' bytes. Members are then streamed from their ranges.
 */
import type { ByteSource } from '@sharemap/erofs';
import { OciError } from './errors.js';
import type { OciLimits } from './limits.js';
import { BLOCK, parseNumber, parsePax } from './tar.js';

export interface ArchiveFile {
  size: number;
  /** The file's bytes, in chunks of bounded size (see StreamOptions.recycle). */
  stream(o?: StreamOptions): AsyncIterable<Uint8Array>;
}

export interface StreamOptions {
  /**
   * The consumer lets go of each chunk before RECYCLED_CHUNKS - 1 more have been pulled (it
   * copies whatever it keeps longer), so a source that can read into a given buffer
   * (ByteSource.readInto) may reuse RECYCLED_CHUNKS buffers instead of allocating one per
   * chunk: a fresh 4 MiB buffer per read cost page faults and garbage collections worth about
   * a quarter of the prediction's CPU (docs/benchmarks.md#oci-predicting-from-a-docker-save-archive).
   */
  recycle?: boolean;
}

/** Buffers a recycling stream rotates through (StreamOptions.recycle): the tar reader holds
 * at most two chunks (one it is joining with the next), the worker hasher one more. */
export const RECYCLED_CHUNKS = 4;

/** Files of an image archive or OCI layout directory by relative path ("index.json", "blobs/sha256/..."). */
export interface ArchiveFiles {
  /** Name for messages (the archive file or directory). */
  readonly name: string;
  get(path: string): Promise<ArchiveFile | undefined>;
}

/** Read size of archive members: large reads mean fewer awaits and allocations per byte
 * (docs/benchmarks.md#oci-predicting-from-a-docker-save-archive); one chunk is held at a time. */
const CHUNK = 4 << 20;

/**
 * Chunks of `source` from `offset`, `length` bytes; each chunk is a new buffer, unless
 * `recycle` (StreamOptions.recycle) and the source reads into given buffers.
 */
export async function* rangeChunks(
  source: ByteSource,
  offset: number,
  length: number,
  chunk = CHUNK,
  recycle = false,
): AsyncGenerator<Uint8Array> {
  const pool: Uint8Array[] | null = recycle && source.readInto && length > chunk ? [] : null;
  for (let p = 0, i = 0; p < length; p += chunk, i++) {
    const n = Math.min(chunk, length - p);
    if (!pool) {
      yield await source.read(offset + p, n);
      continue;
    }
    const b = (pool[i % RECYCLED_CHUNKS] ??= new Uint8Array(chunk)).subarray(0, n);
    source.readInto!(offset + p, b);
    yield b;
  }
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder();

function cleanName(n: string): string {
  const s = n.replace(/^(\.\/)+/, '');
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x2f) end--; // trailing '/' (a loop: no quadratic regex)
  return s.slice(0, end);
}

/**
 * Index a tar. `stopAt(name)` returning true ends indexing early (used to recognise a
 * plain rootfs tar without walking all its headers). Returns null when stopped.
 */
export async function indexTar(
  source: ByteSource,
  limits: OciLimits,
  name: string,
  stopAt?: (member: string) => boolean,
): Promise<Map<string, { offset: number; size: number }> | null> {
  const out = new Map<string, { offset: number; size: number }>();
  let off = 0;
  let longName: string | null = null;
  let paxPath: string | null = null;
  let count = 0;
  for (;;) {
    if (off + BLOCK > source.size)
      throw new OciError('ETRUNCATED', 'archive ends without the end-of-archive blocks', {
        member: name,
        offset: off,
      });
    const h = await source.read(off, BLOCK);
    if (h.every((b) => b === 0)) return out;
    if (++count > limits.maxEntries)
      throw new OciError('ELIMIT', `more than maxEntries (${limits.maxEntries}) archive members`, {
        member: name,
        offset: off,
      });
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (parseNumber(h, 148, 8, 'checksum', off) !== sum)
      throw new OciError('EFORMAT', 'bad tar header checksum', { member: name, offset: off });
    const size = parseNumber(h, 124, 12, 'size', off);
    const type = String.fromCharCode(h[156]!);
    const dataAt = off + BLOCK;
    const next = dataAt + size + ((BLOCK - (size % BLOCK)) % BLOCK);
    if (dataAt + size > source.size)
      throw new OciError('ETRUNCATED', 'archive ends inside a member', { member: name, offset: off });
    const small = async () => {
      if (size > limits.maxExtendedHeader)
        throw new OciError('ELIMIT', `extended header of ${size} bytes exceeds maxExtendedHeader`, {
          member: name,
          offset: off,
        });
      return source.read(dataAt, size);
    };
    if (type === 'x') {
      const p = parsePax(await small(), off).get('path');
      if (p) paxPath = utf8.decode(p);
    } else if (type === 'L') {
      const d = await small();
      const z = d.indexOf(0);
      longName = utf8.decode(z < 0 ? d : d.subarray(0, z));
    } else if (type !== 'g' && type !== 'K') {
      let n = paxPath ?? longName;
      if (n === null) {
        const raw = h.subarray(0, 100);
        const z = raw.indexOf(0);
        n = latin1.decode(z < 0 ? raw : raw.subarray(0, z));
        const prefix = h.subarray(345, 500);
        const pz = prefix.indexOf(0);
        if (h[262] === 0 && latin1.decode(h.subarray(257, 262)) === 'ustar' && pz !== 0)
          n = latin1.decode(pz < 0 ? prefix : prefix.subarray(0, pz)) + '/' + n;
      }
      paxPath = null;
      longName = null;
      const clean = cleanName(n);
      if (stopAt?.(clean)) return null;
      if (type === '0' || type === '\0' || type === '7') out.set(clean, { offset: dataAt, size });
    }
    off = next;
  }
}

/** ArchiveFiles over an indexed tar. */
export function tarFiles(
  source: ByteSource,
  index: Map<string, { offset: number; size: number }>,
  name: string,
): ArchiveFiles {
  return {
    name,
    get: async (path) => {
      const m = index.get(cleanName(path));
      if (!m) return undefined;
      return {
        size: m.size,
        stream: (o?: StreamOptions) => rangeChunks(source, m.offset, m.size, CHUNK, !!o?.recycle),
      };
    },
  };
}
