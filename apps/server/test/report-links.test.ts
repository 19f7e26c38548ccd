/**
 * Links in reports come from the configured public URL, never from the Host header a client
 * sends: without a public URL they are relative.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestToNdjson } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { api, erofs, startTestServer, type TestServer } from './helpers.js';

const HOSTILE_HOST = 'attacker.example';

/** GET with a raw Host header (fetch does not let a caller set one). */
function getWithHost(base: string, url: string, host: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(base + url, { headers: { host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function makeReport(s: TestServer): Promise<string> {
  const m = await scanImageFile(erofs('app.fp.img'), { hash: true });
  const up = await api(s.url, 'POST', '/api/manifests?name=app.fp.img', {
    body: [...manifestToNdjson(m)].join(''),
    headers: { 'content-type': 'application/x-ndjson' },
  });
  expect(up.status).toBe(201);
  const r = await api(s.url, 'POST', '/api/reports', { json: { manifests: [up.body.id] } });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

describe('report links and the Host header', () => {
  let open: TestServer;
  let behindProxy: TestServer;
  beforeAll(async () => {
    open = await startTestServer();
    behindProxy = await startTestServer({ config: { publicUrl: 'https://sharemap.example.org' } });
  }, 60_000);
  afterAll(async () => {
    await open.stop();
    await behindProxy.stop();
  });

  it('without a public URL the Markdown link is relative, whatever Host says', async () => {
    const id = await makeReport(open);
    const md = await getWithHost(open.url, `/api/reports/${id}?format=markdown`, HOSTILE_HOST);
    expect(md.status).toBe(200);
    expect(md.text).toContain(`[Full report](/r/${id})`);
    expect(md.text).not.toContain(HOSTILE_HOST);
    const json = await getWithHost(open.url, `/api/reports/${id}`, HOSTILE_HOST);
    expect(json.text).not.toContain(HOSTILE_HOST);
  }, 60_000);

  it('with a public URL the link is under it, whatever Host says', async () => {
    const id = await makeReport(behindProxy);
    const md = await getWithHost(behindProxy.url, `/api/reports/${id}?format=markdown`, HOSTILE_HOST);
    expect(md.status).toBe(200);
    expect(md.text).toContain(`[Full report](https://sharemap.example.org/r/${id})`);
    expect(md.text).not.toContain(HOSTILE_HOST);
  }, 60_000);
});
