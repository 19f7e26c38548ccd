/**
 * A report's analysis input stored as references to the manifest blobs (analysis-input.ts):
 * the stored blob names the manifests instead of copying their records, GET
 * /api/reports/:id/input answers the full input JSON rebuilt from them (gzip or not), and a
 * manifest blob damaged on disk is refused by name (HTTP 500 damaged-data) or cuts the answer
 * off, never giving a report or an input made from other bytes than the ones validated.
 */
import http from 'node:http';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestToNdjson, parseManifest } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { INPUT_REF_KIND, type AnalysisInputRef } from '../src/analysis-input.js';
import { api, erofs, errorOf, startTestServer, type TestServer } from './helpers.js';

/** GET over a plain socket: the status, the headers and the body bytes as sent. */
function rawGet(
  base: string,
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(base + url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('the analysis input, stored as references to the manifest blobs', () => {
  let s: TestServer;
  /** Uploaded NDJSON by manifest blob. */
  const texts = new Map<string, string>();
  const manifestIds: string[] = [];

  async function upload(
    image: string,
    edit = (t: string): string => t,
  ): Promise<{ id: string; blob: string }> {
    const text = edit([...manifestToNdjson(await scanImageFile(erofs(image), { hash: true }))].join(''));
    const up = await api(s.url, 'POST', `/api/manifests?name=${image}`, {
      body: text,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(up.status).toBe(201);
    const id = up.body.id as string;
    const blob = (await s.ctx.store.manifests.get(id))!.blob;
    texts.set(blob, text);
    return { id, blob };
  }

  beforeAll(async () => {
    s = await startTestServer();
    for (const image of ['base-v1.fp.img', 'base-v2.fp.img', 'app.fp.img'])
      manifestIds.push((await upload(image)).id);
  });
  afterAll(async () => {
    await s.stop();
  });

  it('stores a reference document and serves the full input JSON from the manifests, gzip or not', async () => {
    const created = await api(s.url, 'POST', '/api/reports', {
      json: { manifests: manifestIds, options: { pageSize: 16384 } },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const row = (await s.ctx.store.reports.get(id))!;
    const stored = gunzipSync(readFileSync(s.ctx.blobs.path(row.input_blob))).toString('utf8');
    const ref = JSON.parse(stored) as AnalysisInputRef;
    expect(ref.kind).toBe(INPUT_REF_KIND);
    expect(ref.version).toBe(1);
    expect(new Set(ref.images.map((i) => i.manifestBlob))).toEqual(new Set(texts.keys()));
    // No record is copied: the reference is smaller than the smallest manifest's records.
    expect(stored.length).toBeLessThan(Math.min(...[...texts.values()].map((t) => t.length)));
    expect(stored).not.toContain('"files"');

    // What the analysis saw, as reports before references stored it: every manifest as the
    // validating parser reads its upload, in the report's image order.
    const expected = JSON.stringify({
      images: ref.images.map(({ image, manifestBlob }) => ({
        image,
        manifest: parseManifest(texts.get(manifestBlob)!),
      })),
      instances: ref.instances,
      options: { pageSize: 16384 },
      createdAt: ref.createdAt,
    });
    const report = (await api(s.url, 'GET', `/api/reports/${id}`)).body;
    expect(ref.createdAt).toBe(report.createdAt);
    expect(ref.instances.length).toBe((report.instances as unknown[]).length);

    const plain = await rawGet(s.url, `/api/reports/${id}/input`, {});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.etag).toBe(`"${row.input_blob}"`);
    expect(plain.body.toString('utf8')).toBe(expected);

    const gz = await rawGet(s.url, `/api/reports/${id}/input`, { 'accept-encoding': 'gzip' });
    expect(gz.status).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString('utf8')).toBe(expected);

    const cached = await rawGet(s.url, `/api/reports/${id}/input`, {
      'if-none-match': `"${row.input_blob}"`,
    });
    expect(cached.status).toBe(304);
  });

  it('an input stored in full (reports made before references) is sent as stored', async () => {
    const created = await api(s.url, 'POST', '/api/reports', { json: { manifests: [manifestIds[2]] } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const row = (await s.ctx.store.reports.get(id))!;
    const full = (await rawGet(s.url, `/api/reports/${id}/input`, {})).body.toString('utf8');
    // The full form in the reference's place (same name: the row is not touched).
    writeFileSync(s.ctx.blobs.path(row.input_blob), gzipSync(full));
    const again = await rawGet(s.url, `/api/reports/${id}/input`, { 'accept-encoding': 'gzip' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(readFileSync(s.ctx.blobs.path(row.input_blob)));
    expect(JSON.parse(gunzipSync(again.body).toString('utf8'))).toEqual(JSON.parse(full));
  });

  it('a manifest blob changed on disk: report creation is refused naming it, the input is cut off', async () => {
    const { id: manifestId, blob } = await upload('base-v1.fp.lz4hc.img');
    const created = await api(s.url, 'POST', '/api/reports', { json: { manifests: [manifestId] } });
    expect(created.status).toBe(201);
    const reportId = created.body.id as string;
    const file = s.ctx.blobs.path(blob);
    const original = readFileSync(file);
    // A valid gzip of a manifest that differs in one figure: only the checksum can tell.
    const text = texts.get(blob)!;
    const edited = text.replace(/"size":(\d+)/, (_m, n: string) => `"size":${Number(n) + 1}`);
    expect(edited).not.toBe(text);
    writeFileSync(file, gzipSync(edited));
    try {
      const refused = await api(s.url, 'POST', '/api/reports', { json: { manifests: [manifestId] } });
      expect(refused.status).toBe(500);
      expect(errorOf(refused).code).toBe('damaged-data');
      expect(errorOf(refused).message).toContain(`stored blob ${blob} is damaged (its content hashes to `);

      // The damage shows at the blob's last byte, when the answer may have begun: the
      // connection is cut before the end of the body, so no client takes it for the input.
      await expect(fetch(`${s.url}/api/reports/${reportId}/input`).then((r) => r.text())).rejects.toThrow();

      rmSync(file);
      const missing = await api(s.url, 'GET', `/api/reports/${reportId}/input`);
      expect(missing.status).toBe(500);
      expect(errorOf(missing).code).toBe('damaged-data');
      expect(errorOf(missing).message).toContain(`stored blob ${blob} is damaged (missing`);
    } finally {
      writeFileSync(file, original);
    }
    expect((await api(s.url, 'POST', '/api/reports', { json: { manifests: [manifestId] } })).status).toBe(
      201,
    );
  });
});
