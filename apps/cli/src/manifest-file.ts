/**
 * Reading one manifest file (`sharemap scan --json|--ndjson|--format parquet` output, optionally
 * gzip) into columns, with every failure as one line naming the file (exit 2). Apart from
 * inputs.ts so that a thread that only reads manifests (manifest-read-worker.ts) loads the
 * manifest parsers, not the reader's scan, the OCI model or the sharing model.
 */
import { channel } from 'node:diagnostics_channel';
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
import type { ManifestColumns } from '@sharemap/erofs';
import type { ParquetReadHow, ParquetStringSink } from '@sharemap/erofs/parquet';
import { appendTransferredPart, firstPathOfTransfer, type TransferredManifest } from '@sharemap/erofs/node';
import { inputError, oneLine } from './errors.js';
import { fsMessage } from './images.js';

/**
 * How a manifest thread reads a file (manifest-read-worker.ts): `handOver` takes every record's
 * strings as the reader validates them (NDJSON, gzip NDJSON and Parquet), for the handover to
 * the main thread, instead of the columns.
 */
export interface ManifestReadHow {
  handOver?: ManifestStringSink & ParquetStringSink;
  /**
   * A split read's second part, on a manifest thread (docs/cli.md#manifest-threads): the
   * header line and then the lines from byte `from` (the start of a line past the first
   * record) to the end, read as ParseManifestOptions.part (NDJSON text only).
   */
  part?: { from: number };
  /**
   * A split read's first part, in the main thread (with `strings`): the bytes before `at` are
   * read here, then `part` (the rest, read on a thread with `part: { from: at }`) is taken when
   * it completes the manifest as reading it here would (ManifestBytesParser.partFits); else,
   * when it failed or does not fit, the rest is read here too, for the same manifest or the same
   * error as a sequential read. `previous`: the columns read into `strings` before this file.
   */
  split?: { at: number; part: Promise<TransferredManifest>; previous: ManifestColumns | null };
}

/**
 * Manifests are read into columns (docs/manifest.md#columnar-in-memory-form): the engine and the
 * trust model read those, and no record object is made unless something asks for `files`.
 */
function manifestReadOptions(
  strings: StringTable | undefined,
  how: ManifestReadHow = {},
): ParseManifestOptions {
  if (strings) return { strings, columnar: true };
  return how.handOver ? { columnar: true, handOver: how.handOver } : { columnar: true };
}

/**
 * Bytes read at a time from a manifest file. Two such buffers alternate: the next piece is
 * read while this one is parsed, and a 300 MB manifest is never 300 MB of bytes in memory
 * (nor 300 MB of freshly faulted pages: a 300 MB buffer cost ~0.7 s of kernel time in page faults,
 * docs/manifest.md#reading-a-manifest-file).
 */
export const MANIFEST_READ_PIECE_BYTES = 4 << 20;

/**
 * Diagnostics channel (node:diagnostics_channel) on which every split read publishes, at its
 * split point, `{ path, at, taken }`: whether the thread's part was taken or the rest is read
 * here (the tests check both happen when they should).
 */
export const MANIFEST_SPLIT_CHANNEL = 'sharemap:manifest-split';
const splitChannel = channel(MANIFEST_SPLIT_CHANNEL);

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
    if (how.part) return await readManifestPart(path, fh, how.part.from, how.handOver, cannotRead);
    const bufs = [
      Buffer.allocUnsafe(MANIFEST_READ_PIECE_BYTES),
      Buffer.allocUnsafe(MANIFEST_READ_PIECE_BYTES),
    ];
    // A split read stops at `limit` (then goes on to the end if it must: readText).
    const split = strings ? how.split : undefined;
    let limit = split?.at ?? Infinity;
    let consumed = 0;
    // Sequential reads (position null), so a pipe (`<(gunzip -c m.gz)`) reads like a file.
    const readInto = (buf: Buffer, at: number): Promise<number> => {
      const max = Math.min(buf.length - at, limit - consumed);
      if (max <= 0) return Promise.resolve(0);
      return fh.read(buf, at, max, null).then(
        (r) => {
          consumed += r.bytesRead;
          return r.bytesRead;
        },
        (e: unknown) => Promise.reject(cannotRead(e)),
      );
    };
    // The form is told by the first bytes, whatever the name: Parquet ("PAR1"), gzip, else JSON/NDJSON text.
    let n = 0;
    for (let got = -1; n < 4 && got !== 0; n += got) got = await readInto(bufs[0]!, n);
    const head = bufs[0]!.subarray(0, n);
    if (isParquet(head) || isGzip(head)) {
      limit = Infinity;
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
    for (;;) {
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
      if (!split || limit === Infinity) break;
      // At the split point: the thread's part, or the rest read here.
      limit = Infinity;
      const taken = consumed === split.at && (await takePart(parser, split, strings!));
      if (splitChannel.hasSubscribers) splitChannel.publish({ path, at: split.at, taken });
      if (taken) break;
      n = await readInto(bufs[0]!, 0);
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

/**
 * A split read's first part is read into `parser`: takes the thread's part when it completes the
 * manifest as reading it here would. False (the caller reads the rest here, for the sequential
 * read's manifest or error) when the thread failed (its error is not reported: the same bytes
 * read here give it with its line number) or the part does not fit (order or count across the
 * split, an empty line before it, ...).
 */
async function takePart(
  parser: ManifestBytesParser,
  split: NonNullable<ManifestReadHow['split']>,
  strings: StringTable,
): Promise<boolean> {
  let part: TransferredManifest;
  try {
    part = await split.part;
  } catch {
    return false;
  }
  const first = firstPathOfTransfer(part);
  if (first === null || !parser.partFits(first, part.n)) return false;
  parser.takePart(part.n, (columns) => appendTransferredPart(columns, part, strings, split.previous));
  return true;
}

/** The longest header line a split read's part is read after (the parser's longest line, 8 Mi characters, in UTF-8). */
const MAX_HEADER_LINE_BYTES = 3 * 8 * 1024 * 1024 + 1;

/**
 * A split read's second part (ManifestReadHow.part): the header line (the bytes up to the first
 * "\n") and the bytes from `from` to the end, read as ParseManifestOptions.part. Any error is
 * the one line of a sequential read of the same line, but its line number is the part's: the
 * main thread never reports it (it reads the part itself instead).
 */
async function readManifestPart(
  path: string,
  fh: FileHandle,
  from: number,
  handOver: ManifestReadHow['handOver'],
  cannotRead: (e: unknown) => Error,
): Promise<Manifest> {
  const readAt = (buf: Buffer, at: number): Promise<number> =>
    fh.read(buf, 0, buf.length, at).then(
      (r) => r.bytesRead,
      (e: unknown) => Promise.reject(cannotRead(e)),
    );
  const parser = new ManifestBytesParser({
    columnar: true,
    part: true,
    ...(handOver ? { handOver } : {}),
  });
  const piece = Buffer.allocUnsafe(1 << 16);
  const header: Buffer[] = [];
  for (let at = 0; ;) {
    const n = await readAt(piece, at);
    const nl = piece.subarray(0, n).indexOf(0x0a);
    if (nl >= 0 && at + nl < from) {
      header.push(Buffer.from(piece.subarray(0, nl + 1)));
      break;
    }
    if (n === 0 || nl >= 0 || at + n > MAX_HEADER_LINE_BYTES)
      throw inputError(`${path}: no header line before byte ${from} to read the part after`);
    header.push(Buffer.from(piece.subarray(0, n)));
    at += n;
  }
  const bufs = [Buffer.allocUnsafe(MANIFEST_READ_PIECE_BYTES), Buffer.allocUnsafe(MANIFEST_READ_PIECE_BYTES)];
  try {
    parser.push(Buffer.concat(header));
    let at = from;
    let n = await readAt(bufs[0]!, at);
    for (let i = 0; n > 0; i++) {
      at += n;
      const next = readAt(bufs[(i + 1) & 1]!, at);
      try {
        parser.push(bufs[i & 1]!.subarray(0, n));
      } catch (e) {
        await next.catch(() => 0);
        throw e;
      }
      n = await next;
    }
    return parser.end();
  } catch (e) {
    if (e instanceof ManifestError) throw manifestFileError(path, e);
    throw e;
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
 * record's path and fingerprint, and its sha256 when hashed), from what inspectInput read of
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
  return (hashed === true ? 3 : 2) * (count as number);
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
