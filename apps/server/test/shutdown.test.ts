/**
 * Graceful shutdown with a real SIGTERM to a child server (dist/main.js): scans running at
 * the signal finish within the grace (SHAREMAP_SHUTDOWN_GRACE_MS) or are ended and handed
 * back (queued again); queued ones stay queued; none is left 'scanning', none is lost, and
 * the next start scans the rest.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DB_FILE } from '../src/context.js';
import { openDb } from '../src/storage/db.js';
import { api, erofs, kill9, startChildServer, tempDir, waitImage, type Child } from './helpers.js';

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

/** Poll until one image is being scanned; its id. */
async function oneScanning(c: Child, ids: string[]): Promise<string> {
  for (;;) {
    let finished = 0;
    for (const id of ids) {
      const s = (await api(c.url, 'GET', `/api/images/${id}`)).body.status;
      if (s === 'scanning') return id;
      if (s === 'ready' || s === 'failed') finished++;
    }
    if (finished === ids.length) throw new Error('every scan ended before one was seen running');
  }
}

/** SIGTERM and the exit code; stdout collected until then. */
function sigterm(c: Child): Promise<{ code: number | null; out: string }> {
  let out = '';
  c.proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => {
    c.proc.removeAllListeners('exit');
    c.proc.once('exit', (code) => resolve({ code, out }));
    c.proc.kill('SIGTERM');
  });
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

  async function run(grace: number): Promise<{ caught: string; after: Record<string, string>; out: string }> {
    const dataDir = tempDir('sharemap-shutdown-');
    dirs.push(dataDir);
    // info: the shutdown's own log lines ("stopped") are what the test reads on stdout.
    const env = {
      SHAREMAP_MAX_CONCURRENT_SCANS: '1',
      SHAREMAP_SHUTDOWN_GRACE_MS: String(grace),
      SHAREMAP_LOG_LEVEL: 'info',
    };
    const c = await startChildServer(dataDir, env);
    children.push(c);
    const ids = await uploadAll(c);
    const caught = await oneScanning(c, ids);
    const { code, out } = await sigterm(c);
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
    return { caught, after, out };
  }

  it('lets a running scan finish within the grace; queued scans stay queued', async () => {
    const { caught, after, out } = await run(600_000);
    expect(after[caught]).toBe('ready'); // running at the signal, finished before the exit
    expect(out).not.toContain('"msg":"scans handed back"');
  }, 180_000);

  it('ends a scan still running when the grace is over and hands it back', async () => {
    const { caught, after, out } = await run(1);
    expect(after[caught]).toBe('queued');
    expect(out).toMatch(/"msg":"scans handed back","images":1\b/);
  }, 180_000);
}, 300_000);
