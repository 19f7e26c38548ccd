/**
 * A manifest the reader writes is always accepted (docs/manifest.md#validation-of-untrusted-manifests). The browser scans an image
 * with scanManifest and uploads manifestToNdjson (apps/web/src/workers/scan.worker.ts); here the
 * same calls, sent to the real server: a fingerprint xattr present but empty is "" in the
 * manifest, the upload is accepted and the file is private (R4) in the report.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestToNdjson, memorySource, openImage, scanManifest } from '@sharemap/erofs';
import type { Report } from '@sharemap/sharing';
import { api, erofs, startTestServer, type TestServer } from './helpers.js';

describe('manifests with an empty fingerprint xattr', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('an empty fingerprint: the manifest the browser uploads is accepted and the file is private', async () => {
    const bytes = new Uint8Array(readFileSync(erofs('synthetic/empty-fingerprint.img')));
    const m = await scanManifest(await openImage(memorySource(bytes)), {
      imageName: 'empty-fingerprint.img',
      imageSize: bytes.length,
      hash: true,
    });
    expect(m.files.find((f) => f.path === '/private')!.fingerprint).toBe('');
    const ndjson = [...manifestToNdjson(m)].join('');
    const ids: string[] = [];
    for (let k = 0; k < 2; k++) {
      const up = await api(s.url, 'POST', '/api/manifests?name=empty-fingerprint.img', {
        body: ndjson,
        headers: { 'content-type': 'application/x-ndjson' },
      });
      expect(up.status).toBe(201);
      ids.push(up.body.id as string);
    }
    const created = await api(s.url, 'POST', '/api/reports', { json: { manifests: ids } });
    expect(created.status).toBe(201);
    const report = (await api(s.url, 'GET', `/api/reports/${created.body.id as string}`))
      .body as unknown as Report;
    expect(report.instances).toHaveLength(2);
    expect(report.totals.bytesSaved).toBe(4096); // /shared's one page; /private shares nothing
  });
});
