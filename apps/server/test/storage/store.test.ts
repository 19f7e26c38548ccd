/**
 * The data layer (src/storage/store) on both backends: the same queries give the same answers
 * on SQLite and on PostgreSQL (a private cluster, test/pg-cluster.ts), a transaction commits
 * all of its rows or none, and a PostgreSQL database that cannot be used fails the start with
 * one line naming it and the reason. The job queue on PostgreSQL (src/scan/pg-queue.ts) takes
 * a backlog and answers a local analysis on events, not on its polls.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDb } from '../../src/storage/db.js';
import { DatabaseOpenError, openStore } from '../../src/storage/open.js';
import { migratePg, openPgPool } from '../../src/storage/pg.js';
import type { ImageRow, ManifestRow } from '../../src/storage/store/repos.js';
import { postgresStore, sqliteStore, type Store } from '../../src/storage/store/store.js';
import { createLogger } from '../../src/log.js';
import { PgScanQueue } from '../../src/scan/pg-queue.js';
import { TaskError } from '../../src/scan/pool.js';
import type { AnalyzeResult, AnalyzeTask } from '../../src/scan/tasks.js';
import { api, ensureBuilt, erofs, repo, startTestServer, tempDir, waitImage } from '../helpers.js';
import { readFileSync } from 'node:fs';
import { startServerChild } from '../child-server.mjs';
import { freePort, startPgCluster, type PgCluster } from '../pg-cluster.js';

const T0 = '2026-12-05T10:00:00.000Z';
const sha = (c: string): string => c.repeat(64);

const image = (id: string, over: Partial<ImageRow> = {}): ImageRow => ({
  id,
  name: `${id}.img`,
  sha256: sha('a'),
  size: 5 * 1024 ** 3,
  devices: '[]',
  status: 'queued',
  error_code: null,
  error_message: null,
  manifest_id: null,
  created_at: T0,
  updated_at: T0,
  ...over,
});

const manifest = (id: string, over: Partial<ManifestRow> = {}): ManifestRow => ({
  id,
  name: 'm',
  blob: sha('b'),
  header: '{}',
  file_count: 3,
  hashed: 1,
  source: 'scan',
  image_id: null,
  created_at: T0,
  ...over,
});

let cluster: PgCluster;
const dir = tempDir('sharemap-store-');
const stores: Record<'sqlite' | 'postgres', Store> = {} as never;

beforeAll(async () => {
  cluster = await startPgCluster(); // throws with the reason when PostgreSQL cannot start
  stores.sqlite = sqliteStore(openDb(path.join(dir, 'sharemap.db')));
  const pool = openPgPool(cluster.createDatabase('store'));
  await migratePg(pool);
  stores.postgres = postgresStore(pool);
}, 180_000);

afterAll(async () => {
  await stores.sqlite?.close();
  await stores.postgres?.close();
  cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(['sqlite', 'postgres'] as const)('the store on %s', (backend) => {
  const s = (): Store => stores[backend];

  it('commits a transaction whole, and rolls it back whole when a statement fails', async () => {
    await s().images.insert(image('img1'));
    // A scan's result: the manifest row and the image's status together.
    await s().transaction(async (tx) => {
      await tx.manifests.insert([manifest('man1', { image_id: 'img1' })]);
      await tx.images.markReady('img1', 'man1', T0);
    });
    expect((await s().images.get('img1'))?.manifest_id).toBe('man1');
    // The second statement breaks a CHECK constraint: the first is undone.
    await expect(
      s().transaction(async (tx) => {
        await tx.manifests.insert([manifest('man2')]);
        await tx.images.insert(image('img2', { status: 'bogus' as ImageRow['status'] }));
      }),
    ).rejects.toThrow(backend === 'sqlite' ? /CHECK constraint failed/ : /violates check constraint/);
    expect(await s().manifests.get('man2')).toBeUndefined();
    expect(await s().images.get('img2')).toBeUndefined();
    // Sizes past 2 GiB come back as numbers.
    expect((await s().images.get('img1'))?.size).toBe(5 * 1024 ** 3);
  });

  it('answers the scan queue, dedup and blob-reference queries alike', async () => {
    const devices = JSON.stringify([{ name: 'dev', sha256: sha('d'), size: 1 }]);
    await s().images.insert(image('q1', { created_at: '2026-12-05T10:00:02.000Z', devices }));
    await s().images.insert(image('q2', { status: 'scanning', created_at: '2026-12-05T10:00:01.000Z' }));
    expect(await s().images.pending()).toEqual(['q2', 'q1']);
    expect(await s().images.priorManifest(sha('a'), '[]')).toBe('man1');
    expect(await s().images.priorManifest(sha('a'), devices)).toBeUndefined();
    expect(await s().images.handBack(T0)).toBe(1);
    expect((await s().images.get('q2'))?.status).toBe('queued');
    expect(await s().blobRefs.referenced(sha('d'))).toBe(true); // a device of q1
    expect(await s().blobRefs.referenced(sha('b'))).toBe(true); // manifest man1
    expect(await s().blobRefs.referenced(sha('e'))).toBe(false);
    expect([...(await s().blobRefs.all())].sort()).toEqual([sha('a'), sha('b'), sha('d')]);
  });

  it("hands back only the given images' scans (a replica's own), or none for an empty list", async () => {
    await s().images.insert(image('h1', { status: 'scanning' }));
    await s().images.insert(image('h2', { status: 'scanning' }));
    await s().images.insert(image('h3', { status: 'ready' }));
    expect(await s().images.handBack(T0, [])).toBe(0);
    expect(await s().images.handBack(T0, ['h2', 'h3'])).toBe(1);
    expect((await s().images.get('h1'))?.status).toBe('scanning'); // another replica's
    expect((await s().images.get('h2'))?.status).toBe('queued');
    expect((await s().images.get('h3'))?.status).toBe('ready');
    expect(await s().images.handBack(T0)).toBe(1); // all: h1
    expect((await s().images.get('h1'))?.status).toBe('queued');
  });

  it('lists reports by (created_at, id) descending across equal times, and moves names', async () => {
    const report = (id: string, created_at: string) => ({
      id,
      title: null,
      blob: sha('c'),
      input_blob: sha('c'),
      summary: '{}',
      summary_blob: null,
      files_blob: null,
      manifest_blobs: JSON.stringify([sha('f')]),
      created_at,
    });
    await s().reports.insert(report('r1', T0));
    await s().reports.insert(report('r3', T0));
    await s().reports.insert(report('r2', '2026-12-05T09:00:00.000Z'));
    const ids = async (before?: { createdAt: string; id: string | null }) =>
      (await s().reports.list(10, before)).map((r) => r.id);
    expect(await ids()).toEqual(['r3', 'r1', 'r2']);
    // The manifest blobs a report's input names are named by its row.
    expect(await s().blobRefs.referenced(sha('f'))).toBe(true);
    expect(await s().blobRefs.all()).toContain(sha('f'));
    expect(await ids({ createdAt: T0, id: 'r3' })).toEqual(['r1', 'r2']);
    expect(await ids({ createdAt: T0, id: null })).toEqual(['r2']);
    await s().names.upsert({ name: 'main', report_id: 'r1', set_by: 'ci', created_at: T0, updated_at: T0 });
    const later = '2026-12-05T11:00:00.000Z';
    await s().names.upsert({
      name: 'main',
      report_id: 'r2',
      set_by: null,
      created_at: later,
      updated_at: later,
    });
    expect(await s().names.get('main')).toEqual({
      name: 'main',
      report_id: 'r2',
      set_by: null,
      created_at: T0,
      updated_at: later,
    });
    expect(await s().names.delete('main')).toBe(1);
    expect(await s().names.delete('main')).toBe(0);
    // Names are listed byte by byte on both (not by a locale's collation).
    for (const name of ['release_1', 'alpha', 'release/1.2', 'Zeta'])
      await s().names.upsert({ name, report_id: 'r1', set_by: null, created_at: T0, updated_at: T0 });
    expect((await s().names.list('', 10)).map((n) => n.name)).toEqual([
      'Zeta',
      'alpha',
      'release/1.2',
      'release_1',
    ]);
    expect((await s().names.list('alpha', 1)).map((n) => n.name)).toEqual(['release/1.2']);
  });

  it('keeps the first label of a domain, and tokens in creation order', async () => {
    await s().mountConfigs.addLabels([
      ['fp1', 'D1'],
      ['fp2', 'D2'],
    ]);
    await s().mountConfigs.addLabels([
      ['fp1', 'D9'],
      ['fp3', 'D2'],
    ]);
    expect((await s().mountConfigs.labels()).sort()).toEqual([
      ['fp1', 'D1'],
      ['fp2', 'D2'],
    ]);
    await s().tokens.insert({ name: 'ci', hash: 'h1', admin: 0, created_at: T0 });
    await s().tokens.insert({ name: 'ops', hash: 'h2', admin: 1, created_at: T0 });
    expect((await s().tokens.list()).map((t) => [t.id, t.name, t.admin])).toEqual([
      [1, 'ci', 0],
      [2, 'ops', 1],
    ]);
    expect(await s().tokens.byHash('h2')).toEqual({ id: 2, name: 'ops', admin: 1 });
    expect(await s().tokens.deleteByName('ci')).toBe(1);
    await s().meta.set('k', 'v1');
    await s().meta.set('k', 'v2');
    expect(await s().meta.get('k')).toBe('v2');
  });
});

describe('SHAREMAP_DATABASE_URL', () => {
  it('a server on PostgreSQL keeps its rows there, and no SQLite file in the data folder', async () => {
    const url = cluster.createDatabase('served');
    const s = await startTestServer({ config: { databaseUrl: url } });
    try {
      const up = await api(s.url, 'POST', '/api/images?name=edge.img', {
        body: readFileSync(erofs('edge.img')),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(up.status).toBe(202);
      const id = up.body.id as string;
      expect((await waitImage(s.url, id)).status).toBe('ready');
      const pool = new pg.Pool({ connectionString: url });
      try {
        const rows = (await pool.query('SELECT name, status FROM images WHERE id = $1', [id])).rows;
        expect(rows).toEqual([{ name: 'edge.img', status: 'ready' }]);
        const m = (await pool.query(`SELECT source FROM manifests WHERE image_id = $1`, [id])).rows;
        expect(m).toEqual([{ source: 'scan' }]);
      } finally {
        await pool.end();
      }
      expect(existsSync(path.join(s.dataDir, 'sharemap.db'))).toBe(false);
      expect(() => s.ctx.db).toThrow(/stores its data in PostgreSQL/);
    } finally {
      await s.stop();
    }
  }, 180_000);

  it('an unreachable or unknown database fails the start with one line', async () => {
    const port = await freePort(); // nothing listens there
    await expect(
      openStore({ dataDir: dir, databaseUrl: `postgres://sharemap:secret@127.0.0.1:${port}/x` }),
    ).rejects.toThrow(
      new DatabaseOpenError(
        `cannot use the database postgres://sharemap:***@127.0.0.1:${port}/x: connect ECONNREFUSED 127.0.0.1:${port}`,
      ),
    );
    const missing = cluster.url.replace(/\/postgres$/, '/nope');
    await expect(openStore({ dataDir: dir, databaseUrl: missing })).rejects.toThrow(
      `cannot use the database ${missing}: database "nope" does not exist`,
    );
    // The built server: exit status 1 and that one line on stderr.
    ensureBuilt();
    const data = tempDir();
    try {
      const refused = `postgres://sharemap@127.0.0.1:${port}/x`;
      await expect(startServerChild(data, { SHAREMAP_DATABASE_URL: refused })).rejects.toThrow(
        // child-server.mjs: the exit status, then stdout (nothing) and stderr (one line).
        new Error(
          `server exited with 1:\n\nsharemap server: cannot use the database ${refused}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
        ),
      );
      const bad = spawnSync(process.execPath, [path.join(repo, 'apps/server/dist/main.js'), '--data', data], {
        encoding: 'utf8',
        env: { ...process.env, SHAREMAP_DATABASE_URL: 'mysql://u:pw@db/x' },
        timeout: 120_000,
      });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toBe(
        'sharemap server: SHAREMAP_DATABASE_URL: expected a postgres://user:password@host:port/database URL, got mysql://u:***@db/x\n',
      );
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('the job queue on PostgreSQL (pg-boss)', () => {
  /** A queue on a new database whose polls are an hour apart: only its events move it. */
  function hourPollQueue(
    db: string,
    over: { run?: (row: ImageRow) => Promise<void>; analyze?: () => Promise<AnalyzeResult> } = {},
  ): { queue: PgScanQueue; pool: pg.Pool } {
    const url = cluster.createDatabase(db);
    const pool = openPgPool(url);
    const queue = new PgScanQueue({
      url,
      pool,
      concurrency: 1,
      leaseMs: 600_000,
      run: over.run ?? (() => Promise.resolve()),
      getRow: (id) => Promise.resolve(image(id)),
      analysisConcurrency: 1,
      analyze: over.analyze ?? (() => Promise.reject(new Error('no analysis here'))),
      log: createLogger('silent'),
      pollIntervalS: 3600,
      analysisPollMs: 3_600_000,
    });
    return { queue, pool };
  }

  it('takes a backlog of scans one after the other, each as the one before ends, not at the next poll', async () => {
    const ran: string[] = [];
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((r) => (releaseFirst = r));
    let allRan!: () => void;
    const done = new Promise<void>((r) => (allRan = r));
    const { queue, pool } = hourPollQueue('queue_backlog', {
      run: async (row) => {
        ran.push(row.id);
        if (ran.length === 1) await firstHeld; // the others are queued while the first runs
        if (ran.length === 3) allRan();
      },
    });
    try {
      await queue.start();
      await queue.enqueue(image('i1'));
      await vi.waitUntil(() => ran.length === 1, { timeout: 20_000, interval: 20 });
      await queue.enqueue(image('i2'));
      await queue.enqueue(image('i3'));
      releaseFirst();
      // With an hour between polls, the third runs only if the second's end woke the worker.
      await done;
      expect(ran).toEqual(['i1', 'i2', 'i3']);
    } finally {
      await queue.close();
      await pool.end();
    }
  });

  it("answers an analysis this replica ran with its output (or its error), not at the next read of the job's state", async () => {
    const result = { figures: 'made up' } as unknown as AnalyzeResult;
    const outcomes: (() => Promise<AnalyzeResult>)[] = [
      () => Promise.resolve(result),
      () => Promise.reject(new TaskError('too-big', 'the input is too big')),
    ];
    const { queue, pool } = hourPollQueue('queue_analysis', { analyze: () => outcomes.shift()!() });
    try {
      await queue.start();
      const task = { kind: 'test' } as unknown as AnalyzeTask;
      // Its first read of the job (just after queueing it) finds it not done; the next is an hour away.
      expect(await queue.runAnalysis(task, 60_000)).toBe(result);
      await expect(queue.runAnalysis(task, 60_000)).rejects.toThrow(
        expect.objectContaining({ name: 'TaskError', code: 'too-big', message: 'the input is too big' }),
      );
    } finally {
      await queue.close();
      await pool.end();
    }
  });
});
