/**
 * Scanning an EROFS image named on the command line, with failures as one line naming the
 * file (exit 2). Apart from inputs.ts so that `sharemap scan` loads the reader, not the
 * sharing model and the mount parsers.
 */
import { ErofsError } from '@sharemap/erofs';
import { scanImageFile, scanImageFileTo, type ScanImageFileOptions } from '@sharemap/erofs/node';
import type { Manifest, ManifestFieldSink, ManifestHeader, ManifestSink } from '@sharemap/erofs';
import { inputError, oneLine } from './errors.js';
import { scanSplitTo, type ScanSplitOptions, type SplitSink } from './scan-split.js';

export function fsMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return 'no such file';
  if (err.code === 'EISDIR') return 'is a directory';
  if (err.code === 'EACCES') return 'permission denied';
  return oneLine(err.message ?? String(e));
}

/** One line for a reader error: `IMAGE: ECORRUPT: <problem> @ offset N`. */
export function imageErrorLine(path: string, e: unknown): string {
  if (e instanceof ErofsError) return `${path}: ${oneLine(e.message)}`;
  return `${path}: ${oneLine((e as Error).message ?? String(e))}`;
}

/** scanImage's errors for any scan of an image file. */
async function asInputError<T>(path: string, scan: () => Promise<T>): Promise<T> {
  try {
    return await scan();
  } catch (e) {
    if (e instanceof ErofsError && e.code === 'EIO' && /cannot open/.test(e.message)) {
      const cause = (e as Error & { cause?: unknown }).cause;
      throw inputError(`${path}: cannot read: ${cause ? fsMessage(cause) : oneLine(e.message)}`, e);
    }
    throw inputError(imageErrorLine(path, e), e);
  }
}

export function scanImage(path: string, opts: ScanImageFileOptions = {}): Promise<Manifest> {
  return asInputError(path, () => scanImageFile(path, opts));
}

/** scanImage streamed into `sink` (records in manifest order, none held). */
export function scanImageTo(
  path: string,
  opts: ScanImageFileOptions,
  sink: ManifestSink | ManifestFieldSink,
): Promise<ManifestHeader> {
  return asInputError(path, () => scanImageFileTo(path, opts, sink));
}

/**
 * scanImageTo on two threads (scan-split.ts) into the sink `makeSink()` gives; undefined, with
 * nothing written, when the image is scanned on one thread (scanImageTo, into a new sink).
 */
export function scanImageSplitTo(
  path: string,
  opts: ScanSplitOptions,
  makeSink: () => SplitSink,
): Promise<ManifestHeader | undefined> {
  return asInputError(path, () => scanSplitTo(path, opts, makeSink));
}
