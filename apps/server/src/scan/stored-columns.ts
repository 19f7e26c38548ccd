/**
 * The columnar form of a stored manifest (docs/server.md#stored-columnar-manifests): beside the
 * manifest's gzip NDJSON blob, a file columns/<xx>/<manifest sha256> holding
 * encodeManifestColumns' bytes and their CRC-32, which report creation reads back instead of
 * parsing the NDJSON again (docs/benchmarks.md#server-2m-2m-records-end-to-end). It is a cache derived from the
 * manifest blob: written the first time a report reads the manifest (so manifests stored
 * before it existed get one too), deleted with the blob (BlobStore), and never trusted: a
 * missing, cut, damaged or other-version file is logged and the NDJSON is read instead (and the
 * file written again), so a report never depends on it being right.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import {
  columnarManifest,
  decodeManifestColumns,
  manifestColumns,
  manifestHeader,
  encodeManifestColumns,
  ManifestColumns,
  ManifestColumnsStreamEncoder,
  type ColumnsByteSource,
  type ColumnsStringInterner,
  type FileRecord,
  type Manifest,
  type ManifestHeader,
  StringTable,
} from '@sharemap/erofs';
import type { Logger } from '../log.js';
import type { BlobStore } from '../storage/blobs.js';
import { readStoredManifest, StoredBlobDamagedError } from './stored-manifest.js';

/**
 * zlib's CRC-32 of `bytes` continued from `crc`. An empty piece leaves it as it is: zlib's
 * crc32() answers 0 (its initial value) for a null buffer, which Node passes for a view of a
 * zero-length ArrayBuffer, so an empty column (no symlink targets, say) reset the running CRC
 * and the file was then read back as damaged.
 */
function crc32After(bytes: Uint8Array, crc: number): number {
  return bytes.byteLength === 0 ? crc : crc32(bytes, crc);
}

/** Bytes after the encoded form: its CRC-32 (zlib's), little-endian. */
const CRC_BYTES = 4;

/** The field of the fingerprints in a StringTable's slots (3i + field: path 0, fingerprint 1, sha256 2). */
const FINGERPRINT_FIELD = 1;

/**
 * What a columnar file's reader interns in `strings`: the fingerprints alone, which the
 * engine takes its ids from when several manifests share one table (ManifestColumns.declareInterned,
 * docs/manifest.md#fingerprint-ids). Paths and sha256s stay the decoded blob's slices, as a
 * lone manifest's always did: the engine compares them by value, and interning them cost two
 * thirds of reading two 1M-record manifests (docs/benchmarks.md#server-report2-2026-12-06).
 */
function fingerprintsInterner(strings: StringTable): ColumnsStringInterner {
  return {
    internAt: (slot, s) => strings.internAt(slot, s),
    internAtAscii: (slot, bytes, start, end, hash, make) =>
      strings.internAtAscii(slot, bytes, start, end, hash, make),
    canAdopt: (field) => field !== FINGERPRINT_FIELD || strings.canAdopt(field),
    adoptColumn: (field, values) => field !== FINGERPRINT_FIELD || strings.adoptColumn(field, values),
    internDistinct: (values) => strings.internDistinct(values),
  };
}

/** Bytes read (and their CRC-32 taken) at a time: small enough to be in the cache still when the CRC reads them. */
const READ_CHUNK_BYTES = 256 * 1024;

/**
 * A columnar file as decodeManifestColumns reads it: each section read (synchronously, in
 * chunks) into a buffer of its own, which its column then keeps as it is, or (a string blob
 * the decoder only decodes, pieces()) into one reused buffer a chunk at a time, and the CRC-32
 * taken of each chunk just read; once the form's last byte is read, the CRC-32 stored after it
 * is checked (ColumnsCrcError), before the decoder uses a string of it. Neither the file nor a
 * copy of it is ever whole in memory (docs/benchmarks.md, server-read).
 */
class ColumnsFileSource implements ColumnsByteSource {
  private at = 0;
  private crc = 0;
  /** pieces()' buffer, reused for every piece of every blob read so. */
  private chunk: Buffer | null = null;
  constructor(
    private readonly fd: number,
    readonly length: number,
  ) {}

  next(count: number): Uint8Array {
    // Not zero-filled: every byte is read into it below (or it is dropped with the error).
    const out = new Uint8Array(Buffer.allocUnsafeSlow(count).buffer, 0, count);
    for (let got = 0; got < count;) got += this.read(out, got, Math.min(READ_CHUNK_BYTES, count - got));
    this.checkEnd();
    return out;
  }

  /**
   * The string blobs the decoder only decodes into text, read into one buffer of
   * READ_CHUNK_BYTES again and again: first touching fresh memory costs the kernel a page
   * fault per 4 KiB, which on this machine was a third of the read's CPU
   * (docs/benchmarks.md, report-2m).
   */
  pieces(count: number, each: (bytes: Uint8Array) => void): void {
    const chunk = (this.chunk ??= Buffer.allocUnsafeSlow(READ_CHUNK_BYTES));
    for (let got = 0; got < count;) {
      const k = this.read(chunk, 0, Math.min(READ_CHUNK_BYTES, count - got));
      got += k;
      // The CRC-32 is checked once the last byte is read, after the last piece is decoded.
      each(chunk.subarray(0, k));
    }
    this.checkEnd();
  }

  /** Reads at most `count` bytes into `into` at `offset`, taking their CRC-32. */
  private read(into: Uint8Array, offset: number, count: number): number {
    const k = readSync(this.fd, into, offset, count, this.at);
    if (k === 0) throw new Error(`the file ends at ${this.at} bytes`);
    this.crc = crc32After(into.subarray(offset, offset + k), this.crc);
    this.at += k;
    return k;
  }

  /** Once the form's last byte is read: the CRC-32 stored after it must match. */
  private checkEnd(): void {
    if (this.at !== this.length) return;
    const trailer = Buffer.alloc(CRC_BYTES);
    if (readSync(this.fd, trailer, 0, CRC_BYTES, this.at) !== CRC_BYTES)
      throw new Error('the file ends before its CRC-32');
    if (trailer.readUInt32LE(0) !== this.crc >>> 0) throw new Error('its CRC-32 does not match its bytes');
  }
}

/** Why a columnar file was not used, or null when it was. */
async function readColumns(
  store: BlobStore,
  sha256: string,
  strings: StringTable,
): Promise<{ manifest: Manifest } | { problem: string }> {
  let fd: number;
  try {
    fd = openSync(store.columnsPath(sha256), 'r');
  } catch (e) {
    return { problem: (e as { code?: string }).code === 'ENOENT' ? 'missing' : (e as Error).message };
  }
  try {
    const size = fstatSync(fd).size;
    if (size < CRC_BYTES) return { problem: `${size} bytes` };
    const { header, cols, fingerprintIndex } = decodeManifestColumns(
      new ColumnsFileSource(fd, size - CRC_BYTES),
      fingerprintsInterner(strings),
    );
    // A version-2 file stores each record's fingerprint as an index among the distinct ones:
    // the table took those, so the columns carry their table indices without a string hashed
    // (docs/manifest.md#fingerprint-ids), a lone manifest's too.
    if (fingerprintIndex) cols.declareInterned(strings, fingerprintIndex);
    return { manifest: columnarManifest(header, cols) };
  } catch (e) {
    return { problem: (e as Error).message };
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the columnar file of the stored manifest blob `sha256` (temp file, then rename: never
 * half a file under its name): the manifest's columns when it is columnar (read back from its
 * NDJSON), else columns made from its records (a manifest the scan worker or an archive
 * prediction made). Returns null once written, else why not: a manifest the form cannot hold (a
 * lone surrogate, a string blob past MAX_COLUMNS_STRING_UNITS; logged at info) or the error
 * that stopped the write (logged at warn). Never throws: the file is a cache, and without it a
 * report reads the NDJSON (and writes the file then).
 */
export async function writeColumns(
  store: BlobStore,
  sha256: string,
  manifest: Manifest,
  log?: Logger,
): Promise<string | null> {
  try {
    const cols = manifestColumns(manifest) ?? ManifestColumns.fromRecords(manifest.files);
    const pieces = encodeManifestColumns(manifestHeader(manifest), cols);
    if (!pieces) {
      const why = 'the columnar form cannot hold it (a lone surrogate or a string blob too long)';
      log?.info('manifest stays without a columnar form', { manifest: sha256, problem: why });
      return why;
    }
    await placeColumns(store, sha256, async (fh) => {
      let crc = 0;
      for (const p of pieces) crc = crc32After(p, crc);
      await fh.writev(pieces);
      return crc;
    });
    return null;
  } catch (e) {
    log?.warn('could not write the columnar form of a manifest', { manifest: sha256, err: e });
    return (e as Error).message ?? String(e);
  }
}

type FileHandle = Awaited<ReturnType<typeof open>>;

/**
 * Writes a columnar file through `write` (which returns the CRC-32 of what it wrote) into a
 * temp file, appends the CRC-32 and renames it into place.
 */
async function placeColumns(
  store: BlobStore,
  sha256: string,
  write: (fh: FileHandle) => Promise<number>,
): Promise<void> {
  const dest = store.columnsPath(sha256);
  const tmp = path.join(store.tmpDir, `${randomBytes(12).toString('hex')}.cols`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    const crc = await write(fh);
    const trailer = Buffer.alloc(CRC_BYTES);
    trailer.writeUInt32LE(crc);
    await fh.write(trailer);
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await mkdir(path.dirname(dest), { recursive: true });
  // The manifest's blob may have been deleted meanwhile (retention): then its columns go too.
  await rename(tmp, dest);
  if (!(await store.has(sha256))) await rm(dest, { force: true });
}

/** Bytes copied at a time from a section's temp file into the columnar file. */
const COPY_CHUNK_BYTES = 1024 * 1024;

/**
 * The columnar file of a manifest being uploaded, written as its records are validated
 * (docs/server.md#stored-columnar-manifests): ManifestColumnsStreamEncoder's sections each go
 * to a temp file as they fill (written synchronously, a chunk of 256 KiB at a time), so memory
 * holds a chunk per section and the sparse fields, never the manifest. `commit` assembles them
 * into the manifest's columnar file once its blob is stored; `discard` drops them (a refused
 * upload). A failure here never fails the upload: the file is then made on the first report.
 */
export class UploadColumnsWriter {
  private readonly files = new Map<string, { path: string; fd: number }>();
  private readonly encoder: ManifestColumnsStreamEncoder | null = null;
  private failure: unknown = null;

  constructor(private readonly store: BlobStore) {
    try {
      this.encoder = this.newEncoder();
    } catch (e) {
      this.failure = e; // no temp file (too many open files...): the first report makes the file
      this.discard();
    }
  }

  private newEncoder(): ManifestColumnsStreamEncoder {
    return new ManifestColumnsStreamEncoder((name) => {
      const file = path.join(this.store.tmpDir, `${randomBytes(12).toString('hex')}.colpart`);
      const fd = openSync(file, 'wx', 0o600);
      this.files.set(name, { path: file, fd });
      return {
        write: (bytes) => {
          for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
        },
      };
    });
  }

  /** Appends one validated record; an I/O error ends the columnar file (not the upload). */
  push(record: FileRecord): void {
    if (this.failure !== null || !this.encoder) return;
    try {
      this.encoder.push(record);
    } catch (e) {
      this.failure = e;
    }
  }

  /**
   * Writes the columnar file of the stored manifest blob `sha256`; returns why it was not
   * written (a lone surrogate, a write that failed...), or null.
   */
  async commit(sha256: string, header: ManifestHeader): Promise<string | null> {
    try {
      if (this.failure !== null || !this.encoder)
        return (this.failure as Error).message ?? String(this.failure);
      const made = this.encoder.finish(header);
      if (!made) return this.encoder.refused;
      this.closeAll();
      await placeColumns(this.store, sha256, async (fh) => {
        let crc = crc32(made.head);
        await fh.write(made.head);
        const chunk = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
        for (const name of made.sections) {
          const part = this.files.get(name);
          if (!part) throw new Error(`no section ${name}`);
          const src = await open(part.path, 'r');
          try {
            for (;;) {
              const { bytesRead } = await src.read(chunk, 0, chunk.length);
              if (bytesRead === 0) break;
              const got = chunk.subarray(0, bytesRead);
              crc = crc32After(got, crc);
              await fh.write(got);
            }
          } finally {
            await src.close();
          }
        }
        return crc;
      });
      return null;
    } catch (e) {
      return (e as Error).message ?? String(e);
    } finally {
      this.discard();
    }
  }

  /** Removes the section files (after a commit, or for an upload refused or failed). */
  discard(): void {
    this.closeAll();
    for (const { path: file } of this.files.values()) rmSync(file, { force: true });
    this.files.clear();
  }

  private closeAll(): void {
    for (const f of this.files.values())
      if (f.fd >= 0) {
        closeSync(f.fd);
        f.fd = -1;
      }
  }
}

/** Bytes of a stored blob hashed at a time (checkStoredBlobHash). */
const HASH_CHUNK_BYTES = 1024 * 1024;

/**
 * Throws StoredBlobDamagedError unless the stored blob's bytes hash to its name. Read
 * synchronously into one reused buffer: a stream's 64 KiB chunks, each a new buffer and a round
 * trip to the thread pool, cost several times the hashing (docs/benchmarks.md, server-read).
 */
async function checkStoredBlobHash(store: BlobStore, sha256: string): Promise<void> {
  const hash = createHash('sha256');
  let fd = -1;
  try {
    fd = openSync(store.path(sha256), 'r');
    const chunk = Buffer.allocUnsafe(HASH_CHUNK_BYTES);
    for (let at = 0; ;) {
      const k = readSync(fd, chunk, 0, chunk.length, at);
      if (k === 0) break;
      hash.update(chunk.subarray(0, k));
      at += k;
    }
  } catch (e) {
    const err = e as { code?: string; message?: string };
    throw new StoredBlobDamagedError(sha256, err.code === 'ENOENT' ? 'missing' : (err.message ?? String(e)));
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  const actual = hash.digest('hex');
  if (actual !== sha256) throw new StoredBlobDamagedError(sha256, `its content hashes to ${actual}`);
}

/** Where a manifest for a report was read from. */
export type ManifestSource = 'columns' | 'ndjson';

/**
 * A stored manifest for report creation: from its columnar file when that is there and sound,
 * otherwise from its NDJSON blob (readStoredManifest, which checks the blob's hash), logging
 * why and writing the columnar file for the next report.
 */
export async function readManifestForReport(
  store: BlobStore,
  sha256: string,
  strings: StringTable,
  log?: Logger,
): Promise<{ manifest: Manifest; source: ManifestSource }> {
  const got = await readColumns(store, sha256, strings);
  if ('manifest' in got) {
    // The columns are a cache of the blob: a report is still refused when the blob itself no
    // longer hashes to its name (docs/server.md#stored-manifests-and-analysis-inputs), as the
    // NDJSON read would refuse it. Hashing the gzip bytes costs a fraction of reading them.
    await checkStoredBlobHash(store, sha256);
    return { manifest: got.manifest, source: 'columns' };
  }
  const manifest = await readStoredManifest(store, sha256, strings);
  if (got.problem === 'missing')
    log?.info('manifest has no columnar form yet: read its NDJSON', { manifest: sha256 });
  else
    log?.warn('columnar form of a manifest is damaged: read its NDJSON instead', {
      manifest: sha256,
      problem: got.problem,
    });
  await writeColumns(store, sha256, manifest, log);
  return { manifest, source: 'ndjson' };
}

/**
 * The stored manifests of a report, in order, read by readManifestForReport into one
 * StringTable (one copy of each recurring path, fingerprint and digest). Several manifests have
 * their fingerprints declared interned in it (ManifestColumns.declareInterned), so the engine takes
 * its fingerprint ids from the table; so has a lone one read from a version-2 columnar file
 * (readColumns: its fingerprints are stored deduplicated), and any other lone one stays as read.
 */
export async function readManifestsForReport(
  store: BlobStore,
  blobs: readonly string[],
  log?: Logger,
): Promise<Manifest[]> {
  const strings = new StringTable();
  const out: Manifest[] = [];
  for (const [k, sha256] of blobs.entries()) {
    const { manifest } = await readManifestForReport(store, sha256, strings, log);
    // The table at its final size before the first fingerprints go in (a hint: the others'
    // counts are not known yet), instead of rehashing at every doubling.
    if (k === 0 && blobs.length > 1) strings.reserve(manifest.file_count * blobs.length);
    // The table holds their fingerprints anyway: a manifest read from its columnar file after
    // another (interned as decoded), or the first of several (its adopted columns interned when
    // the second is read). A lone one is left as read: interning its fingerprints only for this
    // would cost what the engine's own Map costs (a version-2 file's come declared, unhashed).
    if (blobs.length > 1) manifestColumns(manifest)?.declareInterned(strings);
    out.push(manifest);
  }
  // Every string is in: the analysis needs the table's strings and ids, not its lookups.
  strings.releaseLookups();
  return out;
}
