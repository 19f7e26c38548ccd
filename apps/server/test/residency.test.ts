/** Residency uploads and reports with the measured working set, over a real server (docs/working-set.md). */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '@sharemap/sharing';
import { api, erofs, errorOf, startTestServer, waitImage, type TestServer } from './helpers.js';

const LIBCAP = '/lib/x86_64-linux-gnu/libcap.so.2.66'; // 12 pages; same fingerprint in base-v1.fp and base-v2.fp

describe('POST /api/residency and reports with residency', () => {
  let s: TestServer;
  const images: string[] = [];

  beforeAll(async () => {
    s = await startTestServer();
    for (const name of ['base-v1.fp.img', 'base-v2.fp.img']) {
      const up = await api(s.url, 'POST', `/api/images?name=${name}`, {
        body: readFileSync(erofs(name)),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect((await waitImage(s.url, up.body.id as string)).status).toBe('ready');
      images.push(up.body.id as string);
    }
  }, 120_000);
  afterAll(async () => {
    await s.stop();
  });

  it('parses fincore --raw and gzip fincore -J, then a report counts the shared inode once', async () => {
    const raw = await api(s.url, 'POST', '/api/residency?name=i1.fincore.raw', {
      body: `RES PAGES SIZE FILE\n28K 7 46K ${LIBCAP}\n`,
      headers: { 'content-type': 'text/plain' },
    });
    expect(raw.status).toBe(201);
    expect(raw.body).toMatchObject({
      name: 'i1.fincore.raw',
      format: 'fincore-raw',
      records: 1,
      residentPages: 7,
    });
    const gz = await api(s.url, 'POST', '/api/residency?name=i2.fincore.json', {
      body: gzipSync(JSON.stringify({ fincore: [{ res: 28672, pages: 7, size: 47128, file: LIBCAP }] })),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(gz.status).toBe(201);
    expect(gz.body).toMatchObject({ format: 'fincore-json', pageSize: 4096 });
    expect((await api(s.url, 'GET', `/api/residency/${gz.body.id as string}`)).body).toEqual(gz.body);

    const created = await api(s.url, 'POST', '/api/reports', {
      json: {
        images,
        residency: [
          { id: raw.body.id, instance: 'i1' },
          { id: gz.body.id, instance: 'i2' },
        ],
      },
    });
    expect(created.status).toBe(201);
    const summary = created.body.summary as { measured: Record<string, number> };
    expect(summary.measured).toMatchObject({
      pagesWithoutSharing: 14,
      pagesWithSharing: 7,
      bytesSaved: 7 * 4096,
    });
    const report = (await api(s.url, 'GET', `/api/reports/${created.body.id as string}`))
      .body as unknown as Report;
    expect(report.measured!.totals).toMatchObject({ pagesWithoutSharing: 14, pagesWithSharing: 7 });
    // The web UI's summary carries the measured totals and coverage, not the per-row columns.
    const ui = (await api(s.url, 'GET', `/api/reports/${created.body.id as string}/summary`)).body as {
      measured: Record<string, unknown>;
    };
    expect(ui.measured).toMatchObject({
      totals: report.measured!.totals,
      coverage: report.measured!.coverage,
    });
    expect(ui.measured.pagesWithout).toBeUndefined();
  }, 60_000);

  it('rejects a bad line with file:line:column (422), an unknown instance, a bad request field (400)', async () => {
    const bad = await api(s.url, 'POST', '/api/residency?name=v.txt', {
      body: '/a\n\r[OO] 3/2\r[OO] 3/2\n',
      headers: { 'content-type': 'text/plain' },
    });
    expect(bad.status).toBe(422);
    expect(errorOf(bad)).toMatchObject({ code: 'bad-residency', file: 'v.txt', line: 2, column: 16 });
    const ok = await api(s.url, 'POST', '/api/residency?name=a.list', {
      body: `${LIBCAP}\n`,
      headers: { 'content-type': 'text/plain' },
    });
    const unknown = await api(s.url, 'POST', '/api/reports', {
      json: { images, residency: [{ id: ok.body.id, instance: 'web' }] },
    });
    expect(unknown.status).toBe(422);
    expect(errorOf(unknown).message).toContain('no instance "web"');
    const field = await api(s.url, 'POST', '/api/reports', { json: { images, residency: [{ id: 'x' }] } });
    expect(field.status).toBe(400);
    expect(errorOf(field).message).toBe('residency[0].id must be a residency input id');
  }, 60_000);
});
