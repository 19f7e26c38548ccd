/**
 * kill -9 of a server (a child process running the built dist/main.js) during an upload,
 * during a scan and during report creation: after a restart everything committed is there
 * and readable, nothing partial is visible, and leftovers are removed.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_FILE, referencedBlobs } from '../src/context.js';
import { openDb } from '../src/storage/db.js';
import {
  api,
  ensureBuilt,
  erofs,
  kill9,
  mounts,
  startChildServer,
  tempDir,
  waitImage,
  type Child,
} from './helpers.js';

const ADMIN = 'crash-test-admin-token';
const admin = { authorization: `Bearer ${ADMIN}` };

const startChild = (dataDir: string): Promise<Child> =>
  startChildServer(dataDir, { SHAREMAP_ADMIN_TOKEN: ADMIN });

/** The data folder's invariants with the server stopped: every row's blobs exist, no temp files after a start. */
function checkConsistent(dataDir: string): { reports: number; images: number } {
  const db = openDb(path.join(dataDir, DB_FILE));
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    for (const sha of referencedBlobs(db))
      expect(existsSync(path.join(dataDir, 'blobs', sha.slice(0, 2), sha)), sha).toBe(true);
    const reports = (db.prepare('SELECT count(*) AS n FROM reports').get() as { n: number }).n;
    const images = (db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n;
    return { reports, images };
  } finally {
    db.close();
  }
}

function blobFiles(dataDir: string): string[] {
  const dir = path.join(dataDir, 'blobs');
  return readdirSync(dir).flatMap((d) => readdirSync(path.join(dir, d)));
}

const built = (() => {
  try {
    ensureBuilt();
    return true;
  } catch (e) {
    console.warn(`crash tests skipped: cannot build apps/server (${(e as Error).message.split('\n')[0]})`);
    return false;
  }
})();

describe.skipIf(!built)('kill -9', () => {
  const dataDir = tempDir('sharemap-crash-');
  let c: Child;
  let imageId = '';
  let reportId = '';
  let reportText = '';

  beforeAll(async () => {
    c = await startChild(dataDir);
  });
  afterAll(async () => {
    if (c) await kill9(c);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('commits an image and a report', async () => {
    const up = await api(c.url, 'POST', '/api/images?name=base-v1.fp.img', {
      body: readFileSync(erofs('base-v1.fp.img')),
      headers: { 'content-type': 'application/octet-stream' },
    });
    imageId = up.body.id as string;
    expect((await waitImage(c.url, imageId)).status).toBe('ready');
    const created = await api(c.url, 'POST', '/api/reports', { json: { images: [imageId] } });
    expect(created.status).toBe(201);
    reportId = created.body.id as string;
    reportText = (await api(c.url, 'GET', `/api/reports/${reportId}`)).text;
  }, 180_000);

  it('during an upload: loses nothing committed, leaves nothing partial', async () => {
    const chunk = Buffer.alloc(1 << 20, 7);
    let sent = 0;
    let killed: Promise<void> | null = null;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        if (sent >= 64) return ctrl.close();
        sent++;
        if (sent === 8) killed = kill9(c); // mid-stream, with a temp file open on the server
        await new Promise((ok) => setTimeout(ok, 5));
        ctrl.enqueue(chunk);
      },
    });
    const res = await fetch(`${c.url}/api/images?name=huge.img`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream' },
      duplex: 'half',
    } as RequestInit).then(
      (r) => r.status,
      () => 'failed',
    );
    expect(res).toBe('failed');
    await killed;
    const before = checkConsistent(dataDir);
    expect(before.images).toBe(1); // the interrupted upload never became a row
    c = await startChild(dataDir);
    expect(readdirSync(path.join(dataDir, 'tmp'))).toEqual([]); // temp file swept at start
    expect((await api(c.url, 'GET', `/api/reports/${reportId}`)).text).toBe(reportText);
    expect((await api(c.url, 'GET', `/api/images/${imageId}`)).body.status).toBe('ready');
  }, 180_000);

  it('during a scan: the image is scanned again after the restart', async () => {
    const up = await api(c.url, 'POST', '/api/images?name=base-v2.fp.img', {
      body: readFileSync(erofs('base-v2.fp.img')),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(up.status).toBe(202);
    await kill9(c);
    checkConsistent(dataDir);
    c = await startChild(dataDir);
    expect((await waitImage(c.url, up.body.id as string)).status).toBe('ready');
  }, 180_000);

  it('during report creation: each report is either complete or absent', async () => {
    const fstab = await api(c.url, 'POST', '/api/mount-configs?name=fleet.fstab', {
      body: readFileSync(mounts('fleet.fstab'), 'utf8'),
      headers: { 'content-type': 'text/plain' },
    });
    expect(fstab.status).toBe(201);
    for (const delay of [0, 40, 120, 250, 400]) {
      const pending = api(c.url, 'POST', '/api/reports', {
        json: { images: [imageId], mountConfigs: [fstab.body.id] },
      }).then(
        (r) => r.status,
        () => 'failed',
      );
      await new Promise((ok) => setTimeout(ok, delay));
      await kill9(c);
      await pending;
      checkConsistent(dataDir);
      c = await startChild(dataDir);
      const list = await api(c.url, 'GET', '/api/reports?limit=1000', { headers: admin });
      expect(list.status).toBe(200);
      for (const r of list.body.reports as { id: string }[]) {
        const got = await api(c.url, 'GET', `/api/reports/${r.id}`);
        expect(got.status).toBe(200);
        expect(got.body.kind).toBe('sharemap-report');
        expect((await api(c.url, 'GET', `/api/reports/${r.id}/input`)).status).toBe(200);
      }
    }
    expect((await api(c.url, 'GET', `/api/reports/${reportId}`)).text).toBe(reportText);
    // After the last restart's sweep, every blob file belongs to a row.
    await kill9(c);
    const db = openDb(path.join(dataDir, DB_FILE));
    const refs = referencedBlobs(db);
    db.close();
    c = await startChild(dataDir);
    for (const f of blobFiles(dataDir)) expect(refs.has(f), f).toBe(true);
  }, 240_000); // six restarts of a child server on a loaded machine
});
