/**
 * Reading one manifest file (`sharemap scan --json|--ndjson|--format parquet` output, optionally
 * gzip) into columns, with every failure as one line naming the file (exit 2). Apart from
 * inputs.ts so that a thread that only reads manifests (manifest-read-worker.ts) loads the
 * manifest parsers, not the reader's scan, the OCI model or the sharing model.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import {
  isGzip,
  isParquet,
  ManifestBytesParser,
  ManifestError,
  parseManifestBytes,
  type Manifest,
  type ManifestStringSink,
  type ParseManifestOptions,
  type StringTable,
} from '@sharemap/erofs';
import type { ParquetReadHow, ParquetStringSink } from '@sharemap/erofs/parquet';
import { inputError, oneLine } from './errors.js';
import { fsMessage } from './images.js';

/**
 * How a manifest thread reads a file (manifest-read-worker.ts): `handOver` takes every record's
 * strings as the reader validates them (NDJSON, gzip NDJSON and Parquet), for the handover to
 * the main thread, instead of the columns.
 */
export interface ManifestReadHow {
  handOver?: ManifestStringSink & ParquetStringSink;
}

/**
 * Manifests are read into columns (docs/manifest.md#columnar-in-memory-form): the engine and the
 * trust model read those, and no record object is made unless something asks for `files`.
 */
function manifestReadOptions(
  strings: StringTable | undefined,
  how: ManifestReadHow = {},
): ParseManifestOptions {
  // With a table (an analysis): the paths stay bytes, not interned (a manifest's paths are
  // distinct), the fingerprints interned (docs/benchmarks.md#analyze-paths-paths-as-bytes-2026-12-07).
  if (strings) return { strings, columnar: true, pathBytes: true };
  return how.handOver ? { columnar: true, handOver: how.handOver } : { columnar: true };
}

/**
 * Bytes read at a time from a manifest file. Two such buffers alternate: the next piece is
 * read while this one is parsed, and a 300 MB manifest is never 300 MB of bytes in memory
 * (nor 300 MB of freshly faulted pages: a 300 MB buffer cost ~0.7 s of kernel time in page faults,
 * docs/manifest.md#reading-a-manifest-file).
 */
export const MANIFEST_READ_PIECE_BYTES = 4 << 20;

/** A manifest file's error as the CLI's one line naming the file. */
function manifestFileError(path: string, e: unknown): Error {
  if (e instanceof ManifestError) return inputError(`${path}: ${oneLine(e.message)}`);
  return inputError(`${path}: not a manifest: ${oneLine((e as Error).message)}`);
}

/**
 * The manifest in file `path`, in columns (strings interned in `strings` when given). `how`:
 * a manifest thread hands the strings over as it reads them (without `strings`).
 */
export async function readManifestFile(
  path: string,
  strings?: StringTable,
  how: ManifestReadHow = {},
): Promise<Manifest> {
  const cannotRead = (e: unknown): Error => inputError(`${path}: cannot read: ${fsMessage(e)}`);
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw cannotRead(e);
  }
  try {
    const bufs = [
      Buffer.allocUnsafe(MANIFEST_READ_PIECE_BYTES),
      Buffer.allocUnsafe(MANIFEST_READ_PIECE_BYTES),
    ];
    // Sequential reads (position null), so a pipe (`<(gunzip -c m.gz)`) reads like a file.
    const readInto = (buf: Buffer, at: number): Promise<number> =>
      fh.read(buf, at, buf.length - at, null).then(
        (r) => r.bytesRead,
        (e: unknown) => Promise.reject(cannotRead(e)),
      );
    // The form is told by the first bytes, whatever the name: Parquet ("PAR1"), gzip, else JSON/NDJSON text.
    let n = 0;
    for (let got = -1; n < 4 && got !== 0; n += got) got = await readInto(bufs[0]!, n);
    const head = bufs[0]!.subarray(0, n);
    if (isParquet(head) || isGzip(head)) {
      const whole = await readRest(head, (b) => readInto(b, 0));
      if (isParquet(whole))
        return await readParquetManifest(
          path,
          whole,
          strings,
          how.handOver ? { handOver: how.handOver } : {},
        );
      let text: Buffer;
      try {
        text = gunzipSync(whole);
      } catch (e) {
        throw inputError(`${path}: bad gzip data: ${fsMessage(e)}`);
      }
      try {
        return parseManifestBytes(text, manifestReadOptions(strings, how));
      } catch (e) {
        throw manifestFileError(path, e);
      }
    }
    // Text: parsed a piece at a time, each line as it completes, while the next piece is read.
    const parser = new ManifestBytesParser(manifestReadOptions(strings, how));
    for (let i = 0; n > 0; i++) {
      const next = readInto(bufs[(i + 1) & 1]!, 0);
      try {
        parser.push(bufs[i & 1]!.subarray(0, n));
      } catch (e) {
        await next.catch(() => 0);
        throw manifestFileError(path, e);
      }
      n = await next;
    }
    try {
      return parser.end();
    } catch (e) {
      throw manifestFileError(path, e);
    }
  } finally {
    await fh.close();
  }
}

/** `head` and every byte after it (Parquet is read from its footer, gzip is inflated whole). */
async function readRest(head: Buffer, read: (into: Buffer) => Promise<number>): Promise<Buffer> {
  const parts = [Buffer.from(head)];
  for (;;) {
    const piece = Buffer.allocUnsafe(MANIFEST_READ_PIECE_BYTES);
    const n = await read(piece);
    if (n === 0) return Buffer.concat(parts);
    parts.push(piece.subarray(0, n));
  }
}

/** The columnar form; the Parquet reader is loaded only for such a file. */
async function readParquetManifest(
  path: string,
  buf: Buffer,
  strings?: StringTable,
  how?: ParquetReadHow,
): Promise<Manifest> {
  const { parseParquetManifest } = await import('@sharemap/erofs/parquet');
  try {
    return await parseParquetManifest(buf, manifestReadOptions(strings), how);
  } catch (e) {
    throw manifestFileError(path, e);
  }
}

/** The largest Parquet footer manifestStringsHint reads (a 1M-record manifest's is ~8 KB). */
const MAX_HINT_FOOTER_BYTES = 1 << 20;

/**
 * The strings reading the manifest file `path` will intern, as its header declares them (each
 * record's fingerprint, and its sha256 when hashed: paths stay bytes), from what inspectInput read of
 * it (`head`, the first bytes) and, for Parquet, its footer; 0 when that is not known without
 * reading the file (gzip, a header past `head`, anything malformed). A claim of the file, for
 * StringTable.reserve, which caps it (docs/cli.md#manifest-threads).
 */
export async function manifestStringsHint(
  path: string,
  file: { size: number; head: Uint8Array },
): Promise<number> {
  let header: unknown;
  if (isParquet(file.head)) header = await parquetHeaderOf(path, file.size).catch(() => undefined);
  else if (!isGzip(file.head)) {
    const end = file.head.indexOf(0x0a);
    if (end < 0) return 0;
    try {
      header = JSON.parse(
        Buffer.from(file.head.subarray(0, end))
          .toString('utf8')
          .replace(/^\uFEFF/, ''),
      );
    } catch {
      return 0;
    }
  }
  if (!header || typeof header !== 'object') return 0;
  const { kind, file_count: count, hashed } = header as Record<string, unknown>;
  if (kind !== 'sharemap-manifest' || !Number.isSafeInteger(count) || (count as number) < 0) return 0;
  // Each record's fingerprint, and its sha256 when hashed (its path stays bytes: manifestReadOptions).
  return (hashed === true ? 2 : 1) * (count as number);
}

/** The header in a Parquet manifest's footer (parquetFooterHeader), reading only the footer. */
async function parquetHeaderOf(path: string, size: number): Promise<unknown> {
  const fh = await open(path, 'r');
  try {
    const end = Buffer.alloc(8);
    if (size < 8 || (await fh.read(end, 0, 8, size - 8)).bytesRead !== 8) return undefined;
    const length = end.readUInt32LE(0) + 8;
    if (length > size || length > MAX_HINT_FOOTER_BYTES) return undefined;
    const tail = Buffer.alloc(length);
    if ((await fh.read(tail, 0, length, size - length)).bytesRead !== length) return undefined;
    const { parquetFooterHeader } = await import('@sharemap/erofs/parquet');
    return parquetFooterHeader(tail);
  } finally {
    await fh.close();
  }
}
