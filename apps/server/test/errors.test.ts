/** Every malformed input class gets its 4xx and a JSON error with a message. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestToNdjson } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { createToken } from '../src/tokens.js';
import { backendSql } from './backend-sql.js';
import { api, erofs, errorOf, startTestServer, waitImage, type TestServer } from './helpers.js';

const octet = { 'content-type': 'application/octet-stream' };

function tmpFiles(s: TestServer): string[] {
  return readdirSync(path.join(s.dataDir, 'tmp'));
}

describe('malformed input', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({
      limits: { maxUploadBytes: 2 * 1024 * 1024, maxJsonBodyBytes: 4096, maxMountConfigBytes: 4096 },
    });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('truncated multipart -> 400 bad-multipart, no temp file left', async () => {
    const boundary = '----sharemapboundary';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="app.fp.img"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    const body = Buffer.concat([Buffer.from(head), readFileSync(erofs('app.fp.img')).subarray(0, 100_000)]);
    const r = await api(s.url, 'POST', '/api/images', {
      body,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    expect(r.status).toBe(400);
    expect(errorOf(r).code).toBe('bad-multipart');
    expect(errorOf(r).message).toMatch(/multipart/i);
    expect(tmpFiles(s)).toEqual([]);
  });

  it('multipart without a boundary or without a file part -> 400', async () => {
    const r = await api(s.url, 'POST', '/api/images', {
      body: 'x',
      headers: { 'content-type': 'multipart/form-data' },
    });
    expect(r.status).toBe(400);
    const form = new FormData();
    form.append('note', 'no file here');
    const r2 = await api(s.url, 'POST', '/api/images', { body: form });
    expect(r2.status).toBe(400);
    expect(errorOf(r2).message).toMatch(/no file part/);
  });

  it('wrong content type -> 415', async () => {
    const img = await api(s.url, 'POST', '/api/images?name=x.img', {
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(img.status).toBe(415);
    expect(errorOf(img)).toMatchObject({ code: 'unsupported-media-type' });
    const rep = await api(s.url, 'POST', '/api/reports', {
      body: '{}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(rep.status).toBe(415);
    const man = await api(s.url, 'POST', '/api/manifests', {
      body: 'x',
      headers: { 'content-type': 'image/png' },
    });
    expect(man.status).toBe(415);
    const mc = await api(s.url, 'POST', '/api/mount-configs', {
      body: 'x',
      headers: { 'content-type': 'image/png' },
    });
    expect(mc.status).toBe(415);
    const enc = await api(s.url, 'POST', '/api/manifests', {
      body: 'x',
      headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'br' },
    });
    expect(enc.status).toBe(415);
  });

  it('file names cannot traverse paths', async () => {
    const dots = await api(s.url, 'POST', '/api/images?name=..', { body: 'abc', headers: octet });
    expect(dots.status).toBe(400);
    expect(errorOf(dots).code).toBe('bad-name');
    const none = await api(s.url, 'POST', '/api/images', { body: 'abc', headers: octet });
    expect(none.status).toBe(400);
    const trav = await api(s.url, 'POST', `/api/images?name=${encodeURIComponent('../../etc/passwd')}`, {
      body: readFileSync(erofs('broken/zeroed-magic.img')).subarray(0, 4096),
      headers: octet,
    });
    expect(trav.status).toBe(202);
    expect(trav.body.name).toBe('passwd'); // only the last component, as a label; the blob lives under its sha256
  });

  it.each(readdirSync(erofs('broken')).filter((f) => f.endsWith('.img')))(
    'corrupt image %s -> scan fails with the reader error; reports refuse it with 422',
    async (file) => {
      const up = await api(s.url, 'POST', `/api/images?name=${file}`, {
        body: readFileSync(erofs(`broken/${file}`)),
        headers: octet,
      });
      expect(up.status).toBe(202);
      const img = await waitImage(s.url, up.body.id as string);
      expect(img.status).toBe('failed');
      const e = img.error as { code: string; message: string };
      expect(e.code).toMatch(/^E[A-Z_]+$/);
      expect(e.message.length).toBeGreaterThan(5);
      const rep = await api(s.url, 'POST', '/api/reports', { json: { images: [up.body.id] } });
      expect(rep.status).toBe(422);
      expect(errorOf(rep)).toMatchObject({ code: 'bad-image', reason: e.code });
    },
    180_000,
  );

  it('empty image -> 422', async () => {
    const r = await api(s.url, 'POST', '/api/images?name=empty.img', { body: '', headers: octet });
    expect(r.status).toBe(422);
  });

  it('oversized bodies -> 413 (declared length, streamed without length, JSON, mount config)', async () => {
    const big = readFileSync(erofs('base-v1.fp.img')); // 3.4 MiB > 2 MiB limit
    const declared = await api(s.url, 'POST', '/api/images?name=big.img', { body: big, headers: octet });
    expect(declared.status).toBe(413);
    expect(errorOf(declared)).toMatchObject({ code: 'too-large', limit: 2 * 1024 * 1024 });
    // Chunked: the limit is enforced while streaming.
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= big.length) return c.close();
        c.enqueue(big.subarray(sent, sent + 65536));
        sent += 65536;
      },
    });
    const chunked = await fetch(`${s.url}/api/images?name=big.img`, {
      method: 'POST',
      body: stream,
      headers: octet,
      duplex: 'half',
    } as RequestInit).then(
      async (res) => ({ status: res.status, body: (await res.json()) as { error: { code: string } } }),
      (e: Error) => ({ status: 0, body: { error: { code: String(e.cause ?? e) } } }),
    );
    expect(chunked.status).toBe(413);
    expect(chunked.body.error.code).toBe('too-large');
    const json = await api(s.url, 'POST', '/api/reports', { json: { title: 'x'.repeat(5000), images: [] } });
    expect(json.status).toBe(413);
    const mc = await api(s.url, 'POST', '/api/mount-configs', {
      body: '#'.repeat(5000),
      headers: { 'content-type': 'text/plain' },
    });
    expect(mc.status).toBe(413);
    await new Promise((ok) => setTimeout(ok, 100));
    expect(tmpFiles(s)).toEqual([]);
  });

  it('bad manifest -> 422 with the line; corrupt gzip -> 400', async () => {
    const m = await scanImageFile(erofs('app.fp.img'));
    const lines = [...manifestToNdjson(m)];
    lines[2] = lines[2]!.replace(/"nid":\d+/, '"nid":"seven"');
    const r = await api(s.url, 'POST', '/api/manifests', {
      body: lines.join(''),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(r.status).toBe(422);
    expect(errorOf(r)).toMatchObject({ code: 'bad-manifest', line: 3, field: 'nid' });
    const notJson = await api(s.url, 'POST', '/api/manifests', {
      body: 'hello world',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(422);
    const gz = gzipSync(lines.join('')).subarray(0, 200);
    const bad = await api(s.url, 'POST', '/api/manifests', {
      body: gz,
      headers: { 'content-type': 'application/gzip' },
    });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).code).toBe('bad-gzip');
  });

  it('bad mount line -> 422 with file, line and column', async () => {
    // A value the kernel refuses in a request (fstab) fails that mount only (docs/sharing-rules.md#r2);
    // in the kernel's own view (mountinfo) it cannot occur, so the input is refused.
    const text =
      '22 1 0:21 / /proc rw - proc proc rw\n36 25 0:51 / /run/a ro,relatime - erofs /var/lib/images/a.img ro,dax=sometimes\n';
    const r = await api(s.url, 'POST', '/api/mount-configs?name=host.mountinfo', {
      body: text,
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.status).toBe(422);
    expect(errorOf(r)).toMatchObject({
      code: 'bad-mount-config',
      file: 'host.mountinfo',
      line: 2,
      reason: 'bad-option-value',
    });
    expect(errorOf(r).column).toBeGreaterThan(1);
    expect(errorOf(r).message).toMatch(/^host\.mountinfo:2:\d+: /);
    const malformed = await api(s.url, 'POST', '/api/mount-configs', {
      json: { text: '/a.img /m\n', fileName: 'fstab' },
    });
    expect(malformed.status).toBe(422);
    expect(errorOf(malformed)).toMatchObject({ line: 1, reason: 'malformed-line' });
    const fmt = await api(s.url, 'POST', '/api/mount-configs?format=nope', {
      body: 'x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(fmt.status).toBe(400);
  });

  it('unknown ids -> 404; bad report requests -> 400/422', async () => {
    for (const url of [
      '/api/reports/AAAAAAAAAAAAAAAAAAAAAA',
      '/api/reports/short',
      '/api/reports/AAAAAAAAAAAAAAAAAAAAAA/input',
      '/api/images/AAAAAAAAAAAAAAAAAAAAAA',
      '/api/manifests/x',
      '/api/mount-configs/x',
      '/api/nope',
    ]) {
      const r = await api(s.url, 'GET', url);
      expect(r.status, url).toBe(404);
      expect(errorOf(r).code).toBe('not-found');
    }
    expect((await api(s.url, 'POST', '/api/reports', { json: {} })).status).toBe(400);
    expect((await api(s.url, 'POST', '/api/reports', { json: { images: ['nope'] } })).status).toBe(400);
    expect((await api(s.url, 'POST', '/api/reports', { json: { images: [], bogus: 1 } })).status).toBe(400);
    expect(
      (
        await api(s.url, 'POST', '/api/reports', {
          body: '{"images":',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(400);
    const unknown = await api(s.url, 'POST', '/api/reports', {
      json: { images: ['AAAAAAAAAAAAAAAAAAAAAA'] },
    });
    expect(unknown.status).toBe(422);
    expect(errorOf(unknown).message).toMatch(/not found/);
    const opts = await api(s.url, 'POST', '/api/reports', {
      json: { images: ['AAAAAAAAAAAAAAAAAAAAAA'], options: { pageSize: 1000 } },
    });
    expect(opts.status).toBe(400);
    expect(errorOf(opts).message).toMatch(/pageSize/);
  });

  it('sends security headers everywhere and never serves uploads back', async () => {
    for (const url of ['/api/health', '/api/nope', '/']) {
      const res = await fetch(s.url + url);
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-request-id')).toBeTruthy();
    }
    expect((await fetch(`${s.url}/blobs`)).status).toBe(404);
    expect((await fetch(`${s.url}/data/sharemap.db`)).status).toBe(404);
  });

  it('explains at / that the web UI is not built', async () => {
    const res = await fetch(`${s.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/not been built/);
  });
  // Every route of /api/openapi.json against the server: api-routes.test.ts.
});

describe('tokens', () => {
  let s: TestServer;
  let writer = '';
  let admin = '';
  beforeAll(async () => {
    s = await startTestServer({ config: { requireToken: true } });
    writer = await createToken(s.ctx.store, 'ci');
    admin = await createToken(s.ctx.store, 'ops', { admin: true });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('uploads and report creation need a valid bearer token when required', async () => {
    const body = readFileSync(erofs('app.fp.img'));
    const none = await api(s.url, 'POST', '/api/images?name=app.fp.img', { body, headers: octet });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(errorOf(none).message).toMatch(/requires a token/);
    const bad = await api(s.url, 'POST', '/api/images?name=app.fp.img', {
      body,
      headers: { ...octet, authorization: 'Bearer smt_wrong' },
    });
    expect(bad.status).toBe(401);
    expect(errorOf(bad).message).toMatch(/unknown or revoked/);
    const malformed = await api(s.url, 'POST', '/api/reports', {
      json: {},
      headers: { authorization: 'Basic abc' },
    });
    expect(malformed.status).toBe(401);
    for (const path of [
      '/api/manifests',
      '/api/mount-configs',
      '/api/reports',
      '/api/images/AAAAAAAAAAAAAAAAAAAAAA/devices',
    ])
      expect(
        (await api(s.url, 'POST', path, { body: 'x', headers: { 'content-type': 'text/plain' } })).status,
        path,
      ).toBe(401);
    const ok = await api(s.url, 'POST', '/api/images?name=app.fp.img', {
      body,
      headers: { ...octet, authorization: `Bearer ${writer}` },
    });
    expect(ok.status).toBe(202);
    const rep = await api(s.url, 'POST', '/api/reports', {
      json: { images: [ok.body.id] },
      headers: { authorization: `Bearer ${writer}` },
    });
    expect(rep.status).toBe(201);
    // Reading by link needs no token: the id is the capability.
    expect((await api(s.url, 'GET', `/api/reports/${rep.body.id as string}`)).status).toBe(200);
  });

  it('stores tokens only as hashes', async () => {
    const rows = await backendSql<{ hash: string }>(s, 'SELECT hash FROM tokens');
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(writer);
  });

  it('lists reports and tokens only with an admin token', async () => {
    expect((await api(s.url, 'GET', '/api/reports')).status).toBe(401);
    const notAdmin = await api(s.url, 'GET', '/api/reports', {
      headers: { authorization: `Bearer ${writer}` },
    });
    expect(notAdmin.status).toBe(403);
    const list = await api(s.url, 'GET', '/api/reports', { headers: { authorization: `Bearer ${admin}` } });
    expect(list.status).toBe(200);
    expect((list.body.reports as unknown[]).length).toBe(1);
    const created = await api(s.url, 'POST', '/api/tokens', {
      json: { name: 'gitlab' },
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^smt_/);
    const tokens = await api(s.url, 'GET', '/api/tokens', { headers: { authorization: `Bearer ${admin}` } });
    expect((tokens.body.tokens as { name: string }[]).map((t) => t.name)).toEqual(['ci', 'ops', 'gitlab']);
    expect(tokens.text).not.toContain('smt_');
  });
});

describe('web UI', () => {
  it('serves the built UI with an SPA fallback for /r/<id>, and JSON 404s under /api', async () => {
    const s = await startTestServer();
    try {
      const web = s.config.webDir;
      mkdirSync(path.join(web, 'assets'), { recursive: true });
      writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>sharemap ui</title>');
      writeFileSync(path.join(web, 'assets/app-abcdef12.js'), 'console.log(1)');
      const spa = await fetch(`${s.url}/r/AAAAAAAAAAAAAAAAAAAAAA`);
      expect(spa.status).toBe(200);
      expect(await spa.text()).toContain('sharemap ui');
      const asset = await fetch(`${s.url}/assets/app-abcdef12.js`);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
      expect(asset.headers.get('cache-control')).toMatch(/immutable/);
      expect((await fetch(`${s.url}/assets/missing.js`)).status).toBe(404);
      const api404 = await fetch(`${s.url}/api/reports/AAAAAAAAAAAAAAAAAAAAAA`);
      expect(api404.headers.get('content-type')).toMatch(/json/);
      expect((await fetch(`${s.url}/..%2f..%2fetc/passwd`)).status).not.toBe(500);
    } finally {
      await s.stop();
    }
  }, 180_000);
});
