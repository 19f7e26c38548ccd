/**
 * Regression tests of the server hardening (docs/server.md#limits), one per defect, each sending the real
 * thing over a real socket: truncated multipart bodies, aborted gzip uploads, decompression
 * bombs, a line without a newline, malformed percent-encoding, corrupt deflate/br bodies, a
 * full scan queue, trickling bodies, headers that never end, too many connections. After
 * each: the server is alive, /api/health answers, and nothing a refused request wrote is left.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { gzipSync, deflateSync, brotliCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestToJson, manifestToNdjson, type Manifest } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { createToken } from '../src/tokens.js';
import { backendSql, postgresRun } from './backend-sql.js';
import {
  api,
  ensureBuilt,
  erofs,
  startChildServer,
  startTestServer,
  tempDir,
  waitImage,
  type Child,
  type TestServer,
} from './helpers.js';
import { eventually, healthy, httpRequest, parseResponse, rawRequest, storedFiles } from './raw-http.js';

const BOUNDARY = 'xyz';
const multipartType = `multipart/form-data; boundary=${BOUNDARY}`;
function filePart(field: string, filename: string, content: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    content,
    Buffer.from('\r\n'),
  ]);
}
const closing = Buffer.from(`--${BOUNDARY}--\r\n`);

interface ErrorBody {
  error: { code: string; message: string; limit?: number };
}

async function expectAlive(s: TestServer): Promise<void> {
  const h = await healthy(s.port);
  expect(h.ok, `health: best of 3 probes ${h.bestMs.toFixed(1)} ms`).toBe(true);
}

describe('hostile requests', () => {
  let s: TestServer;
  let image: Buffer;
  let manifest: Manifest;
  beforeAll(async () => {
    s = await startTestServer({
      limits: { maxUploadBytes: 8 * 1024 * 1024, maxManifestBytes: 64 * 1024 * 1024, maxDevicesPerImage: 2 },
    });
    image = readFileSync(erofs('app.fp.img'));
    manifest = await scanImageFile(erofs('app.fp.img'));
  });
  afterAll(async () => {
    await s.stop();
  });

  it('item 1: a multipart body that ends before its closing boundary -> 400, the process lives, nothing left', async () => {
    // No closing boundary, and small enough to arrive in one read: busboy fails the part's
    // stream while the route is still opening its temp file (no listener yet on main).
    const body = filePart('image', 'app.img', image.subarray(0, 1000)).subarray(0, -2);
    for (const target of ['/api/images']) {
      const r = await rawRequest(
        s.port,
        httpRequest('POST', target, { 'content-type': multipartType }, body),
      );
      expect(r.response?.status).toBe(400);
      expect((r.response?.json as ErrorBody).error).toMatchObject({ code: 'bad-multipart' });
      expect((r.response?.json as ErrorBody).error.message).toContain('Unexpected end of form');
    }
    // The same on an image's devices.
    const up = await api(s.url, 'POST', '/api/images?name=app.img', {
      body: image,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(up.status).toBe(202);
    await waitImage(s.url, up.body.id as string);
    const before = storedFiles(s.dataDir);
    const r = await rawRequest(
      s.port,
      httpRequest(
        'POST',
        `/api/images/${String(up.body.id)}/devices`,
        { 'content-type': multipartType },
        body,
      ),
    );
    expect(r.response?.status).toBe(400);
    await expectAlive(s);
    expect(storedFiles(s.dataDir)).toEqual(before);
  }, 180_000);

  it('item 2: a gzip manifest upload aborted half-way -> the process lives, no temp file', async () => {
    const gz = gzipSync(Buffer.from([...manifestToNdjson(manifest)].join('').repeat(20)));
    const before = storedFiles(s.dataDir);
    const head = httpRequest(
      'POST',
      '/api/manifests',
      { 'content-type': 'application/x-ndjson', 'content-length': gz.length },
      gz.subarray(0, gz.length >> 1),
    );
    // Reset after the server has started inflating (the crash of main was there).
    const r = await rawRequest(s.port, head, { then: 'abort', abortAfterMs: 300 });
    expect(r.closed).toBe(true);
    await expectAlive(s);
    await eventually(
      () => storedFiles(s.dataDir).join() === before.join(),
      'temp files of the aborted upload removed',
    );
  });

  it('item 3: a gzip decompression bomb is refused with 413 naming the ratio limit, after a few MiB', async () => {
    // 100 MiB of one byte compress to ~100 KiB: a ratio of ~1000.
    const bomb = gzipSync(Buffer.alloc(100 * 1024 * 1024, 0x20));
    const before = storedFiles(s.dataDir);
    const r = await rawRequest(
      s.port,
      httpRequest(
        'POST',
        '/api/manifests',
        { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
        bomb,
      ),
    );
    expect(r.response?.status).toBe(413);
    const e = (r.response?.json as ErrorBody).error;
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(/inflates more than 200 times/);
    expect(e.limit).toBe(200);
    await expectAlive(s);
    expect(storedFiles(s.dataDir)).toEqual(before);
  });

  it('item 3: the JSON form streams record by record and gives the same manifest as NDJSON', async () => {
    const asJson = await api(s.url, 'POST', '/api/manifests', {
      body: gzipSync(manifestToJson(manifest, 2)),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    const asNdjson = await api(s.url, 'POST', '/api/manifests', {
      body: [...manifestToNdjson(manifest)].join(''),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(asJson.status).toBe(201);
    expect(asNdjson.status).toBe(201);
    expect(asJson.body.fileCount).toBe(manifest.files.length);
    const { id: _a, ...j } = asJson.body;
    const { id: _b, ...n } = asNdjson.body;
    expect(j).toEqual(n);
    // Both stored as the same canonical blob: one blob for the two uploads.
    const blobs = async (id: string): Promise<string> =>
      (await backendSql<{ blob: string }>(s, 'SELECT blob FROM manifests WHERE id = $1', [id]))[0]!.blob;
    expect(await blobs(asJson.body.id as string)).toBe(await blobs(asNdjson.body.id as string));
    // A record out of order in the JSON form is refused naming it.
    const bad = { ...manifest, files: [manifest.files[0]!, manifest.files[2]!, manifest.files[1]!] };
    const r = await api(s.url, 'POST', '/api/manifests', {
      body: manifestToJson({ ...bad, files: bad.files }),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(422);
    expect((r.body as unknown as ErrorBody).error.message).toMatch(/not sorted/);
  });

  it('item 4: 32 MiB of one line without a newline is refused at the line limit at once', async () => {
    const header = [...manifestToNdjson(manifest)][0]!.trim();
    // Letters a-p at random: gzip halves them (well under the decompression-ratio limit).
    const line = randomBytes(32 * 1024 * 1024).map((b) => 0x61 + (b & 15));
    const body = gzipSync(Buffer.concat([Buffer.from(header + '\n{"path":"'), line]), { level: 1 });
    const r = await rawRequest(
      s.port,
      httpRequest('POST', '/api/manifests', { 'content-type': 'application/x-ndjson' }, body),
      { waitMs: 60_000 },
    );
    expect(r.gaveUp).toBe(false);
    expect(r.response?.status).toBe(422);
    expect((r.response?.json as ErrorBody).error.message).toBe(
      'manifest line 2: line longer than 8388608 bytes',
    );
    await expectAlive(s);
  });

  it('item 7: refused uploads leave no blob and no temp file (bad first part, empty image, too many devices, client abort)', async () => {
    const before = storedFiles(s.dataDir);
    // A bad file name in the first part, a large second part after it.
    const badFirst = Buffer.concat([
      filePart('image', 'bad\u0001name', image),
      filePart('dev', 'd.img', Buffer.alloc(2 * 1024 * 1024, 7)),
      closing,
    ]);
    const r1 = await rawRequest(
      s.port,
      httpRequest('POST', '/api/images', { 'content-type': multipartType }, badFirst),
    );
    expect(r1.response?.status).toBe(400);
    // An empty image (its blob would be the empty blob).
    const r2 = await rawRequest(
      s.port,
      httpRequest('POST', '/api/images?name=empty.img', { 'content-type': 'application/octet-stream' }, ''),
    );
    expect(r2.response?.status).toBe(422);
    // More devices than the limit (2) in one request: the stored parts go.
    const many = Buffer.concat([
      filePart('image', 'a.img', image),
      filePart('d1', 'd1.img', Buffer.alloc(1000, 1)),
      filePart('d2', 'd2.img', Buffer.alloc(1000, 2)),
      filePart('d3', 'd3.img', Buffer.alloc(1000, 3)),
      closing,
    ]);
    const r3 = await rawRequest(
      s.port,
      httpRequest('POST', '/api/images', { 'content-type': multipartType }, many),
    );
    expect(r3.response?.status).toBe(400);
    // A raw upload whose client goes away half-way.
    const r4 = await rawRequest(
      s.port,
      httpRequest(
        'POST',
        '/api/images?name=gone.img',
        { 'content-type': 'application/octet-stream', 'content-length': 4 * 1024 * 1024 },
        Buffer.alloc(1024 * 1024, 9),
      ),
      { then: 'abort' },
    );
    expect(r4.closed).toBe(true);
    // A multipart upload whose client goes away in its second part.
    const partial = Buffer.concat([
      filePart('image', 'p.img', image),
      filePart('dev', 'p2.img', Buffer.alloc(512 * 1024, 5)),
    ]);
    await rawRequest(
      s.port,
      httpRequest(
        'POST',
        '/api/images',
        { 'content-type': multipartType, 'content-length': partial.length + 100_000 },
        partial,
      ),
      { then: 'abort' },
    );
    await expectAlive(s);
    await eventually(
      () => storedFiles(s.dataDir).join() === before.join(),
      `nothing left by refused uploads: ${storedFiles(s.dataDir)
        .filter((f) => !before.includes(f))
        .join(', ')}`,
    );
  });

  it('item 10: a manifest declared larger than the limit is refused up front with 413 naming it', async () => {
    // Only the headers are sent: the answer must not wait for 100 MiB that never come.
    const r = await rawRequest(
      s.port,
      httpRequest('POST', '/api/manifests', {
        'content-type': 'application/x-ndjson',
        'content-length': 100 * 1024 * 1024,
      }),
      { waitMs: 15_000 },
    );
    expect(r.gaveUp).toBe(false);
    expect(r.response?.status).toBe(413);
    expect((r.response?.json as ErrorBody).error).toMatchObject({
      code: 'too-large',
      limit: 64 * 1024 * 1024,
    });
    expect((r.response?.json as ErrorBody).error.message).toContain('limit of 67108864 bytes');
  });

  it('item 11: malformed percent-encoding and corrupt deflate/br bodies are 400, not 500', async () => {
    for (const target of [
      '/api/reports/%ZZ',
      '/api/images/%E0%A4%A',
      '/api/manifests/%',
      '/api/report-names/%C0%AF',
    ]) {
      const r = await rawRequest(s.port, httpRequest('GET', target));
      expect(r.response?.status, target).toBe(400);
      expect((r.response?.json as ErrorBody).error.code, target).toBe('bad-url');
    }
    const garbage = Buffer.from('this is not compressed at all');
    for (const enc of ['deflate', 'br', 'gzip']) {
      for (const [target, type] of [
        ['/api/reports', 'application/json'],
        ['/api/mount-configs', 'text/plain'],
      ] as const) {
        const r = await rawRequest(
          s.port,
          httpRequest('POST', target, { 'content-type': type, 'content-encoding': enc }, garbage),
        );
        expect(r.response?.status, `${enc} ${target}`).toBe(400);
        expect((r.response?.json as ErrorBody).error.code, `${enc} ${target}`).toBe('bad-encoding');
      }
    }
    // A valid deflate and br body still works.
    for (const [enc, z] of [
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
    ] as const) {
      const r = await rawRequest(
        s.port,
        httpRequest(
          'POST',
          '/api/reports',
          { 'content-type': 'application/json', 'content-encoding': enc },
          z(Buffer.from('{}')),
        ),
      );
      expect(r.response?.status).toBe(400);
      expect((r.response?.json as ErrorBody).error.code).toBe('bad-report-request');
    }
    await expectAlive(s);
  });
});

/**
 * POST `body` on a raw connection of its own as a client that reads the answer only once it
 * has sent the whole body (as fetch and curl do): reading is paused until the last byte is
 * written. The answer's status and JSON, or the error that came instead: a server that
 * answers and closes while the body is still arriving resets the connection, and the writer
 * gets EPIPE or ECONNRESET without ever seeing the answer.
 */
function postThenRead(
  port: number,
  target: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; json: ErrorBody } | { error: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const sock = connect(port, '127.0.0.1');
    const settle = (v: { status: number; json: ErrorBody } | { error: string }): void => {
      if (!settled) resolve(v);
      settled = true;
      sock.destroy();
    };
    sock.pause();
    const chunks: Buffer[] = [];
    let sent = false;
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', (e: NodeJS.ErrnoException) =>
      settle({ error: `${sent ? 'read' : 'write'}: ${e.code ?? e.message}` }),
    );
    sock.on('end', () => {
      const r = parseResponse(Buffer.concat(chunks), true);
      if (r?.json === undefined)
        settle({ error: `no JSON answer: ${Buffer.concat(chunks).toString('latin1').slice(0, 200)}` });
      else settle({ status: r.status, json: r.json as ErrorBody });
    });
    sock.on('connect', () => {
      const PIECE = 1024 * 1024;
      const whole = httpRequest('POST', target, headers, body);
      let at = 0;
      const write = (): void => {
        while (at < whole.length) {
          const piece = whole.subarray(at, at + PIECE);
          at += piece.length;
          const last = at >= whole.length;
          const ok = sock.write(piece, last ? () => ((sent = true), sock.resume()) : undefined);
          if (!ok && !last) {
            sock.once('drain', write);
            return;
          }
        }
      };
      write();
    });
  });
}

describe('a refused body is read before the answer, so the client sees it (not EPIPE)', () => {
  const MB30 = 30 * 1000 * 1000;
  let s: TestServer;
  let writer = '';
  beforeAll(async () => {
    s = await startTestServer({
      config: { requireToken: true },
      limits: { maxUploadBytes: 8 * 1024 * 1024 },
    });
    writer = await createToken(s.ctx.store, 'ci');
  }, 120_000);
  afterAll(async () => {
    await s?.stop();
  });
  const postManifest = (type: string, body: Buffer) =>
    postThenRead(s.port, '/api/manifests', { 'content-type': type, authorization: `Bearer ${writer}` }, body);

  it('a 30 MB manifest refused at its first line: 422 bad-manifest, read by the client', async () => {
    const body = Buffer.alloc(MB30, 'x'); // line 1 is not a manifest header
    body.write('not a manifest header\n');
    const r = await postManifest('application/x-ndjson', body);
    expect(r).toMatchObject({ status: 422, json: { error: { code: 'bad-manifest' } } });
    await expectAlive(s);
  }, 180_000);

  it('30 MB refused before or while it is read (415 content type, 401 token, 413 image size): the client reads the answer', async () => {
    const body = Buffer.alloc(MB30, 'x');
    const html = await postManifest('text/html', body);
    expect(html).toMatchObject({ status: 415, json: { error: { code: 'unsupported-media-type' } } });
    const anonymous = await postThenRead(
      s.port,
      '/api/images?name=x.img',
      { 'content-type': 'application/octet-stream' },
      body,
    );
    expect(anonymous).toMatchObject({ status: 401, json: { error: { code: 'unauthorized' } } });
    // Past maxUploadBytes (8 MiB): declared up front, and found part-way in a chunked body.
    const auth = { 'content-type': 'application/octet-stream', authorization: `Bearer ${writer}` };
    const declared = await postThenRead(s.port, '/api/images?name=big.img', auth, body);
    expect(declared).toMatchObject({
      status: 413,
      json: { error: { code: 'too-large', limit: 8 * 1024 * 1024 } },
    });
    const chunked = Buffer.concat([
      Buffer.from(`${body.length.toString(16)}\r\n`),
      body,
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
    const found = await postThenRead(
      s.port,
      '/api/images?name=big.img',
      { ...auth, 'transfer-encoding': 'chunked' },
      chunked,
    );
    expect(found).toMatchObject({
      status: 413,
      json: { error: { code: 'too-large', limit: 8 * 1024 * 1024 } },
    });
    expect(storedFiles(s.dataDir).filter((f) => f.startsWith('tmp/'))).toEqual([]);
    await expectAlive(s);
  }, 180_000);

  // A client that declares a body and sends none of it: the refusal comes once the body has
  // stalled (errors.ts DRAIN_STALL_MS), not after the whole drain bound (DRAIN_MAX_MS, 30 s),
  // on a connection kept open. The client then sends its body late and a second request on
  // the same connection: both answered, so nothing was cut. The old drain answered only at
  // DRAIN_MAX_MS and closed the connection, so the second request got no answer.
  it('a declared body that never comes: the refusal comes while the connection stays open for the body and the next request', async () => {
    const sock = connect(s.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let ended = false;
    const waiters: (() => void)[] = [];
    const wake = (): void => {
      for (const w of waiters.splice(0)) w();
    };
    sock.on('data', (d: Buffer) => ((buf = Buffer.concat([buf, d])), wake()));
    sock.on('end', () => ((ended = true), wake()));
    sock.on('error', () => ((ended = true), wake()));
    /** The next whole answer on the connection (null once it has closed without one). */
    const nextAnswer = async (): Promise<ReturnType<typeof parseResponse>> => {
      for (;;) {
        const r = parseResponse(buf, false);
        if (r) {
          const end = buf.indexOf('\r\n\r\n') + 4 + Number(r.headers['content-length'] ?? 0);
          buf = buf.subarray(end);
          return r;
        }
        if (ended) return null;
        await new Promise<void>((w) => waiters.push(w));
      }
    };
    try {
      await new Promise<void>((ok) => sock.once('connect', ok));
      const declared = 4096;
      sock.write(
        httpRequest('POST', '/api/manifests', {
          'content-type': 'text/html',
          authorization: `Bearer ${writer}`,
          'content-length': String(declared),
        }),
      );
      const refused = await nextAnswer(); // the body has not been sent
      expect(refused?.status).toBe(415);
      expect((refused?.json as ErrorBody).error.code).toBe('unsupported-media-type');
      expect(refused?.headers.connection).not.toBe('close');
      sock.write(Buffer.alloc(declared, 'x'));
      sock.write(httpRequest('GET', '/api/health'));
      const next = await nextAnswer();
      expect(next?.status).toBe(200);
    } finally {
      sock.destroy();
    }
    await expectAlive(s);
  }, 180_000);
});

describe('limits on time and connections', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({
      limits: { bodyTimeoutMs: 400, minBodyBytesPerWindow: 64, headersTimeoutMs: 600, maxConnections: 4 },
    });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('a body trickled at one byte per 50 ms gets 408 and its temp file is removed', async () => {
    const before = storedFiles(s.dataDir);
    const r = await rawRequest(
      s.port,
      httpRequest(
        'POST',
        '/api/images?name=slow.img',
        { 'content-type': 'application/octet-stream', 'content-length': 100_000 },
        'x',
      ),
      { then: 'trickle', trickle: Buffer.alloc(100_000, 1), everyMs: 50, waitMs: 20_000 },
    );
    expect(r.gaveUp).toBe(false);
    expect(r.response?.status).toBe(408);
    expect((r.response?.json as ErrorBody).error).toMatchObject({ code: 'timeout' });
    expect((r.response?.json as ErrorBody).error.message).toContain('minBodyBytesPerWindow');
    expect(r.closed).toBe(true);
    await eventually(
      () => storedFiles(s.dataDir).join() === before.join(),
      'temp file of the trickled upload removed',
    );
  });

  it('headers that never end get 408 and the connection is closed', async () => {
    const r = await rawRequest(s.port, 'POST /api/images HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', {
      waitMs: 20_000,
    });
    expect(r.gaveUp).toBe(false);
    expect(r.closed).toBe(true);
    expect(r.response?.status).toBe(408);
  });

  it('one connection past maxConnections gets 503 JSON with Retry-After; the others are served', async () => {
    const held = await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<Socket>((ok, fail) => {
            const c = connect(s.port, '127.0.0.1', () => ok(c));
            c.on('error', fail);
          }),
      ),
    );
    try {
      // The server counts a connection when it accepts it: wait until it has all four.
      await eventually(
        () => (s.server as unknown as { _connections: number })._connections >= 4,
        'the server holds four connections',
      );
      const r = await rawRequest(s.port, httpRequest('GET', '/api/health'));
      expect(r.response?.status).toBe(503);
      expect(r.response?.headers['retry-after']).toBe('10');
      expect((r.response?.json as ErrorBody).error).toMatchObject({ code: 'busy', limit: 4 });
      expect(r.closed).toBe(true);
    } finally {
      for (const c of held) c.destroy();
    }
    await eventually(
      () => (s.server as unknown as { _connections: number })._connections === 0,
      'connections closed',
    );
    await expectAlive(s);
  });
});

// SQLite's in-process queue: the bound is the local pool's queue, filled here by blocking its
// one worker. On PostgreSQL the bound is the shared queue's size in the database, read every
// QUEUE_SIZE_REFRESH_MS (scan/pg-queue.ts), which this set-up does not fill: replicas.test.ts's
// "the shared scan queue full on PostgreSQL" fills it (two replicas, their workers held).
describe.skipIf(postgresRun())('a full scan queue', () => {
  let s: TestServer;
  let fifo: string;
  beforeAll(async () => {
    s = await startTestServer({ limits: { maxConcurrentScans: 1, maxQueuedScans: 1 } });
    // Occupy the one scan worker for real: a stored report "blob" that is a FIFO blocks the
    // worker's read of it (an fs stream's open() of the FIFO) until a writer opens it (at the
    // end of the test). A scan's own read would not do: the image reader refuses a FIFO
    // without waiting (nodeFileSource opens with O_NONBLOCK).
    const sha = 'f'.repeat(64);
    fifo = s.ctx.blobs.path(sha);
    mkdirSync(path.dirname(fifo), { recursive: true });
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const task = { kind: 'parts' as const, dataDir: s.dataDir, reportBlob: sha };
    void s.ctx.scans.run(task, { timeoutMs: 600_000 }).catch(() => undefined); // runs (blocked)
    void s.ctx.scans.run(task, { timeoutMs: 600_000 }).catch(() => undefined); // waits: queue full
  });
  afterAll(async () => {
    // The queued task starts when the first ends and would block on the FIFO in its turn: put
    // an empty regular file at the blob's path first (it fails fast), then unblock the reader
    // that holds the FIFO (EOF) through the FIFO's new name, so every worker ends.
    renameSync(fifo, `${fifo}.fifo`);
    writeFileSync(fifo, '');
    try {
      closeSync(openSync(`${fifo}.fifo`, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // no reader any more
    }
    await s.stop();
  });

  it('an upload gets 503 with Retry-After before its body is stored; nothing is recorded', async () => {
    expect(s.ctx.scans.queued).toBe(1);
    const before = storedFiles(s.dataDir);
    const img = readFileSync(erofs('app.fp.img'));
    const r = await rawRequest(
      s.port,
      httpRequest('POST', '/api/images?name=app.img', { 'content-type': 'application/octet-stream' }, img),
    );
    expect(r.response?.status).toBe(503);
    expect(r.response?.headers['retry-after']).toBe('10');
    expect((r.response?.json as ErrorBody).error).toMatchObject({ code: 'busy', limit: 1 });
    expect((r.response?.json as ErrorBody).error.message).toContain('maxQueuedScans');
    expect((await backendSql<{ n: number }>(s, 'SELECT count(*) AS n FROM images'))[0]!.n).toBe(0);
    expect(storedFiles(s.dataDir)).toEqual(before);
    await expectAlive(s);
  });
});

describe('the crashes of #13 against the built server in its own process (items 1, 2)', () => {
  let c: Child;
  let port: number;
  let dataDir: string;
  beforeAll(async () => {
    ensureBuilt();
    dataDir = tempDir();
    c = await startChildServer(dataDir);
    port = Number(new URL(c.url).port);
  });
  afterAll(async () => {
    c.proc.kill('SIGTERM');
    await new Promise((ok) => (c.proc.exitCode !== null ? ok(null) : c.proc.once('exit', ok)));
    rmSync(dataDir, { recursive: true, force: true });
  });
  const alive = (): boolean => c.proc.exitCode === null && c.proc.signalCode === null;

  it('a truncated multipart body and an aborted gzip upload do not end the process', async () => {
    const image = readFileSync(erofs('app.fp.img'));
    const truncated = filePart('image', 'app.img', image.subarray(0, 1000)).subarray(0, -2);
    for (let i = 0; i < 3; i++) {
      const r = await rawRequest(
        port,
        httpRequest('POST', '/api/images', { 'content-type': multipartType }, truncated),
      );
      expect(r.response?.status).toBe(400);
      expect(alive()).toBe(true);
    }
    const gz = gzipSync(randomBytes(256 * 1024).map((b) => 0x61 + (b & 15)));
    const head = httpRequest(
      'POST',
      '/api/manifests',
      { 'content-type': 'application/x-ndjson', 'content-length': gz.length },
      gz.subarray(0, gz.length >> 1),
    );
    for (let i = 0; i < 3; i++) {
      const r = await rawRequest(port, head, { then: 'abort', abortAfterMs: 300 });
      expect(r.closed).toBe(true);
    }
    const h = await healthy(port);
    expect(h.alive, 'the server process answers /api/health').toBe(true);
    expect(alive()).toBe(true);
    await eventually(() => storedFiles(dataDir).length === 0, 'no temp file or blob left');
  });
});
