/**
 * `GET /api/reports/:id?format=html`: the report template filled with the report's stored
 * parts, over a real server. The embedded parts decode to exactly what `/summary` and `/files`
 * serve. (The page itself opening in Chromium is tested with the packed CLI, e2e/tests.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestToNdjson } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import {
  extractStaticParts,
  STATIC_FILES_PART,
  STATIC_SUMMARY_PART,
  STATIC_TEMPLATE_META,
} from '@sharemap/report-wire';
import { api, erofs, errorOf, startTestServer, tempDir, type TestServer } from './helpers.js';

const TEMPLATE = `<!doctype html><html><head>${STATIC_TEMPLATE_META}<title>t</title></head><body><div id="root"></div><script>const s = "$&</body>";</script></body></html>`;

function embedded(html: string, id: string): Buffer {
  const parts = extractStaticParts(html);
  expect(parts).not.toBeNull();
  return gunzipSync(id === STATIC_SUMMARY_PART ? parts!.summaryGzip : parts!.filesGzip);
}

describe('GET /api/reports/:id?format=html', () => {
  let s: TestServer;
  let reportId = '';
  const webDir = tempDir('sharemap-web-');

  beforeAll(async () => {
    s = await startTestServer({ config: { webDir } });
    const ids: string[] = [];
    for (const name of ['base-v1.fp.img', 'base-v2.fp.img']) {
      const m = await api(s.url, 'POST', `/api/manifests?name=${name}`, {
        body: [...manifestToNdjson(await scanImageFile(erofs(name), { hash: false }))].join(''),
        headers: { 'content-type': 'application/x-ndjson' },
      });
      expect(m.status).toBe(201);
      ids.push(m.body.id as string);
    }
    const created = await api(s.url, 'POST', '/api/reports', { json: { manifests: ids } });
    expect(created.status).toBe(201);
    reportId = created.body.id as string;
  });
  afterAll(async () => {
    await s.stop();
  });

  it('without a template in the web directory: 503 naming the problem', async () => {
    const r = await api(s.url, 'GET', `/api/reports/${reportId}?format=html`);
    expect(r.status).toBe(503);
    expect(errorOf(r).message).toMatch(/no HTML report template \(report-template\.html/);
  });

  it('fills the template with the stored summary and files parts', async () => {
    mkdirSync(webDir, { recursive: true });
    writeFileSync(path.join(webDir, 'report-template.html'), TEMPLATE);
    const r = await api(s.url, 'GET', `/api/reports/${reportId}?format=html`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('content-disposition')).toBe(`attachment; filename="sharemap-${reportId}.html"`);
    // The data goes before the last </body>, the template's text is untouched.
    expect(r.text.startsWith(TEMPLATE.slice(0, TEMPLATE.indexOf('<title>')))).toBe(true);
    expect(r.text).toContain('<title>sharemap report ' + reportId + '</title>');
    expect(r.text).toContain('const s = "$&</body>";</script><script type="application/octet-stream"');
    expect(r.text.endsWith('</body></html>')).toBe(true);
    const summary = await api(s.url, 'GET', `/api/reports/${reportId}/summary`);
    expect(JSON.parse(embedded(r.text, STATIC_SUMMARY_PART).toString('utf8'))).toEqual(summary.body);
    const files = Buffer.from(await (await fetch(`${s.url}/api/reports/${reportId}/files`)).arrayBuffer());
    expect(embedded(r.text, STATIC_FILES_PART).equals(files)).toBe(true);
  });

  it('an unknown format names the formats', async () => {
    const r = await api(s.url, 'GET', `/api/reports/${reportId}?format=pdf`);
    expect(r.status).toBe(400);
    expect(errorOf(r).message).toBe('format must be json, csv, markdown or html');
  });
});
