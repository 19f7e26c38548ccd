/**
 * The columnar form written at upload (docs/server.md#stored-columnar-manifests): a manifest
 * POSTed to /api/manifests (NDJSON, or the JSON form gzip-compressed) has its columnar file as
 * soon as the upload is answered, the very bytes the first report would write from the NDJSON;
 * a report made from it is the same bytes as one made from the NDJSON; a manifest stored
 * without one (uploaded by an older server) still makes that report, and gets its file; and
 * a refused upload leaves no file behind.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestToNdjson, parseManifest, StringTable, type ManifestHeader } from '@sharemap/erofs';
import { buildAnalysisInput } from '@sharemap/sharing';
import { scanImageFile } from '@sharemap/erofs/node';
import { createLogger } from '../src/log.js';
import { runAnalysis } from '../src/scan/analysis.js';
import { readManifestForReport } from '../src/scan/stored-columns.js';
import type { AnalyzeTask } from '../src/scan/tasks.js';
import { api, bigManifest, erofs, startTestServer, type TestServer } from './helpers.js';

describe('columnar form written at upload', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.stop();
  });

  async function upload(body: Buffer | string, headers: Record<string, string>): Promise<string> {
    const up = await api(s.url, 'POST', '/api/manifests', { body, headers });
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    const row = (await s.ctx.store.manifests.get(up.body.id as string))!;
    headerOf.set(row.blob, JSON.parse(row.header) as ManifestHeader);
    return row.blob;
  }
  const headerOf = new Map<string, ManifestHeader>();

  function capture(): { log: ReturnType<typeof createLogger>; msgs: string[] } {
    const msgs: string[] = [];
    return { log: createLogger('info', (l) => msgs.push((JSON.parse(l) as { msg: string }).msg)), msgs };
  }

  it(
    'is there once the upload is answered, the bytes the first report would write, and makes the same report',
    { timeout: 300_000 },
    async () => {
      const texts = [await bigManifest(5000)];
      for (const img of ['base-v1.fp.img', 'edge-mini.fp-trusted.img', 'metabox/mbox.metabox.fp.img'])
        texts.push([...manifestToNdjson(await scanImageFile(erofs(img), { hash: true }))].join(''));
      const blobs: string[] = [];
      for (const [k, text] of texts.entries()) {
        // The JSON form, gzip-compressed, for one of them: its records reach the columns too.
        const blob =
          k === 1
            ? await upload(gzipSync(JSON.stringify(parseManifest(text))), {
                'content-type': 'application/json',
                'content-encoding': 'gzip',
              })
            : await upload(text, { 'content-type': 'application/x-ndjson' });
        expect(existsSync(s.ctx.blobs.columnsPath(blob)), `columns of upload ${k}`).toBe(true);
        blobs.push(blob);
      }
      expect(readdirSync(s.ctx.blobs.tmpDir)).toEqual([]); // the section files are gone
      const built = buildAnalysisInput({
        images: blobs.map((b, k) => ({
          header: headerOf.get(b)!,
          name: `m${k}`,
          aliases: [`m${k}`],
          payload: b,
        })),
        mountConfigs: [],
        mapping: {},
        publishers: {},
        domainAssignments: {},
      });
      const task: AnalyzeTask = {
        kind: 'analyze',
        dataDir: s.dataDir,
        images: built.images.map((i) => ({ image: i.image, manifestBlob: i.payload })),
        instances: built.instances,
        options: {},
        createdAt: '2026-12-06T00:00:00.000Z',
      };
      const fromUpload = new Map(blobs.map((b) => [b, readFileSync(s.ctx.blobs.columnsPath(b))]));
      const first = capture();
      const fromColumns = await runAnalysis(task, undefined, first.log);
      expect(first.msgs).toEqual([]); // every manifest read from its columns
      // As a manifest uploaded before the columns were written at upload: no file.
      for (const b of blobs) rmSync(s.ctx.blobs.columnsPath(b));
      const second = capture();
      const fromNdjson = await runAnalysis(task, undefined, second.log);
      expect(second.msgs).toEqual(blobs.map(() => 'manifest has no columnar form yet: read its NDJSON'));
      expect(fromNdjson.reportBlob).toBe(fromColumns.reportBlob);
      expect(fromNdjson.filesBlob).toBe(fromColumns.filesBlob);
      expect(fromNdjson.summaryBlob).toBe(fromColumns.summaryBlob);
      // The report wrote each file again from the NDJSON: the same bytes as the upload wrote.
      for (const b of blobs)
        expect(readFileSync(s.ctx.blobs.columnsPath(b)).equals(fromUpload.get(b)!)).toBe(true);
      for (const b of blobs)
        expect((await readManifestForReport(s.ctx.blobs, b, new StringTable())).source).toBe('columns');
    },
  );

  it('leaves no columnar file and no section file for a refused upload', { timeout: 120_000 }, async () => {
    const text = await bigManifest(300);
    const lines = text.split('\n');
    lines[150] = lines[150]!.replace('"type":"file"', '"type":"bogus"');
    const up = await api(s.url, 'POST', '/api/manifests', {
      body: lines.join('\n'),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(up.status).toBe(422);
    expect(readdirSync(s.ctx.blobs.tmpDir)).toEqual([]);
  });

  it(
    'makes a report through the API from a manifest uploaded a moment before',
    { timeout: 120_000 },
    async () => {
      const up = await api(s.url, 'POST', '/api/manifests', {
        body: await bigManifest(2000),
        headers: { 'content-type': 'application/x-ndjson' },
      });
      expect(up.status).toBe(201);
      const blob = (await s.ctx.store.manifests.get(up.body.id as string))!.blob;
      expect(existsSync(s.ctx.blobs.columnsPath(blob))).toBe(true);
      const created = await api(s.url, 'POST', '/api/reports', { json: { manifests: [up.body.id] } });
      expect(created.status).toBe(201);
      const got = await api(s.url, 'GET', `/api/reports/${created.body.id as string}/summary`);
      expect(got.status).toBe(200);
    },
  );
});
