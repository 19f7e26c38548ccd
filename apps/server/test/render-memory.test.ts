/**
 * A CSV render of a big report fits in a small heap: the render reads the report's stored
 * parts (summary, columnar files) and streams its output (scan/render.ts). The report is
 * stored through the real server; the render runs in a child process under
 * `--max-old-space-size=RENDER_HEAP_MB` (test/render-child.mjs), where the render as it was
 * made before (the report JSON parsed whole, the CSV built as one string) runs out of memory.
 *
 * On the PostgreSQL run (vitest.postgres.config.ts) only what reads the database runs: the big
 * report stored through the API (its rows on PostgreSQL) and every render of it over HTTP. The
 * renders in a child process and the HTML block read blobs from the data folder, never a row
 * (the child is given the blob names), so they are the same on both backends and run on the
 * SQLite run only: they were most of this file's time on PostgreSQL, repeating SQLite's run.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillStaticTemplate, STATIC_TEMPLATE_META } from '@sharemap/report-wire';
import { CSV_COLUMNS } from '@sharemap/sharing';
import { BlobStore } from '../src/storage/blobs.js';
import { backendSql, postgresRun } from './backend-sql.js';
import { api, bigManifest, startTestServer, tempDir, type TestServer } from './helpers.js';
import type { ReportRow } from '../src/reports.js';

/** Regular files of the big report (its CSV has two more rows: `/` and `/data`). */
const FILES = 200_000;
/**
 * Heap of the child process (MiB). Measured with 200,000 files: the render from the parts
 * completes in 32 MiB; the render of the whole JSON runs out of memory at 64 MiB and needs
 * between 64 and 128 MiB (it grows with the rows: at 2M rows past V8's string limit).
 */
const RENDER_HEAP_MB = 48;

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'render-child.mjs');

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`--max-old-space-size=${RENDER_HEAP_MB}`, child, ...args],
      { maxBuffer: 16 * 1024 * 1024 },
      (err, _stdout, stderr) => resolve({ code: err ? ((err.code as number | undefined) ?? 1) : 0, stderr }),
    );
  });
}

describe('a CSV render of a big report in a small heap', () => {
  let s: TestServer;
  let row: ReportRow;
  let webDir: string;

  beforeAll(async () => {
    webDir = tempDir('sharemap-render-web-');
    writeFileSync(
      path.join(webDir, 'report-template.html'),
      `<!doctype html><html><head>${STATIC_TEMPLATE_META}<title>t</title></head><body></body></html>`,
    );
    s = await startTestServer({ limits: { maxConcurrentScans: 1 }, config: { webDir } });
    const up = await api(s.url, 'POST', '/api/manifests?name=big.img', {
      body: await bigManifest(FILES),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(up.status).toBe(201);
    const r = await api(s.url, 'POST', '/api/reports', { json: { manifests: [up.body.id], title: 'big' } });
    expect(r.status).toBe(201);
    [row] = (await backendSql(s, 'SELECT * FROM reports WHERE id = $1', [r.body.id])) as [ReportRow];
  }, 300_000);
  afterAll(async () => {
    await s.stop();
    rmSync(webDir, { recursive: true, force: true });
  });

  it.skipIf(postgresRun())(
    'the render from the stored parts completes: every row, first and last rows exact',
    async () => {
      const out = path.join(s.dataDir, 'parts.csv.gz');
      const res = await run(['parts', s.dataDir, row.summary_blob!, row.files_blob!, out]);
      expect(res).toEqual({ code: 0, stderr: '' });
      const lines = createInterface({
        input: createReadStream(out).pipe(createGunzip()),
        crlfDelay: Infinity,
      });
      let n = 0;
      let data = 0;
      let header = '';
      let first = '';
      let last = '';
      for await (const line of lines) {
        if (n === 0) header = line;
        if (n === 1) first = line;
        if (line.includes(',/data/f')) data++;
        last = line;
        n++;
      }
      expect(header).toBe(CSV_COLUMNS.join(','));
      expect(n).toBe(1 + FILES + 2);
      expect(data).toBe(FILES);
      expect(first).toBe('i1,big.img,big.img,/,private-not-regular,default,0,0,0,0,0,-1,');
      // Every file has the template's fingerprint: one shared inode (group 0), its first member pays.
      expect(last).toBe(
        `i1,big.img,big.img,/data/f0${FILES - 1},shared,default,12332,4,0,16384,0,0,` +
          '7368613235363a7ae8cae2e64856b34c80276deb1dcf60f76da27bc1e00382201ba7bb7dc33311',
      );
    },
    120_000,
  );

  // Accepted means usable: every form of the big report answers 200 over HTTP.
  it('every render of the big report answers 200 with its content', async () => {
    const id = row.id;
    for (const [url, type] of [
      [`/api/reports/${id}`, 'application/json'],
      [`/api/reports/${id}?format=csv`, 'text/csv'],
      [`/api/reports/${id}?format=markdown`, 'text/markdown'],
      [`/api/reports/${id}/summary`, 'application/json'],
      [`/api/reports/${id}/files`, 'application/vnd.sharemap.files'],
      [`/api/reports/${id}?format=html`, 'text/html'],
    ] as const) {
      const res = await fetch(s.url + url);
      const body = await res.arrayBuffer();
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toContain(type);
      expect(body.byteLength, url).toBeGreaterThan(1000);
    }
  }, 300_000);

  it.skipIf(postgresRun())(
    'the render as it was made before (the whole report JSON) runs out of memory under the same limit',
    async () => {
      const res = await run(['whole', s.dataDir, row.blob, path.join(s.dataDir, 'whole.csv.gz')]);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(/heap out of memory/);
    },
    120_000,
  );
});

/**
 * The HTML render copies the parts' gzip bytes into the page as base64 without reading them
 * (report-wire streamStaticTemplate), so its memory does not depend on the report: parts of
 * random bytes twice the child's heap stand in for a report of millions of rows (a 2M-row
 * report's files part is about that size). The page, 4/3 of the parts, cannot have been whole
 * in memory; the render as it was made before (parts and page whole) runs out of memory.
 */
describe.skipIf(postgresRun())('an HTML render of big parts in a small heap', () => {
  const template = `<!doctype html><html><head>${STATIC_TEMPLATE_META}<title>t</title></head><body><!--sharemap:summary--><div id="root"></div></body></html>`;
  let dir: string;
  let templateFile: string;
  let summary: Buffer;
  let files: Buffer;
  let blobs: { summaryBlob: string; filesBlob: string };

  // In the hook, not the describe body, which runs even where the block is skipped.
  beforeAll(async () => {
    dir = tempDir('sharemap-render-html-');
    templateFile = path.join(dir, 'template.html');
    summary = randomBytes(10_000);
    files = randomBytes(2 * RENDER_HEAP_MB * 1024 * 1024);
    writeFileSync(templateFile, template);
    const store = new BlobStore(dir);
    blobs = { summaryBlob: (await store.put(summary)).sha256, filesBlob: (await store.put(files)).sha256 };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the page streamed from the stored parts completes, byte for byte the whole page', async () => {
    const out = path.join(dir, 'streamed.html');
    const res = await run(['html', dir, blobs.summaryBlob, blobs.filesBlob, templateFile, out]);
    expect(res).toEqual({ code: 0, stderr: '' });
    const got = createHash('sha256');
    for await (const c of createReadStream(out)) got.update(c as Buffer);
    const page = fillStaticTemplate(template, { summaryGzip: summary, filesGzip: files }, 'big');
    expect(page.length).toBeGreaterThan(2 * RENDER_HEAP_MB * 1024 * 1024);
    expect(got.digest('hex')).toBe(createHash('sha256').update(page).digest('hex'));
  }, 120_000);

  it('the page as it was made before (parts and page whole) runs out of memory under the same limit', async () => {
    const res = await run([
      'html-whole',
      dir,
      blobs.summaryBlob,
      blobs.filesBlob,
      templateFile,
      path.join(dir, 'whole.html'),
    ]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/heap out of memory|Invalid string length/);
  }, 120_000);
});
