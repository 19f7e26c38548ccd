/**
 * Several replicas (docs/server.md#several-replicas): two real server processes (the built
 * dist/main.js) on one private PostgreSQL cluster and one shared data folder. Scans go
 * through the job queue in PostgreSQL (pg-boss), their events through LISTEN/NOTIFY. Which
 * replica takes a job is up to the queue: the test reads it from the replica's log line
 * `scan job taken`. A scan is held at a known point by locking the `manifests` table from
 * the test's own connection: the scan runs, then its recording waits for the lock, so the job
 * is taken and unfinished until the test releases it; no timing is assumed.
 */
import { readFileSync, rmSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, ensureBuilt, erofs, kill9, tempDir, waitImage, type Child, type Json } from './helpers.js';
import { startServerChild } from './child-server.mjs';
import { startPgCluster, type PgCluster } from './pg-cluster.js';

/** The lease of a taken job in these tests: long enough for a loaded machine, short for the test. */
const LEASE_MS = 30_000;

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

/** How many times a replica's log says it took the scan job of image `id`. */
function takenCount(r: Replica, id: string): number {
  return r
    .stdout()
    .split('\n')
    .filter((l) => l.includes('"msg":"scan job taken"') && l.includes(`"imageId":"${id}"`)).length;
}

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

async function upload(r: Replica, image: string): Promise<string> {
  const up = await api(r.url, 'POST', `/api/images?name=${image}`, {
    body: readFileSync(erofs(image)),
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect(up.status, up.text).toBe(202);
  return up.body.id as string;
}

/** Files of an image as its oracle lists them (the scan's manifest has the same count). */
const expectedFiles = (image: string): number =>
  (JSON.parse(readFileSync(erofs(image.replace(/\.img$/, '.expected.json')), 'utf8')) as { files: unknown[] })
    .files.length;

describe('two replicas on one PostgreSQL and one data folder', () => {
  let cluster: PgCluster;
  let url: string;
  let dataDir: string;
  const replicas: Replica[] = [];
  /** Replicas killed (their logs stay readable). */
  const gone: Replica[] = [];

  const startReplica = async (name: string): Promise<Replica> => {
    const c = await startServerChild(
      dataDir,
      {
        SHAREMAP_DATABASE_URL: url,
        SHAREMAP_SHARED_DATA: '1',
        SHAREMAP_JOB_LEASE_MS: String(LEASE_MS),
        SHAREMAP_LOG_LEVEL: 'info', // the "scan job taken" lines
      },
      { startTimeoutMs: 180_000 },
    );
    let out = '';
    c.proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const r: Replica = { ...c, name, stdout: () => out };
    replicas.push(r);
    return r;
  };

  beforeAll(async () => {
    ensureBuilt(); // the replicas run dist/main.js; a build that fails fails the test
    cluster = await startPgCluster(); // throws with the reason when PostgreSQL cannot start
    url = cluster.createDatabase('replicas');
    dataDir = tempDir('sharemap-replicas-');
    // Together: the schema migrations, pg-boss's schema and the domain key are made once.
    await Promise.all([startReplica('a'), startReplica('b')]);
  }, 300_000);

  afterAll(async () => {
    for (const r of replicas) await kill9(r);
    cluster?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const [imgA, imgB, imgC] = ['app.fp.img', 'base-v1.fp.img', 'base-v2.fp.img'];
  const ids: string[] = [];

  it('an upload to A is scanned, and an event stream on the replica that did not scan it sees it end', async () => {
    const [a] = replicas;
    const hold = await holdRecording(url);
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
    const hold = await holdRecording(url);
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
    const later = await startReplica('c');
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
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const manifests = await c.query<{ image_id: string; n: number }>(
        'SELECT image_id, count(*)::int AS n FROM manifests GROUP BY image_id ORDER BY image_id',
      );
      expect(manifests.rows).toEqual([...ids].sort().map((image_id) => ({ image_id, n: 1 })));
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
