/**
 * Retention and garbage collection (src/gc, docs/server.md#retention) through a real server,
 * on SQLite and (vitest.postgres.config.ts) on PostgreSQL: unnamed reports and uploads past
 * their TTL are deleted, named reports and queued scans are kept, blobs no row names are
 * collected past the grace period, and the collector never removes a blob a request in
 * progress has stored (a real multipart upload held open on a socket while it runs).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectGarbage } from '../src/gc/collect.js';
import { resolveRetention, type RetentionConfig } from '../src/gc/retention.js';
import { backendSql } from './backend-sql.js';
import { api, erofs, startTestServer, waitImage, type TestServer } from './helpers.js';
import { delta, parseMetrics } from './metrics-text.js';

const ADMIN = 'smt_gc-test-admin-token';
const DAY_MS = 24 * 3600 * 1000;
const servers: TestServer[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function server(retention: Partial<RetentionConfig>): Promise<TestServer> {
  const s = await startTestServer({
    config: { adminToken: ADMIN, retention: { ...resolveRetention(), gcIntervalMs: 0, ...retention } },
    // A body held open while the test runs a collection must not be ended as a trickle.
    limits: { bodyTimeoutMs: 600_000 },
  });
  servers.push(s);
  return s;
}

const blobPath = (s: TestServer, sha: string): string => path.join(s.dataDir, 'blobs', sha.slice(0, 2), sha);

/** A blob file no row names, last written `ageMs` ago. */
function plantOrphan(s: TestServer, content: string, ageMs: number): string {
  const sha = createHashHex(content);
  mkdirSync(path.dirname(blobPath(s, sha)), { recursive: true });
  writeFileSync(blobPath(s, sha), content);
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(blobPath(s, sha), t, t);
  return sha;
}

const createHashHex = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

async function uploadImage(s: TestServer, file: string): Promise<string> {
  const up = await api(s.url, 'POST', `/api/images?name=${file}`, {
    body: readFileSync(erofs(file)),
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect([200, 202]).toContain(up.status);
  const img = await waitImage(s.url, up.body.id as string);
  expect(img.status).toBe('ready');
  return up.body.id as string;
}

async function createReport(s: TestServer, imageId: string, title: string): Promise<string> {
  const r = await api(s.url, 'POST', '/api/reports', { json: { images: [imageId], title } });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

interface BlobCols {
  blob: string;
  input_blob: string;
  summary_blob: string;
  files_blob: string;
}
const reportBlobs = async (s: TestServer, id: string): Promise<string[]> => {
  const [row] = await backendSql<BlobCols>(
    s,
    'SELECT blob, input_blob, summary_blob, files_blob FROM reports WHERE id = $1',
    [id],
  );
  return [row!.blob, row!.input_blob, row!.summary_blob, row!.files_blob];
};

const admin = { authorization: `Bearer ${ADMIN}` };

/** Wait until `done()` holds (a file appears), checking every 10 ms, for at most a minute. */
async function until(done: () => boolean): Promise<void> {
  const end = Date.now() + 60_000;
  while (!done()) {
    if (Date.now() > end) throw new Error('condition not met within a minute');
    await new Promise((ok) => setTimeout(ok, 10));
  }
}

describe('retention', () => {
  it('deletes unnamed reports past the TTL, keeps named and recent ones, and collects their blobs', async () => {
    const s = await server({ reportTtlMs: 30 * DAY_MS, gcGraceMs: 0 });
    const image = await uploadImage(s, 'base-v1.fp.img');
    const old = await createReport(s, image, 'old');
    const named = await createReport(s, image, 'named');
    const recent = await createReport(s, image, 'recent');
    const put = await api(s.url, 'PUT', '/api/report-names/main', { json: { reportId: named } });
    expect(put.status).toBe(201);
    const longAgo = new Date(Date.now() - 31 * DAY_MS).toISOString();
    await backendSql(s, 'UPDATE reports SET created_at = $1 WHERE id IN ($2, $3)', [longAgo, old, named]);
    const kept = new Set([...(await reportBlobs(s, named)), ...(await reportBlobs(s, recent))]);
    const onlyOld = (await reportBlobs(s, old)).filter((b) => !kept.has(b));
    expect(onlyOld.length).toBeGreaterThan(0); // its snapshot names its own title

    const before = parseMetrics((await api(s.url, 'GET', '/metrics')).text);
    const gc = await api(s.url, 'POST', '/api/admin/gc', { headers: admin });
    expect(gc.status).toBe(200);
    expect(gc.body).toEqual({
      reportsExpired: 1,
      imagesExpired: 0,
      manifestsExpired: 0,
      mountConfigsExpired: 0,
      residencyInputsExpired: 0,
      blobsCollected: new Set(onlyOld).size,
      bytesCollected: gc.body.bytesCollected,
    });
    expect(gc.body.bytesCollected).toBeGreaterThan(0);
    const after = parseMetrics((await api(s.url, 'GET', '/metrics')).text);
    expect(delta(before, after, 'sharemap_gc_blobs_collected_total')).toBe(new Set(onlyOld).size);
    expect(delta(before, after, 'sharemap_gc_bytes_collected_total')).toBe(gc.body.bytesCollected);
    expect(delta(before, after, 'sharemap_gc_rows_expired_total', { kind: 'reports' })).toBe(1);
    expect(delta(before, after, 'sharemap_gc_runs_total', { outcome: 'done' })).toBe(1);

    expect((await api(s.url, 'GET', `/api/reports/${old}`)).status).toBe(404);
    for (const id of [named, recent]) {
      expect((await api(s.url, 'GET', `/api/reports/${id}`)).status).toBe(200);
      expect((await api(s.url, 'GET', `/api/reports/${id}/files`)).status).toBe(200);
    }
    for (const b of onlyOld) expect(existsSync(blobPath(s, b))).toBe(false);
    for (const b of kept) expect(existsSync(blobPath(s, b))).toBe(true);
    // The image is an upload, not expired (no upload TTL): it still makes reports.
    await createReport(s, image, 'again');
  }, 120_000);

  it('deletes uploads past the TTL with their blobs, but never an image whose scan is queued', async () => {
    const s = await server({ uploadTtlMs: 7 * DAY_MS, gcGraceMs: 0 });
    const oldImage = await uploadImage(s, 'base-v1.fp.img');
    const queued = await uploadImage(s, 'app.fp.img');
    const fresh = await uploadImage(s, 'base-v2.fp.img');
    const longAgo = new Date(Date.now() - 8 * DAY_MS).toISOString();
    await backendSql(s, 'UPDATE images SET updated_at = $1, created_at = $1 WHERE id IN ($2, $3)', [
      longAgo,
      oldImage,
      queued,
    ]);
    await backendSql(s, 'UPDATE manifests SET created_at = $1', [longAgo]);
    // A scan waiting for a worker (as after a restart): its image and blob must stay.
    await backendSql(s, "UPDATE images SET status = 'queued' WHERE id = $1", [queued]);
    const [oldRow] = await backendSql<{ sha256: string; manifest_id: string }>(
      s,
      'SELECT sha256, manifest_id FROM images WHERE id = $1',
      [oldImage],
    );
    const [oldManifest] = await backendSql<{ blob: string }>(s, 'SELECT blob FROM manifests WHERE id = $1', [
      oldRow!.manifest_id,
    ]);

    const manifestBytes = statSync(blobPath(s, oldManifest!.blob)).size;

    const before = parseMetrics((await api(s.url, 'GET', '/metrics')).text);
    const r = await collectGarbage(s.ctx);
    expect(r).toEqual({
      reportsExpired: 0,
      imagesExpired: 1,
      manifestsExpired: 1,
      mountConfigsExpired: 0,
      residencyInputsExpired: 0,
      blobsCollected: 2,
      bytesCollected: statSync(erofs('base-v1.fp.img')).size + manifestBytes,
    });
    // Each expiry count under its own kind (one table of kinds in collect.ts).
    const after = parseMetrics((await api(s.url, 'GET', '/metrics')).text);
    const expired = (kind: string): number =>
      delta(before, after, 'sharemap_gc_rows_expired_total', { kind });
    expect(['reports', 'images', 'manifests', 'mount_configs', 'residency_inputs'].map(expired)).toEqual([
      0, 1, 1, 0, 0,
    ]);
    expect(existsSync(blobPath(s, oldRow!.sha256))).toBe(false);
    expect(existsSync(blobPath(s, oldManifest!.blob))).toBe(false);
    expect((await api(s.url, 'GET', `/api/images/${oldImage}`)).status).toBe(404);
    expect((await api(s.url, 'GET', `/api/images/${queued}`)).body.status).toBe('queued');
    expect((await api(s.url, 'GET', `/api/images/${fresh}`)).body.status).toBe('ready');
    // The fresh image's manifest row was backdated too, but its image names it: it stays.
    expect((await api(s.url, 'POST', '/api/reports', { json: { images: [fresh] } })).status).toBe(201);
  }, 120_000);

  it("keeps the manifest blob an expired upload leaves behind while a report's input names it", async () => {
    const s = await server({ uploadTtlMs: 7 * DAY_MS, gcGraceMs: 0 });
    const image = await uploadImage(s, 'base-v1.fp.img');
    const report = await createReport(s, image, 'made from an old upload');
    const input = await api(s.url, 'GET', `/api/reports/${report}/input`);
    expect(input.status).toBe(200);
    const longAgo = new Date(Date.now() - 8 * DAY_MS).toISOString();
    await backendSql(s, 'UPDATE images SET updated_at = $1, created_at = $1 WHERE id = $2', [longAgo, image]);
    await backendSql(s, 'UPDATE manifests SET created_at = $1', [longAgo]);

    const r = await collectGarbage(s.ctx);
    expect([r.imagesExpired, r.manifestsExpired]).toEqual([1, 1]);
    expect(r.blobsCollected).toBe(1); // the image; its manifest is named by the report's input
    expect((await api(s.url, 'GET', `/api/images/${image}`)).status).toBe(404);
    const again = await api(s.url, 'GET', `/api/reports/${report}/input`);
    expect(again.status, again.text.slice(0, 200)).toBe(200);
    expect(again.text).toBe(input.text);
  }, 120_000);
});

describe("a report's manifest blobs, from its row", () => {
  /** A report made from an upload that then expires: its image, manifest row and manifest blob. */
  async function expiredUploadReport(
    s: TestServer,
  ): Promise<{ report: string; manifestBlob: string; input: string }> {
    const image = await uploadImage(s, 'base-v1.fp.img');
    const report = await createReport(s, image, 'made from an old upload');
    const [row] = await backendSql<{ blob: string; input_blob: string; manifest_blobs: string }>(
      s,
      'SELECT m.blob, r.input_blob, r.manifest_blobs FROM reports r, images i, manifests m WHERE r.id = $1 AND i.id = $2 AND m.id = i.manifest_id',
      [report, image],
    );
    // Stored when the report was created: the manifest blob its input names.
    expect(JSON.parse(row!.manifest_blobs)).toEqual([row!.blob]);
    const longAgo = new Date(Date.now() - 8 * DAY_MS).toISOString();
    await backendSql(s, 'UPDATE images SET updated_at = $1, created_at = $1 WHERE id = $2', [longAgo, image]);
    await backendSql(s, 'UPDATE manifests SET created_at = $1', [longAgo]);
    return { report, manifestBlob: row!.blob, input: row!.input_blob };
  }

  it('keeps the manifest blobs a report names without reading its input (an unreadable input changes nothing)', async () => {
    const s = await server({ uploadTtlMs: 7 * DAY_MS, gcGraceMs: 0 });
    const { manifestBlob, input } = await expiredUploadReport(s);
    // The input blob replaced by a folder: any read of it fails (EISDIR). The collector of
    // before read every report's input on each run and, failing here, lost the manifest.
    rmSync(blobPath(s, input));
    mkdirSync(blobPath(s, input));

    const r = await collectGarbage(s.ctx);
    expect([r.imagesExpired, r.manifestsExpired, r.blobsCollected]).toEqual([1, 1, 1]); // the image only
    expect(existsSync(blobPath(s, manifestBlob))).toBe(true);
  }, 120_000);

  it('fills the manifest blobs of a row an older server inserted, from its input, once', async () => {
    const s = await server({ uploadTtlMs: 7 * DAY_MS, gcGraceMs: 0 });
    const { report, manifestBlob } = await expiredUploadReport(s);
    await backendSql(s, 'UPDATE reports SET manifest_blobs = NULL WHERE id = $1', [report]);

    const r = await collectGarbage(s.ctx);
    expect([r.imagesExpired, r.manifestsExpired, r.blobsCollected]).toEqual([1, 1, 1]);
    expect(existsSync(blobPath(s, manifestBlob))).toBe(true);
    const [row] = await backendSql<{ manifest_blobs: string }>(
      s,
      'SELECT manifest_blobs FROM reports WHERE id = $1',
      [report],
    );
    expect(JSON.parse(row!.manifest_blobs)).toEqual([manifestBlob]);
    expect((await api(s.url, 'GET', `/api/reports/${report}/input`)).status).toBe(200);
  }, 120_000);

  it('keeps them through a restart: the startup sweep sees them too', async () => {
    const s = await server({ uploadTtlMs: 7 * DAY_MS, gcGraceMs: 0 });
    const { report, manifestBlob } = await expiredUploadReport(s);
    const input = await api(s.url, 'GET', `/api/reports/${report}/input`);
    expect(input.status).toBe(200);
    expect((await collectGarbage(s.ctx)).manifestsExpired).toBe(1);
    await s.stop(true);
    servers.splice(servers.indexOf(s), 1);
    // The same data folder (and database): the sweep of a start removes blobs no row names.
    const again = await startTestServer({ dataDir: s.dataDir, config: { adminToken: ADMIN } });
    servers.push(again);
    expect(existsSync(blobPath(again, manifestBlob))).toBe(true);
    const after = await api(again.url, 'GET', `/api/reports/${report}/input`);
    expect(after.status, after.text.slice(0, 200)).toBe(200);
    expect(after.text).toBe(input.text);
  }, 180_000);
});

describe('garbage collection racing requests', () => {
  it('keeps the blob of an upload still in progress, and removes an old orphan in the same run', async () => {
    const s = await server({ gcGraceMs: 0 }); // no grace: only the request's hold protects its blob
    const orphan = plantOrphan(s, 'a blob no row names', DAY_MS);
    const image = readFileSync(erofs('edge-mini.chunk4k.blob.img'));
    const device = readFileSync(erofs('edge-mini.chunk4k.blob.blob'));
    const boundary = 'sharemap-gc-test';
    const part = (field: string, name: string): string =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${name}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n';
    const req = request(`${s.url}/api/images`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'transfer-encoding': 'chunked',
      },
    });
    const answer = new Promise<{ status: number; body: { id: string } }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as { id: string } }));
      });
      req.on('error', reject);
    });
    // The image part whole, then the start of the device part: the image is stored (renamed
    // into blobs/) and held by the request, which cannot name it before its body ends.
    req.write(part('image', 'edge-mini.chunk4k.blob.img'));
    req.write(image);
    req.write(`\r\n${part('device', 'edge-mini.chunk4k.blob.blob')}`);
    req.write(device.subarray(0, 1));
    const imageBlob = blobPath(s, createHashHex(image));
    await until(() => existsSync(imageBlob));

    const r = await collectGarbage(s.ctx);
    expect(r.blobsCollected).toBe(1);
    expect(existsSync(blobPath(s, orphan))).toBe(false);
    expect(existsSync(imageBlob)).toBe(true);

    req.end(Buffer.concat([device.subarray(1), Buffer.from(`\r\n--${boundary}--\r\n`)]));
    const up = await answer;
    expect(up.status).toBe(202);
    const img = await waitImage(s.url, up.body.id);
    expect(img.error).toBeUndefined();
    expect(img.status).toBe('ready');
  }, 120_000);

  it('creates reports while collections run: every report whole, only old orphans removed', async () => {
    const s = await server({ reportTtlMs: DAY_MS }); // the default grace period (1 hour)
    const image = await uploadImage(s, 'base-v1.fp.img');
    const old = [plantOrphan(s, 'old orphan 1', 2 * 3600_000), plantOrphan(s, 'old orphan 2', 2 * 3600_000)];
    const young = plantOrphan(s, 'a blob being named', 60_000); // within the grace period
    const before = parseMetrics((await api(s.url, 'GET', '/metrics')).text);
    const requests: Promise<{ status: number; body: Record<string, unknown> }>[] = [];
    for (let k = 0; k < 6; k++) {
      requests.push(api(s.url, 'POST', '/api/reports', { json: { images: [image], title: `report ${k}` } }));
      requests.push(api(s.url, 'POST', '/api/admin/gc', { headers: admin }));
    }
    const answers = await Promise.all(requests);
    for (const a of answers) expect(a.status === 201 || a.status === 200).toBe(true);
    // A last collection after every report exists: still nothing of theirs goes.
    expect((await api(s.url, 'POST', '/api/admin/gc', { headers: admin })).body.blobsCollected).toBe(0);
    const after = parseMetrics((await api(s.url, 'GET', '/metrics')).text);
    expect(delta(before, after, 'sharemap_gc_blobs_collected_total')).toBe(2);
    for (const b of old) expect(existsSync(blobPath(s, b))).toBe(false);
    expect(existsSync(blobPath(s, young))).toBe(true);
    const reports = answers.filter((a) => a.status === 201).map((a) => a.body.id as string);
    expect(reports).toHaveLength(6);
    for (const id of reports) {
      for (const b of await reportBlobs(s, id)) expect(existsSync(blobPath(s, b))).toBe(true);
      expect((await api(s.url, 'GET', `/api/reports/${id}`)).status).toBe(200);
      expect((await api(s.url, 'GET', `/api/reports/${id}/files`)).status).toBe(200);
    }
  }, 120_000);
});
