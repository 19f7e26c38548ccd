/**
 * The CSV and Markdown renders, now made from a report's stored parts and streamed
 * (scan/render.ts), are byte for byte what the renderers give for the whole report JSON
 * (reportToCsv, renderMarkdown): on the demo report and on reports of the shipped fixtures,
 * hostile names included.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderMarkdown, reportToCsv, type Report } from '@sharemap/sharing';
import { api, erofs, repo, startTestServer, waitImage, type TestServer } from './helpers.js';

describe('renders from the stored parts equal the renders of the whole report', () => {
  let s: TestServer;
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
    s = await startTestServer({ config: { demoDir: `${repo}/testdata` } });
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
});
