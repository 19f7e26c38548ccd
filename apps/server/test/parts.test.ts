/**
 * The web UI's parts of a report: GET /api/reports/:id/summary (the report without its
 * per-file parts) and GET /api/reports/:id/files (the per-file columns, sharemap-files
 * encoding), against the full report of GET /api/reports/:id; reports stored before the parts
 * existed get them derived on first request.
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestToNdjson } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import {
  assembleFiles,
  decodeFiles,
  FILES_CONTENT_TYPE,
  reportSummary,
  type ReportSummaryDoc,
} from '@sharemap/report-wire';
import type { Report } from '@sharemap/sharing';
import { api, erofs, errorOf, mounts, startTestServer, type TestServer } from './helpers.js';

/** Typed arrays -> plain arrays. */
function plain<T>(v: T): T {
  return JSON.parse(
    JSON.stringify(v, (_k, x: unknown) => (ArrayBuffer.isView(x) ? Array.from(x as Uint8Array) : x)),
  ) as T;
}

async function getBytes(
  base: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; buf: ArrayBuffer }> {
  const res = await fetch(base + url, { headers });
  return { status: res.status, headers: res.headers, buf: await res.arrayBuffer() };
}

describe('report parts for the web UI', () => {
  let s: TestServer;
  let id = '';
  let report: Report;

  beforeAll(async () => {
    s = await startTestServer();
    const manifests: string[] = [];
    for (const name of ['base-v1.fp.img', 'base-v2.fp.img', 'app.fp.img', 'app.fp.lz4hc.img']) {
      const m = await scanImageFile(erofs(name), { hash: true });
      const up = await api(s.url, 'POST', `/api/manifests?name=${name}`, {
        body: [...manifestToNdjson(m)].join(''),
        headers: { 'content-type': 'application/x-ndjson' },
      });
      expect(up.status).toBe(201);
      manifests.push(up.body.id as string);
    }
    const fstab = await api(s.url, 'POST', '/api/mount-configs?name=fleet.fstab', {
      body: readFileSync(mounts('fleet.fstab'), 'utf8'),
      headers: { 'content-type': 'text/plain' },
    });
    expect(fstab.status).toBe(201);
    const created = await api(s.url, 'POST', '/api/reports', {
      json: { manifests, mountConfigs: [fstab.body.id], title: 'parts' },
    });
    expect(created.status).toBe(201);
    id = created.body.id as string;
    report = (await api(s.url, 'GET', `/api/reports/${id}`)).body as unknown as Report;
    expect(report.files.instance.length).toBeGreaterThan(100);
    expect(report.groups.length).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await s.stop();
  });

  it('GET /api/reports/:id/summary: the report without files, groups and paths', async () => {
    const r = await api(s.url, 'GET', `/api/reports/${id}/summary`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.headers.get('cache-control')).toContain('immutable');
    const summary = r.body as unknown as ReportSummaryDoc;
    expect(summary).toEqual(JSON.parse(JSON.stringify(reportSummary(report))));
    expect(summary.fileRows).toBe(report.files.instance.length);
    expect(summary.totals).toEqual(report.totals);
    expect('files' in summary || 'paths' in summary || 'groups' in summary).toBe(false);
    expect(r.text.length).toBeLessThan(JSON.stringify(report).length);
    expect(r.text).not.toMatch(/acme-signed|"thirdparty"|domain_id=/);
  });

  it('GET /api/reports/:id/files: the per-file columns, decoding to the report’s', async () => {
    for (const enc of ['gzip', 'identity']) {
      const r = await getBytes(s.url, `/api/reports/${id}/files`, { 'accept-encoding': enc });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe(FILES_CONTENT_TYPE);
      expect(r.headers.get('etag')).toMatch(/^"[0-9a-f]{64}"$/);
      const parts = assembleFiles(decodeFiles(r.buf));
      expect(plain(parts.files)).toEqual(report.files);
      expect(parts.groups).toEqual(report.groups);
      expect(parts.paths).toEqual(report.paths);
    }
    const first = await fetch(`${s.url}/api/reports/${id}/files`);
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    const again = await fetch(`${s.url}/api/reports/${id}/files`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('unknown and malformed ids are 404', async () => {
    for (const part of ['summary', 'files']) {
      for (const bad of ['AAAAAAAAAAAAAAAAAAAAAA', 'nope', '..%2F..%2Fetc']) {
        const r = await api(s.url, 'GET', `/api/reports/${bad}/${part}`);
        expect(r.status, `${part} ${bad}`).toBe(404);
        expect(errorOf(r).code).toBe('not-found');
      }
    }
  });

  it('derives the parts of a report stored before they existed, once, and keeps them', async () => {
    const summaryBefore = await api(s.url, 'GET', `/api/reports/${id}/summary`);
    const filesBefore = await getBytes(s.url, `/api/reports/${id}/files`);
    // A report as an older server stored it: no parts in the row (their blobs go at the next start).
    await s.close(1000);
    const db = new Database(path.join(s.dataDir, 'sharemap.db'));
    db.prepare('UPDATE reports SET summary_blob = NULL, files_blob = NULL WHERE id = ?').run(id);
    db.close();
    s = await startTestServer({ dataDir: s.dataDir });
    const [a, b] = await Promise.all([
      api(s.url, 'GET', `/api/reports/${id}/summary`),
      getBytes(s.url, `/api/reports/${id}/files`),
    ]);
    expect(a.status).toBe(200);
    expect(a.body).toEqual(summaryBefore.body);
    expect(b.status).toBe(200);
    expect(Buffer.from(b.buf).equals(Buffer.from(filesBefore.buf))).toBe(true);
    const row = s.ctx.db.prepare('SELECT summary_blob, files_blob FROM reports WHERE id = ?').get(id) as {
      summary_blob: string | null;
      files_blob: string | null;
    };
    expect(row.summary_blob).toMatch(/^[0-9a-f]{64}$/);
    expect(row.files_blob).toMatch(/^[0-9a-f]{64}$/);
    // Kept across a restart (the sweep keeps blobs the row names).
    await s.close(1000);
    s = await startTestServer({ dataDir: s.dataDir });
    expect((await getBytes(s.url, `/api/reports/${id}/files`)).status).toBe(200);
    expect(
      (s.ctx.db.prepare('SELECT files_blob FROM reports WHERE id = ?').get(id) as { files_blob: string })
        .files_blob,
    ).toBe(row.files_blob);
  }, 180_000);

  it('refuses with 413 naming SHAREMAP_WORKER_HEAP_MB when the parts cannot be derived in the worker heap', async () => {
    // A server started with a far smaller worker heap than the one that made the report: the
    // worker deriving the parts really runs out of memory. The report's JSON stays available.
    await s.close(1000);
    const db = new Database(path.join(s.dataDir, 'sharemap.db'));
    db.prepare('UPDATE reports SET summary_blob = NULL, files_blob = NULL WHERE id = ?').run(id);
    db.close();
    s = await startTestServer({ dataDir: s.dataDir, limits: { workerHeapMb: 2 } });
    const r = await api(s.url, 'GET', `/api/reports/${id}/summary`);
    expect(r.status).toBe(413);
    expect(errorOf(r)).toMatchObject({ code: 'too-large', limit: 'SHAREMAP_WORKER_HEAP_MB' });
    expect(errorOf(r).message).toMatch(/needs more than SHAREMAP_WORKER_HEAP_MB \(2 MiB\)/);
    expect((await api(s.url, 'GET', `/api/reports/${id}`)).status).toBe(200);
  }, 180_000);
});
