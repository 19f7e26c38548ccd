/**
 * Errors as the API returns them: `{ "error": { "code", "message", ...details } }` with a
 * 4xx status for every bad input, 5xx only for real server faults (logged with the request id).
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { ErofsError, ManifestError } from '@sharemap/erofs';
import { MountConfigError, ResidencyError } from '@sharemap/sharing';
import type { Logger } from './log.js';
import { PoolBusyError, TaskError } from './scan/pool.js';
import { STORED_BLOB_DAMAGED, StoredBlobDamagedError } from './scan/stored-manifest.js';

export type ErrorCode =
  | 'bad-request'
  | 'bad-name'
  | 'bad-multipart'
  | 'bad-json'
  | 'bad-report-request'
  | 'bad-manifest'
  | 'bad-mount-config'
  | 'bad-residency'
  | 'bad-image'
  | 'bad-archive'
  | 'bad-gzip'
  | 'bad-encoding'
  | 'bad-url'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'unknown-report'
  | 'not-ready'
  | 'conflict'
  | 'too-large'
  | 'unsupported-media-type'
  | 'unsupported-encoding'
  | 'busy'
  | 'timeout'
  | 'aborted'
  | 'damaged-data'
  | 'internal';

/** Retry-After of a 503 (queue full, connection cap, timeout): seconds. */
export const RETRY_AFTER_SECONDS = 10;

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badRequest = (code: ErrorCode, message: string, details?: Record<string, unknown>): HttpError =>
  new HttpError(400, code, message, details);
export const notFound = (what: string): HttpError => new HttpError(404, 'not-found', `${what} not found`);
export const tooLarge = (message: string, details?: Record<string, unknown>): HttpError =>
  new HttpError(413, 'too-large', message, details);
export const unsupportedMediaType = (message: string): HttpError =>
  new HttpError(415, 'unsupported-media-type', message);
export const unprocessable = (
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
): HttpError => new HttpError(422, code, message, details);

/** Refuse a body that is not `application/json` (415) before express.json() reads it. */
export const onlyJson: RequestHandler = (req, _res, next) => {
  const t = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (t !== 'application/json')
    next(
      unsupportedMediaType(
        `content type ${JSON.stringify(t || '(none)')} is not accepted: send application/json`,
      ),
    );
  else next();
};

/** Maps errors of the packages and of body parsers to HttpError; null for real faults. */
export function toHttpError(err: unknown): HttpError | null {
  if (err instanceof HttpError) return err;
  if (err instanceof PoolBusyError) return new HttpError(503, 'busy', err.message);
  if (err instanceof TaskError && err.code === 'timeout') return new HttpError(503, 'timeout', err.message);
  // A stored blob that is not what the server wrote (scan/stored-manifest.ts): a server fault,
  // but named, so the operator knows which file to restore.
  if (err instanceof StoredBlobDamagedError || (err instanceof TaskError && err.code === STORED_BLOB_DAMAGED))
    return new HttpError(500, 'damaged-data', err.message);
  if (err instanceof ManifestError) {
    const d: Record<string, unknown> = { line: err.line };
    if (err.field !== undefined) d.field = err.field;
    return unprocessable('bad-manifest', err.message, d);
  }
  // Parser errors located at file:line:column (mount configurations, residency inputs).
  if (err instanceof MountConfigError || err instanceof ResidencyError)
    return unprocessable(
      err instanceof MountConfigError ? 'bad-mount-config' : 'bad-residency',
      err.message,
      {
        reason: err.code,
        file: err.file,
        line: err.line,
        column: err.column,
        problem: err.problem,
      },
    );
  if (err instanceof ErofsError) {
    const d: Record<string, unknown> = { reason: err.code };
    if (err.offset !== undefined) d.offset = err.offset;
    return unprocessable('bad-image', err.message, d);
  }
  // A malformed percent-encoding in the path (`/api/reports/%ZZ`): the router's
  // decodeURIComponent throws URIError. The client's fault, not ours.
  if (err instanceof URIError)
    return badRequest('bad-url', `malformed percent-encoding in the URL: ${err.message}`);
  const e = err as { type?: string; status?: number; message?: string; expose?: boolean; code?: string };
  // A corrupt gzip/deflate/br body inflated by a body parser: zlib's error has a Z_* code
  // (brotli's ERR__ERROR_FORMAT_*), and body-parser gives it status 400 but no type.
  if (
    e &&
    typeof e === 'object' &&
    typeof e.code === 'string' &&
    (e.code.startsWith('Z_') || e.code.startsWith('ERR__ERROR_FORMAT') || e.code.startsWith('ERR_BROTLI'))
  )
    return badRequest('bad-encoding', `the compressed request body is corrupt: ${e.message ?? e.code}`);
  if (e && typeof e === 'object' && typeof e.type === 'string' && typeof e.status === 'number') {
    // body-parser / raw-body errors
    switch (e.type) {
      case 'entity.too.large':
        return tooLarge(
          `request body larger than the limit (${String((err as { limit?: number }).limit)} bytes)`,
        );
      case 'entity.parse.failed':
        return badRequest('bad-json', `request body is not valid JSON: ${e.message ?? ''}`);
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return new HttpError(415, 'unsupported-encoding', e.message ?? 'unsupported encoding');
      case 'request.aborted':
        return new HttpError(400, 'aborted', 'request aborted by the client');
      default:
        if (e.status >= 400 && e.status < 500)
          return new HttpError(e.status, 'bad-request', e.message ?? 'bad request');
    }
  }
  // Any other error that carries a client status (http-errors from a body parser).
  if (e && typeof e === 'object' && typeof e.status === 'number' && e.status >= 400 && e.status < 500)
    return new HttpError(e.status, 'bad-request', e.message ?? 'bad request');
  return null;
}

export function requestId(req: Request): string {
  return (req as Request & { id?: string }).id ?? '-';
}

/** A stream piped into the response failed because the client's connection closed. */
function clientGone(err: unknown, res: Response): boolean {
  return (err as { code?: string } | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE' && res.destroyed;
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const http = toHttpError(err);
    const id = requestId(req);
    if (clientGone(err, res)) {
      // The client closed the connection before the answer ended (a page left while its data
      // loaded): nothing to answer and no fault of the server's.
      log.info('client closed the connection before the answer', {
        reqId: id,
        method: req.method,
        path: req.path,
      });
      return;
    }
    if (res.headersSent) {
      log.warn('error after the response started', { reqId: id, err: err as Error });
      res.destroy();
      return;
    }
    const answer = (): void => {
      if (res.headersSent) return; // the body timeout answered 408 meanwhile (guards.ts)
      if (http) {
        if (http.status >= 500) log.error(http.message, { reqId: id, code: http.code });
        if (http.status === 503 && !res.getHeader('Retry-After'))
          res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
        res.status(http.status).json({ error: { code: http.code, message: http.message, ...http.details } });
        return;
      }
      log.error('internal error', { reqId: id, method: req.method, path: req.path, err: err as Error });
      res.status(500).json({
        error: { code: 'internal', message: `internal server error (request id ${id})`, requestId: id },
      });
    };
    if (req.complete || req.destroyed) answer();
    else answerAfterDrain(req, res, answer);
  };
}

/**
 * Bytes and time the unread body of a refused request may still take before the answer
 * (docs/server.md#limits): read and discarded, then the answer, then the connection closed.
 */
export const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
export const DRAIN_MAX_MS = 30_000;
/**
 * A refused request whose body stops arriving for this long (a client that declared a length
 * and sends nothing, or stalled) gets its answer then, on a connection kept open: the drain
 * goes on within the bounds above, so a client that still sends is never reset (no EPIPE),
 * and one whose body ends keeps a usable keep-alive connection (docs/server.md#limits).
 */
export const DRAIN_STALL_MS = 1_000;

/**
 * An error answered before the whole body was read (too large, bad type, bad token, a bad
 * first line): read and discard the rest first (bounded in bytes and time), then answer and
 * close the connection. Answering while the client is still sending would not do: the
 * connection closes after the answer (`Connection: close`), the kernel resets a connection
 * closed with unread data, and a client that reads only after sending its body (fetch, curl)
 * gets EPIPE or ECONNRESET instead of the answer. A body declared larger than
 * DRAIN_MAX_BYTES, or one that goes past it or past DRAIN_MAX_MS, is not waited for: the
 * answer goes at once and the connection closes. A body that stalls for DRAIN_STALL_MS is
 * answered then, without closing: the drain goes on behind the answer.
 */
function answerAfterDrain(
  req: Parameters<RequestHandler>[0],
  res: Parameters<RequestHandler>[1],
  answer: () => void,
): void {
  res.setHeader('Connection', 'close');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > DRAIN_MAX_BYTES) {
    answer();
    return;
  }
  let seen = 0;
  let done = false;
  let answered = false;
  const finish = (cut: boolean): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    clearTimeout(stall);
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', onEnd);
    req.off('error', onEnd);
    if (!answered) answer();
    if (!cut) return;
    // The rest of the body is not read: end the connection once the answer has gone out.
    if (res.writableFinished || !res.headersSent) req.destroy();
    else res.once('finish', () => req.destroy());
  };
  // A stall is no byte in a whole DRAIN_STALL_MS (bytes since the timer was armed re-arm it),
  // checked in the check phase (setImmediate), after the poll phase has read what already
  // arrived: a process descheduled past DRAIN_STALL_MS with bytes waiting is not a stall.
  let seenAtArm = 0;
  const onStall = (): void =>
    void setImmediate(() => {
      if (done || answered) return;
      if (seen !== seenAtArm) return armStall();
      answered = true;
      res.removeHeader('Connection'); // kept open: the drain goes on behind the answer
      answer();
    });
  let stall: NodeJS.Timeout | undefined;
  const armStall = (): void => {
    seenAtArm = seen;
    clearTimeout(stall);
    stall = setTimeout(onStall, DRAIN_STALL_MS);
    stall.unref();
  };
  const onData = (chunk: Buffer): void => {
    seen += chunk.length;
    if (seen > DRAIN_MAX_BYTES) finish(true);
  };
  // The body ended, or the client went away (an answer then goes nowhere, harmlessly).
  const onEnd = (): void => finish(false);
  const timer = setTimeout(() => finish(true), DRAIN_MAX_MS);
  timer.unref();
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('close', onEnd);
  req.on('error', onEnd);
  armStall();
  req.resume();
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not-found', `no route ${req.method} ${req.path}`));
};
