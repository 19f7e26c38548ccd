/**
 * The server's asynchronous data layer: one `Store` over SQLite (the default, better-sqlite3
 * through Kysely's SqliteDialect) or PostgreSQL (`SHAREMAP_DATABASE_URL`, node-postgres through
 * Kysely's PostgresDialect), with one repository per concern (repos.ts). Several rows that
 * must change together go through `transaction()`: committed together or not at all, on
 * either backend (docs/server.md#persistence).
 */
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type pg from 'pg';
import type { Db } from '../db.js';
import type { SqlDialect } from '../schema.js';
import {
  BlobRefsRepo,
  ImagesRepo,
  ManifestsRepo,
  MetaRepo,
  MountConfigsRepo,
  NamesRepo,
  ReportsRepo,
  ResidencyRepo,
  TokensRepo,
  type Q,
} from './repos.js';
import { RetentionRepo } from './retention.js';
import type { Tables } from './tables.js';

export class Store {
  readonly images: ImagesRepo;
  readonly manifests: ManifestsRepo;
  readonly mountConfigs: MountConfigsRepo;
  readonly reports: ReportsRepo;
  readonly names: NamesRepo;
  readonly tokens: TokensRepo;
  readonly residency: ResidencyRepo;
  readonly meta: MetaRepo;
  readonly blobRefs: BlobRefsRepo;
  /** Expiry of reports and uploads, and the blobs rows name (src/gc). */
  readonly retention: RetentionRepo;

  constructor(
    private readonly q: Q,
    readonly dialect: SqlDialect,
    private readonly inTransaction = false,
  ) {
    this.images = new ImagesRepo(q, dialect);
    this.manifests = new ManifestsRepo(q);
    this.mountConfigs = new MountConfigsRepo(q);
    this.reports = new ReportsRepo(q, dialect);
    this.names = new NamesRepo(q, dialect);
    this.tokens = new TokensRepo(q);
    this.residency = new ResidencyRepo(q);
    this.meta = new MetaRepo(q);
    this.blobRefs = new BlobRefsRepo(q);
    this.retention = new RetentionRepo(q, dialect);
  }

  /**
   * Run `fn` in one transaction (BEGIN ... COMMIT; ROLLBACK when it throws). On SQLite the
   * store's single connection is held meanwhile, so other queries wait as they did behind
   * better-sqlite3's synchronous transactions.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    return this.q.transaction().execute((trx) => fn(new Store(trx, this.dialect, true)));
  }

  /** `SELECT 1`: throws when the database does not answer (readiness, health). */
  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.q);
  }

  /** Close the connection (SQLite) or the pool (PostgreSQL). */
  close(): Promise<void> {
    return this.q.destroy();
  }
}

/** A store over an open SQLite database (db.ts openDb: migrated, WAL). */
export function sqliteStore(db: Db): Store {
  return new Store(new Kysely<Tables>({ dialect: new SqliteDialect({ database: db }) }), 'sqlite');
}

/** A store over a PostgreSQL pool (pg.ts openPgPool; migrated with migratePg). */
export function postgresStore(pool: pg.Pool): Store {
  return new Store(new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
}
