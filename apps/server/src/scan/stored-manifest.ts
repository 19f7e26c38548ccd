/**
 * A manifest blob this server wrote, read back for an analysis without validating each record
 * again (docs/server.md#stored-manifests-and-analysis-inputs). Every stored manifest is in the
 * canonical NDJSON form, either validated on its way in (ManifestStreamValidator: all the rules
 * of parseManifest) or written by the server's own scan or archive prediction
 * (manifestToNdjson), and a blob's name is the sha256 of its bytes: so the bytes are hashed
 * while they are read, and a blob whose hash is not its name (a damaged disk, an edited file)
 * is refused with StoredBlobDamagedError before any report is made from it. What remains is
 * gunzip, one JSON.parse per line and the string interning the engine relies on (StringTable).
 */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  columnarManifest,
  ManifestColumns,
  ManifestError,
  NdjsonManifestParser,
  type FileRecord,
  type Manifest,
  type ManifestHeader,
  type StringTable,
} from '@sharemap/erofs';
import type { BlobStore } from '../storage/blobs.js';

/** Longest line of a stored manifest (written by this server, so trusted more than an upload). */
export const MAX_STORED_LINE_BYTES = 64 * 1024 * 1024;

/** `code` of StoredBlobDamagedError (also as a worker's TaskError code). */
export const STORED_BLOB_DAMAGED = 'stored-blob-damaged';

/** A stored blob whose bytes are not what the server wrote (its sha256 is not its name, or it does not decode). */
export class StoredBlobDamagedError extends Error {
  override readonly name = 'StoredBlobDamagedError';
  readonly code = STORED_BLOB_DAMAGED;
  constructor(
    readonly blob: string,
    problem: string,
  ) {
    super(
      `stored blob ${blob} is damaged (${problem}): restore the data folder from a backup or upload the input again`,
    );
  }
}

/**
 * The lines of a gzip blob as strings (without "\n"), hashing the stored bytes on the way; the
 * hash is compared with the blob's name once the last byte has been read.
 */
export async function* storedBlobLines(
  store: BlobStore,
  sha256: string,
  maxLine = MAX_STORED_LINE_BYTES,
): AsyncGenerator<string> {
  for await (const [bytes, start, end] of storedBlobLineBytes(store, sha256, maxLine))
    yield bytes.toString('utf8', start, end);
}

/**
 * A stored manifest blob (gzip NDJSON, the canonical lines written at upload or scan) as a
 * columnar Manifest (docs/manifest.md#columnar-in-memory-form), with paths, fingerprints and
 * digests interned in `strings` at the same slots as the validating parser. The lines go
 * through NdjsonManifestParser's byte fast path (the canonical record lines: no UTF-8 decoding,
 * no JSON.parse, no object per record), straight from the gunzipped chunks; should that parser
 * refuse anything (a manifest the server's own scan wrote can pass limits an upload may not),
 * the blob is read again by readStoredManifestTrusted, which takes the lines as written.
 * Never one string: a manifest past V8's string limit (512 MiB) reads like a small one.
 */
export async function readStoredManifest(
  store: BlobStore,
  sha256: string,
  strings: StringTable,
): Promise<Manifest> {
  const parser = new NdjsonManifestParser({
    columnar: true,
    strings,
    maxLineLength: MAX_STORED_LINE_BYTES,
    maxRecords: Number.MAX_SAFE_INTEGER,
    maxXattrs: Number.MAX_SAFE_INTEGER,
  });
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  try {
    for await (const [bytes, start, end] of storedBlobLineBytes(store, sha256)) {
      if (!parser.lineBytes(bytes, start, end)) parser.line(decoder.decode(bytes.subarray(start, end)));
    }
    return parser.end();
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    return readStoredManifestTrusted(store, sha256, strings);
  }
}

/**
 * The lines of a gzip blob as byte ranges [start, end) of a buffer (without "\n"), hashing the
 * stored bytes on the way like storedBlobLines; a range is valid until the next one is asked for.
 */
async function* storedBlobLineBytes(
  store: BlobStore,
  sha256: string,
  maxLine = MAX_STORED_LINE_BYTES,
): AsyncGenerator<[Buffer, number, number]> {
  const hash = createHash('sha256');
  const file = store.createReadStream(sha256);
  file.on('data', (c: Buffer | string) => {
    hash.update(c);
  });
  const text = pipeline(file, createGunzip(), () => undefined);
  let rest: Buffer | null = null;
  try {
    for await (const chunk of text as AsyncIterable<Buffer>) {
      const buf: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
        yield [buf, start, nl];
        start = nl + 1;
      }
      rest = start < buf.length ? buf.subarray(start) : null;
      if (rest && rest.length > maxLine)
        throw new StoredBlobDamagedError(sha256, `a line longer than ${maxLine} bytes`);
    }
  } catch (e) {
    if (e instanceof StoredBlobDamagedError) throw e;
    const err = e as { code?: string; message?: string };
    if (err.code === 'ENOENT') throw new StoredBlobDamagedError(sha256, 'missing');
    throw new StoredBlobDamagedError(sha256, `gzip: ${err.message ?? String(e)}`);
  }
  if (rest) yield [rest, 0, rest.length];
  const actual = hash.digest('hex');
  if (actual !== sha256) throw new StoredBlobDamagedError(sha256, `its content hashes to ${actual}`);
}

/**
 * readStoredManifest taking each line as the server wrote it: header, then each line's record
 * as JSON.parse gives it goes into the columns and is dropped (no validation: the blob's hash
 * is its name). For a stored manifest the validating parser refuses.
 */
export async function readStoredManifestTrusted(
  store: BlobStore,
  sha256: string,
  strings: StringTable,
): Promise<Manifest> {
  let header: ManifestHeader | null = null;
  let cols: ManifestColumns | null = null;
  let lineNo = 0;
  for await (const line of storedBlobLines(store, sha256)) {
    lineNo++;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new StoredBlobDamagedError(sha256, `line ${lineNo} is not JSON: ${(e as Error).message}`);
    }
    if (cols === null) {
      header = value as ManifestHeader;
      cols = new ManifestColumns(header.file_count);
      continue;
    }
    const r = value as FileRecord;
    const slot = 3 * cols.n;
    r.path = strings.internAt(slot, r.path);
    if (r.fingerprint !== null) r.fingerprint = strings.internAt(slot + 1, r.fingerprint);
    if (r.sha256 !== undefined) r.sha256 = strings.internAt(slot + 2, r.sha256);
    cols.pushRecord(r);
  }
  if (header === null || cols === null) throw new StoredBlobDamagedError(sha256, 'empty');
  if (cols.n !== header.file_count)
    throw new StoredBlobDamagedError(
      sha256,
      `file_count is ${header.file_count} but ${cols.n} records follow`,
    );
  return columnarManifest(header, cols);
}
