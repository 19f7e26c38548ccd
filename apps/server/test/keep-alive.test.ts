/**
 * An idle keep-alive connection outlives a busy client: two requests on one socket with more
 * than Node's default keep-alive (5 s) between them both get their answer. With the default,
 * a client whose event loop was blocked that long (a synchronous child process, a loaded CI
 * runner) wrote its next POST into a socket the server was closing and got ECONNRESET
 * (KEEP_ALIVE_IDLE_MS, docs/server.md#limits).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEEP_ALIVE_IDLE_MS } from '../src/server.js';
import { startTestServer, type TestServer } from './helpers.js';

/** Node's own default keep-alive: the gap below must be longer than it. */
const NODE_DEFAULT_KEEP_ALIVE_MS = 5_000;

/** Writes one GET on the socket and resolves with the status line of its (complete) answer. */
function getOn(socket: Socket, url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // The server closed it while it was idle (what Node's default keep-alive does after 5 s).
    if (socket.destroyed || socket.readyState !== 'open') {
      reject(new Error(`the server closed the idle connection before ${url} (${socket.readyState})`));
      return;
    }
    let text = '';
    const onData = (b: Buffer): void => {
      text += b.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? NaN);
      if (!Number.isFinite(length) || text.length < end + 4 + length) return;
      done();
      resolve(text.slice(0, text.indexOf('\r\n')));
    };
    const onClose = (): void => {
      done();
      reject(new Error(`connection closed before the answer to ${url}; got ${JSON.stringify(text)}`));
    };
    const done = (): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onClose);
    socket.write(`GET ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
  });
}

describe('keep-alive', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  }, 180_000);
  afterAll(async () => {
    await s?.stop();
  });

  it("a connection idle for longer than Node's default keep-alive still carries the next request", async () => {
    expect(KEEP_ALIVE_IDLE_MS).toBeGreaterThan(NODE_DEFAULT_KEEP_ALIVE_MS * 2);
    const socket = connect(s.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    try {
      expect(await getOn(socket, '/api/health')).toBe('HTTP/1.1 200 OK');
      // Idle past the old 5 s (plus Node's check of it); the server keeps the socket for 65 s.
      await new Promise((r) => setTimeout(r, NODE_DEFAULT_KEEP_ALIVE_MS + 2_000));
      expect(await getOn(socket, '/api/health')).toBe('HTTP/1.1 200 OK');
    } finally {
      socket.destroy();
    }
  }, 120_000);
});
