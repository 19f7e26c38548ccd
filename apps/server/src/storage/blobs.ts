/**
 * Content-addressed blob folder: `blobs/<first 2 hex>/<sha256>`. Every write goes to a temp
 * file in `tmp/`, is hashed while it streams, fsynced, then renamed into place (and the
 * folder fsynced), so a blob is either complete or absent. Identical content is stored once.
 * `sweep()` (at startup, before requests) removes temp leftovers of interrupted writes and
 * blobs that no database row references; `collect()` (the garbage collector, src/gc) removes
 * blobs no row names while the server runs, past a grace period.
 *
 * Used by the main thread and by the worker threads (no Express, no SQLite here).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  type ReadStream,
} from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, gzipSync, createGzip, type ZlibOptions } from 'node:zlib';
import { pipeline, Readable, type TransformOptions, type Writable } from 'node:stream';

export class BlobTooLargeError extends Error {
  override readonly name = 'BlobTooLargeError';
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

/**
 * gzip level of the blobs the server writes (manifests, report JSON, analysis inputs, the web
 * UI's parts). Level 1: on the server's manifests and reports it compresses 1.5-2x faster
 * than level 6 for a few per cent more bytes (docs/benchmarks.md#server-2m-2m-records-end-to-end);
 * the stored bytes are what clients download with `Accept-Encoding: gzip`, so the size still
 * matters a little, the time of report creation more.
 */
export const SERVER_GZIP_LEVEL = 1;

/**
 * zlib's output buffer (its `chunkSize`; Node's default is 16 KiB): each buffer filled is one
 * round trip to libuv's thread pool and one chunk through write()'s loop, so a 40 MB report
 * blob took ~2,500 of each. The stored bytes do not depend on it.
 */
const GZIP_CHUNK_BYTES = 256 * 1024;

/**
 * Input putGzipBytes lets its producer run ahead of the compression (the gzip stream's
 * writable high-water mark; Node's default is 16 KiB). With the default, every 256 KiB piece
 * of the report JSON waited for the one before it to be compressed before it was generated:
 * generation on this thread and compression on the pool took turns instead of overlapping,
 * and this thread sat idle for a third of the blobs phase
 * (docs/benchmarks.md#server-report2-2026-12-06).
 */
const GZIP_READ_AHEAD_BYTES = 8 * 1024 * 1024;

/** Resolves when `w` drains or closes (a destroyed stream never drains). */
function drained(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      w.off('drain', done);
      w.off('close', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
  });
}

export interface StoredBlob {
  sha256: string;
  size: number;
}

const SHA_RE = /^[0-9a-f]{64}$/;

export class BlobStore {
  readonly blobDir: string;
  readonly tmpDir: string;
  /** Columnar forms of manifest blobs, by the blob's name (scan/stored-columns.ts): removed with their blob. */
  readonly columnsDir: string;

  /**
   * Blobs written by requests still in progress (`write(..., { hold: true })`), by count:
   * release() never removes one of these, so a refused upload cannot delete the blob of an
   * identical upload that is about to be recorded.
   */
  private readonly holds = new Map<string, number>();

  /**
   * Blobs release() is deciding about (it awaits the database): a write of the same content
   * meanwhile marks its entry, and release() then keeps the blob (the writer may record a row
   * after release() read the rows).
   */
  private readonly releasing = new Map<string, { taken: boolean }>();

  constructor(readonly dataDir: string) {
    this.blobDir = path.join(dataDir, 'blobs');
    this.tmpDir = path.join(dataDir, 'tmp');
    this.columnsDir = path.join(dataDir, 'columns');
    mkdirSync(this.blobDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
  }

  /** Path of a blob (the name is checked: no traversal through a crafted "sha"). */
  path(sha256: string): string {
    if (!SHA_RE.test(sha256)) throw new Error(`bad blob name ${JSON.stringify(sha256)}`);
    return path.join(this.blobDir, sha256.slice(0, 2), sha256);
  }

  /** Path of the columnar form of manifest blob `sha256` (docs/server.md#stored-columnar-manifests). */
  columnsPath(sha256: string): string {
    if (!SHA_RE.test(sha256)) throw new Error(`bad blob name ${JSON.stringify(sha256)}`);
    return path.join(this.columnsDir, sha256.slice(0, 2), sha256);
  }

  /** Removes a blob and the columnar form derived from it, if any. */
  private removeBlob(sha256: string): void {
    rmSync(this.path(sha256), { force: true });
    rmSync(this.columnsPath(sha256), { force: true });
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await stat(this.path(sha256));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Stream `source` into a new blob while hashing it. Throws BlobTooLargeError past
   * `maxBytes` (the temp file is removed); any error of the source removes it too.
   */
  async write(
    source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
    opts: { maxBytes?: number; onBytes?: (total: number) => void; hold?: boolean } = {},
  ): Promise<StoredBlob> {
    const max = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
    const tmp = path.join(this.tmpDir, `${randomBytes(12).toString('hex')}.part`);
    const fh = await open(tmp, 'wx', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    let ok = false;
    let inflight: Promise<void> = Promise.resolve();
    try {
      // Batch small chunks (a socket delivers 16-64 KiB) into writes of up to 1 MiB, with one
      // write in flight while the next batch is read (disk and network overlap).
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const writeAll = async (buf: Buffer): Promise<void> => {
        let off = 0;
        while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
      };
      const flush = async (): Promise<void> => {
        if (pendingBytes === 0) return;
        const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        await inflight;
        inflight = writeAll(buf);
        inflight.catch(() => undefined); // observed by the next await
      };
      for await (const chunk of source) {
        const buf =
          typeof chunk === 'string'
            ? Buffer.from(chunk)
            : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        size += buf.length;
        if (size > max) throw new BlobTooLargeError(max);
        hash.update(buf);
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes >= 1 << 20) await flush();
        opts.onBytes?.(size);
      }
      await flush();
      await inflight;
      await fh.sync();
      ok = true;
    } finally {
      await inflight.catch(() => undefined);
      await fh.close().catch(() => undefined);
      if (!ok) await rm(tmp, { force: true });
    }
    const sha256 = hash.digest('hex');
    // Taken before the first await of commit(): release() removes a blob synchronously after
    // its last check, so it either removed the blob before this point (commit then writes it
    // anew) or sees the hold (or the mark in `releasing`).
    if (opts.hold) {
      this.holds.set(sha256, (this.holds.get(sha256) ?? 0) + 1);
      const deciding = this.releasing.get(sha256);
      if (deciding) deciding.taken = true;
    }
    try {
      await this.commit(tmp, sha256);
    } catch (e) {
      if (opts.hold) this.unhold(sha256);
      throw e;
    }
    return { sha256, size };
  }

  private unhold(sha256: string): number {
    const n = (this.holds.get(sha256) ?? 0) - 1;
    if (n > 0) this.holds.set(sha256, n);
    else this.holds.delete(sha256);
    return Math.max(0, n);
  }

  /**
   * Give back a blob written with `hold`: once no request holds it and `referenced` says no
   * row names it (a refused or aborted upload), it is removed. The check after the database's
   * answer and the removal run without an await between them (see write).
   */
  async release(sha256: string, referenced: (sha256: string) => Promise<boolean>): Promise<void> {
    if (this.unhold(sha256) > 0) return;
    // Another release is deciding: a hold taken since it began marked it, so it asks again.
    if (this.releasing.has(sha256)) return;
    const deciding = { taken: false };
    this.releasing.set(sha256, deciding);
    try {
      for (;;) {
        deciding.taken = false;
        const named = await referenced(sha256);
        if (this.holds.has(sha256)) return; // its holder decides when it gives the blob back
        if (deciding.taken) continue; // written and given back meanwhile: ask the rows again
        if (!named) this.removeBlob(sha256);
        return;
      }
    } finally {
      this.releasing.delete(sha256);
    }
  }

  /**
   * Remove a blob written without `hold` whose row could not be recorded (a failed insert),
   * unless a request holds it or `referenced` says a row names it (blobs are shared by content).
   */
  discard(sha256: string, referenced: (sha256: string) => boolean): void {
    if (this.holds.has(sha256) || referenced(sha256)) return;
    this.removeBlob(sha256);
  }

  /** Store bytes (small content) as a blob. */
  async put(data: Uint8Array | string): Promise<StoredBlob> {
    return this.write([typeof data === 'string' ? Buffer.from(data) : data]);
  }

  /** Store lines gzip-compressed (NDJSON manifests, report JSON). */
  async putGzip(lines: Iterable<string> | AsyncIterable<string>): Promise<StoredBlob> {
    // pipeline, not pipe: an error of the lines (a refused upload) must end the gzip stream
    // too, so that write() stops and removes its temp file (pipe would leave it waiting).
    const gz = createGzip({ level: SERVER_GZIP_LEVEL, chunkSize: GZIP_CHUNK_BYTES });
    pipeline(Readable.from(batched(lines), { objectMode: false }), gz, () => undefined);
    return this.write(gz);
  }

  /**
   * Store bytes gzip-compressed, piece by piece (the sharemap-files encoding as views of its
   * columns): the compression runs on libuv's thread pool, the same bytes as gzipSync of the
   * pieces joined (zlib's output does not depend on how its input is split). The pieces are
   * taken up to GZIP_READ_AHEAD_BYTES ahead of the compression, so that making them (the
   * report JSON: CPU on this thread) overlaps compressing them.
   */
  async putGzipBytes(
    pieces: Iterable<Uint8Array>,
    /**
     * Called with each piece once zlib has taken it (its bytes are no longer read: the piece
     * may be filled again, report-wire's PiecePool); not for a piece whose write failed.
     */
    taken?: (piece: Uint8Array) => void,
  ): Promise<StoredBlob> {
    // zlib's streams are Transforms: Node passes these options on (its ZlibOptions type omits them).
    const options: ZlibOptions & TransformOptions = {
      level: SERVER_GZIP_LEVEL,
      chunkSize: GZIP_CHUNK_BYTES,
      writableHighWaterMark: GZIP_READ_AHEAD_BYTES,
    };
    const gz = createGzip(options);
    if (taken === undefined) {
      pipeline(Readable.from(pieces, { objectMode: false }), gz, () => undefined);
      return this.write(gz);
    }
    // As pipeline's callback above: write() sees the stream's error as it reads it.
    gz.on('error', () => undefined);
    const stored = this.write(gz);
    // The pieces written one by one, each write's callback (zlib has consumed the piece: a
    // Transform calls it after its _transform) handing it back; an error of the pieces ends
    // the gzip stream with it, so that write() stops and removes its temp file.
    void (async () => {
      try {
        for (const piece of pieces) {
          if (gz.destroyed) return;
          const more = gz.write(piece, (err) => {
            if (!err) taken(piece);
          });
          if (!more) await drained(gz);
        }
        gz.end();
      } catch (e) {
        gz.destroy(e as Error);
      }
    })();
    return stored;
  }

  putGzipSync(text: string): Promise<StoredBlob> {
    return this.put(gzipSync(text, { level: SERVER_GZIP_LEVEL }));
  }

  private async commit(tmp: string, sha256: string): Promise<void> {
    const dest = this.path(sha256);
    const dir = path.dirname(dest);
    await mkdir(dir, { recursive: true });
    // Same content already stored: replaced all the same (same bytes, a new file), so that
    // the blob's modification time is this write's: the garbage collector measures its grace
    // period from it (collect()), and an old copy it is about to remove is not this one.
    await rename(tmp, dest);
    await fsyncDir(dir);
  }

  /**
   * Garbage collection of blobs (docs/server.md#garbage-collection): remove every blob last
   * written before `cutoffMs` (epoch ms) that `live()` does not name and no request holds.
   * The candidates are listed first and `live()` is asked after, so a row committed after
   * the answer belongs to a writer that wrote its blob within the grace period, after the
   * cutoff. Each removal renames the blob into tmp/ first and looks at what it moved: a
   * writer that stored the same content again just before (a new file, written after the
   * cutoff) gets it back; one that stores it just after finds no file and renames its own.
   * No await between the checks and the removal: writes of this thread cannot interleave.
   */
  async collect(
    cutoffMs: number,
    live: () => Promise<Set<string>>,
  ): Promise<{ blobs: number; bytes: number }> {
    const candidates: string[] = [];
    for (const d of await readdir(this.blobDir, { withFileTypes: true })) {
      if (!d.isDirectory()) continue;
      for (const f of await readdir(path.join(this.blobDir, d.name))) {
        if (!SHA_RE.test(f)) continue;
        const st = await stat(path.join(this.blobDir, d.name, f)).catch(() => null);
        if (st?.isFile() && st.mtimeMs < cutoffMs) candidates.push(f);
      }
    }
    if (candidates.length === 0) return { blobs: 0, bytes: 0 };
    const named = await live();
    let blobs = 0;
    let bytes = 0;
    for (const sha of candidates) {
      if (named.has(sha) || this.holds.has(sha) || this.releasing.has(sha)) continue;
      const removed = this.removeIfOlder(sha, cutoffMs);
      if (removed !== null) {
        blobs++;
        bytes += removed;
      }
    }
    return { blobs, bytes };
  }

  /** Remove one blob unless it was written at or after `cutoffMs`; its size, or null when kept. */
  private removeIfOlder(sha256: string, cutoffMs: number): number | null {
    const dest = this.path(sha256);
    const trash = path.join(this.tmpDir, `${randomBytes(12).toString('hex')}.gc`);
    try {
      renameSync(dest, trash);
    } catch {
      return null; // removed meanwhile (release, another collection)
    }
    const st = statSync(trash);
    if (st.mtimeMs >= cutoffMs) {
      renameSync(trash, dest); // a writer stored it again just now: same content, keep it
      return null;
    }
    rmSync(trash, { force: true });
    rmSync(this.columnsPath(sha256), { force: true });
    return st.size;
  }

  createReadStream(sha256: string): ReadStream {
    return createReadStream(this.path(sha256));
  }

  async readGunzip(sha256: string): Promise<string> {
    return gunzipSync(await readFile(this.path(sha256))).toString('utf8');
  }

  /** Remove temp files and blobs not in `referenced`. Synchronous: runs at startup, before requests. */
  sweep(referenced: Set<string>): { tmp: number; orphans: number } {
    let tmp = 0;
    let orphans = 0;
    for (const f of readdirSync(this.tmpDir)) {
      rmSync(path.join(this.tmpDir, f), { force: true, recursive: true });
      tmp++;
    }
    for (const d of readdirSync(this.blobDir)) {
      const sub = path.join(this.blobDir, d);
      if (!statSync(sub).isDirectory()) continue;
      for (const f of readdirSync(sub)) {
        if (!referenced.has(f)) {
          rmSync(path.join(sub, f), { force: true, recursive: true });
          orphans++;
        }
      }
    }
    // Columnar forms whose manifest blob is gone (not counted: they are derived, not blobs).
    if (existsSync(this.columnsDir))
      for (const d of readdirSync(this.columnsDir)) {
        const sub = path.join(this.columnsDir, d);
        if (!statSync(sub).isDirectory()) continue;
        for (const f of readdirSync(sub))
          if (!referenced.has(f)) rmSync(path.join(sub, f), { force: true, recursive: true });
      }
    return { tmp, orphans };
  }
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some file systems refuse fsync on folders; the rename itself is still atomic.
  }
}

/**
 * Join small strings (one manifest record, one report column) into chunks of about 256 KiB:
 * each chunk is one call into zlib, and millions of tiny calls cost more than the compression.
 */
export async function* batched(lines: Iterable<string> | AsyncIterable<string>): AsyncGenerator<string> {
  let parts: string[] = [];
  let size = 0;
  for await (const line of lines) {
    parts.push(line);
    size += line.length;
    if (size >= 256 * 1024) {
      yield parts.join('');
      parts = [];
      size = 0;
    }
  }
  if (parts.length) yield parts.join('');
}
