/**
 * Request bodies as bounded streams of decoded bytes: `Content-Encoding: gzip` (or gzip magic
 * bytes) is inflated chunk by chunk, and the limits are checked on the decompressed bytes as
 * they arrive (total size, and the ratio of decompressed to compressed bytes, which stops a
 * decompression bomb after its first megabytes rather than after a gigabyte). A client that
 * goes away ends the stream with an error (never an uncaught `aborted`).
 */
import type { RequestHandler } from 'express';
import type { IncomingMessage } from 'node:http';
import { createGunzip, type Gunzip } from 'node:zlib';
import { HttpError, tooLarge } from './errors.js';

/** Below this many decompressed bytes the ratio is not checked (small bodies compress well). */
export const RATIO_CHECK_FLOOR_BYTES = 1024 * 1024;

export interface DecodeLimits {
  /** Most decompressed bytes (413 beyond). */
  maxBytes: number;
  /** Most decompressed bytes per compressed byte, past RATIO_CHECK_FLOOR_BYTES (413 beyond). */
  maxRatio: number;
}

export function abortedError(): HttpError {
  return new HttpError(400, 'aborted', 'the upload was interrupted before its end');
}

/** The declared Content-Length, when there is one, refused up front past `limit`. */
export function checkDeclaredLength(req: IncomingMessage, limit: number, what: string): void {
  const len = Number(req.headers['content-length']);
  if (Number.isFinite(len) && len > limit)
    throw tooLarge(`${what} of ${len} bytes is larger than the limit of ${limit} bytes`, { limit });
}

/**
 * The first `n` bytes of the body without consuming them (they are put back with unshift), or
 * fewer with `ended` when the whole body is shorter.
 */
function peek(req: IncomingMessage, n: number): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let len = 0;
    const cleanup = (): void => {
      req.off('readable', onReadable);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onReadable = (): void => {
      let c: Buffer | null;
      while ((c = req.read() as Buffer | null) !== null) {
        chunks.push(c);
        len += c.length;
        if (len >= n) {
          cleanup();
          const all = Buffer.concat(chunks);
          req.unshift(all);
          resolve({ head: all.subarray(0, n), ended: false });
          return;
        }
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ head: Buffer.concat(chunks), ended: true });
    };
    const onError = (): void => {
      cleanup();
      reject(abortedError());
    };
    const onClose = (): void => {
      if (req.complete) return;
      cleanup();
      reject(abortedError());
    };
    req.on('readable', onReadable);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
    if (req.readableEnded) onEnd();
  });
}

/** Content-Encoding of a body we can decode: identity or gzip (415 for anything else). */
export function bodyEncoding(req: IncomingMessage): 'identity' | 'gzip' {
  const enc = String(req.headers['content-encoding'] ?? 'identity')
    .toLowerCase()
    .trim();
  if (enc === 'identity' || enc === '') return 'identity';
  if (enc === 'gzip' || enc === 'x-gzip') return 'gzip';
  throw new HttpError(
    415,
    'unsupported-encoding',
    `content encoding ${JSON.stringify(enc).slice(0, 80)} is not supported (gzip or none)`,
  );
}

/**
 * The decoded bytes of the body. Throws HttpError: 413 past a limit, 400 `bad-gzip` for a
 * corrupt or truncated gzip stream, 400 `aborted` when the client goes away. Leaving the loop
 * early (an error of the consumer) stops reading and inflating at once.
 */
export async function* decodedBody(req: IncomingMessage, limits: DecodeLimits): AsyncGenerator<Buffer> {
  const declared = bodyEncoding(req);
  const { head, ended } = await peek(req, 2);
  if (ended) {
    // The whole body was shorter than two bytes: nothing to inflate.
    if (declared === 'gzip' && head.length > 0)
      throw new HttpError(400, 'bad-gzip', 'the gzip stream is corrupt or truncated');
    if (head.length > limits.maxBytes) throw tooLargeBody(limits.maxBytes);
    if (head.length) yield head;
    return;
  }
  const gzip = declared === 'gzip' || (head[0] === 0x1f && head[1] === 0x8b);
  // zlib's bytesWritten is the input it has consumed so far: the ratio is exact per output
  // chunk, however much of the body has already arrived.
  const gunzip = gzip ? createGunzip() : null;
  // Leaving early (a refusal) stops reading but leaves the request open: the error handler
  // reads the rest before it answers (errors.ts answerAfterDrain), so the client, still
  // sending, gets the answer instead of a reset connection.
  const source: AsyncIterable<Buffer> = gunzip
    ? inflating(req, gunzip)
    : req.iterator({ destroyOnReturn: false });
  let total = 0;
  try {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > limits.maxBytes) throw tooLargeBody(limits.maxBytes);
      if (gunzip && total > RATIO_CHECK_FLOOR_BYTES && total > limits.maxRatio * gunzip.bytesWritten)
        throw tooLarge(
          `the body inflates more than ${limits.maxRatio} times (${total} bytes from ${gunzip.bytesWritten}): refused as a decompression bomb (the limit maxDecompressionRatio)`,
          { limit: limits.maxRatio },
        );
      yield chunk;
    }
    if (!req.complete) throw abortedError();
  } catch (e) {
    throw mapStreamError(e);
  }
}

/**
 * The request piped through `gunzip`, its output: an error or an early end of the request
 * (the client went away) ends the output with that error; leaving the loop early destroys
 * the gunzip and unpipes the request without destroying it.
 */
async function* inflating(req: IncomingMessage, gunzip: Gunzip): AsyncGenerator<Buffer> {
  const onError = (e: Error): void => void gunzip.destroy(e);
  const onClose = (): void => {
    if (!req.complete) gunzip.destroy(abortedError());
  };
  req.on('error', onError);
  req.on('close', onClose);
  req.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } finally {
    req.unpipe(gunzip);
    req.off('error', onError);
    req.off('close', onClose);
    gunzip.destroy();
  }
}

function tooLargeBody(limit: number): HttpError {
  return tooLarge(`body larger than the limit of ${limit} bytes (after decompression)`, { limit });
}

/** zlib and socket errors of a body stream as the client's fault (4xx). */
export function mapStreamError(e: unknown): unknown {
  if (e instanceof HttpError) return e;
  const code = (e as { code?: string }).code;
  if (typeof code === 'string' && (code.startsWith('Z_') || code === 'ERR_ZLIB_INITIALIZATION_FAILED'))
    return new HttpError(400, 'bad-gzip', `the gzip stream is corrupt or truncated: ${(e as Error).message}`);
  if (
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'ECONNABORTED' ||
    (e as Error).message === 'aborted'
  )
    return abortedError();
  return e;
}

/**
 * A Content-Length past `limit` refused with 413 before the body is read. body-parser knows
 * the length too, but reads (and discards) the whole body before it answers: a client that
 * declared a terabyte would wait for its own upload, or the body timeout.
 */
export function declaredBodyLimit(limit: number): RequestHandler {
  return (req, _res, next) => {
    try {
      checkDeclaredLength(req, limit, 'request body');
      next();
    } catch (e) {
      next(e);
    }
  };
}
