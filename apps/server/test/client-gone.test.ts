/**
 * A client that closes its connection while a streamed answer is being made (a page left while
 * its analysis input loaded) is not a server fault: the error handler logs it at info, not as
 * an "internal error" (it was logged at error level in the e2e run).
 */
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { errorHandler } from '../src/errors.js';
import { createLogger } from '../src/log.js';

describe('a client that leaves during a streamed answer', () => {
  it('is logged at info level, not as an internal error', async () => {
    const lines: { level: string; msg: string }[] = [];
    let logged!: () => void;
    const handled = new Promise<void>((resolve) => (logged = resolve));
    const log = createLogger('debug', (line) => {
      lines.push(JSON.parse(line) as { level: string; msg: string });
      logged();
    });
    let started!: () => void;
    const streaming = new Promise<void>((resolve) => (started = resolve));
    const app = express();
    // A source that has not produced its first byte yet: the answer's headers are not sent.
    app.get('/slow', async (_req, res) => {
      const src = new PassThrough();
      started();
      await pipeline(src, res);
    });
    app.use(errorHandler(log));
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const { port } = server.address() as AddressInfo;
      const req = request({ host: '127.0.0.1', port, path: '/slow' });
      req.on('error', () => undefined); // the socket this test destroys
      req.end();
      await streaming;
      req.destroy();
      await handled;
      expect(lines).toEqual([
        expect.objectContaining({ level: 'info', msg: 'client closed the connection before the answer' }),
      ]);
    } finally {
      server.close();
    }
  }, 60_000);
});
