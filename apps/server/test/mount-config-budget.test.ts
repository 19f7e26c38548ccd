/**
 * The parse of a mount configuration is bounded by its worker thread's CPU time from when the
 * parse begins (mountConfigParseTimeoutMs, docs/server.md#time-limits), not by wall-clock time
 * from when the worker was asked to start: whether a configuration is accepted must not
 * depend on the machine's load. The first test keeps every core busy with processes that only
 * spin while it parses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  errorOf,
  kill9,
  mounts,
  startChildServer,
  startTestServer,
  tempDir,
  type Child,
  type TestServer,
} from './helpers.js';

/** Flags that load the test-only endless parse (test/scan/spin-parse.mjs) into a server's workers. */
const SPIN_PARSE_FLAGS = ['--import', new URL('./scan/spin-parse.mjs', import.meta.url).href];

const SAMPLES = ['fleet.fstab', 'host.mountinfo', 'mount-commands.sh'];

describe('mount configuration parse under CPU contention', () => {
  let s: TestServer;
  /** A spinning process per core, at the tests' own priority: every core stays busy. */
  let burners: ChildProcess[] = [];
  beforeAll(async () => {
    burners = Array.from({ length: Math.max(2, os.availableParallelism()) }, () =>
      spawn(process.execPath, ['-e', 'let x = 0; for (;;) x = (x * 31 + 7) | 0;'], { stdio: 'ignore' }),
    );
    // A budget below what a fresh worker thread's start costs in wall time on a busy machine
    // (loading the reader, the engine and the OCI code): counted from the request, as it
    // was, these parses were refused with 422.
    s = await startTestServer({ limits: { mountConfigParseTimeoutMs: 200 } });
  }, 120_000);
  afterAll(async () => {
    for (const b of burners) b.kill('SIGKILL');
    await s?.stop();
  });

  it('accepts every sample within a 200 ms CPU budget while all cores are busy', async () => {
    for (const name of SAMPLES) {
      const r = await api(s.url, 'POST', `/api/mount-configs?name=${name}`, {
        body: readFileSync(mounts(name), 'utf8'),
        headers: { 'content-type': 'text/plain' },
      });
      expect(r.status, `${name}: ${r.text}`).toBe(201);
    }
    // Each parse ran on a fresh worker thread (the parses pool keeps none).
    expect(s.ctx.parses.workersStarted).toBe(SAMPLES.length);
  }, 300_000);
});

describe('a parse that never ends', () => {
  let dataDir: string;
  let c: Child;
  beforeAll(async () => {
    dataDir = tempDir();
    c = await startChildServer(
      dataDir,
      { SHAREMAP_MOUNT_CONFIG_PARSE_TIMEOUT_MS: '300', SHAREMAP_TEST_SPIN_PARSE: 'spin.fstab' },
      SPIN_PARSE_FLAGS,
    );
  }, 120_000);
  afterAll(async () => {
    if (c) await kill9(c);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is stopped at its CPU budget with 422 naming the setting; the next parse is accepted', async () => {
    const body = readFileSync(mounts('fleet.fstab'), 'utf8');
    const r = await api(c.url, 'POST', '/api/mount-configs?name=spin.fstab', {
      body,
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.status, r.text).toBe(422);
    expect(errorOf(r)).toMatchObject({ code: 'bad-mount-config', reason: 'timeout' });
    expect(errorOf(r).message).toBe(
      'parsing the mount configuration used more than 300 ms of CPU time (SHAREMAP_MOUNT_CONFIG_PARSE_TIMEOUT_MS) and was stopped',
    );
    const ok = await api(c.url, 'POST', '/api/mount-configs?name=fleet.fstab', {
      body,
      headers: { 'content-type': 'text/plain' },
    });
    expect(ok.status, ok.text).toBe(201);
  }, 300_000);
});
