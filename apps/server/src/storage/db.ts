/**
 * SQLite (better-sqlite3, WAL): metadata of images, manifests, mount configurations,
 * reports, report names and tokens. Large content (images, manifests, report snapshots) lives in the
 * blob folder (blobs.ts); a row names its blobs by sha256 and is inserted only after they
 * are durable, so a row never points at a missing blob.
 */
import Database from 'better-sqlite3';

export type Db = Database.Database;

/** Schema migrations in order; `schema_migrations` records the applied ones. Append only. */
const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE images (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        devices TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL CHECK (status IN ('queued', 'scanning', 'ready', 'failed')),
        error_code TEXT,
        error_message TEXT,
        manifest_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX images_by_content ON images (sha256, name);
      CREATE TABLE manifests (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        blob TEXT NOT NULL,
        header TEXT NOT NULL,
        file_count INTEGER NOT NULL,
        hashed INTEGER NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('scan', 'upload')),
        image_id TEXT,
        created_at TEXT NOT NULL
      );
      CREATE TABLE mount_configs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        format TEXT NOT NULL,
        config TEXT NOT NULL,
        entries INTEGER NOT NULL,
        warnings INTEGER NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE domain_labels (fingerprint TEXT PRIMARY KEY, label TEXT NOT NULL UNIQUE);
      CREATE TABLE reports (
        id TEXT PRIMARY KEY,
        title TEXT,
        blob TEXT NOT NULL,
        input_blob TEXT NOT NULL,
        summary TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX reports_by_time ON reports (created_at);
      CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        admin INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        last_used_at TEXT
      );
    `,
  },
  {
    version: 2,
    name: 'report parts for the web UI (summary, per-file columns)',
    // NULL for reports created before: derived from the report blob on first request.
    sql: `
      ALTER TABLE reports ADD COLUMN summary_blob TEXT;
      ALTER TABLE reports ADD COLUMN files_blob TEXT;
    `,
  },
  {
    version: 3,
    name: 'report names (baselines such as "main")',
    // A name points at one report; moving it updates the row. set_by: the token's name, or
    // NULL when the server does not require tokens and none was sent.
    sql: `
      CREATE TABLE report_names (
        name TEXT PRIMARY KEY,
        report_id TEXT NOT NULL REFERENCES reports (id),
        set_by TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX report_names_by_report ON report_names (report_id);
    `,
  },
  {
    version: 4,
    name: 'page-cache residency inputs (measured working set)',
    // data: the parsed ResidencyData JSON (packages/sharing/src/residency).
    sql: `
      CREATE TABLE residency_inputs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        format TEXT NOT NULL,
        data TEXT NOT NULL,
        records INTEGER NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function openDb(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
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
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
    })();
  }
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
