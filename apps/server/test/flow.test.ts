/** Upload -> scan -> report -> fetch by link, over a real server; restart keeps everything. */
import { readFileSync, openAsBlob } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestToNdjson, manifestToJson } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import type { Report } from '@sharemap/sharing';
import { runScan } from '../src/scan/scheduler.js';
import { api, erofs, errorOf, mounts, startTestServer, waitImage, type TestServer } from './helpers.js';

describe('upload -> scan -> report -> link', () => {
  let s: TestServer;
  let dataDir: string;
  const ids: Record<string, string> = {};
  let reportId = '';

  beforeAll(async () => {
    s = await startTestServer();
    dataDir = s.dataDir;
  });
  afterAll(async () => {
    await s.stop();
  });

  it('streams a raw image upload to disk and scans it in a worker', async () => {
    const bytes = readFileSync(erofs('base-v1.fp.img'));
    const up = await api(s.url, 'POST', '/api/images?name=base-v1.fp.img', {
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(up.status).toBe(202);
    expect(up.body).toMatchObject({ name: 'base-v1.fp.img', size: bytes.length, deduplicated: false });
    expect(up.body.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(up.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    const img = await waitImage(s.url, up.body.id as string);
    expect(img.error).toBeUndefined();
    expect(img.status).toBe('ready');
    expect(img.manifest).toMatchObject({ hashed: true, ishare: true, blockSize: 4096 });
    ids.baseV1 = up.body.id as string;
  }, 180_000);

  it('accepts multipart uploads and reports progress as server-sent events', async () => {
    const form = new FormData();
    form.append('image', await openAsBlob(erofs('base-v2.fp.img')), 'base-v2.fp.img');
    const up = await api(s.url, 'POST', '/api/images', { body: form });
    expect(up.status).toBe(202);
    const id = up.body.id as string;
    const res = await fetch(`${s.url}/api/images/${id}/events`);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text(); // the stream ends when the scan ends
    const events = [...text.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map((m) => ({
      event: m[1],
      data: JSON.parse(m[2]!) as { status?: string },
    }));
    expect(events[0]!.event).toBe('status');
    expect(events.at(-1)).toMatchObject({ event: 'status', data: { status: 'ready' } });
    ids.baseV2 = id;
  });

  // The events route reads the image, then listens. A scan that ends between the two (its
  // status event already gone: another replica, or a slow first read) used to leave the
  // stream open with keep-alives only. The interleaving is made exact: the route's first
  // read returns the row as it was while scanning, and the final event fires before that
  // read resolves, so before the route could listen.
  it('ends the event stream of a scan that ended between its first read and its listening', async () => {
    const id = ids.baseV1!;
    const images = s.ctx.store.images;
    const get = images.get.bind(images);
    let first = true;
    images.get = async (imageId: string) => {
      const row = await get(imageId);
      if (imageId !== id || !first || !row) return row;
      first = false;
      s.ctx.bus.emit(`image:${id}`, 'status', 'ready'); // nobody listens yet
      return { ...row, status: 'scanning' };
    };
    try {
      const text = await (await fetch(`${s.url}/api/images/${id}/events`)).text(); // ends, or the test times out
      const statuses = [...text.matchAll(/^event: status\ndata: (.*)$/gm)].map(
        (m) => (JSON.parse(m[1]!) as { status: string }).status,
      );
      expect(first).toBe(false); // the route's first read was the stale one
      expect(statuses).toEqual(['ready']);
    } finally {
      images.get = get;
    }
  }, 120_000);

  it('stores identical content once and reuses its scan', async () => {
    const bytes = readFileSync(erofs('base-v1.fp.img'));
    const up = await api(s.url, 'POST', '/api/images?name=copy-of-base-v1.img', {
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ status: 'ready', deduplicated: true, name: 'copy-of-base-v1.img' });
    expect(up.body.id).not.toBe(ids.baseV1);
  });

  it('attaches an extra blob device and rescans', async () => {
    const up = await api(s.url, 'POST', '/api/images?name=edge-mini.chunk4k.blob.img', {
      body: readFileSync(erofs('edge-mini.chunk4k.blob.img')),
      headers: { 'content-type': 'application/octet-stream' },
    });
    const dev = await api(
      s.url,
      'POST',
      `/api/images/${up.body.id as string}/devices?name=edge-mini.chunk4k.blob.blob`,
      {
        body: readFileSync(erofs('edge-mini.chunk4k.blob.blob')),
        headers: { 'content-type': 'application/octet-stream' },
      },
    );
    expect(dev.status).toBe(202);
    expect((dev.body.devices as unknown[]).length).toBe(1);
    const img = await waitImage(s.url, up.body.id as string);
    expect(img.status).toBe('ready');
    // A scan of the image as it was before the device came (its row's devices: none) fails for
    // want of the device; finishing after the rescan, its failure must not be recorded.
    const row = (await s.ctx.store.images.get(up.body.id as string))!;
    await runScan(s.ctx, { ...row, devices: '[]' });
    expect((await api(s.url, 'GET', `/api/images/${up.body.id as string}`)).body.status).toBe('ready');
  }, 180_000);

  it('accepts manifests from `sharemap scan` as gzip NDJSON and as JSON', async () => {
    const m = await scanImageFile(erofs('app.fp.img'), { hash: true });
    const gz = gzipSync([...manifestToNdjson(m)].join(''));
    const up = await api(s.url, 'POST', '/api/manifests?name=app.fp.img', {
      body: gz,
      headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
    });
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ name: 'app.fp.img', fileCount: m.files.length, hashed: true });
    ids.appManifest = up.body.id as string;
    const asJson = await api(s.url, 'POST', '/api/manifests', {
      body: manifestToJson(m),
      headers: { 'content-type': 'application/json' },
    });
    expect(asJson.status).toBe(201);
    expect(asJson.body.fileCount).toBe(m.files.length);
  });

  it('parses a mount configuration and never stores or returns domain ids', async () => {
    const text = readFileSync(mounts('fleet.fstab'), 'utf8');
    const up = await api(s.url, 'POST', '/api/mount-configs?name=fleet.fstab', {
      body: text,
      headers: { 'content-type': 'text/plain' },
    });
    expect(up.status).toBe(201);
    expect(up.body.format).toBe('fstab');
    expect(up.text).not.toMatch(/acme-signed|"thirdparty"|domain_id=/);
    const labels = (up.body.entries as { domain: string | null }[]).map((e) => e.domain);
    expect(labels).toContain('D1');
    ids.fstab = up.body.id as string;
    // Labels are consistent across uploads (persistent HMAC key + label table).
    const again = await api(s.url, 'POST', '/api/mount-configs', {
      json: { text, fileName: 'fleet-copy.fstab' },
    });
    expect(again.status).toBe(201);
    expect((again.body.entries as { domain: string | null }[]).map((e) => e.domain)).toEqual(labels);
  });

  it('creates an immutable report and serves it by link (JSON, CSV, Markdown, input)', async () => {
    const created = await api(s.url, 'POST', '/api/reports', {
      json: {
        images: [ids.baseV1, ids.baseV2],
        manifests: [ids.appManifest],
        mountConfigs: [ids.fstab],
        title: 'fleet',
      },
    });
    expect(created.status).toBe(201);
    reportId = created.body.id as string;
    expect(reportId).toMatch(/^[A-Za-z0-9_-]{22}$/); // 128 random bits
    expect(created.body.url).toBe(`/r/${reportId}`);
    // fstab lines 7-9 and 12 name images not uploaded (base-v1.fp.lz4hc, app.fp.lz4hc, edge, base-v2.fp.lz4hc).
    expect((created.body.unresolved as unknown[]).length).toBe(4);
    const got = await api(s.url, 'GET', `/api/reports/${reportId}`);
    expect(got.status).toBe(200);
    const report = got.body as unknown as Report;
    expect(report.kind).toBe('sharemap-report');
    expect(report.images.map((i) => i.name).sort()).toEqual([
      'app.fp.img',
      'base-v1.fp.img',
      'base-v2.fp.img',
    ]);
    // docs/sharing-rules.md worked example "base-v1.fp, base-v2.fp, app.fp : acme" (fstab lines
    // 4-6 in one domain; lines 10-11 fail to mount and hold nothing).
    expect(report.totals.bytesWithoutSharing).toBe(8_675_328);
    expect(report.totals.bytesWithSharing).toBe(7_434_240);
    expect(report.totals.bytesSaved).toBe(1_241_088);
    expect(got.text).not.toMatch(/acme-signed|"thirdparty"|domain_id=/);
    const csv = await api(s.url, 'GET', `/api/reports/${reportId}?format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    // A header, one line per (instance, file) row, each ending in CRLF.
    expect(csv.text.split('\r\n').length).toBe(1 + report.files.instance.length + 1);
    const md = await api(s.url, 'GET', `/api/reports/${reportId}?format=markdown`);
    expect(md.text).toContain(`/r/${reportId}`);
    const input = await api(s.url, 'GET', `/api/reports/${reportId}/input`);
    expect(input.status).toBe(200);
    expect((input.body.images as unknown[]).length).toBe(3);
    expect((input.body.instances as unknown[]).length).toBe(report.instances.length);
  });

  it('uses the default instances without mount configurations, and applies options and domain assignments', async () => {
    const created = await api(s.url, 'POST', '/api/reports', {
      json: {
        images: [ids.baseV1, ids.baseV2],
        options: { pageSize: 16384, workingSetFraction: 0.5 },
        domainAssignments: { i2: 'other' },
      },
    });
    expect(created.status).toBe(201);
    const report = (await api(s.url, 'GET', `/api/reports/${created.body.id as string}`))
      .body as unknown as Report;
    expect(report.options).toEqual({ pageSize: 16384, workingSetFraction: 0.5 });
    expect(report.instances.map((i) => i.domain?.label)).toEqual(['default', 'other']);
  });

  it('lists reports only with an admin token', async () => {
    expect((await api(s.url, 'GET', '/api/reports')).status).toBe(401);
  });

  it('keeps everything across a restart', async () => {
    await s.close(1000);
    s = await startTestServer({ dataDir });
    const got = await api(s.url, 'GET', `/api/reports/${reportId}`);
    expect(got.status).toBe(200);
    expect((await api(s.url, 'GET', `/api/images/${ids.baseV1}`)).body.status).toBe('ready');
    // Reports can still be built from what was stored before the restart.
    const again = await api(s.url, 'POST', '/api/reports', {
      json: { images: [ids.baseV1], manifests: [ids.appManifest] },
    });
    expect(again.status).toBe(201);
    expect(errorOf(await api(s.url, 'GET', '/api/reports/AAAAAAAAAAAAAAAAAAAAAA')).code).toBe('not-found');
  }, 180_000);
});

describe('demo data', () => {
  it('loads a demo report from the images shipped in the repo on first start, once', async () => {
    const { repo } = await import('./helpers.js');
    const s = await startTestServer({ config: { demoDir: `${repo}/testdata` } });
    try {
      await s.demo;
      const d = await api(s.url, 'GET', '/api/demo');
      expect(d.status).toBe(200);
      const report = (await api(s.url, 'GET', `/api/reports/${d.body.id as string}`))
        .body as unknown as Report;
      expect(report.images.length).toBe(7); // DEMO_IMAGES
      // docs/sharing-rules.md worked example "mounts/fleet.fstab": fstab order reads plain first.
      expect(report.totals.bytesWithoutSharing).toBe(17_666_048);
      expect(report.totals.bytesWithSharing).toBe(14_745_600);
      expect(report.totals.bytesSaved).toBe(2_920_448);
      expect(report.orderBounds?.worst.bytesWithSharing).toBe(15_265_792);
      await s.close(1000);
      const s2 = await startTestServer({ dataDir: s.dataDir, config: { demoDir: `${repo}/testdata` } });
      await s2.demo;
      expect((await api(s2.url, 'GET', '/api/demo')).body.id).toBe(d.body.id);
      await s2.stop();
    } finally {
      await s.stop();
    }
    // Two starts, the first scanning the seven demo images with hashing and building the
    // report: 31 s under two CPU burners on 2 cores, past the default 30 s.
  }, 300_000);
});
