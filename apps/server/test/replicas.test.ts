/**
 * Several replicas (docs/server.md#several-replicas): real server processes (the built
 * dist/main.js), two at a time on one database of a private PostgreSQL cluster and one shared
 * data folder. Scans go
 * through the job queue in PostgreSQL (pg-boss), their events through LISTEN/NOTIFY. Which
 * replica takes a job is up to the queue: the test reads it from the replica's log line
 * `scan job taken`. A scan is held at a known point by locking the `manifests` table from
 * the test's own connection: the scan runs, then its recording waits for the lock, so the job
 * is taken and unfinished until the test releases it; no timing is assumed.
 *
 * Each describe block runs its own replicas on its own database and data folder of one cluster:
 * the kill -9 test, 40 concurrent uploads over both replicas, and the shared queue's limit
 * (maxQueuedScans, the PostgreSQL counterpart of hostile.test.ts's "a full scan queue").
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, ensureBuilt, erofs, kill9, tempDir, waitImage, type Child, type Json } from './helpers.js';
import { startServerChild } from './child-server.mjs';
import { parseMetrics } from './metrics-text.js';
import { startPgCluster, type PgCluster } from './pg-cluster.js';
import { filesUnder, httpRequest, rawRequest } from './raw-http.js';

/** The lease of a taken job in the kill -9 test: long enough for a loaded machine, short for the test. */
const LEASE_MS = 30_000;

/**
 * The lease where no replica dies: longer than any wait of these tests, so a job held by the
 * test (holdRecording) or slowed by the load is never offered a second time.
 */
const LONG_LEASE_MS = 600_000;

interface Replica extends Child {
  name: string;
  /** Everything the replica wrote on stdout (info logs) since it started. */
  stdout(): string;
}

/** Resolves once `cond` holds for some replica's stdout, checked whenever one writes. */
function whenLogged<T>(replicas: Replica[], pick: (r: Replica) => T | undefined): Promise<T> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      for (const r of replicas) {
        const v = pick(r);
        if (v !== undefined) {
          for (const q of replicas) q.proc.stdout!.off('data', check);
          resolve(v);
          return true;
        }
      }
      return false;
    };
    if (!check()) for (const r of replicas) r.proc.stdout!.on('data', check);
  });
}

/** How many lines of a replica's log have message `msg` about image `id`. */
function loggedCount(r: Replica, msg: string, id: string): number {
  return r
    .stdout()
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`) && l.includes(`"imageId":"${id}"`)).length;
}

/** How many times a replica's log says it took the scan job of image `id`. */
const takenCount = (r: Replica, id: string): number => loggedCount(r, 'scan job taken', id);

/** Whether some replica logged the end of image `id`'s scan (recorded, or the image refused). */
const scanEnded = (replicas: Replica[], id: string): boolean =>
  replicas.some(
    (r) =>
      loggedCount(r, 'image scanned', id) > 0 ||
      loggedCount(r, 'image rejected', id) > 0 ||
      loggedCount(r, 'scan worker failed', id) > 0,
  );

/** The replica that took the scan of image `id` (after it logged so). */
const takenBy = (replicas: Replica[], id: string): Promise<Replica> =>
  whenLogged(replicas, (r) => (takenCount(r, id) > 0 ? r : undefined));

/**
 * Hold every scan's recording: `LOCK TABLE manifests IN EXCLUSIVE MODE` in an open transaction
 * blocks the scan's INSERT of its manifest row (reads go on). `release()` commits.
 */
async function holdRecording(url: string): Promise<{ release(): Promise<void> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('BEGIN');
  await c.query('LOCK TABLE manifests IN EXCLUSIVE MODE');
  return {
    async release() {
      await c.query('COMMIT');
      await c.end();
    },
  };
}

/** An image's server-sent events; `first` resolves with the first event (the stream is open). */
function followEvents(
  base: string,
  id: string,
): { first: Promise<void>; done: Promise<{ event: string; data: Json }[]> } {
  let opened!: () => void;
  const first = new Promise<void>((r) => (opened = r));
  const done = (async () => {
    const res = await fetch(`${base}/api/images/${id}/events`);
    expect(res.status).toBe(200);
    const events: { event: string; data: Json }[] = [];
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) {
          events.push({ event, data: JSON.parse(data) as Json });
          opened();
        }
      }
    }
    return events; // the server ends the stream after 'ready' or 'failed'
  })();
  return { first, done };
}

async function upload(r: Replica, image: string, name = image): Promise<string> {
  const up = await api(r.url, 'POST', `/api/images?name=${encodeURIComponent(name)}`, {
    body: readFileSync(erofs(image)),
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect(up.status, up.text).toBe(202);
  return up.body.id as string;
}

/** Runs `f` on a connection of its own to the replicas' database. */
async function withDb<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

/** The scan queue depth a replica's /metrics shows: the shared queue's size it last read. */
async function queueDepth(r: Replica): Promise<number | undefined> {
  const res = await api(r.url, 'GET', '/metrics');
  expect(res.status).toBe(200);
  return parseMetrics(res.text).get('sharemap_scan_queue_depth');
}

/**
 * Polls a replica's /metrics until its scan queue depth is `n`: a replica re-reads the shared
 * queue's size every QUEUE_SIZE_REFRESH_MS (scan/pg-queue.ts), so it follows the other
 * replicas' jobs only at its next read.
 */
async function untilDepth(r: Replica, n: number, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let depth = await queueDepth(r);
  while (depth !== n) {
    if (Date.now() > end) throw new Error(`replica ${r.name}: scan queue depth still ${depth}, not ${n}`);
    await new Promise((ok) => setTimeout(ok, 100));
    depth = await queueDepth(r);
  }
}

/** The body of a GET as bytes, with its status. */
async function getBytes(base: string, url: string): Promise<{ status: number; sha256: string }> {
  const res = await fetch(base + url);
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Rows in the order of JavaScript's sort of their image ids (not the database's collation). */
const byImageId = (x: { image_id: string }, y: { image_id: string }): number =>
  x.image_id < y.image_id ? -1 : x.image_id > y.image_id ? 1 : 0;

/** Files of an image as its oracle lists them (the scan's manifest has the same count). */
const expectedFiles = (image: string): number =>
  (JSON.parse(readFileSync(erofs(image.replace(/\.img$/, '.expected.json')), 'utf8')) as { files: unknown[] })
    .files.length;

let cluster: PgCluster;

beforeAll(async () => {
  ensureBuilt(); // the replicas run dist/main.js; a build that fails fails the test
  cluster = await startPgCluster(); // throws with the reason when PostgreSQL cannot start
}, 300_000);

afterAll(() => cluster?.stop());

interface ReplicaSet {
  /** The replicas' database. */
  url: string;
  /** Their shared data folder. */
  dataDir: string;
  /** Replicas running. */
  replicas: Replica[];
  /** Replicas killed (their logs stay readable). */
  gone: Replica[];
  /** One more replica on the same database and folder. */
  start(name: string): Promise<Replica>;
}

/**
 * Two replicas ('a', 'b') for the calling describe block, on a database and a data folder of
 * their own (`env` adds to the replicas' environment), killed after its tests.
 */
function useReplicas(db: string, env: Record<string, string>): ReplicaSet {
  const set: ReplicaSet = {
    url: '',
    dataDir: '',
    replicas: [],
    gone: [],
    async start(name) {
      const c = await startServerChild(
        set.dataDir,
        {
          SHAREMAP_DATABASE_URL: set.url,
          SHAREMAP_SHARED_DATA: '1',
          SHAREMAP_LOG_LEVEL: 'info', // the "scan job taken" lines
          ...env,
        },
        { startTimeoutMs: 180_000 },
      );
      let out = '';
      c.proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const r: Replica = { ...c, name, stdout: () => out };
      set.replicas.push(r);
      return r;
    },
  };
  beforeAll(async () => {
    set.url = cluster.createDatabase(db);
    set.dataDir = tempDir(`sharemap-${db}-`);
    // Together: the schema migrations, pg-boss's schema and the domain key are made once.
    await Promise.all([set.start('a'), set.start('b')]);
  }, 300_000);
  afterAll(async () => {
    for (const r of set.replicas) await kill9(r);
    if (set.dataDir) rmSync(set.dataDir, { recursive: true, force: true });
  });
  return set;
}

describe('two replicas on one PostgreSQL and one data folder', () => {
  const set = useReplicas('replicas', { SHAREMAP_JOB_LEASE_MS: String(LEASE_MS) });
  const { replicas, gone } = set;

  const [imgA, imgB, imgC] = ['app.fp.img', 'base-v1.fp.img', 'base-v2.fp.img'];
  const ids: string[] = [];

  it('an upload to A is scanned, and an event stream on the replica that did not scan it sees it end', async () => {
    const [a] = replicas;
    const hold = await holdRecording(set.url);
    let released = false;
    try {
      const id = await upload(a!, imgA);
      ids.push(id);
      const runner = await takenBy(replicas, id);
      const watcher = replicas.find((r) => r !== runner)!;
      const stream = followEvents(watcher.url, id);
      await stream.first; // listening on the other replica, the scan not recorded yet
      await hold.release();
      released = true;
      const events = await stream.done;
      expect(events[0]!.event).toBe('status');
      expect(['queued', 'scanning']).toContain(events[0]!.data.status);
      const last = events.at(-1)!;
      expect(last.event).toBe('status');
      expect(last.data).toMatchObject({
        id,
        status: 'ready',
        manifest: { fileCount: expectedFiles(imgA) },
      });
    } finally {
      if (!released) await hold.release();
    }
  }, 240_000);

  it('a replica killed with SIGKILL mid-job: the other takes the job after its lease and finishes it', async () => {
    const hold = await holdRecording(set.url);
    let released = false;
    try {
      const id = await upload(replicas[1]!, imgB);
      ids.push(id);
      const runner = await takenBy(replicas, id);
      const survivor = replicas.find((r) => r !== runner)!;
      await kill9(runner); // its job stays active in PostgreSQL, its scan unrecorded
      gone.push(...replicas.splice(replicas.indexOf(runner), 1));
      await hold.release();
      released = true;
      // After the lease (LEASE_MS) the queue's maintenance fails the job and queues a retry.
      await takenBy([survivor], id);
      const done = await waitImage(survivor.url, id, 240_000);
      expect(done).toMatchObject({ status: 'ready', manifest: { fileCount: expectedFiles(imgB) } });
      expect(takenCount(survivor, id)).toBe(1);
    } finally {
      if (!released) await hold.release();
    }
  }, 300_000);

  it('a replica started later serves the same reports and links; nothing is lost or duplicated', async () => {
    const first = replicas[0]!;
    const later = await set.start('c');
    const id = await upload(later, imgC);
    ids.push(id);
    expect((await waitImage(first.url, id, 240_000)).status).toBe('ready');
    const created = await api(first.url, 'POST', '/api/reports', {
      json: { images: ids, title: 'replicas' },
    });
    expect(created.status, created.text).toBe(201);
    const reportId = created.body.id as string;
    // Its analysis ran as a job of the shared queue, taken by one replica once.
    const analyses = [...replicas, ...gone].map(
      (r) => r.stdout().split('"msg":"analysis job taken"').length - 1,
    );
    expect(analyses.reduce((x, y) => x + y)).toBe(1);
    const fromFirst = await api(first.url, 'GET', `/api/reports/${reportId}`);
    const fromLater = await api(later.url, 'GET', `/api/reports/${reportId}`);
    expect(fromFirst.status).toBe(200);
    expect(fromLater.text).toBe(fromFirst.text);
    expect((fromFirst.body as { images: unknown[] }).images).toHaveLength(3);
    for (const r of [first, later]) {
      const page = await api(r.url, 'GET', `/r/${reportId}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const summary = await api(r.url, 'GET', `/api/reports/${reportId}/summary`);
      expect(summary.status).toBe(200);
    }
    // One manifest per scanned image (the job run twice recorded once), no job left behind.
    const c = new pg.Client({ connectionString: set.url });
    await c.connect();
    try {
      const manifests = await c.query<{ image_id: string; n: number }>(
        'SELECT image_id, count(*)::int AS n FROM manifests GROUP BY image_id',
      );
      expect(manifests.rows.sort(byImageId)).toEqual([...ids].sort().map((image_id) => ({ image_id, n: 1 })));
      const images = await c.query<{ status: string }>('SELECT DISTINCT status FROM images');
      expect(images.rows).toEqual([{ status: 'ready' }]);
      const open = await c.query(
        `SELECT id FROM pgboss.job WHERE name = 'sharemap-scan' AND state < 'completed'`,
      );
      expect(open.rows).toEqual([]);
    } finally {
      await c.end();
    }
  }, 300_000);
}, 900_000);

/**
 * base-v1.fp's file data, every file read whole: half of docs/sharing-rules.md#worked-figures's
 * row "base-v1.fp : acme twice" (7,569,408 bytes without sharing, 3,784,704 with).
 */
const BASE_V1_BYTES = 3_784_704;

describe('40 concurrent uploads spread over two replicas', () => {
  /** Queue workers of each replica. */
  const WORKERS = 2;
  const set = useReplicas('uploads', {
    SHAREMAP_MAX_CONCURRENT_SCANS: String(WORKERS),
    SHAREMAP_JOB_LEASE_MS: String(LONG_LEASE_MS),
  });
  const { replicas } = set;

  /** Eight fixture images, each uploaded five times under five names: 40 uploads. */
  const FIXTURES = [
    'base-v1.fp.img',
    'base-v2.fp.img',
    'app.fp.img',
    'base-v1.fp.lz4hc.img',
    'base-v2.fp.forged.img',
    'base-v1.fp.serial.img',
    'base-v2.fp.serial.img',
    'app.fp.lz4hc.img',
  ];
  const COPIES = 5;
  const UPLOADS = FIXTURES.length * COPIES;
  /** Upload k: fixture k / 5, copy k % 5, sent to replica k % 2 (each fixture to both). */
  const uploads = Array.from({ length: UPLOADS }, (_, k) => {
    const image = FIXTURES[Math.floor(k / COPIES)]!;
    const copy = k % COPIES;
    return { k, image, copy, name: `copy${copy}-${image}` };
  });
  /** Image id of each upload, by `image#copy`. */
  const idOf = new Map<string, string>();
  const id = (image: string, copy: number): string => idOf.get(`${image}#${copy}`)!;

  it('every upload is scanned once, by whichever replica takes its job; GET works on both', async () => {
    expect(UPLOADS).toBe(40);
    // Recording held until every upload is answered: no scan can finish first, so no upload of
    // bytes already scanned is answered 200 from the earlier manifest: 40 scans for 40 uploads.
    const hold = await holdRecording(set.url);
    let released = false;
    try {
      const sent = await Promise.all(uploads.map((u) => upload(replicas[u.k % 2]!, u.image, u.name)));
      uploads.forEach((u, i) => idOf.set(`${u.image}#${u.copy}`, sent[i]!));
      expect(new Set(sent).size).toBe(UPLOADS);
      // Every queue worker of both replicas takes a job and holds it: the jobs are spread over
      // both replicas whatever the load.
      const taken = (r: Replica): number => sent.filter((i) => takenCount(r, i) > 0).length;
      await whenLogged(replicas, () =>
        replicas.reduce((n, r) => n + taken(r), 0) >= 2 * WORKERS ? true : undefined,
      );
      expect(replicas.map(taken)).toEqual([WORKERS, WORKERS]);
      await hold.release();
      released = true;
      await whenLogged(replicas, () => (sent.every((i) => scanEnded(replicas, i)) ? true : undefined));
    } finally {
      if (!released) await hold.release();
    }
    const ids = uploads.map((u) => id(u.image, u.copy));
    // Each scan taken once and recorded once, over both replicas.
    for (const i of ids) {
      expect(
        replicas.map((r) => takenCount(r, i)).reduce((x, y) => x + y),
        i,
      ).toBe(1);
      expect(
        replicas.map((r) => loggedCount(r, 'image scanned', i)).reduce((x, y) => x + y),
        i,
      ).toBe(1);
    }
    // Both GET the same image, ready, with its oracle's file count, under the name it was sent with.
    for (const u of uploads) {
      const [fromA, fromB] = await Promise.all(
        replicas.map((r) => api(r.url, 'GET', `/api/images/${id(u.image, u.copy)}`)),
      );
      expect(fromA!.status).toBe(200);
      expect(fromB!.text).toBe(fromA!.text);
      expect(fromA!.body).toMatchObject({
        name: u.name,
        status: 'ready',
        manifest: { fileCount: expectedFiles(u.image) },
      });
    }
    await withDb(set.url, async (c) => {
      const images = await c.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM images GROUP BY status',
      );
      expect(images.rows).toEqual([{ status: 'ready', n: UPLOADS }]);
      const manifests = await c.query<{ image_id: string; n: number }>(
        'SELECT image_id, count(*)::int AS n FROM manifests GROUP BY image_id',
      );
      expect(manifests.rows.sort(byImageId)).toEqual([...ids].sort().map((image_id) => ({ image_id, n: 1 })));
      // One scan job per upload, completed at its first attempt.
      const jobs = await c.query<{ image_id: string; state: string; retry_count: number }>(
        `SELECT data->>'imageId' AS image_id, state, retry_count FROM pgboss.job
         WHERE name = 'sharemap-scan'`,
      );
      expect(jobs.rows.sort(byImageId)).toEqual(
        [...ids].sort().map((image_id) => ({ image_id, state: 'completed', retry_count: 0 })),
      );
    });
  }, 600_000);

  /** Reports of the uploads, each with its figures from docs/sharing-rules.md#worked-figures. */
  const REPORTS: { title: string; images: [string, number][]; without: number; with: number }[] = [
    {
      // The same bytes under five names, in one domain: every file shares (R4, one copy cached).
      title: 'base-v1.fp five times',
      images: [0, 1, 2, 3, 4].map((c) => ['base-v1.fp.img', c]),
      without: COPIES * BASE_V1_BYTES,
      with: BASE_V1_BYTES,
    },
    {
      title: 'base-v1.fp, base-v2.fp',
      images: [
        ['base-v1.fp.img', 0],
        ['base-v2.fp.img', 0],
      ],
      without: 7_602_176,
      with: 6_946_816,
    },
    {
      title: 'base-v1.fp, base-v2.fp, app.fp',
      images: [
        ['base-v1.fp.img', 1],
        ['base-v2.fp.img', 1],
        ['app.fp.img', 0],
      ],
      without: 8_675_328,
      with: 7_434_240,
    },
    {
      title: 'base-v1.fp, base-v1.fp.lz4hc',
      images: [
        ['base-v1.fp.img', 2],
        ['base-v1.fp.lz4hc.img', 0],
      ],
      without: 7_569_408,
      with: 5_890_048,
    },
    {
      title: 'base-v1.fp, base-v2.fp.forged',
      images: [
        ['base-v1.fp.img', 3],
        ['base-v2.fp.forged.img', 0],
      ],
      without: 7_602_176,
      with: 5_967_872,
    },
    {
      title: 'base-v1.fp.serial, base-v2.fp.serial',
      images: [
        ['base-v1.fp.serial.img', 0],
        ['base-v2.fp.serial.img', 0],
      ],
      without: 7_602_176,
      with: 6_946_816,
    },
    {
      title: 'base-v1.fp.serial, base-v2.fp',
      images: [
        ['base-v1.fp.serial.img', 1],
        ['base-v2.fp.img', 2],
      ],
      without: 7_602_176,
      with: 7_602_176,
    },
  ];

  it('reports created on one replica read the same on the other, with the documented figures', async () => {
    // Created at once, alternately on each replica; each analysis is a job any replica takes.
    const created = await Promise.all(
      REPORTS.map(async (rep, i) => {
        const res = await api(replicas[i % 2]!.url, 'POST', '/api/reports', {
          json: { images: rep.images.map(([image, copy]) => id(image, copy)), title: rep.title },
        });
        expect(res.status, res.text).toBe(201);
        return res.body.id as string;
      }),
    );
    const analyses = replicas.map((r) => r.stdout().split('"msg":"analysis job taken"').length - 1);
    expect(analyses.reduce((x, y) => x + y)).toBe(REPORTS.length);
    for (const [i, rep] of REPORTS.entries()) {
      const reportId = created[i]!;
      const creator = replicas[i % 2]!;
      const other = replicas[(i + 1) % 2]!;
      const got = await api(other.url, 'GET', `/api/reports/${reportId}`);
      expect(got.status).toBe(200);
      const report = got.body as { images: { name: string }[]; totals: Json };
      expect(report.images.map((im) => im.name).sort()).toEqual(
        rep.images.map(([image, copy]) => `copy${copy}-${image}`).sort(),
      );
      expect(report.totals, rep.title).toMatchObject({
        bytesWithoutSharing: rep.without,
        bytesWithSharing: rep.with,
        bytesSaved: rep.without - rep.with,
      });
      // The same bytes from both replicas: the report, its summary, its file table, its input.
      for (const part of ['', '/summary', '/files', '/input']) {
        const url = `/api/reports/${reportId}${part}`;
        const [fromOther, fromCreator] = await Promise.all([
          getBytes(other.url, url),
          getBytes(creator.url, url),
        ]);
        expect(fromOther.status, part).toBe(200);
        expect(fromCreator, part).toEqual(fromOther);
      }
      const summary = await api(creator.url, 'GET', `/api/reports/${reportId}/summary`);
      expect(summary.body.totals).toEqual(report.totals);
    }
    await withDb(set.url, async (c) => {
      const jobs = await c.query<{ state: string; n: number }>(
        `SELECT state, count(*)::int AS n FROM pgboss.job WHERE name = 'sharemap-analyze' GROUP BY state`,
      );
      expect(jobs.rows).toEqual([{ state: 'completed', n: REPORTS.length }]);
      // No orphan blob: every stored blob is named by a row, every named blob is stored.
      const named = await c.query<{ blob: string }>(
        `SELECT sha256 AS blob FROM images UNION SELECT blob FROM manifests
         UNION SELECT blob FROM reports UNION SELECT input_blob FROM reports
         UNION SELECT summary_blob FROM reports WHERE summary_blob IS NOT NULL
         UNION SELECT files_blob FROM reports WHERE files_blob IS NOT NULL`,
      );
      const stored = filesUnder(path.join(set.dataDir, 'blobs')).map((f) => path.basename(f));
      expect(stored.sort()).toEqual(named.rows.map((r) => r.blob).sort());
      expect(filesUnder(path.join(set.dataDir, 'tmp'))).toEqual([]);
      expect((await c.query('SELECT id FROM images')).rowCount).toBe(UPLOADS);
    });
  }, 600_000);
}, 1_200_000);

describe('the shared scan queue full on PostgreSQL (maxQueuedScans)', () => {
  /** The limit under test: two jobs waiting in the shared queue. */
  const MAX_QUEUED = 2;
  const set = useReplicas('queue_full', {
    SHAREMAP_MAX_CONCURRENT_SCANS: '1',
    SHAREMAP_MAX_QUEUED_SCANS: String(MAX_QUEUED),
    SHAREMAP_JOB_LEASE_MS: String(LONG_LEASE_MS),
  });
  const { replicas } = set;
  const port = (r: Replica): number => Number(new URL(r.url).port);
  const imageRows = (): Promise<number> =>
    withDb(set.url, async (c) => (await c.query('SELECT id FROM images')).rowCount ?? -1);

  it('refuses an upload on either replica with 503 while the shared queue is full, and takes it once it drains', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const refused = 'base-v1.fp.lz4hc.img';
    const refusedSha = createHash('sha256')
      .update(readFileSync(erofs(refused)))
      .digest('hex');
    const storedBlob = (): boolean =>
      filesUnder(path.join(set.dataDir, 'blobs')).some((f) => path.basename(f) === refusedSha);
    const hold = await holdRecording(set.url);
    let released = false;
    try {
      // Each replica's one queue worker takes a job and holds it (its recording waits).
      const running = [await upload(a, 'app.fp.img'), await upload(b, 'base-v1.fp.img')];
      const runners = await Promise.all(running.map((i) => takenBy(replicas, i)));
      expect(new Set(runners).size).toBe(2);
      // The taken jobs no longer wait: both replicas read the shared queue's size as 0 ...
      await Promise.all([untilDepth(a, 0), untilDepth(b, 0)]);
      // ... then two more wait, one queued by each replica, and no worker is free to take them.
      const waiting = [await upload(a, 'base-v2.fp.img'), await upload(b, 'app.fp.lz4hc.img')];
      await Promise.all([untilDepth(a, MAX_QUEUED), untilDepth(b, MAX_QUEUED)]);
      for (const r of [a, b]) {
        const res = await rawRequest(
          port(r),
          httpRequest(
            'POST',
            `/api/images?name=${refused}`,
            { 'content-type': 'application/octet-stream' },
            readFileSync(erofs(refused)),
          ),
        );
        expect(res.response?.status, r.name).toBe(503);
        expect(res.response?.headers['retry-after']).toBe('10');
        expect((res.response?.json as { error: Json }).error).toEqual({
          code: 'busy',
          message: `the scan queue is full (${MAX_QUEUED} scans waiting, the limit maxQueuedScans); try again later`,
          limit: MAX_QUEUED,
        });
      }
      expect(await imageRows()).toBe(4);
      expect(storedBlob()).toBe(false);
      await hold.release();
      released = true;
      // The queue drains: the held scans are recorded, the waiting ones taken and scanned.
      for (const i of [...running, ...waiting])
        expect((await waitImage(a.url, i, 240_000)).status, i).toBe('ready');
      await Promise.all([untilDepth(a, 0), untilDepth(b, 0)]);
    } finally {
      if (!released) await hold.release();
    }
    const again = await upload(b, refused);
    expect(await waitImage(a.url, again, 240_000)).toMatchObject({
      status: 'ready',
      manifest: { fileCount: expectedFiles(refused) },
    });
    expect(await imageRows()).toBe(5);
    expect(storedBlob()).toBe(true);
  }, 600_000);
}, 900_000);
