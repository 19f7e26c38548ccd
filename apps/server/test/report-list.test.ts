/**
 * The admin report list pages with a stable cursor (created_at, then id): reports created in
 * the same millisecond are neither skipped nor listed twice across pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestToNdjson } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { backendSql } from './backend-sql.js';
import { api, erofs, errorOf, startTestServer, type TestServer } from './helpers.js';

const ADMIN = 'report-list-admin-token';
const admin = { authorization: `Bearer ${ADMIN}` };

describe('GET /api/reports paging', () => {
  let s: TestServer;
  const ids: string[] = [];

  beforeAll(async () => {
    s = await startTestServer({ config: { adminToken: ADMIN } });
    const m = await scanImageFile(erofs('base-v1.fp.img'), { hash: true });
    const up = await api(s.url, 'POST', '/api/manifests?name=base-v1.fp.img', {
      body: [...manifestToNdjson(m)].join(''),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(up.status).toBe(201);
    for (let k = 0; k < 7; k++) {
      const r = await api(s.url, 'POST', '/api/reports', {
        json: { manifests: [up.body.id], title: `r${k}` },
      });
      expect(r.status).toBe(201);
      ids.push(r.body.id as string);
    }
    // Several reports in one millisecond (a busy CI fleet): five share a time, two are older.
    for (const [k, id] of ids.entries())
      await backendSql(s, 'UPDATE reports SET created_at = $1 WHERE id = $2', [
        k < 5 ? '2026-12-05T10:00:00.000Z' : '2026-12-05T09:00:00.000Z',
        id,
      ]);
  }, 120_000);
  afterAll(async () => {
    await s.stop();
  });

  it('pages of 2 list every report exactly once, by time then id, newest first', async () => {
    const seen: string[] = [];
    const cursors: string[] = [];
    let before: string | null = null;
    for (let page = 0; page < 10; page++) {
      const q: string = before === null ? '' : `&before=${encodeURIComponent(before)}`;
      const r = await api(s.url, 'GET', `/api/reports?limit=2${q}`, { headers: admin });
      expect(r.status).toBe(200);
      const rows = r.body.reports as { id: string; createdAt: string }[];
      seen.push(...rows.map((x) => x.id));
      before = r.body.next as string | null;
      if (before === null) break;
      cursors.push(before);
    }
    const newer = ids.slice(0, 5).sort().reverse();
    const older = ids.slice(5).sort().reverse();
    expect(seen).toEqual([...newer, ...older]);
    // The cursor names the last row of its page.
    expect(cursors[0]).toBe(`2026-12-05T10:00:00.000Z~${newer[1]}`);
  });

  it('a bare time (the cursor before it had ids) still lists what is strictly older; a bad cursor is a 400', async () => {
    const r = await api(s.url, 'GET', `/api/reports?before=2026-12-05T10:00:00.000Z`, { headers: admin });
    expect(r.status).toBe(200);
    expect((r.body.reports as { id: string }[]).map((x) => x.id)).toEqual(ids.slice(5).sort().reverse());
    for (const bad of ['yesterday', '2026-12-05T10:00:00.000Z~short', "x' OR 1=1 --"]) {
      const b = await api(s.url, 'GET', `/api/reports?before=${encodeURIComponent(bad)}`, { headers: admin });
      expect(b.status).toBe(400);
      expect(errorOf(b).message).toContain('before must be');
    }
  });
});
