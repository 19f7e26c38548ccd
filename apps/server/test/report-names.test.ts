/**
 * Report names (PUT/GET/DELETE /api/report-names/:name, admin listing) over a real server:
 * set, move, read, bad names and bodies, unknown reports, tokens, migration and restart.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportNameProblem } from '@sharemap/sharing';
import { DB_FILE } from '../src/context.js';
import { collectGarbage } from '../src/gc/collect.js';
import { resolveRetention } from '../src/gc/retention.js';
import { openDb, SCHEMA_VERSION } from '../src/storage/db.js';
import { createToken } from '../src/tokens.js';
import { backendSql, postgresRun } from './backend-sql.js';
import { api, erofs, errorOf, startTestServer, tempDir, waitImage, type TestServer } from './helpers.js';

const octet = { 'content-type': 'application/octet-stream' };

/** Two reports of one image (page sizes 4096 and 8192), created with `headers`. */
async function twoReports(s: TestServer, headers: Record<string, string> = {}): Promise<[string, string]> {
  const up = await api(s.url, 'POST', '/api/images?name=app.fp.img', {
    body: readFileSync(erofs('app.fp.img')),
    headers: { ...octet, ...headers },
  });
  expect(up.status).toBeLessThan(300);
  await waitImage(s.url, up.body.id as string);
  const ids: string[] = [];
  for (const pageSize of [4096, 8192]) {
    const r = await api(s.url, 'POST', '/api/reports', {
      json: { images: [up.body.id], options: { pageSize } },
      headers,
    });
    expect(r.status).toBe(201);
    ids.push(r.body.id as string);
  }
  return [ids[0]!, ids[1]!];
}

describe('report names: the rules', () => {
  it('accepts branch-like names and refuses the rest', () => {
    for (const ok of ['main', 'release/1.2', 'feature/x_y-z', 'v1.2.3', 'a', 'A'.repeat(100), 'a.b/c.d'])
      expect(reportNameProblem(ok), ok).toBeUndefined();
    for (const bad of [
      '',
      'A'.repeat(101),
      '..',
      'a..b',
      'x/../y',
      '/main',
      'main/',
      'a//b',
      '.hidden',
      'a/.b',
      'with space',
      'ümlaut',
      'a:b',
      'a\\b',
      'a?b',
      'a%2Fb',
    ])
      expect(reportNameProblem(bad), bad).toBeDefined();
  });
});

describe('report names (open server)', () => {
  let s: TestServer;
  let r1 = '';
  let r2 = '';
  beforeAll(async () => {
    s = await startTestServer();
    [r1, r2] = await twoReports(s);
  });
  afterAll(async () => {
    await s.stop();
  });

  it('sets, reads and moves a name', async () => {
    const unknown = await api(s.url, 'GET', '/api/report-names/main');
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown)).toMatchObject({ code: 'not-found', message: 'report name "main" not found' });
    const set = await api(s.url, 'PUT', '/api/report-names/main', { json: { reportId: r1 } });
    expect(set.status).toBe(201);
    expect(set.body).toMatchObject({
      name: 'main',
      reportId: r1,
      url: `/r/${r1}`,
      apiUrl: `/api/reports/${r1}`,
      setBy: null,
      previousReportId: null,
    });
    const got = await api(s.url, 'GET', '/api/report-names/main');
    expect(got.status).toBe(200);
    expect(got.headers.get('cache-control')).toBe('no-store');
    expect(got.body).toMatchObject({ name: 'main', reportId: r1, url: `/r/${r1}` });
    expect(Date.parse(got.body.updatedAt as string)).not.toBeNaN();
    const moved = await api(s.url, 'PUT', '/api/report-names/main', { json: { reportId: r2 } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ reportId: r2, previousReportId: r1 });
    expect(moved.body.createdAt).toBe(set.body.createdAt);
    expect((moved.body.updatedAt as string) >= (set.body.updatedAt as string)).toBe(true);
    expect((await api(s.url, 'GET', '/api/report-names/main')).body.reportId).toBe(r2);
    // names are case-sensitive
    expect((await api(s.url, 'GET', '/api/report-names/Main')).status).toBe(404);
    // the report behind the name is the stored report
    expect((await api(s.url, 'GET', `/api/reports/${r2}`)).status).toBe(200);
  });

  it('names with "/" work as is and as %2F', async () => {
    const set = await api(s.url, 'PUT', '/api/report-names/release/1.2', { json: { reportId: r1 } });
    expect(set.status).toBe(201);
    expect(set.body.name).toBe('release/1.2');
    const enc = await api(s.url, 'GET', '/api/report-names/release%2F1.2');
    expect(enc.status).toBe(200);
    expect(enc.body).toMatchObject({ name: 'release/1.2', reportId: r1 });
    expect((await api(s.url, 'GET', '/api/report-names/release')).status).toBe(404);
  });

  it('bad names -> 400 bad-name', async () => {
    for (const p of [
      '/api/report-names/a..b',
      '/api/report-names/%2Fmain',
      '/api/report-names/main%2F',
      '/api/report-names/.hidden',
      '/api/report-names/with%20space',
      '/api/report-names/%C3%BC',
      `/api/report-names/${'a'.repeat(101)}`,
    ]) {
      const put = await api(s.url, 'PUT', p, { json: { reportId: r1 } });
      expect(put.status, p).toBe(400);
      expect(errorOf(put).code, p).toBe('bad-name');
      const get = await api(s.url, 'GET', p);
      expect(get.status, p).toBe(400);
      expect(errorOf(get).message, p).toMatch(/^report name ".*" (must|may|no part)/);
    }
  });

  it('bad bodies and unknown reports', async () => {
    const u = '/api/report-names/bodies';
    const notJson = await api(s.url, 'PUT', u, { body: r1, headers: { 'content-type': 'text/plain' } });
    expect(notJson.status).toBe(415);
    const brokenJson = await api(s.url, 'PUT', u, {
      body: '{"reportId":',
      headers: { 'content-type': 'application/json' },
    });
    expect(brokenJson.status).toBe(400);
    expect(errorOf(brokenJson).code).toBe('bad-json');
    for (const body of [{}, [], { reportId: 'short' }, { reportId: 42 }, { reportId: r1, extra: 1 }]) {
      const r = await api(s.url, 'PUT', u, { json: body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(errorOf(r).code).toBe('bad-request');
    }
    const unknown = await api(s.url, 'PUT', u, { json: { reportId: 'AAAAAAAAAAAAAAAAAAAAAA' } });
    expect(unknown.status).toBe(422);
    expect(errorOf(unknown)).toMatchObject({
      code: 'unknown-report',
      reportId: 'AAAAAAAAAAAAAAAAAAAAAA',
    });
    expect((await api(s.url, 'GET', u)).status).toBe(404); // nothing was set
  });

  it('delete; a bad token is refused even on an open server; listing needs an admin token', async () => {
    expect((await api(s.url, 'PUT', '/api/report-names/tmp', { json: { reportId: r1 } })).status).toBe(201);
    const del = await api(s.url, 'DELETE', '/api/report-names/tmp');
    expect(del.status).toBe(204);
    expect((await api(s.url, 'GET', '/api/report-names/tmp')).status).toBe(404);
    expect((await api(s.url, 'DELETE', '/api/report-names/tmp')).status).toBe(404);
    expect((await api(s.url, 'GET', `/api/reports/${r1}`)).status).toBe(200); // the report stays
    const bad = await api(s.url, 'GET', '/api/report-names/main', {
      headers: { authorization: 'Bearer smt_wrong' },
    });
    expect(bad.status).toBe(401);
    expect((await api(s.url, 'GET', '/api/report-names')).status).toBe(401);
  });
});

describe('report names (server requiring tokens)', () => {
  let s: TestServer;
  let writer = '';
  let other = '';
  let admin = '';
  let r1 = '';
  let r2 = '';
  beforeAll(async () => {
    s = await startTestServer({ config: { requireToken: true } });
    writer = await createToken(s.ctx.store, 'ci-main');
    other = await createToken(s.ctx.store, 'ci-pr');
    admin = await createToken(s.ctx.store, 'ops', { admin: true });
    [r1, r2] = await twoReports(s, { authorization: `Bearer ${writer}` });
  });
  afterAll(async () => {
    await s.stop();
  });

  const auth = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });

  it('setting a name needs a token; the token name is recorded', async () => {
    const none = await api(s.url, 'PUT', '/api/report-names/main', { json: { reportId: r1 } });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const bad = await api(s.url, 'PUT', '/api/report-names/main', {
      json: { reportId: r1 },
      headers: auth('smt_wrong'),
    });
    expect(bad.status).toBe(401);
    const set = await api(s.url, 'PUT', '/api/report-names/main', {
      json: { reportId: r1 },
      headers: auth(writer),
    });
    expect(set.status).toBe(201);
    expect(set.body.setBy).toBe('ci-main');
    const moved = await api(s.url, 'PUT', '/api/report-names/main', {
      json: { reportId: r2 },
      headers: auth(other),
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ reportId: r2, previousReportId: r1, setBy: 'ci-pr' });
    const [row] = await backendSql(s, 'SELECT * FROM report_names WHERE name = $1', ['main']);
    expect(row).toMatchObject({ name: 'main', report_id: r2, set_by: 'ci-pr' });
  });

  it('resolving a name needs a token (names are guessable); reading the report by id does not', async () => {
    for (const name of ['main', 'no-such-name']) {
      const none = await api(s.url, 'GET', `/api/report-names/${name}`);
      expect(none.status, name).toBe(401); // no difference between known and unknown names
      expect(errorOf(none).message).toMatch(/requires a token/);
    }
    const got = await api(s.url, 'GET', '/api/report-names/main', { headers: auth(other) });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ name: 'main', reportId: r2, url: `/r/${r2}` });
    expect((await api(s.url, 'GET', '/api/report-names/no-such-name', { headers: auth(other) })).status).toBe(
      404,
    );
    expect((await api(s.url, 'GET', `/api/reports/${r2}`)).status).toBe(200);
    expect((await api(s.url, 'DELETE', '/api/report-names/main')).status).toBe(401);
  });

  it('lists names with an admin token only', async () => {
    expect((await api(s.url, 'GET', '/api/report-names', { headers: auth(writer) })).status).toBe(403);
    await api(s.url, 'PUT', '/api/report-names/release/2', { json: { reportId: r1 }, headers: auth(writer) });
    const list = await api(s.url, 'GET', '/api/report-names', { headers: auth(admin) });
    expect(list.status).toBe(200);
    expect(
      (list.body.names as { name: string; reportId: string }[]).map((n) => [n.name, n.reportId]),
    ).toEqual([
      ['main', r2],
      ['release/2', r1],
    ]);
    const page = await api(s.url, 'GET', '/api/report-names?limit=1', { headers: auth(admin) });
    expect(page.body.next).toBe('main');
    const rest = await api(s.url, 'GET', '/api/report-names?limit=1&after=main', { headers: auth(admin) });
    expect((rest.body.names as { name: string }[]).map((n) => n.name)).toEqual(['release/2']);
  });
});

describe('report names racing the expiry of their report', () => {
  const DAY_MS = 24 * 3600 * 1000;
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({
      config: { retention: { ...resolveRetention(), reportTtlMs: DAY_MS, gcIntervalMs: 0 } },
    });
  }, 120_000);
  afterAll(async () => {
    await s?.stop();
  });

  const put = (name: string, reportId: string) =>
    api(s.url, 'PUT', `/api/report-names/${name}`, { json: { reportId } });
  const unknownReport = (reportId: string) => ({
    code: 'unknown-report',
    message: `report ${reportId} not found`,
    reportId,
  });

  it('a report the collector has expired cannot be named: 422 unknown-report', async () => {
    const [old, kept] = await twoReports(s);
    const longAgo = new Date(Date.now() - 2 * DAY_MS).toISOString();
    await backendSql(s, 'UPDATE reports SET created_at = $1 WHERE id = $2', [longAgo, old]);
    expect((await collectGarbage(s.ctx)).reportsExpired).toBe(1);
    const r = await put('expired', old);
    expect(r.status, r.text).toBe(422);
    expect(errorOf(r)).toEqual(unknownReport(old));
    expect((await api(s.url, 'GET', '/api/report-names/expired')).status).toBe(404);
    expect((await put('expired', kept)).status).toBe(201);
  }, 180_000);

  it('a report deleted inside the transaction that names it: 422 unknown-report, never a 500', async () => {
    const [a, b] = await twoReports(s);
    expect((await put('moving', a)).status).toBe(201);
    // A trigger deletes the report in the very statement that inserts (or moves) the name:
    // the last moment an expiry could come in, after every check the route makes.
    if (postgresRun()) {
      await backendSql(
        s,
        `CREATE FUNCTION expire_named() RETURNS trigger AS $f$ BEGIN DELETE FROM reports WHERE id = NEW.report_id; RETURN NEW; END $f$ LANGUAGE plpgsql`,
      );
      await backendSql(
        s,
        'CREATE TRIGGER expire_named BEFORE INSERT ON report_names FOR EACH ROW EXECUTE FUNCTION expire_named()',
      );
    } else
      await backendSql(
        s,
        'CREATE TRIGGER expire_named BEFORE INSERT ON report_names BEGIN DELETE FROM reports WHERE id = NEW.report_id; END',
      );
    try {
      const fresh = await put('fresh', b);
      expect(fresh.status, fresh.text).toBe(422);
      expect(errorOf(fresh)).toEqual(unknownReport(b));
      expect((await api(s.url, 'GET', '/api/report-names/fresh')).status).toBe(404);
      // Moving a name rolls back whole: it still points where it did.
      const moved = await put('moving', a);
      expect(moved.status, moved.text).toBe(422);
      expect(errorOf(moved)).toEqual(unknownReport(a));
    } finally {
      await backendSql(
        s,
        postgresRun() ? 'DROP TRIGGER expire_named ON report_names' : 'DROP TRIGGER expire_named',
      );
    }
    expect((await api(s.url, 'GET', '/api/reports/' + b)).status).toBe(200); // rolled back too
    const still = await api(s.url, 'GET', '/api/report-names/moving');
    expect(still.body.reportId).toBe(a);
  }, 180_000);

  it.runIf(postgresRun())(
    'PostgreSQL: a name set while an expiry of its report is uncommitted waits for it, then 422',
    async () => {
      const [doomed] = await twoReports(s);
      const other = new pg.Client({ connectionString: s.config.databaseUrl });
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query('DELETE FROM reports WHERE id = $1', [doomed]);
        const answer = put('waits', doomed);
        // The request's check (the report row, locked) waits for the delete's transaction.
        const end = Date.now() + 120_000;
        for (;;) {
          const waiting = await other.query(
            `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
          );
          if (waiting.rows.length) break;
          if (Date.now() > end) throw new Error('the request never waited for the report row');
          await new Promise((ok) => setTimeout(ok, 20));
        }
        await other.query('COMMIT');
        const r = await answer;
        expect(r.status, r.text).toBe(422);
        expect(errorOf(r)).toEqual(unknownReport(doomed));
      } finally {
        await other.end();
      }
    },
    180_000,
  );
});

describe('report names: schema migration and restart', () => {
  // A SQLite file written as a version-2 server left it: the migration path of that file.
  it.skipIf(postgresRun())(
    'a version-2 database gains the table; names survive a restart',
    async () => {
      const dataDir = tempDir();
      // A database as a version-2 server left it.
      const db = openDb(path.join(dataDir, DB_FILE));
      db.exec('DROP TABLE report_names');
      db.prepare('DELETE FROM schema_migrations WHERE version = 3').run();
      db.close();
      let s = await startTestServer({ dataDir });
      try {
        expect((await api(s.url, 'GET', '/api/health')).body.schemaVersion).toBe(SCHEMA_VERSION);
        const [r1] = await twoReports(s);
        expect((await api(s.url, 'PUT', '/api/report-names/main', { json: { reportId: r1 } })).status).toBe(
          201,
        );
        await s.stop(true);
        s = await startTestServer({ dataDir });
        const got = await api(s.url, 'GET', '/api/report-names/main');
        expect(got.body).toMatchObject({ name: 'main', reportId: r1 });
      } finally {
        await s.stop();
      }
    },
    180_000,
  );
});
