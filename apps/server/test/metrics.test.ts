/**
 * GET /metrics: the counters move by exactly the requests this test makes (by route pattern
 * and status), upload bytes by the bytes sent, scan and report-creation histograms by one
 * each; GET /api/ready: 200 when the database and blob folders answer, 503 with the reason.
 */
import { readFileSync, renameSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresRun } from './backend-sql.js';
import { api, erofs, startTestServer, type TestServer } from './helpers.js';
import { delta, parseMetrics } from './metrics-text.js';

const scrape = async (s: TestServer): Promise<Map<string, number>> => {
  const r = await fetch(`${s.url}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await r.text());
};

describe('/metrics', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s?.stop());

  it('counts the requests made, by route pattern and status', async () => {
    const image = readFileSync(erofs('base-v1.fp.img'));
    const before = await scrape(s);

    for (let i = 0; i < 3; i++) expect((await api(s.url, 'GET', '/api/health')).status).toBe(200);
    const unknown = 'AAAAAAAAAAAAAAAAAAAAAA';
    for (let i = 0; i < 2; i++) expect((await api(s.url, 'GET', `/api/images/${unknown}`)).status).toBe(404);
    expect((await api(s.url, 'GET', '/api/no-such-route')).status).toBe(404);
    const up = await api(s.url, 'POST', '/api/images?name=base-v1.fp.img', {
      body: image,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(up.status).toBe(202);
    const id = up.body.id as string;
    let polls = 0;
    for (;;) {
      polls++;
      const r = await api(s.url, 'GET', `/api/images/${id}`);
      if (r.body.status === 'ready') break;
      expect(r.body.status).not.toBe('failed');
      await new Promise((ok) => setTimeout(ok, 20));
    }
    const report = await api(s.url, 'POST', '/api/reports', { json: { images: [id] } });
    expect(report.status).toBe(201);

    const after = await scrape(s);
    const req = (method: string, route: string, status: number): number =>
      delta(before, after, 'sharemap_http_requests_total', { method, route, status: String(status) });
    expect(req('GET', '/api/health', 200)).toBe(3);
    expect(req('GET', '/api/images/:id', 404)).toBe(2);
    expect(req('GET', '/api/images/:id', 200)).toBe(polls);
    expect(req('GET', 'unmatched', 404)).toBe(1);
    expect(req('POST', '/api/images', 202)).toBe(1);
    expect(req('POST', '/api/reports', 201)).toBe(1);
    expect(req('GET', '/metrics', 200)).toBe(1); // the first scrape; this one counts after its answer
    expect(
      delta(before, after, 'sharemap_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/api/health',
        status: '200',
      }),
    ).toBe(3);
    expect(delta(before, after, 'sharemap_upload_bytes_total', { route: '/api/images' })).toBe(image.length);
    const reportBody = Buffer.byteLength(JSON.stringify({ images: [id] }));
    expect(delta(before, after, 'sharemap_upload_bytes_total', { route: '/api/reports' })).toBe(reportBody);
    expect(delta(before, after, 'sharemap_scan_duration_seconds_count', { outcome: 'ready' })).toBe(1);
    expect(delta(before, after, 'sharemap_report_creation_seconds_count', { outcome: 'created' })).toBe(1);
    // On PostgreSQL the depth is the shared queue's size, read from the database every
    // QUEUE_SIZE_REFRESH_MS (scan/pg-queue.ts): later scrapes see it catch up with the scan.
    let depth = after.get('sharemap_scan_queue_depth');
    while (depth !== 0 && postgresRun()) {
      await new Promise((ok) => setTimeout(ok, 250));
      depth = (await scrape(s)).get('sharemap_scan_queue_depth');
    }
    expect(depth).toBe(0);
    expect(after.get('sharemap_scans_running')).toBe(0);
    // Default process metrics are there too, under the same prefix.
    expect(after.has('sharemap_process_resident_memory_bytes')).toBe(true);
  }, 120_000);

  it('never uses a URL as a label: hostile paths fall into one series', async () => {
    const before = await scrape(s);
    for (const p of ['/api/x%00y', '/api/../../etc/passwd', `/api/${'a'.repeat(500)}`])
      await api(s.url, 'GET', p);
    const after = await scrape(s);
    const series = [...after.keys()].filter((k) => k.startsWith('sharemap_http_requests_total'));
    expect(series.every((k) => !k.includes('passwd') && !k.includes('aaaa'))).toBe(true);
    const hostile = [...after.keys()].filter((k) => !before.has(k) && k.includes('route="/api/x'));
    expect(hostile).toEqual([]);
  });
});

describe('/api/ready', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s?.stop());

  it('is ready when the database and the blob folders answer, 503 with the reason otherwise', async () => {
    const ok = await api(s.url, 'GET', '/api/ready');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ status: 'ready', database: 'ok', blobStore: 'ok' });

    // The blob store goes away (an unmounted volume): not ready, and the answer says why.
    renameSync(s.ctx.blobs.blobDir, `${s.ctx.blobs.blobDir}.away`);
    try {
      const gone = await api(s.url, 'GET', '/api/ready');
      expect(gone.status).toBe(503);
      expect(gone.headers.get('retry-after')).toBe('10');
      expect(gone.body.database).toBe('ok');
      expect(gone.body.blobStore).toBe(`error: ${s.ctx.blobs.blobDir}: ENOENT`);
      expect((gone.body.error as { code: string; message: string }).message).toBe(
        `not ready: blob store error: ${s.ctx.blobs.blobDir}: ENOENT`,
      );
      // Liveness is another question: the process still answers.
      expect((await api(s.url, 'GET', '/api/health')).status).toBe(200);
    } finally {
      renameSync(`${s.ctx.blobs.blobDir}.away`, s.ctx.blobs.blobDir);
    }
    expect((await api(s.url, 'GET', '/api/ready')).status).toBe(200);

    // The database stops answering (the SQLite connection, or the PostgreSQL pool, closed).
    if (postgresRun()) await s.ctx.store.close();
    else s.ctx.db.close();
    const noDb = await api(s.url, 'GET', '/api/ready');
    expect(noDb.status).toBe(503);
    expect(noDb.body.database).toBe(
      postgresRun()
        ? 'error: driver has already been destroyed'
        : 'error: The database connection is not open',
    );
    expect((noDb.body.error as { code: string }).code).toBe('not-ready');
  });
});
