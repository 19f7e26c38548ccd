/**
 * PostgreSQL (node-postgres), the backend for several replicas: the same schema as SQLite
 * (schema.ts), migrated at start under a transaction-level advisory lock so that replicas
 * starting together apply each migration once (PostgreSQL DDL is transactional: a migration
 * is applied whole or not at all, as on SQLite).
 */
import pg from 'pg';
import {
  compiledMigrations,
  fillSql,
  MIGRATIONS_TABLE_SQL,
  SCHEMA_VERSION,
  type MigrationData,
} from './schema.js';

/** Key of the advisory lock that serialises migrations across replicas ("sharemap" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x73686172656d6170n;

/** Connections of one server's pool (node-postgres `max`). */
export const PG_POOL_SIZE = 10;

/** int8 (bigint: sizes, counts) as a JS number: every stored value is below 2^53 (limits.ts). */
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * How long opening one connection may take (node-postgres `connectionTimeoutMillis`): an
 * unreachable host fails start after this instead of after the system's TCP timeout.
 */
export const PG_CONNECT_TIMEOUT_MS = 10_000;

export function openPgPool(url: string): pg.Pool {
  return new pg.Pool({
    connectionString: url,
    max: PG_POOL_SIZE,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
  });
}

/**
 * Apply pending migrations; refuses a database from a newer server. Returns the versions
 * applied. `data` computes what their data steps need (schema.ts MigrationData: the blob
 * folder); without it, a migration that has rows to fill fails (a fresh database has none).
 */
export async function migratePg(pool: pg.Pool, data?: MigrationData): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    await client.query(MIGRATIONS_TABLE_SQL);
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
        (r) => r.version,
      ),
    );
    const newest = Math.max(0, ...done);
    if (newest > SCHEMA_VERSION)
      throw new Error(
        `the database has schema version ${newest}, newer than this server knows (${SCHEMA_VERSION}); upgrade the server`,
      );
    for (const m of compiledMigrations('postgres')) {
      if (done.has(m.version)) continue;
      for (const statement of m.sql) await client.query(statement);
      if (m.fill) {
        const f = m.fill;
        const { select, update } = fillSql(f, 'postgres');
        const rows = (await client.query<{ key: string; source: string }>(select)).rows;
        if (rows.length && !data)
          throw new Error(`migration ${m.version} (${m.name}) needs the data folder's blobs`);
        for (const r of rows) await client.query(update, [data![f.value](r.source), r.key]);
      }
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        new Date().toISOString(),
      ]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}
