/**
 * BlobStore.putGzipBytes (storage/blobs.ts): the stored bytes are gzipSync's of the pieces
 * joined, and its producer (the report JSON, generated on the analysis thread) is not held
 * back piece by piece while the thread pool compresses: the pieces up to its read-ahead are
 * taken before the event loop gets to I/O callbacks, which is where a finished compression of
 * a piece is reported. With Node's default 16 KiB, the second piece was asked for only after
 * the first was compressed, so generation and compression took turns.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobStore, SERVER_GZIP_LEVEL } from '../../src/storage/blobs.js';
import { tempDir } from '../helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('putGzipBytes', () => {
  it('takes the pieces ahead of their compression and stores the bytes gzipSync makes of them', async () => {
    const dir = tempDir('sharemap-blobs-gzip-');
    dirs.push(dir);
    const store = new BlobStore(dir);
    // Incompressible pieces, each one compressed for milliseconds on the pool: 3 x 2 MiB.
    const pieces = [0, 1, 2].map(() => new Uint8Array(randomBytes(2 * 1024 * 1024)));
    // The pieces asked for by the time the loop first reaches its check phase (setImmediate),
    // which follows the I/O callbacks that report a piece compressed.
    let beforeIo = -1;
    let asked = 0;
    function* source(): Generator<Uint8Array> {
      setImmediate(() => (beforeIo = asked));
      for (const p of pieces) {
        asked++;
        yield p;
      }
    }
    const stored = await store.putGzipBytes(source());
    expect(beforeIo).toBe(3);
    const bytes = readFileSync(store.path(stored.sha256));
    expect(bytes.equals(gzipSync(Buffer.concat(pieces), { level: SERVER_GZIP_LEVEL }))).toBe(true);
  });

  it('hands each piece back once zlib has taken it, and stores the same bytes', async () => {
    const dir = tempDir('sharemap-blobs-gzip-');
    dirs.push(dir);
    const store = new BlobStore(dir);
    // More pieces than the read-ahead (8 MiB) holds: some are handed back before the last is made.
    const pieces = Array.from({ length: 12 }, () => new Uint8Array(randomBytes(1024 * 1024)));
    const expected = gzipSync(Buffer.concat(pieces), { level: SERVER_GZIP_LEVEL });
    const back: Uint8Array[] = [];
    let backBeforeLast = -1;
    function* source(): Generator<Uint8Array> {
      for (const [k, p] of pieces.entries()) {
        if (k === pieces.length - 1) backBeforeLast = back.length;
        yield p;
      }
    }
    const stored = await store.putGzipBytes(source(), (piece) => {
      back.push(piece);
      // Whoever fills it again may write anything into it now.
      piece.fill(0xff);
    });
    expect(back).toHaveLength(pieces.length);
    expect(new Set(back).size).toBe(pieces.length);
    expect(backBeforeLast).toBeGreaterThan(0);
    expect(readFileSync(store.path(stored.sha256)).equals(expected)).toBe(true);
  });

  it('an error of the pieces fails the write and leaves no temp file', async () => {
    const dir = tempDir('sharemap-blobs-gzip-');
    dirs.push(dir);
    const store = new BlobStore(dir);
    function* source(): Generator<Uint8Array> {
      yield new Uint8Array(randomBytes(1024));
      throw new RangeError('a path contains NUL');
    }
    await expect(store.putGzipBytes(source(), () => undefined)).rejects.toThrow('a path contains NUL');
    expect(readdirSync(store.tmpDir)).toEqual([]);
  });
});
