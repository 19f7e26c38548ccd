/**
 * The CSV and Markdown renders, now made from a report's stored parts and streamed
 * (scan/render.ts), are byte for byte what the renderers give for the whole report JSON
 * (reportToCsv, renderMarkdown); the HTML page, streamed from the stored parts
 * (routes/report-html.ts), is byte for byte fillStaticTemplate's page of the same parts: on the
 * demo report and on reports of the shipped fixtures, hostile names included.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillStaticTemplate, STATIC_SUMMARY_MARK, STATIC_TEMPLATE_META } from '@sharemap/report-wire';
import { renderMarkdown, reportToCsv, type Report } from '@sharemap/sharing';
import { getReportRow, reportParts } from '../src/reports.js';
import { REPORT_TEMPLATE } from '../src/routes/report-html.js';
import { api, erofs, repo, startTestServer, tempDir, waitImage, type TestServer } from './helpers.js';

/** A report template with the summary's mark and text that must not be read as a replacement pattern. */
const TEMPLATE = `<!doctype html><html><head>${STATIC_TEMPLATE_META}<title>t</title></head><body>${STATIC_SUMMARY_MARK}<div id="root"></div><script>const s = "$&</body>";</script></body></html>`;

describe('renders from the stored parts equal the renders of the whole report', () => {
  let s: TestServer;
  const webDir = tempDir('sharemap-web-');
  const reports: Record<string, string> = {};

  const upload = async (file: string): Promise<string> => {
    const up = await api(s.url, 'POST', `/api/images?name=${path.basename(file)}`, {
      body: readFileSync(file),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect([200, 202]).toContain(up.status); // 200: the demo uploaded the same image
    expect((await waitImage(s.url, up.body.id as string)).status).toBe('ready');
    return up.body.id as string;
  };
  const report = async (images: string[]): Promise<string> => {
    const r = await api(s.url, 'POST', '/api/reports', { json: { images } });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };

  beforeAll(async () => {
    mkdirSync(webDir, { recursive: true });
    writeFileSync(path.join(webDir, REPORT_TEMPLATE), TEMPLATE);
    s = await startTestServer({ config: { demoDir: `${repo}/testdata`, webDir } });
    await s.demo;
    const demo = await api(s.url, 'GET', '/api/demo');
    expect(demo.status).toBe(200);
    reports.demo = demo.body.id as string;
    reports.hostile = await report([await upload(path.join(repo, 'testdata/hostile/hostile-names.img'))]);
    reports.bases = await report([
      await upload(erofs('base-v1.fp.img')),
      await upload(erofs('base-v2.fp.img')),
      await upload(erofs('edge-mini.chunk4k.img')),
    ]);
  }, 180_000);
  afterAll(async () => {
    await s.stop();
  });

  for (const name of ['demo', 'hostile', 'bases'])
    it(`${name}: CSV and Markdown`, async () => {
      const id = reports[name]!;
      const json = await api(s.url, 'GET', `/api/reports/${id}`);
      expect(json.status).toBe(200);
      const whole = JSON.parse(json.text) as Report;
      expect(whole.files.instance.length).toBeGreaterThan(0);
      const csv = await api(s.url, 'GET', `/api/reports/${id}?format=csv`);
      expect(csv.status, csv.text).toBe(200);
      expect(csv.text).toBe(reportToCsv(whole));
      for (const format of ['markdown', 'md']) {
        const md = await api(s.url, 'GET', `/api/reports/${id}?format=${format}`);
        expect(md.status).toBe(200);
        expect(md.text).toBe(renderMarkdown(whole, { url: `/r/${id}` }));
      }
    }, 120_000);

  /** The stored parts' gzip bytes (the blobs the page embeds). */
  const storedParts = async (id: string): Promise<{ summaryGzip: Uint8Array; filesGzip: Uint8Array }> => {
    const { summaryBlob, filesBlob } = await reportParts(s.ctx, (await getReportRow(s.ctx, id))!);
    return {
      summaryGzip: readFileSync(s.ctx.blobs.path(summaryBlob)),
      filesGzip: readFileSync(s.ctx.blobs.path(filesBlob)),
    };
  };

  for (const name of ['demo', 'hostile', 'bases'])
    it(`${name}: HTML`, async () => {
      const id = reports[name]!;
      const html = await api(s.url, 'GET', `/api/reports/${id}?format=html`);
      expect(html.status, html.text.slice(0, 500)).toBe(200);
      expect(html.text).toBe(fillStaticTemplate(TEMPLATE, await storedParts(id), `sharemap report ${id}`));
    }, 120_000);
});
