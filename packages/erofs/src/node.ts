/**
 * Node entry (`@sharemap/erofs/node`): file-backed byte sources, node:crypto hashing and
 * one-call helpers. The only module of the package that imports Node built-ins.
 */
import { createHash, hash as cryptoHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { ErofsError } from './errors.js';
import type { Hasher, HasherFactory } from './hash.js';
import { openImage, type ErofsImage, type OpenImageOptions } from './image.js';
import { scanManifestTo, type ManifestFieldSink, type ManifestSink, type ScanOptions } from './manifest.js';
import type { Manifest, ManifestHeader } from './manifest-types.js';
import { checkRange, type ByteSource } from './source/types.js';
import { MAX_READAHEAD_BYTES } from './source/cached.js';
import { DigestPool, digestWorkerScript, releaseSpareDigestThreads } from './node/digest-pool.js';
import { getLz4Decoder, setLz4Decoder, type Lz4DecoderKind } from './decompress/index.js';

export * from './index.js';
export {
  DigestPool,
  defaultDigestThreads,
  DIGEST_POOL_CHANNEL,
  digestWorkerScript,
  MAX_DIGEST_THREADS,
  prestartDigestThreads,
  releaseSpareDigestThreads,
  spareDigestThreads,
  type DigestPoolStart,
  type DigestThreadStart,
} from './node/digest-pool.js';

export {
  manifestForTransfer,
  manifestFromTransfer,
  ManifestStringsHandover,
  TransferStringsWriter,
  type HandedStrings,
  type TransferredManifest,
  type TransferredStrings,
} from './node/columns-transfer.js';

/** Environment variable choosing the LZ4 decoder: `js` or `wasm` (docs/reader.md#lz4-decoders). */
export const LZ4_DECODER_ENV = 'SHAREMAP_LZ4_DECODER';

/**
 * The LZ4 decoder SHAREMAP_LZ4_DECODER names: undefined when it is unset or empty (the
 * WebAssembly default stays); a value other than `js` or `wasm` is refused by name (EINVAL).
 */
export function parseLz4DecoderEnv(env: NodeJS.ProcessEnv = process.env): Lz4DecoderKind | undefined {
  const v = env[LZ4_DECODER_ENV];
  if (v === undefined || v === '') return undefined;
  if (v !== 'js' && v !== 'wasm') {
    throw new ErofsError(
      'EINVAL',
      `${LZ4_DECODER_ENV} must be "js" or "wasm", not ${JSON.stringify(v.slice(0, 40))}`,
    );
  }
  return v;
}

/**
 * Apply SHAREMAP_LZ4_DECODER to the calling thread and return the decoder it now uses. A
 * process setting, read once where the process starts (the CLI's entry; the server's start
 * reads it into its configuration), never per image: threads started later are handed the
 * choice of the thread that starts them (the digest threads: DigestWorkerData.lz4Decoder;
 * the server's workers: its configuration), so a process uses one decoder
 * (docs/reader.md#lz4-decoders). Throws EINVAL for a bad value, naming the variable.
 */
export function lz4DecoderFromEnv(env: NodeJS.ProcessEnv = process.env): Lz4DecoderKind {
  const kind = parseLz4DecoderEnv(env);
  if (kind !== undefined) setLz4Decoder(kind);
  return getLz4Decoder();
}

export interface NodeFileSource extends ByteSource {
  close(): Promise<void>;
}

/**
 * A ByteSource over a file, read with positional `readSync`. A metadata scan issues tens of
 * thousands of small reads (inodes and directory blocks are scattered among data blocks, spec
 * docs/format.md#regions); through fs/promises each costs a libuv thread-pool round trip (~30 µs), which made the
 * hop, not the copy, the cost of a scan. Callers (the CLI, the server's scan worker threads) run
 * a scan off any event loop that serves requests, so blocking reads are the right trade.
 */
export async function nodeFileSource(path: string): Promise<NodeFileSource> {
  let fd: number;
  let stats: Stats;
  try {
    // O_NONBLOCK: open() of a FIFO without a writer would otherwise wait for one forever (the
    // kernel's fifo_open() sleeps in wait_for_partner()), in a thread that nothing can wake;
    // the fstat below then refuses it. Reads of a regular file ignore the flag.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (cause) {
    throw new ErofsError('EIO', `cannot open ${path}: ${(cause as Error).message}`, { path, cause });
  }
  try {
    stats = fstatSync(fd);
  } catch (cause) {
    closeSync(fd);
    throw new ErofsError('EIO', `cannot open ${path}: ${(cause as Error).message}`, { path, cause });
  }
  // An image is a regular file: a FIFO, socket or character device has no size and no
  // positions to read at, and fstat() gives a block device the size 0.
  const kind = nonRegularKind(stats);
  if (kind !== undefined) {
    closeSync(fd);
    throw new ErofsError('EINVAL', `not a regular file (${kind})`, { path });
  }
  const size = stats.size;
  let closed = false;
  function readInto(offset: number, target: Uint8Array): void {
    const length = target.length;
    try {
      checkRange(size, offset, length, path);
      if (closed) throw new ErofsError('EIO', `${path} is closed`, { offset });
      let done = 0;
      while (done < length) {
        const n = readSync(fd, target, done, length - done, offset + done);
        if (n === 0)
          throw new ErofsError('EIO', `short read of ${path} (${done} of ${length} bytes)`, {
            offset: offset + done,
          });
        done += n;
      }
    } catch (e) {
      throw e instanceof ErofsError
        ? e
        : new ErofsError('EIO', `cannot read ${path}: ${(e as Error).message}`, { offset, cause: e });
    }
  }
  return {
    size,
    read(offset: number, length: number): Promise<Uint8Array> {
      try {
        checkRange(size, offset, length, path);
        const buf = new Uint8Array(length);
        readInto(offset, buf);
        return Promise.resolve(buf);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    readInto,
    close() {
      if (!closed) {
        closed = true;
        closeSync(fd);
      }
      return Promise.resolve();
    },
  };
}

/** What a file that is not a regular one is, as a message names it; undefined for a regular file. */
function nonRegularKind(s: Stats): string | undefined {
  if (s.isFile()) return undefined;
  if (s.isFIFO()) return 'a FIFO';
  if (s.isDirectory()) return 'a directory';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  return 'a special file';
}

/** SHA-256 via node:crypto (native, fastest in Node). */
export const nodeSha256: HasherFactory = (): Hasher => {
  const h = createHash('sha256');
  return {
    update: (d) => {
      h.update(d);
    },
    digestHex: () => h.digest('hex'),
  };
};

/**
 * SHA-256 of a whole buffer in one call (ScanOptions.hashNow): node:crypto's one-shot hash
 * makes no Hash object, which a walk hashing tens of thousands of one-block files paid for in
 * garbage collection. Node releases without crypto.hash (before 20.12) use createHash.
 */
export const nodeSha256Now: (data: Uint8Array) => string =
  typeof cryptoHash === 'function'
    ? (data) => cryptoHash('sha256', data, 'hex')
    : (data) => createHash('sha256').update(data).digest('hex');

export interface OpenImageFileOptions extends Omit<OpenImageOptions, 'devices'> {
  /** Paths of extra devices in device-table order (`--blobdev` blob, `--tar=i` tarball). */
  devices?: string[];
}

export interface OpenedImageFile {
  image: ErofsImage;
  size: number;
  close(): Promise<void>;
}

/** Open an image file (and its extra device files). Call close() when done. */
export async function openImageFile(path: string, opts: OpenImageFileOptions = {}): Promise<OpenedImageFile> {
  const src = await nodeFileSource(path);
  const devs: NodeFileSource[] = [];
  const closeAll = async () => {
    await src.close();
    for (const d of devs) await d.close();
  };
  try {
    for (const d of opts.devices ?? []) devs.push(await nodeFileSource(d));
    const { devices: _d, ...rest } = opts;
    // 4 KiB cache blocks: inodes and directory blocks lie scattered among data blocks (mkfs
    // allocates them as it goes), so larger blocks mostly read file data during a metadata
    // scan, while a positional read costs little per call. Measured on a 600 MB image of
    // /usr/share: 510 MB read with 64 KiB blocks (the default, right for browser Blobs whose
    // reads cost far more per call), 178 MB with 16 KiB, 79 MB with 4 KiB.
    // Readahead then fetches a forward walk of the dense inode area in 256 KiB runs
    // (docs/reader.md#metadata-readahead): 4x fewer reads on that image, 40x on 1M inodes.
    const image = await openImage(src, {
      cache: { blockSize: 4096, readaheadBytes: MAX_READAHEAD_BYTES },
      ...rest,
      devices: devs,
    });
    return { image, size: src.size, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

export interface ScanImageFileOptions extends OpenImageFileOptions {
  hash?: boolean;
  /** Also hash the image file itself (adds image.sha256 to the manifest). */
  imageSha256?: boolean;
  onProgress?: ScanOptions['onProgress'];
  /**
   * With `hash`: worker threads that read and hash file content while this thread walks
   * (docs/reader.md#content-digests-on-worker-threads); 0 or unset hashes in this thread (the
   * server's scans, already on worker threads of their own). `sharemap scan` passes
   * `--threads` (default defaultDigestThreads()).
   */
  threads?: number;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  } finally {
    await fh.close().catch(() => undefined);
  }
  return h.digest('hex');
}

/** Scan an image file into a manifest (`sharemap scan`). */
export async function scanImageFile(path: string, opts: ScanImageFileOptions = {}): Promise<Manifest> {
  const files: Manifest['files'] = [];
  const header = await scanImageFileTo(path, opts, {
    header: () => undefined,
    record: (rec) => {
      files.push(rec);
    },
  });
  return { ...header, files };
}

/** Scan an image file into `sink`, record by record, holding none (`sharemap scan --ndjson`). */
export async function scanImageFileTo(
  path: string,
  opts: ScanImageFileOptions,
  sink: ManifestSink | ManifestFieldSink,
): Promise<ManifestHeader> {
  const { hash, imageSha256, onProgress, threads, ...openOpts } = opts;
  const opened = await openImageFile(path, openOpts);
  let pool: DigestPool | undefined;
  try {
    const scan: ScanOptions = {
      imageName: basename(path),
      imageSize: opened.size, // fstat of the open file: the size of exactly what is scanned
      hash: !!hash,
      hasher: nodeSha256,
      hashNow: nodeSha256Now,
    };
    if (onProgress) scan.onProgress = onProgress;
    if (imageSha256) scan.imageSha256 = await sha256File(path);
    const script = hash && threads && threads > 0 ? digestWorkerScript() : undefined;
    if (script) {
      pool = new DigestPool(
        script,
        // The digest threads decode with this thread's LZ4 decoder (docs/reader.md#lz4-decoders).
        { path, devices: openOpts.devices ?? [], limits: openOpts.limits, lz4Decoder: getLz4Decoder() },
        threads!,
      );
      scan.digester = pool;
    }
    return await scanManifestTo(opened.image, scan, sink);
  } finally {
    await pool?.close();
    // Threads started ahead (prestartDigestThreads) that this scan did not take.
    await releaseSpareDigestThreads();
    await opened.close();
  }
}
