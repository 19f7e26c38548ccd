/**
 * Graceful shutdown with a real SIGTERM to a child server (dist/main.js): scans running at
 * the signal finish within the grace (SHAREMAP_SHUTDOWN_GRACE_MS) or are ended and handed
 * back (queued again); queued ones stay queued; none is left 'scanning', none is lost, and
 * the next start scans the rest.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DB_FILE } from '../src/context.js';
import { BlobStore } from '../src/storage/blobs.js';
import { openDb } from '../src/storage/db.js';
import {
  api,
  erofs,
  HOLD_SCAN_FLAGS,
  kill9,
  startChildServer,
  tempDir,
  waitImage,
  type Child,
} from './helpers.js';

/** Distinct images (identical bytes would share one scan). */
const IMAGES = [
  'base-v1.fp.img',
  'base-v2.fp.img',
  'edge.img',
  'base-v1.fp.serial.img',
  'base-v2.fp.serial.img',
  'base-v1.fp.lz4hc.img',
  'base-v2.fp.lz4hc.img',
  'edge.lz4.img',
];

async function uploadAll(c: Child): Promise<string[]> {
  const ids: string[] = [];
  for (const name of IMAGES) {
    const up = await api(c.url, 'POST', `/api/images?name=${name}`, {
      body: readFileSync(erofs(name)),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(up.status).toBe(202);
    ids.push(up.body.id as string);
  }
  return ids;
}

/** Poll until the image's status reads `status` (the scan is held there: it cannot pass it). */
async function statusReads(c: Child, id: string, status: string): Promise<void> {
  for (;;) {
    const s = (await api(c.url, 'GET', `/api/images/${id}`)).body.status;
    if (s === status) return;
    if (s === 'ready' || s === 'failed')
      throw new Error(`image ${id} ended (${String(s)}) before it read ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * SIGTERM and the exit code (or the signal that ended the process); stdout collected until
 * then. `whileStopping` runs once the server has begun its shutdown (its "shutting down" line
 * on stderr, written after the pool stopped taking scans).
 */
function sigterm(
  c: Child,
  whileStopping?: () => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  let out = '';
  c.proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  if (whileStopping) {
    let err = '';
    const onErr = (d: Buffer): void => {
      err += d.toString();
      if (!err.includes('SIGTERM, shutting down')) return;
      c.proc.stderr!.off('data', onErr);
      whileStopping();
    };
    c.proc.stderr!.on('data', onErr);
  }
  return new Promise((resolve) => {
    c.proc.removeAllListeners('exit');
    c.proc.once('exit', (code, signal) => resolve({ code, signal, out }));
    c.proc.kill('SIGTERM');
  });
}

/**
 * Poll until a thread of process `pid` sleeps in the kernel's FIFO open (`wait_for_partner`:
 * an open() of a FIFO that waits for a writer), read from /proc/PID/task/TID/wchan.
 */
async function threadBlockedOnFifo(pid: number): Promise<void> {
  for (;;) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let wchan = '';
      try {
        wchan = readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'utf8');
      } catch {
        continue; // the thread ended meanwhile
      }
      if (wchan === 'wait_for_partner') return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function statuses(dataDir: string, ids: string[]): Record<string, string> {
  const db = openDb(path.join(dataDir, DB_FILE));
  try {
    const out: Record<string, string> = {};
    for (const id of ids)
      out[id] = (db.prepare('SELECT status FROM images WHERE id = ?').get(id) as { status: string }).status;
    return out;
  } finally {
    db.close();
  }
}

describe('SIGTERM', () => {
  const dirs: string[] = [];
  const children: Child[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) await kill9(c);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /**
   * Upload every image to a server running one scan at a time, wait until `awaitScanning`
   * (one image found scanning) gives an image, SIGTERM, check nothing is left half-done, and
   * start again (`env` minus `firstOnly`) to scan the rest.
   */
  async function run(
    grace: number,
    awaitScanning: (c: Child, ids: string[]) => Promise<string>,
    firstOnly: Record<string, string> = {},
    whileStopping?: () => void,
  ): Promise<{ caught: string; ids: string[]; after: Record<string, string>; out: string }> {
    const dataDir = tempDir('sharemap-shutdown-');
    dirs.push(dataDir);
    // info: the shutdown's own log lines ("stopped") are what the test reads on stdout.
    const env = {
      SHAREMAP_MAX_CONCURRENT_SCANS: '1',
      SHAREMAP_SHUTDOWN_GRACE_MS: String(grace),
      SHAREMAP_LOG_LEVEL: 'info',
    };
    // The test-only hold is loaded into the first server only (its env names the held image).
    const c = await startChildServer(dataDir, { ...env, ...firstOnly }, HOLD_SCAN_FLAGS);
    children.push(c);
    const ids = await uploadAll(c);
    const caught = await awaitScanning(c, ids);
    const { code, out } = await sigterm(c, whileStopping);
    expect(code).toBe(0);
    expect(out).toContain('"msg":"stopped"');
    const after = statuses(dataDir, ids);
    // Nothing is left half-done: finished, or queued for the next start.
    for (const id of ids) expect(['ready', 'queued']).toContain(after[id]);
    // With one scan at a time, the scans after the running one were still queued.
    expect(Object.values(after)).toContain('queued');
    // The next start scans the rest; nothing was lost.
    const next = await startChildServer(dataDir, env);
    children.push(next);
    for (const id of ids) expect((await waitImage(next.url, id, 120_000)).status).toBe('ready');
    return { caught, ids, after, out };
  }

  // The first image's scan is held (docs/development.md#holding-a-scan) until the server has
  // begun to stop, then released: it was running at the signal and finishes within the grace,
  // and the scans queued behind it were still queued, whatever the machine's load.
  it('lets a running scan finish within the grace; queued scans stay queued', async () => {
    const release = path.join(tempDir('sharemap-shutdown-release-'), 'release');
    dirs.push(path.dirname(release));
    const { caught, ids, after, out } = await run(
      600_000,
      async (c, ids) => {
        await statusReads(c, ids[0]!, 'scanning');
        return ids[0]!;
      },
      { SHAREMAP_TEST_HOLD_SCAN: IMAGES[0]!, SHAREMAP_TEST_RELEASE_SCAN: release },
      () => writeFileSync(release, ''),
    );
    expect(caught).toBe(ids[0]);
    expect(after[caught]).toBe('ready'); // running at the signal, finished before the exit
    expect(Object.values(after)).toEqual(ids.map((id) => (id === caught ? 'ready' : 'queued')));
    expect(out).toMatch(/"msg":"stopped","scansUnfinished":0\b/);
    expect(out).not.toContain('"msg":"scans handed back"');
  }, 300_000);

  // The first image's scan is held (SHAREMAP_TEST_HOLD_SCAN, docs/development.md#holding-a-scan):
  // once it reads 'scanning' it runs until the pool ends it, so it is still running when the
  // 1 ms grace is over, whatever the machine's load.
  it('ends a scan still running when the grace is over and hands it back', async () => {
    const { caught, ids, after, out } = await run(
      1,
      async (c, ids) => {
        await statusReads(c, ids[0]!, 'scanning');
        return ids[0]!;
      },
      { SHAREMAP_TEST_HOLD_SCAN: IMAGES[0]! },
    );
    expect(caught).toBe(ids[0]);
    expect(out).toMatch(/"msg":"stopped","scansUnfinished":1\b/);
    expect(out).toMatch(/"msg":"scans handed back","images":1\b/);
    // The held scan never ended and went back to the queue; the others never started.
    expect(Object.values(after)).toEqual(ids.map(() => 'queued'));
  }, 300_000);

  // terminate() interrupts JavaScript only: a worker whose read is blocked in a system call
  // never ends, and Node's exit joins every worker thread, so the shutdown used to wait for it
  // forever. The read blocked here is a report's: the analysis worker reads the stored
  // manifest with fs streams, whose open() runs in a libuv thread-pool thread, and a worker
  // does not end while one of its requests is in flight. (Image scans no longer block on a
  // FIFO: nodeFileSource opens with O_NONBLOCK and refuses what is not a regular file.)
  it('ends a process whose analysis worker is blocked in open() of a FIFO (pool.ts WORKER_EXIT_TIMEOUT_MS)', async () => {
    const dataDir = tempDir('sharemap-shutdown-fifo-');
    dirs.push(dataDir);
    const env = { SHAREMAP_SHUTDOWN_GRACE_MS: '1', SHAREMAP_LOG_LEVEL: 'info' };
    const first = await startChildServer(dataDir, env);
    children.push(first);
    const up = await api(first.url, 'POST', '/api/images?name=edge.img', {
      body: readFileSync(erofs('edge.img')),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(up.status).toBe(202);
    const id = up.body.id as string;
    expect((await waitImage(first.url, id, 120_000)).status).toBe('ready');
    expect((await sigterm(first)).code).toBe(0);
    // The image's stored manifest becomes a FIFO: the next start's report over the image
    // blocks in open() of it, waiting for a writer that never comes.
    const db = openDb(path.join(dataDir, DB_FILE));
    const { blob } = db
      .prepare('SELECT m.blob AS blob FROM images i JOIN manifests m ON m.id = i.manifest_id WHERE i.id = ?')
      .get(id) as { blob: string };
    db.close();
    const manifestBlob = new BlobStore(dataDir).path(blob);
    rmSync(manifestBlob);
    execFileSync('mkfifo', [manifestBlob]);
    const second = await startChildServer(dataDir, env);
    children.push(second);
    // The request waits for the analysis, which never ends; its answer (or the closed
    // connection at the shutdown) does not matter.
    void api(second.url, 'POST', '/api/reports', { json: { images: [id] } }).catch(() => undefined);
    await threadBlockedOnFifo(second.proc.pid!);
    // The process ends (the test's timeout is the only clock): the worker is given up after
    // the bound, the database closed, and the process ends by its signal.
    const { code, signal, out } = await sigterm(second);
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expect(out).toMatch(/"msg":"stopped","scansUnfinished":0,"workersStuck":1\b/);
    expect(statuses(dataDir, [id])).toEqual({ [id]: 'ready' });
    expect(second.stderr()).toMatch(/"msg":"worker threads did not end","workers":1\b/);
    expect(second.stderr()).toContain('worker threads did not end; exiting by SIGTERM');
  }, 180_000);
}, 300_000);
