/** Configuration from environment and flags; limits and their documented defaults. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { DEFAULT_LIMITS, limitEnvName, resolveLimits } from '../src/limits.js';
import { api, erofs, repo, startTestServer, waitImage } from './helpers.js';

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({}, []);
    expect(c.port).toBe(8080);
    expect(c.dataDir).toBe(path.resolve('data'));
    expect(c.requireToken).toBe(false);
    expect(c.limits).toEqual(DEFAULT_LIMITS);
  });

  it('reads the environment, then flags', () => {
    const c = loadConfig(
      {
        PORT: '9000',
        SHAREMAP_DATA: '/tmp/x',
        SHAREMAP_REQUIRE_TOKEN: '1',
        SHAREMAP_MAX_UPLOAD_BYTES: '1024',
        SHAREMAP_DEMO: '0',
      },
      ['--port', '9100', '--data=/tmp/y', '--public-url', 'https://sharemap.example.com/'],
    );
    expect(c).toMatchObject({
      port: 9100,
      dataDir: '/tmp/y',
      requireToken: true,
      demoDir: null,
      publicUrl: 'https://sharemap.example.com',
    });
    expect(c.limits.maxUploadBytes).toBe(1024);
  });

  it('refuses bad values with a message', () => {
    expect(() => loadConfig({ PORT: 'eighty' }, [])).toThrow(ConfigError);
    expect(() => loadConfig({}, ['--bogus'])).toThrow(/unknown option --bogus/);
    expect(() => resolveLimits({}, { SHAREMAP_SCAN_TIMEOUT_MS: '-5' })).toThrow(/SHAREMAP_SCAN_TIMEOUT_MS/);
  });

  it('--shared-data needs a PostgreSQL URL; the job lease stays below pg-boss bound', () => {
    const url = 'postgres://sharemap@127.0.0.1:5432/sharemap';
    expect(loadConfig({ SHAREMAP_SHARED_DATA: '1', SHAREMAP_DATABASE_URL: url }, []).sharedData).toBe(true);
    expect(loadConfig({ SHAREMAP_DATABASE_URL: url }, ['--shared-data']).sharedData).toBe(true);
    expect(loadConfig({}, []).sharedData).toBe(false);
    expect(() => loadConfig({}, ['--shared-data'])).toThrow(
      new ConfigError(
        'SHAREMAP_SHARED_DATA (--shared-data) needs SHAREMAP_DATABASE_URL: replicas share one PostgreSQL database, SQLite serves one process',
      ),
    );
    expect(loadConfig({ SHAREMAP_JOB_LEASE_MS: '30000' }, []).limits.jobLeaseMs).toBe(30_000);
    expect(() => loadConfig({ SHAREMAP_JOB_LEASE_MS: String(24 * 3600_000) }, [])).toThrow(
      /^SHAREMAP_JOB_LEASE_MS: at most 82800000 \(23 hours, pg-boss's longest expiration\), got 86400000$/,
    );
  });

  it('documents every limit in docs/server.md', () => {
    const doc = readFileSync(path.join(repo, 'docs/server.md'), 'utf8');
    for (const k of Object.keys(DEFAULT_LIMITS) as (keyof typeof DEFAULT_LIMITS)[]) {
      expect(doc, limitEnvName(k)).toContain(`\`${limitEnvName(k)}\``);
      expect(doc).toContain(String(DEFAULT_LIMITS[k]));
    }
  });
});

describe('scan limits', () => {
  it('an image over the file limit fails with ELIMIT; a scan over its time budget is stopped', async () => {
    const s = await startTestServer({ limits: { maxFilesPerImage: 10 } });
    try {
      const up = await api(s.url, 'POST', '/api/images?name=base-v1.fp.img', {
        body: readFileSync(erofs('base-v1.fp.img')),
        headers: { 'content-type': 'application/octet-stream' },
      });
      const img = await waitImage(s.url, up.body.id as string);
      expect(img).toMatchObject({ status: 'failed', error: { code: 'ELIMIT' } });
    } finally {
      await s.stop();
    }
    const t = await startTestServer({ limits: { scanTimeoutMs: 1 } });
    try {
      const up = await api(t.url, 'POST', '/api/images?name=base-v1.fp.img', {
        body: readFileSync(erofs('base-v1.fp.img')),
        headers: { 'content-type': 'application/octet-stream' },
      });
      const img = await waitImage(t.url, up.body.id as string);
      expect(img.status).toBe('failed');
      expect((img.error as { code: string }).code).toMatch(/^(scan-timeout|ELIMIT)$/);
    } finally {
      await t.stop();
    }
  }, 180_000);

  it('shuts down promptly with a server-sent event stream open', async () => {
    const s = await startTestServer({ limits: { maxConcurrentScans: 1 } });
    const up = await api(s.url, 'POST', '/api/images?name=base-v2.fp.img', {
      body: readFileSync(erofs('base-v2.fp.img')),
      headers: { 'content-type': 'application/octet-stream' },
    });
    // The stream is open (its first event read) before the close: no sleep as synchronisation.
    const res = await fetch(`${s.url}/api/images/${up.body.id as string}/events`);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const events = (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return text;
        text += decoder.decode(value, { stream: true });
      }
    })();
    // A grace far beyond the test's timeout: if the open stream held shutdown up, close() would
    // wait out the grace and the test would time out; no wall-clock assertion (loaded CI).
    await s.close(10 * 60_000);
    await s.stop();
    expect(await events).toMatch(/^event: status/);
  }, 120_000);
});
