/**
 * Connection-level guards (docs/server.md#limits): a cap on open connections answered with 503
 * (never a 500 from running out of file descriptors), and a body rate check that ends silent
 * or trickling request bodies with 408 (a body sent at 1 byte per 100 s would otherwise keep
 * its socket and its temp file for ever; the socket idle timeout never fires on it).
 */
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { RETRY_AFTER_SECONDS } from './errors.js';
import type { Limits } from './limits.js';
import type { Logger } from './log.js';

/** A minimal HTTP/1.1 answer written on a socket that the server will not serve. */
export function rawJsonResponse(status: number, reason: string, body: unknown, extra: string[] = []): string {
  const json = JSON.stringify(body);
  return [
    `HTTP/1.1 ${status} ${reason}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(json)}`,
    'Connection: close',
    ...extra,
    '',
    json,
  ].join('\r\n');
}

/**
 * At most `max` connections: one more is answered 503 with Retry-After and closed at once,
 * before its request is read, so the file descriptors of the process stay bounded.
 */
export function capConnections(server: Server, max: number, log: Logger): void {
  let open = 0;
  server.prependListener('connection', (socket: Socket) => {
    open++;
    socket.once('close', () => open--);
    if (open <= max) return;
    log.warn('connection refused: too many open connections', { open, limit: max });
    // The server would parse and serve it: take the socket away from it first.
    socket.removeAllListeners('data');
    socket.pause();
    socket.end(
      rawJsonResponse(
        503,
        'Service Unavailable',
        {
          error: {
            code: 'busy',
            message: `too many open connections (the limit maxConnections is ${max}); try again later`,
            limit: max,
          },
        },
        [`Retry-After: ${RETRY_AFTER_SECONDS}`],
      ),
    );
    socket.destroySoon();
  });
}

/**
 * The body rate check: every `windowMs`, a body not yet complete must have delivered at least
 * `minBytes` since the last check; otherwise the client gets 408 and the connection is closed
 * (the route reading the body sees an aborted stream and removes what it wrote).
 */
export function bodyTimeout(limits: Pick<Limits, 'bodyTimeoutMs' | 'minBodyBytesPerWindow'>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const len = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (req.complete || ((len === undefined || len === '0') && !chunked)) {
      next();
      return;
    }
    let seen = 0;
    const stop = (): void => clearInterval(timer);
    const timer = setInterval(() => {
      if (req.complete || req.destroyed) {
        stop();
        return;
      }
      if (seen >= limits.minBodyBytesPerWindow) {
        seen = 0;
        return;
      }
      stop();
      const answer = !res.headersSent;
      if (answer) {
        res.setHeader('Connection', 'close');
        res.status(408).json({
          error: {
            code: 'timeout',
            message: `the request body sent fewer than ${limits.minBodyBytesPerWindow} bytes in ${limits.bodyTimeoutMs} ms (the limits minBodyBytesPerWindow and bodyTimeoutMs)`,
            limit: limits.bodyTimeoutMs,
          },
        });
      }
      // After the answer has gone out: end the body, which the route sees as an abort.
      const end = (): void => {
        req.destroy();
      };
      if (answer && !res.writableFinished) res.once('finish', end);
      else end();
    }, limits.bodyTimeoutMs);
    timer.unref();
    // 'data' listeners would switch the stream to flowing mode before the route reads it:
    // count through a wrapper of push() instead.
    const push = req.push.bind(req);
    req.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
      if (chunk) seen += (chunk as Buffer).length;
      return push(chunk, encoding);
    };
    req.once('end', stop);
    req.once('close', stop);
    next();
  };
}
