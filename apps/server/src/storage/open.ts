/**
 * Opening the database a server uses: PostgreSQL when `SHAREMAP_DATABASE_URL` is set
 * (migrated at start under the advisory lock, pg.ts), else SQLite in the data folder.
 */
import path from 'node:path';
import type pg from 'pg';
import type { Logger } from '../log.js';
import { DB_FILE, openDb, type Db } from './db.js';
import { migrationData } from './migration-data.js';
import { migratePg, openPgPool } from './pg.js';
import { postgresStore, sqliteStore, type Store } from './store/store.js';

/** The URL schemes `SHAREMAP_DATABASE_URL` accepts. */
export const DATABASE_URL_RE = /^postgres(?:ql)?:\/\//i;

/** The database could not be opened: the message is one line naming the database and the reason. */
export class DatabaseOpenError extends Error {
  override readonly name = 'DatabaseOpenError';
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a valid URL)';
  }
}

/** The reason of a connection error in one line (a refused localhost is an AggregateError without a message). */
function reason(e: unknown): string {
  const err = e as Error & { code?: string; errors?: Error[] };
  const parts = err.errors?.length
    ? err.errors.map((x) => x.message)
    : [err.message || err.code || String(e)];
  return [...new Set(parts)]
    .join('; ')
    .split('\n')
    .map((l) => l.trim())
    .join(' ');
}

export interface OpenedStore {
  store: Store;
  /** The SQLite connection (null on PostgreSQL): the synchronous tools and tests use it. */
  sqlite: Db | null;
  /** The PostgreSQL pool under the store (null on SQLite): the job queue's events use it. */
  pgPool: pg.Pool | null;
}

export async function openStore(
  opts: { dataDir: string; databaseUrl?: string | undefined },
  log?: Logger,
): Promise<OpenedStore> {
  const url = opts.databaseUrl;
  if (url === undefined) {
    const db = openDb(path.join(opts.dataDir, DB_FILE));
    return { store: sqliteStore(db), sqlite: db, pgPool: null };
  }
  if (!DATABASE_URL_RE.test(url))
    throw new DatabaseOpenError(`SHAREMAP_DATABASE_URL must be a postgres:// URL, got ${redactUrl(url)}`);
  let pool;
  try {
    pool = openPgPool(url);
  } catch (e) {
    throw new DatabaseOpenError(`cannot use the database ${redactUrl(url)}: ${reason(e)}`);
  }
  // An idle connection the server closes (restart, failover) is replaced at the next query;
  // without a listener the pool's 'error' event would end the process.
  pool.on('error', (e) => log?.warn('database connection lost', { error: e.message }));
  try {
    const applied = await migratePg(pool, migrationData(opts.dataDir));
    if (applied.length) log?.info('database migrated', { versions: applied });
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new DatabaseOpenError(`cannot use the database ${redactUrl(url)}: ${reason(e)}`);
  }
  return { store: postgresStore(pool), sqlite: null, pgPool: pool };
}
