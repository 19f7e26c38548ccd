/**
 * The database schema, defined once for both backends (SQLite, the default; PostgreSQL when
 * SHAREMAP_DATABASE_URL is set): migrations written with Kysely's schema builder and compiled
 * to each dialect's SQL without a connection (a DummyDriver), so the SQLite path keeps running
 * them synchronously through better-sqlite3 in one transaction each, and PostgreSQL runs the
 * same definitions. Append only: a migration, once released, never changes.
 */
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
  type ColumnDataType,
  type Compilable,
  type SchemaModule,
} from 'kysely';

export type SqlDialect = 'sqlite' | 'postgres';

interface Migration {
  version: number;
  name: string;
  statements(s: SchemaModule, t: Types): Compilable[];
  /** A column of the rows already there filled after the statements, in the same transaction. */
  fill?: ColumnFill;
}

/**
 * The data step of a migration: `target` of every row of `table` set from its `source` column
 * by a function of the caller (`MigrationData`: it reads the blob folder, which SQL cannot).
 * Identifiers are constants of this file, never input.
 */
export interface ColumnFill {
  table: string;
  key: string;
  source: string;
  target: string;
  value: keyof MigrationData;
}

/** What the data steps of migrations compute outside SQL, given by whoever opens the database. */
export interface MigrationData {
  /**
   * `reports.manifest_blobs` (version 5) of a report whose analysis input is the blob
   * `inputBlob`: the JSON array of the manifest blobs it names (reportManifestBlobsJson).
   */
  reportManifestBlobs(inputBlob: string): string;
}

/** The SQL of a fill: the rows to fill (`key`, `source`), and the update (value, then key). */
export function fillSql(f: ColumnFill, dialect: SqlDialect): { select: string; update: string } {
  const [a, b] = dialect === 'postgres' ? ['$1', '$2'] : ['?', '?'];
  return {
    select: `SELECT ${f.key} AS key, ${f.source} AS source FROM ${f.table} WHERE ${f.target} IS NULL`,
    update: `UPDATE ${f.table} SET ${f.target} = ${a} WHERE ${f.key} = ${b}`,
  };
}

/** Column types per dialect: SQLite's INTEGER is 64-bit; PostgreSQL needs bigint for sizes past 2 GiB. */
interface Types {
  int: ColumnDataType;
  dialect: SqlDialect;
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    statements: (s, t) => [
      s
        .createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull()),
      s
        .createTable('images')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('size', t.int, (c) => c.notNull())
        .addColumn('devices', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('status', 'text', (c) =>
          c.notNull().check(sql`status IN ('queued', 'scanning', 'ready', 'failed')`),
        )
        .addColumn('error_code', 'text')
        .addColumn('error_message', 'text')
        .addColumn('manifest_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull()),
      s.createIndex('images_by_content').on('images').columns(['sha256', 'name']),
      s
        .createTable('manifests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('blob', 'text', (c) => c.notNull())
        .addColumn('header', 'text', (c) => c.notNull())
        .addColumn('file_count', t.int, (c) => c.notNull())
        .addColumn('hashed', t.int, (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull().check(sql`source IN ('scan', 'upload')`))
        .addColumn('image_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull()),
      s
        .createTable('mount_configs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('entries', t.int, (c) => c.notNull())
        .addColumn('warnings', t.int, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull()),
      s
        .createTable('domain_labels')
        .addColumn('fingerprint', 'text', (c) => c.primaryKey())
        .addColumn('label', 'text', (c) => c.notNull().unique()),
      s
        .createTable('reports')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('title', 'text')
        .addColumn('blob', 'text', (c) => c.notNull())
        .addColumn('input_blob', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull()),
      s.createIndex('reports_by_time').on('reports').column('created_at'),
      s
        .createTable('tokens')
        // SQLite: INTEGER PRIMARY KEY is the rowid (assigned on insert); PostgreSQL: an identity.
        .addColumn('id', t.int, (c) =>
          t.dialect === 'postgres' ? c.generatedByDefaultAsIdentity().primaryKey() : c.primaryKey(),
        )
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('admin', t.int, (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text'),
    ],
  },
  {
    version: 2,
    name: 'report parts for the web UI (summary, per-file columns)',
    // NULL for reports created before: derived from the report blob on first request.
    statements: (s) => [
      s.alterTable('reports').addColumn('summary_blob', 'text'),
      s.alterTable('reports').addColumn('files_blob', 'text'),
    ],
  },
  {
    version: 3,
    name: 'report names (baselines such as "main")',
    // A name points at one report; moving it updates the row. set_by: the token's name, or
    // NULL when the server does not require tokens and none was sent.
    statements: (s) => [
      s
        .createTable('report_names')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('report_id', 'text', (c) => c.notNull().references('reports.id'))
        .addColumn('set_by', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull()),
      s.createIndex('report_names_by_report').on('report_names').column('report_id'),
    ],
  },
  {
    version: 4,
    name: 'page-cache residency inputs (measured working set)',
    // data: the parsed ResidencyData JSON (packages/sharing/src/residency).
    statements: (s, t) => [
      s
        .createTable('residency_inputs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('records', t.int, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull()),
    ],
  },
  {
    version: 5,
    name: "the manifest blobs a report's analysis input names, in its row",
    // A JSON array of blob names (docs/server.md#stored-manifests-and-analysis-inputs): the
    // garbage collector's row scan keeps them live without reading any input blob. Filled
    // here for the reports already there, from their input read once; NULL afterwards only
    // for a row an older server inserted, which the collector fills (gc/collect.ts).
    statements: (s) => [s.alterTable('reports').addColumn('manifest_blobs', 'text')],
    fill: {
      table: 'reports',
      key: 'id',
      source: 'input_blob',
      target: 'manifest_blobs',
      value: 'reportManifestBlobs',
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The table that records applied migrations (the same on both backends). */
export const MIGRATIONS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`;

/** A Kysely that only compiles (no connection): the schema builder of one dialect. */
function compiler(dialect: SqlDialect): Kysely<unknown> {
  return new Kysely<unknown>({
    dialect:
      dialect === 'sqlite'
        ? {
            createAdapter: () => new SqliteAdapter(),
            createDriver: () => new DummyDriver(),
            createIntrospector: (db) => new SqliteIntrospector(db),
            createQueryCompiler: () => new SqliteQueryCompiler(),
          }
        : {
            createAdapter: () => new PostgresAdapter(),
            createDriver: () => new DummyDriver(),
            createIntrospector: (db) => new PostgresIntrospector(db),
            createQueryCompiler: () => new PostgresQueryCompiler(),
          },
  });
}

export interface CompiledMigration {
  version: number;
  name: string;
  /** SQL statements, in order, without parameters. */
  sql: string[];
  fill?: ColumnFill;
}

/** Every migration compiled to one dialect's SQL. */
export function compiledMigrations(dialect: SqlDialect): CompiledMigration[] {
  const k = compiler(dialect);
  const types: Types = { dialect, int: dialect === 'postgres' ? 'bigint' : 'integer' };
  return MIGRATIONS.map((m) => ({
    version: m.version,
    name: m.name,
    ...(m.fill ? { fill: m.fill } : {}),
    sql: m.statements(k.schema, types).map((b) => {
      const c = b.compile();
      if (c.parameters.length) throw new Error(`migration ${m.version}: a schema statement has parameters`);
      return c.sql;
    }),
  }));
}
