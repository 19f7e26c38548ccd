/**
 * SQLite (better-sqlite3, WAL), the default backend: metadata of images, manifests, mount configurations,
 * reports, report names and tokens. Large content (images, manifests, report snapshots) lives in the
 * blob folder (blobs.ts); a row names its blobs by sha256 and is inserted only after they
 * are durable, so a row never points at a missing blob. The schema is defined once for
 * SQLite and PostgreSQL in schema.ts.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { migrationData } from './migration-data.js';
import {
  compiledMigrations,
  fillSql,
  MIGRATIONS_TABLE_SQL,
  SCHEMA_VERSION,
  type CompiledMigration,
  type MigrationData,
} from './schema.js';

export type Db = Database.Database;

/** The SQLite database file in the data folder. */
export const DB_FILE = 'sharemap.db';

const MIGRATIONS = compiledMigrations('sqlite');
export { SCHEMA_VERSION };

/** Open (and migrate) the database `file` of a data folder; its blobs are beside it (`data`). */
export function openDb(file: string, data: MigrationData = migrationData(path.dirname(file))): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, data);
  return db;
}

/** Apply pending migrations; `data` computes what their data steps need (schema.ts MigrationData). */
export function migrate(db: Db, data?: MigrationData): void {
  db.exec(MIGRATIONS_TABLE_SQL);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
      (r) => r.version,
    ),
  );
  const newest = Math.max(0, ...applied);
  if (newest > SCHEMA_VERSION)
    throw new Error(
      `the database has schema version ${newest}, newer than this server knows (${SCHEMA_VERSION}); upgrade the server`,
    );
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      for (const statement of m.sql) db.exec(statement);
      if (m.fill) fill(db, m, data);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
    })();
  }
}

/** The data step of migration `m`: each row's column computed from its source, once. */
function fill(db: Db, m: CompiledMigration, data: MigrationData | undefined): void {
  const f = m.fill!;
  const { select, update } = fillSql(f, 'sqlite');
  const rows = db.prepare(select).all() as { key: string; source: string }[];
  if (rows.length === 0) return;
  if (!data) throw new Error(`migration ${m.version} (${m.name}) needs the data folder's blobs`);
  const set = db.prepare(update);
  for (const r of rows) set.run(data[f.value](r.source), r.key);
}

export function getMeta(db: Db, key: string): string | undefined {
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)
    ?.value;
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  ).run(key, value);
}

export const nowIso = (): string => new Date().toISOString();
