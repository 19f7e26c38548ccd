/**
 * HTTP as a hostile or careless client sends it: bytes written on a plain socket (truncated
 * bodies, trickles, aborts, headers that never end), and the answer parsed by hand. Loopback only.
 */
import { connect, type Socket } from 'node:net';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON, or undefined. */
  json: unknown;
}

/** Parse the first response in `data` (Content-Length or until close; no chunked bodies from errors). */
export function parseResponse(data: Buffer): RawResponse | null {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = data.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
  if (!m) return null;
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let bodyBuf = data.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    let off = 0;
    for (;;) {
      const nl = bodyBuf.indexOf('\r\n', off);
      if (nl < 0) return null;
      const size = parseInt(bodyBuf.subarray(off, nl).toString('latin1'), 16);
      if (size === 0) break;
      if (bodyBuf.length < nl + 2 + size) return null;
      parts.push(bodyBuf.subarray(nl + 2, nl + 2 + size));
      off = nl + 2 + size + 2;
    }
    bodyBuf = Buffer.concat(parts);
  } else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (bodyBuf.length < n) return null;
    bodyBuf = bodyBuf.subarray(0, n);
  }
  const body = bodyBuf.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: Number(m[1]), headers, body, json };
}

export interface RawOptions {
  /**
   * After the bytes are written: 'wait' for the answer (default), 'abort' (destroy the socket
   * at once, as a client that goes away), or 'trickle' (send `trickle` one byte at a time every
   * `everyMs` until the server answers or closes).
   */
  then?: 'wait' | 'abort' | 'trickle';
  trickle?: Buffer;
  everyMs?: number;
  /** Give up waiting after this long (the test fails with a clear message instead of hanging). */
  waitMs?: number;
}

export interface RawResult {
  response: RawResponse | null;
  /** The server closed the connection (or it was reset). */
  closed: boolean;
  /** We gave up waiting (waitMs) without a complete answer. */
  gaveUp: boolean;
}

/** Write `bytes` on a new connection to 127.0.0.1:port and collect the answer. */
export function rawRequest(port: number, bytes: Buffer | string, opts: RawOptions = {}): Promise<RawResult> {
  const then = opts.then ?? 'wait';
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    let trickleTimer: NodeJS.Timeout | undefined;
    const sock: Socket = connect(port, '127.0.0.1');
    const finish = (closed: boolean, gaveUp: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      clearInterval(trickleTimer);
      const response = parseResponse(Buffer.concat(chunks));
      sock.destroy();
      resolve({ response, closed, gaveUp });
    };
    const giveUp = setTimeout(() => finish(false, true), opts.waitMs ?? 30_000);
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      // Keep reading until close when the server says it will close; else stop at a full answer.
      const r = parseResponse(Buffer.concat(chunks));
      if (r && r.headers.connection !== 'close' && then !== 'trickle') finish(false, false);
    });
    sock.on('error', () => finish(true, false));
    sock.on('close', () => finish(true, false));
    sock.on('connect', () => {
      sock.write(bytes);
      if (then === 'abort') {
        sock.resetAndDestroy();
        finish(true, false);
      } else if (then === 'trickle') {
        const src = opts.trickle ?? Buffer.alloc(0);
        let i = 0;
        trickleTimer = setInterval(() => {
          if (i < src.length && !sock.destroyed) sock.write(src.subarray(i, ++i));
        }, opts.everyMs ?? 50);
      }
    });
  });
}

/** An HTTP/1.1 request as bytes; Content-Length from `body` unless given in `headers`. */
export function httpRequest(
  method: string,
  target: string,
  headers: Record<string, string | number> = {},
  body: Buffer | string = '',
): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const h: Record<string, string | number> = { host: '127.0.0.1', ...headers };
  if (
    !Object.keys(h).some(
      (k) => k.toLowerCase() === 'content-length' || k.toLowerCase() === 'transfer-encoding',
    )
  )
    if (b.length || method !== 'GET') h['content-length'] = b.length;
  const head = `${method} ${target} HTTP/1.1\r\n${Object.entries(h)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), b]);
}

/** Every file under `dir` (relative paths), for "nothing new in the data folder" checks. */
export function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(path.join(dir, rel));
  } catch {
    return out;
  }
  for (const n of names) {
    const p = path.join(rel, n);
    if (statSync(path.join(dir, p)).isDirectory()) out.push(...filesUnder(dir, p));
    else out.push(p);
  }
  return out.sort();
}

/** Blob and temp files of a data folder (what a refused request must not leave). */
export function storedFiles(dataDir: string): string[] {
  return [
    ...filesUnder(path.join(dataDir, 'blobs')).map((f) => `blobs/${f}`),
    ...filesUnder(path.join(dataDir, 'tmp')).map((f) => `tmp/${f}`),
  ];
}

/** Poll `cond` until it holds (or fail after `ms`): for effects that follow a closed socket. */
export async function eventually(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`still not true after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * `/api/health` answers 200, and the best of `probes` round trips is under `ms`: a server
 * whose event loop is blocked for seconds fails it; a loaded machine (one slow probe) does not.
 */
export async function healthy(port: number, probes = 3, ms = 100): Promise<{ ok: boolean; bestMs: number }> {
  let best = Infinity;
  let ok = true;
  for (let i = 0; i < probes; i++) {
    const t = performance.now();
    const r = await rawRequest(port, httpRequest('GET', '/api/health'), { waitMs: 10_000 });
    best = Math.min(best, performance.now() - t);
    if (r.response?.status !== 200) ok = false;
  }
  return { ok: ok && best < ms, bestMs: best };
}
