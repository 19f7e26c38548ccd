/**
 * One SQL statement on a test server's own database, whichever backend it runs on: the
 * better-sqlite3 connection on SQLite, a short-lived node-postgres client on PostgreSQL
 * (vitest.postgres.config.ts). Parameters are written `$1`, `$2`... (PostgreSQL's form; the
 * SQLite side turns them into `?` in order). For tests that look at or change rows the HTTP API
 * does not expose (backdating a row, counting rows), so they run on both backends.
 */
import pg from 'pg';
import { inject } from 'vitest';
import type { TestServer } from './helpers.js';
import type {} from './pg-global-setup.js';

export async function backendSql<T = Record<string, unknown>>(
  s: Pick<TestServer, 'ctx' | 'config'>,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const url = s.config.databaseUrl;
  if (url === undefined) {
    // Anonymous `?` in the order of appearance ($1 may appear twice).
    const values: unknown[] = [];
    const st = s.ctx.db.prepare(
      text.replace(/\$(\d+)/g, (_m, n: string) => {
        values.push(params[Number(n) - 1]);
        return '?';
      }),
    );
    if (st.reader) return st.all(...values) as T[];
    st.run(...values);
    return [];
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * Is this the PostgreSQL run (vitest.postgres.config.ts provides the cluster)? For the tests
 * of a ported file that stay SQLite-only (they write a SQLite file by hand).
 */
export const postgresRun = (): boolean => Boolean(inject('pgAdminUrl'));
