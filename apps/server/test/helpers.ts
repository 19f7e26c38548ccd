/** Test helpers: a real server on port 0 over a temp data folder, and small HTTP helpers. */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig, type ServerConfig } from '../src/config.js';
import { resolveLimits, type Limits } from '../src/limits.js';
import { startServer, type RunningServer } from '../src/server.js';
import { startServerChild, type ServerChild } from './child-server.mjs';
import { manifestToNdjson, type FileRecord, type Manifest } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import pg from 'pg';
import { inject } from 'vitest';
// The ProvidedContext declaration of 'pgAdminUrl' (inject's type) lives with the global setup.
import type {} from './pg-global-setup.js';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const serverDir = path.join(repo, 'apps/server');
export const erofs = (name: string): string => path.join(repo, 'testdata/erofs', name);

/**
 * The NDJSON of a manifest of `n` regular files `/data/f0000000`... (distinct contents), built
 * from a real image's records: big reports for the render tests.
 */
export async function bigManifest(n: number): Promise<string> {
  const m: Manifest = await scanImageFile(erofs('base-v1.fp.img'), { hash: true });
  const root = m.files.find((f) => f.path === '/')!;
  const template = m.files.find((f) => f.type === 'file' && f.size > 0)!;
  const dir: FileRecord = { ...root, path: '/data', nid: Number(root.nid) + 1 };
  const files: FileRecord[] = [root, dir];
  for (let k = 0; k < n; k++) {
    const sha = k.toString(16).padStart(64, '0');
    files.push({ ...template, path: `/data/f${String(k).padStart(7, '0')}`, nid: 1000 + k * 2, sha256: sha });
  }
  return [...manifestToNdjson({ ...m, files, file_count: files.length } as Manifest)].join('');
}
export const mounts = (name: string): string => path.join(repo, 'testdata/mounts', name);

function newest(dir: string): number {
  let t = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, f.name);
    t = Math.max(t, f.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Scans run in worker threads, which load the compiled worker (dist/scan/worker.js); the
 * crash tests run dist/main.js in a child process. Build the server (and the packages it
 * references) when dist is missing or older than the sources. `npm test` builds first, so
 * this is a no-op there.
 */
export function ensureBuilt(): void {
  const info = path.join(serverDir, 'dist/.tsbuildinfo');
  const fresh = (): boolean =>
    existsSync(path.join(serverDir, 'dist/main.js')) &&
    existsSync(path.join(serverDir, 'dist/scan/worker.js')) &&
    existsSync(info) &&
    statSync(info).mtimeMs >= newest(path.join(serverDir, 'src'));
  if (fresh()) return;
  // Test files run in parallel processes: one builds, the others wait for it.
  const lock = path.join(serverDir, '.build-lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline)
        throw new Error(`${lock} held for too long; remove it if no build is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (fresh()) return;
    const r = spawnSync(
      process.execPath,
      [path.join(repo, 'node_modules/typescript/bin/tsc'), '-b', serverDir],
      {
        cwd: repo,
        encoding: 'utf8',
      },
    );
    if (r.status !== 0) throw new Error(`building apps/server failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export function tempDir(prefix = 'sharemap-server-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestServer extends RunningServer {
  dataDir: string;
  config: ServerConfig;
  /** Close, and remove the data folder unless `keep`. */
  stop(keep?: boolean): Promise<void>;
}

/** The database of each data folder a test server used (a restart on the folder keeps its data). */
const testDatabases = new Map<string, string>();

/**
 * On the PostgreSQL run (vitest.postgres.config.ts provides the cluster): the database of a
 * data folder, created the first time as a copy of the run's template database (migrated,
 * job queue installed: pg-global-setup.ts). Undefined on the SQLite run.
 */
export async function testDatabaseUrl(dataDir: string): Promise<string | undefined> {
  const admin = inject('pgAdminUrl');
  if (!admin) return undefined;
  const known = testDatabases.get(dataDir);
  if (known) return known;
  const name = `t_${randomBytes(8).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name} TEMPLATE ${inject('pgTemplate')}`);
  } finally {
    await client.end();
  }
  const url = admin.replace(/\/postgres$/, `/${name}`);
  testDatabases.set(dataDir, url);
  return url;
}

export async function startTestServer(
  opts: { dataDir?: string; limits?: Partial<Limits>; config?: Partial<ServerConfig> } = {},
): Promise<TestServer> {
  ensureBuilt();
  const dataDir = opts.dataDir ?? tempDir();
  const config: ServerConfig = {
    ...defaultConfig(),
    port: 0,
    host: '127.0.0.1',
    dataDir,
    demoDir: null,
    logLevel: 'silent',
    webDir: path.join(dataDir, 'no-web'),
    databaseUrl: await testDatabaseUrl(dataDir),
    ...opts.config,
    limits: resolveLimits(opts.limits ?? {}),
  };
  const s = await startServer(config);
  return {
    ...s,
    dataDir,
    config,
    async stop(keep = false) {
      await s.close(1000);
      if (!keep) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Json {
  [k: string]: unknown;
}

export async function api(
  base: string,
  method: string,
  url: string,
  init: { body?: RequestInit['body']; headers?: Record<string, string>; json?: unknown } = {},
): Promise<{ status: number; body: Json; headers: Headers; text: string }> {
  const headers: Record<string, string> = { ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + url, {
    method,
    headers,
    body: body ?? null,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await res.text();
  let parsed: Json = {};
  try {
    parsed = JSON.parse(text) as Json;
  } catch {
    parsed = {};
  }
  return { status: res.status, body: parsed, headers: res.headers, text };
}

export function errorOf(r: { body: Json }): { code: string; message: string; [k: string]: unknown } {
  return r.body.error as { code: string; message: string };
}

/**
 * Poll an image until its scan ends. 120 s by default: on a loaded 2-core machine a scan waits
 * behind others for a core; tests that wait give themselves more than this.
 */
export async function waitImage(base: string, id: string, timeoutMs = 120_000): Promise<Json> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await api(base, 'GET', `/api/images/${id}`);
    if (r.body.status === 'ready' || r.body.status === 'failed') return r.body;
    if (Date.now() > end) throw new Error(`image ${id} still ${String(r.body.status)}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/** A server in a child process (the built dist/main.js), for kill -9 and lock tests. */
export type Child = ServerChild;

/** The built server (dist/main.js) in a child process on 127.0.0.1 and a free port (child-server.mjs). */
export const startChildServer = (
  dataDir: string,
  env: Record<string, string> = {},
  nodeArgs: readonly string[] = [],
): Promise<Child> => startServerChild(dataDir, env, { nodeArgs });

/**
 * Node flags that load the test-only scan hold (test/scan/hold-scan.mjs,
 * docs/development.md#holding-a-scan) into a server's or a pool's worker threads.
 */
export const HOLD_SCAN_FLAGS: readonly string[] = [
  '--import',
  new URL('./scan/hold-scan.mjs', import.meta.url).href,
];

export function kill9(c: Child): Promise<void> {
  return new Promise((resolve) => {
    c.proc.removeAllListeners('exit');
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
    c.proc.once('exit', () => resolve());
    c.proc.kill('SIGKILL');
  });
}
