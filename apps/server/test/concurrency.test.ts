/** 20 concurrent uploads, each streamed to disk and scanned (at most maxConcurrentScans at once). */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, erofs, startTestServer, waitImage, type TestServer } from './helpers.js';

describe('concurrency', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ limits: { maxConcurrentScans: 2 } });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('20 concurrent uploads succeed, are stored once each and all scan', async () => {
    const sources = ['app.fp.img', 'base-v1.fp.img', 'edge.zstd.fp.img', 'app.fp.lz4hc.img'].map((f) =>
      readFileSync(erofs(f)),
    );
    // Distinct content per upload: trailing zero blocks do not change what the image holds.
    const bodies = Array.from({ length: 20 }, (_, k) =>
      Buffer.concat([sources[k % sources.length]!, Buffer.alloc(4096 * (1 + k))]),
    );
    let maxRunning = 0;
    const watch = setInterval(() => {
      maxRunning = Math.max(maxRunning, s.ctx.scans.active);
    }, 5);
    try {
      const ups = await Promise.all(
        bodies.map((body, k) =>
          api(s.url, 'POST', `/api/images?name=upload-${k}.img`, {
            body,
            headers: { 'content-type': 'application/octet-stream' },
          }),
        ),
      );
      for (const u of ups) expect(u.status).toBe(202);
      expect(new Set(ups.map((u) => u.body.sha256)).size).toBe(20);
      const done = await Promise.all(ups.map((u) => waitImage(s.url, u.body.id as string, 120_000)));
      for (const d of done) expect(d.status).toBe('ready');
      expect(maxRunning).toBeLessThanOrEqual(2);
      const report = await api(s.url, 'POST', '/api/reports', {
        json: { images: ups.map((u) => u.body.id) },
      });
      expect(report.status).toBe(201);
      expect((report.body.summary as { images: number }).images).toBe(20);
    } finally {
      clearInterval(watch);
    }
    expect(readdirSync(path.join(s.dataDir, 'tmp'))).toEqual([]);
    // 20 scans on a loaded 2-core CI machine take minutes; waitImage bounds each wait (120 s).
  }, 300_000);
});
