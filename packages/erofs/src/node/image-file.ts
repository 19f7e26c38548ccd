/**
 * Image files in Node: a file-backed ByteSource read with positional `readSync` and
 * openImageFile(). Its own module so that a digest thread (digest-worker.ts) loads the reader
 * and this, not the whole package that `@sharemap/erofs/node` re-exports (manifests, Parquet,
 * columns): a smaller module graph for every thread that starts
 * (docs/benchmarks.md#verify-lz4c-compiled-code-kept-a-smaller-digest-thread-2026-12-07).
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { ErofsError } from '../errors.js';
import { openImage, type ErofsImage, type OpenImageOptions } from '../image.js';
import { checkRange, type ByteSource } from '../source/types.js';

/** The metadata cache of an image file opened with openImageFile (docs/reader.md#metadata-readahead). */
export const FILE_CACHE_BYTES = 4 << 20;
/** Its readahead run (at most MAX_READAHEAD_BYTES, source/cached.ts). */
export const FILE_READAHEAD_BYTES = 64 << 10;

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
    // Readahead then fetches a forward walk of the dense inode area in runs of 64 KiB
    // (docs/reader.md#metadata-readahead), into a cache of 4 MiB: a walk reads each directory's
    // children once, so more cache mostly holds readahead data, and every MiB of it is ~256
    // first-touch page faults of the walking thread; 16 MiB with 256 KiB runs cost the walk of
    // /usr/share and of 1M inodes more CPU, not less (docs/benchmarks.md, verify-walk3).
    const image = await openImage(src, {
      cache: { blockSize: 4096, maxBytes: FILE_CACHE_BYTES, readaheadBytes: FILE_READAHEAD_BYTES },
      ...rest,
      devices: devs,
    });
    return { image, size: src.size, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
