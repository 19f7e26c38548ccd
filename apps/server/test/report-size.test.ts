/**
 * What the server accepts it can use: a report whose images and manifests hold more file
 * records than SHAREMAP_MAX_REPORT_RECORDS is refused before any analysis with 413 naming the
 * limit (a 2M-record report used to be accepted and then fail after minutes: 500 or 503), and
 * one at the limit is created. The 2M-record run itself is `pnpm bench server-2m`
 * (docs/benchmarks.md#server-2m-2m-records-end-to-end); render-memory.test.ts fetches every
 * render of a 200,000-record report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestToNdjson } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { backendSql } from './backend-sql.js';
import { api, erofs, errorOf, startTestServer, type TestServer } from './helpers.js';

describe('SHAREMAP_MAX_REPORT_RECORDS', () => {
  let s: TestServer;
  const ids: string[] = [];
  let records = 0;

  beforeAll(async () => {
    const v1 = await scanImageFile(erofs('base-v1.fp.img'), { hash: false });
    const v2 = await scanImageFile(erofs('base-v2.fp.img'), { hash: false });
    records = v1.files.length + v2.files.length;
    // The limit: exactly the two manifests' records.
    s = await startTestServer({ limits: { maxReportRecords: records } });
    for (const m of [v1, v2]) {
      const up = await api(s.url, 'POST', `/api/manifests?name=${m.image.name}`, {
        body: [...manifestToNdjson(m)].join(''),
        headers: { 'content-type': 'application/x-ndjson' },
      });
      expect(up.status).toBe(201);
      ids.push(up.body.id as string);
    }
  });
  afterAll(async () => {
    await s.stop();
  });

  const reportCount = async (): Promise<number> =>
    Number((await backendSql<{ n: number }>(s, 'SELECT COUNT(*) AS n FROM reports'))[0]!.n);

  it('a report at the limit is created', async () => {
    const r = await api(s.url, 'POST', '/api/reports', { json: { manifests: ids } });
    expect(r.status).toBe(201);
  });

  it('one record more is refused up front with 413 naming the limit, and nothing is stored', async () => {
    const v2 = await scanImageFile(erofs('base-v2.fp.img'), { hash: false });
    // The same manifest once more under another name: one more manifest, its records on top.
    const up = await api(s.url, 'POST', '/api/manifests?name=again.img', {
      body: [...manifestToNdjson({ ...v2, image: { ...v2.image, name: 'again.img' } })].join(''),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(up.status).toBe(201);
    const before = await reportCount();
    const r = await api(s.url, 'POST', '/api/reports', { json: { manifests: [...ids, up.body.id] } });
    expect(r.status).toBe(413);
    expect(errorOf(r)).toMatchObject({
      code: 'too-large',
      limit: 'SHAREMAP_MAX_REPORT_RECORDS',
      records: records + v2.files.length,
    });
    expect(errorOf(r).message).toBe(
      `the report's images and manifests hold ${records + v2.files.length} file records, more than SHAREMAP_MAX_REPORT_RECORDS (${records})`,
    );
    expect(await reportCount()).toBe(before);
  });
});
