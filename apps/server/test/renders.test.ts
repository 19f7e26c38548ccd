/**
 * CSV and Markdown renders of a big report: made in their own worker pool (report creation
 * never waits behind exports), cached on disk, and cancelled when the client disconnects.
 */
import { readdirSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestToNdjson } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { RENDER_CACHE_DIR } from '../src/renders.js';
import { api, bigManifest, erofs, startTestServer, type Json, type TestServer } from './helpers.js';

const BIG_FILES = 120_000;

async function health(s: TestServer): Promise<{ running: number; queued: number; cancelled: number }> {
  const h = await api(s.url, 'GET', '/api/health');
  expect(h.status).toBe(200);
  return h.body.renders as { running: number; queued: number; cancelled: number };
}

/** Poll /api/health until `ok` holds (bounded). */
async function until(s: TestServer, ok: (r: Json) => boolean, what: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const h = await api(s.url, 'GET', '/api/health');
    if (ok(h.body.renders as Json)) return;
    if (Date.now() > end) throw new Error(`${what}: health says ${JSON.stringify(h.body.renders)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function get(url: string): {
  req: ClientRequest;
  done: Promise<{ status: number; text: string; at: number }>;
} {
  let req!: ClientRequest;
  const done = new Promise<{ status: number; text: string; at: number }>((resolve, reject) => {
    req = request(url, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, at: performance.now() }));
    });
    req.on('error', reject);
    req.end();
  });
  return { req, done };
}

describe('renders of a big report', () => {
  let s: TestServer;
  const big: string[] = [];
  let small = '';

  beforeAll(async () => {
    // One analysis worker: before renders had their own pool, exports queued ahead of analyses.
    s = await startTestServer({ limits: { maxConcurrentScans: 1 } });
    const ndjson = await bigManifest(BIG_FILES);
    const up = await api(s.url, 'POST', '/api/manifests?name=big.img', {
      body: ndjson,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(up.status).toBe(201);
    for (const title of ['big one', 'big two']) {
      const r = await api(s.url, 'POST', '/api/reports', { json: { manifests: [up.body.id], title } });
      expect(r.status).toBe(201);
      big.push(r.body.id as string);
    }
    const m = await scanImageFile(erofs('app.fp.img'), { hash: true });
    const up2 = await api(s.url, 'POST', '/api/manifests?name=app.fp.img', {
      body: [...manifestToNdjson(m)].join(''),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(up2.status).toBe(201);
    small = up2.body.id as string;
  }, 300_000);
  afterAll(async () => {
    await s.stop();
  });

  const cached = (): string[] => {
    try {
      return readdirSync(path.join(s.dataDir, RENDER_CACHE_DIR));
    } catch {
      return [];
    }
  };

  it('a client that disconnects while its CSV renders cancels the render', async () => {
    const before = await health(s);
    expect(cached()).toEqual([]);
    const { req, done } = get(`${s.url}/api/reports/${big[0]}?format=csv`);
    done.catch(() => undefined); // the socket is destroyed below
    await until(s, (r) => (r.running as number) > 0, 'the render never started');
    req.destroy();
    await until(
      s,
      (r) => (r.cancelled as number) === before.cancelled + 1 && r.running === 0 && r.queued === 0,
      'the render was not cancelled',
    );
    // Nothing was written to the cache (the worker was stopped before it finished).
    expect(cached()).toEqual([]);
  }, 180_000);

  it('report creation completes while four exports of big reports are requested; the exports then complete and are cached', async () => {
    const exports = [
      get(`${s.url}/api/reports/${big[0]}?format=csv`),
      get(`${s.url}/api/reports/${big[0]}?format=markdown`),
      get(`${s.url}/api/reports/${big[1]}?format=csv`),
      get(`${s.url}/api/reports/${big[1]}?format=markdown`),
    ];
    await until(s, (r) => (r.running as number) + (r.queued as number) === 4, 'the exports were not queued');
    const created = await api(s.url, 'POST', '/api/reports', {
      json: { manifests: [small], title: 'meanwhile' },
    });
    expect(created.status).toBe(201);
    const createdAt = performance.now();
    const results = await Promise.all(exports.map((e) => e.done));
    // At least one export was still being rendered when the report was created.
    expect(Math.max(...results.map((r) => r.at))).toBeGreaterThan(createdAt);
    for (const r of results) expect(r.status).toBe(200);
    const csv = results[0]!.text.split('\n');
    expect(csv[0]).toMatch(/^instance,/);
    expect(csv.filter((l) => l.includes('/data/f')).length).toBe(BIG_FILES);
    expect(results[1]!.text).toContain(`/r/${big[0]}`);
    expect(cached()).toHaveLength(4);
    // A second request is answered from the cache: no render runs.
    const again = get(`${s.url}/api/reports/${big[0]}?format=csv`);
    const h = await health(s);
    expect((await again.done).text).toBe(results[0]!.text);
    expect(h.running + h.queued).toBe(0);
    expect(cached()).toHaveLength(4);
  }, 300_000);
});
