/**
 * One schema for both backends (src/storage/schema.ts): a fresh SQLite database and a fresh
 * PostgreSQL database (a private cluster, test/pg-cluster.ts) get the same tables, columns and
 * nullability, and refuse the same bad rows; PostgreSQL migrations are idempotent, applied
 * once when two replicas start together, and a newer schema is refused.
 */
import path from 'node:path';
import { rmSync } from 'node:fs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import type { ImageEntry } from '@sharemap/sharing';
import { analysisInputRefJson } from '../src/analysis-input.js';
import { BlobStore } from '../src/storage/blobs.js';
import { openDb, type Db } from '../src/storage/db.js';
import { migrationData } from '../src/storage/migration-data.js';
import { migratePg, openPgPool } from '../src/storage/pg.js';
import { compiledMigrations, MIGRATIONS_TABLE_SQL, SCHEMA_VERSION } from '../src/storage/schema.js';
import { tempDir } from './helpers.js';
import { startPgCluster, type PgCluster } from './pg-cluster.js';

type Column = `${string}.${string} ${'null' | 'not null'}`;

function sqliteColumns(db: Db): Column[] {
  const tables = (
    db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as {
      name: string;
    }[]
  ).map((t) => t.name);
  return tables
    .flatMap((t) =>
      (
        db.prepare(`SELECT name, "notnull" AS nn, pk FROM pragma_table_info(?)`).all(t) as {
          name: string;
          nn: number;
          pk: number;
        }[]
      ).map((c): Column => `${t}.${c.name} ${c.nn || c.pk ? 'not null' : 'null'}`),
    )
    .sort();
}

async function pgColumns(pool: pg.Pool): Promise<Column[]> {
  const r = await pool.query<{ table_name: string; column_name: string; is_nullable: string }>(
    `SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'`,
  );
  return r.rows
    .map((c): Column => `${c.table_name}.${c.column_name} ${c.is_nullable === 'YES' ? 'null' : 'not null'}`)
    .sort();
}

describe('one schema, SQLite and PostgreSQL', () => {
  let cluster: PgCluster;
  let pool: pg.Pool;
  let sqlite: Db;
  const dir = tempDir('sharemap-schema-');

  beforeAll(async () => {
    cluster = await startPgCluster(); // throws with the reason when PostgreSQL cannot start
    pool = openPgPool(cluster.url);
    sqlite = openDb(path.join(dir, 'sharemap.db'));
  }, 180_000);
  afterAll(async () => {
    sqlite?.close();
    await pool?.end();
    cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrates both to the same tables, columns and nullability', async () => {
    expect(await migratePg(pool)).toEqual([1, 2, 3, 4, 5]);
    expect(SCHEMA_VERSION).toBe(5);
    expect(await migratePg(pool)).toEqual([]); // idempotent
    const lite = sqliteColumns(sqlite);
    expect(await pgColumns(pool)).toEqual(lite);
    expect(lite).toContain('images.status not null');
    expect(lite).toContain('reports.summary_blob null');
    expect(lite).toContain('report_names.report_id not null');
    expect(lite).toContain('schema_migrations.version not null');
    expect(lite).toContain('reports.manifest_blobs null');
    expect(lite.length).toBe(60); // 10 tables
  });

  it('refuses the same bad rows on both', async () => {
    const now = new Date().toISOString();
    const image = ['img1', 'a', 'f'.repeat(64), 5 * 1024 ** 3, now, now];
    // A status outside the CHECK list.
    expect(() =>
      sqlite
        .prepare(
          `INSERT INTO images (id, name, sha256, size, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'bogus', ?, ?)`,
        )
        .run(...image),
    ).toThrow(/CHECK constraint failed/);
    await expect(
      pool.query(
        `INSERT INTO images (id, name, sha256, size, status, created_at, updated_at) VALUES ($1, $2, $3, $4, 'bogus', $5, $6)`,
        image,
      ),
    ).rejects.toThrow(/violates check constraint/);
    // Sizes past 2 GiB round-trip as numbers on both, and devices default to [].
    sqlite
      .prepare(
        `INSERT INTO images (id, name, sha256, size, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?)`,
      )
      .run(...image);
    await pool.query(
      `INSERT INTO images (id, name, sha256, size, status, created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $6)`,
      image,
    );
    const lite = sqlite.prepare('SELECT size, devices FROM images WHERE id = ?').get('img1');
    const big = (await pool.query('SELECT size, devices FROM images WHERE id = $1', ['img1'])).rows[0];
    expect(lite).toEqual({ size: 5 * 1024 ** 3, devices: '[]' });
    expect(big).toEqual(lite);
    // A name pointing at no report (foreign key).
    expect(() =>
      sqlite
        .prepare(
          `INSERT INTO report_names (name, report_id, created_at, updated_at) VALUES ('main', 'nope', ?, ?)`,
        )
        .run(now, now),
    ).toThrow(/FOREIGN KEY constraint failed/);
    await expect(
      pool.query(
        `INSERT INTO report_names (name, report_id, created_at, updated_at) VALUES ('main', 'nope', $1, $1)`,
        [now],
      ),
    ).rejects.toThrow(/violates foreign key constraint/);
    // Token ids are assigned on insert; hashes are unique.
    const tok = `INSERT INTO tokens (name, hash, created_at) VALUES ('ci', 'h1', '${now}')`;
    sqlite.exec(tok);
    await pool.query(tok);
    expect(sqlite.prepare('SELECT id, admin FROM tokens').all()).toEqual([{ id: 1, admin: 0 }]);
    expect((await pool.query('SELECT id, admin FROM tokens')).rows).toEqual([{ id: 1, admin: 0 }]);
    expect(() => sqlite.exec(tok)).toThrow(/UNIQUE constraint failed/);
    await expect(pool.query(tok)).rejects.toThrow(/duplicate key value/);
  });

  it("fills reports.manifest_blobs (version 5) from each report's input, read once, on both", async () => {
    const data = tempDir('sharemap-schema-fill-');
    const blobs = new BlobStore(data);
    const manifest = 'a'.repeat(64);
    const other = 'b'.repeat(64);
    const ref = await blobs.putGzipSync(
      analysisInputRefJson({
        images: [
          { image: { id: 'i1', name: 'one' } as ImageEntry, manifestBlob: manifest },
          { image: { id: 'i2', name: 'two' } as ImageEntry, manifestBlob: other },
          { image: { id: 'i3', name: 'one again' } as ImageEntry, manifestBlob: manifest },
        ],
        instances: [],
        options: {},
      }),
    );
    // An input stored in full by a server before references: it names no manifest blob.
    const full = await blobs.putGzipSync(JSON.stringify({ images: [], instances: [], options: {} }));
    const missing = 'c'.repeat(64); // named by its row, gone from the folder
    const expected = {
      r_ref: JSON.stringify([manifest, other]),
      r_full: '[]',
      r_missing: '[]',
    };
    const reportRows: [string, string][] = [
      ['r_ref', ref.sha256],
      ['r_full', full.sha256],
      ['r_missing', missing],
    ];
    const now = new Date().toISOString();
    const insert = `INSERT INTO reports (id, blob, input_blob, summary, created_at) VALUES ($1, $2, $3, '{}', $4)`;
    const upTo4 = compiledMigrations('sqlite').filter((m) => m.version <= 4);
    const pgUpTo4 = compiledMigrations('postgres').filter((m) => m.version <= 4);

    // SQLite: a database as a version-4 server left it, opened in its data folder.
    const file = path.join(data, 'sharemap.db');
    const old = new Database(file);
    old.exec(MIGRATIONS_TABLE_SQL);
    for (const m of upTo4) {
      for (const st of m.sql) old.exec(st);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, now);
    }
    for (const [id, input] of reportRows)
      old.prepare(insert.replace(/\$\d/g, '?')).run(id, 'd'.repeat(64), input, now);
    old.close();
    const lite = openDb(file);
    try {
      const rows = lite.prepare('SELECT id, manifest_blobs FROM reports ORDER BY id').all();
      expect(rows).toEqual(
        Object.entries(expected)
          .sort()
          .map(([id, m]) => ({ id, manifest_blobs: m })),
      );
    } finally {
      lite.close();
    }

    // PostgreSQL: the same, migrated with the data folder's blobs.
    const url = cluster.createDatabase('fill');
    const p = openPgPool(url);
    try {
      const c = await p.connect();
      try {
        await c.query(MIGRATIONS_TABLE_SQL);
        for (const m of pgUpTo4) {
          for (const st of m.sql) await c.query(st);
          await c.query('INSERT INTO schema_migrations VALUES ($1, $2, $3)', [m.version, m.name, now]);
        }
        for (const [id, input] of reportRows) await c.query(insert, [id, 'd'.repeat(64), input, now]);
      } finally {
        c.release();
      }
      // Without the blob folder the data step cannot run: refused, nothing applied.
      await expect(migratePg(p)).rejects.toThrow(
        `migration 5 (the manifest blobs a report's analysis input names, in its row) needs the data folder's blobs`,
      );
      expect(await migratePg(p, migrationData(data))).toEqual([5]);
      const rows = (await p.query('SELECT id, manifest_blobs FROM reports ORDER BY id')).rows;
      expect(rows).toEqual(
        Object.entries(expected)
          .sort()
          .map(([id, m]) => ({ id, manifest_blobs: m })),
      );
    } finally {
      await p.end();
      rmSync(data, { recursive: true, force: true });
    }
  }, 120_000);

  it('applies each migration once when replicas start together, and refuses a newer schema', async () => {
    const url = cluster.createDatabase('replicas');
    const pools = [openPgPool(url), openPgPool(url), openPgPool(url)];
    try {
      const applied = await Promise.all(pools.map((p) => migratePg(p)));
      expect(applied.flat().sort()).toEqual([1, 2, 3, 4, 5]);
      const rows = (await pools[0]!.query('SELECT version FROM schema_migrations ORDER BY version')).rows;
      expect(rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }]);
      await pools[0]!.query(`INSERT INTO schema_migrations VALUES (99, 'future', 'now')`);
      await expect(migratePg(pools[1]!)).rejects.toThrow(
        `the database has schema version 99, newer than this server knows (${SCHEMA_VERSION}); upgrade the server`,
      );
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});
