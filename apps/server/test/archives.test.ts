/**
 * POST /api/archives over a real socket with the OCI fixtures of testdata/oci: the stored
 * predicted manifests are byte for byte what `sharemap scan ARCHIVE --hash --ndjson` prints
 * (the built CLI, run as a child process), for a docker save, an OCI layout tar (zstd layers,
 * per layer) and a rootfs tar (plain and gzip); bad archives get a 422 naming the problem and
 * leave no row and no blob behind.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendSql } from './backend-sql.js';
import { api, errorOf, erofs, repo, startTestServer, type Json, type TestServer } from './helpers.js';

const ADMIN = 'smt_archives-admin';
const auth = { authorization: `Bearer ${ADMIN}` };
const oci = (name: string): string => path.join(repo, 'testdata/oci', name);
const cli = path.join(repo, 'apps/cli/dist/main.js');

/** What `sharemap scan FILE --hash --ndjson ...args` prints (exit 0 required). */
const execFileAsync = promisify(execFile);

/**
 * Asynchronous, so the event loop keeps running meanwhile: a synchronous child blocking it for
 * longer than the server's keep-alive timeout would let fetch reuse a socket the server has
 * closed (ECONNRESET on the next request, on a loaded machine).
 */
async function cliScan(file: string, ...args: string[]): Promise<string> {
  const r = await execFileAsync(process.execPath, [cli, 'scan', file, '--hash', '--ndjson', ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  expect(r.stderr).toBe('');
  return r.stdout;
}

/** Every file under a folder (the blob store: nothing may be left by a refused archive). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out.sort();
}

describe('POST /api/archives', () => {
  let s: TestServer;
  let tmp: string;
  beforeAll(async () => {
    s = await startTestServer({ config: { adminToken: ADMIN } });
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sharemap-archives-'));
  });
  afterAll(async () => {
    await s?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const upload = (body: Uint8Array, query: string) =>
    api(s.url, 'POST', `/api/archives?${query}`, {
      body,
      headers: { ...auth, 'content-type': 'application/octet-stream' },
    });

  /** The stored NDJSON of a manifest id (the blob the server wrote). */
  const storedNdjson = async (id: string): Promise<string> => {
    const [row] = await backendSql<{ blob: string }>(s, 'SELECT blob FROM manifests WHERE id = $1', [id]);
    return gunzipSync(readFileSync(s.ctx.blobs.path(row!.blob))).toString('utf8');
  };
  const manifestRows = async (): Promise<number> =>
    Number((await backendSql<{ n: number }>(s, 'SELECT COUNT(*) AS n FROM manifests'))[0]!.n);
  const manifestIds = (body: Json): string[] => (body.manifests as { id: string }[]).map((m) => m.id);

  it('a docker save archive: the flattened image, as `sharemap scan` predicts it', async () => {
    const r = await upload(readFileSync(oci('image.docker.tar')), 'name=image.docker.tar');
    expect(r.status, r.text).toBe(201);
    expect(r.body.kind).toBe('docker-save');
    expect(r.body.model).toBe('flattened');
    const images = r.body.images as { name: string; layers: { diffId: string; compression: string }[] }[];
    expect(images).toHaveLength(1);
    expect(images[0]!.name).toBe('sharemap/demo:1.0');
    expect(images[0]!.layers.map((l) => l.diffId)).toEqual([
      'sha256:10d04b0e32c48b0212e6de35a18faf9ac5313a509628aef7c2f758d25523b985',
      'sha256:05574326af0cb02189a08f649ea0e07b3f654aa2234ae4c4232c7c0af51c8306',
      'sha256:c85053f6de816f71e6492af8b8be767844e1b3580b98fe5d10c1e6f23fae0f72',
    ]);
    const ids = manifestIds(r.body);
    expect(ids).toHaveLength(1);
    expect(await storedNdjson(ids[0]!)).toBe(await cliScan(oci('image.docker.tar')));
    // The image.flat ground truth: 34 paths (testdata/oci/README.fixtures.md).
    expect((r.body.manifests as { fileCount: number }[])[0]!.fileCount).toBe(34);
    // A report takes the predicted manifest like an uploaded one.
    const rep = await api(s.url, 'POST', '/api/reports', {
      json: { manifests: ids },
      headers: auth,
    });
    expect(rep.status, rep.text).toBe(201);
  }, 120_000);

  it('an OCI layout tar, arm64 (zstd layers), per layer: one manifest per layer, as `scan --layers`', async () => {
    const r = await upload(
      readFileSync(oci('image.oci.tar')),
      'name=image.oci.tar&model=layers&platform=linux/arm64/v8',
    );
    expect(r.status, r.text).toBe(201);
    expect(r.body.kind).toBe('oci-layout');
    const img = (r.body.images as Json[])[0]!;
    expect(img.platform).toBe('linux/arm64/v8');
    expect(img.manifestDigest).toBe(
      'sha256:b044a635cdd11ccf4da3d125aa25ff9a2c658b4003bcbed380ae4b99ad998e23',
    );
    expect((img.layers as { compression: string }[]).map((l) => l.compression)).toEqual([
      'zstd',
      'zstd',
      'zstd',
    ]);
    const ids = manifestIds(r.body);
    expect(ids).toHaveLength(3);
    expect((await Promise.all(ids.map(storedNdjson))).join('')).toBe(
      await cliScan(oci('image.oci.tar'), '--layers', '--platform', 'linux/arm64/v8'),
    );
  });

  it('a rootfs tar, plain and gzip: the kind from the bytes, the name from ?name=', async () => {
    const plain = await upload(readFileSync(oci('rootfs.tar')), 'name=rootfs.tar');
    expect(plain.status, plain.text).toBe(201);
    expect(plain.body.kind).toBe('rootfs');
    expect(await storedNdjson(manifestIds(plain.body)[0]!)).toBe(await cliScan(oci('rootfs.tar')));
    // A gzip rootfs under a name that says nothing of its kind.
    const gz = path.join(tmp, 'export.bin');
    writeFileSync(gz, gzipSync(readFileSync(oci('rootfs.tar'))));
    const r = await upload(readFileSync(gz), 'name=export.bin');
    expect(r.status, r.text).toBe(201);
    expect(r.body.kind).toBe('rootfs');
    expect((r.body.images as { layers: { compression: string }[] }[])[0]!.layers[0]!.compression).toBe(
      'gzip',
    );
    expect(await storedNdjson(manifestIds(r.body)[0]!)).toBe(await cliScan(gz));
  }, 120_000);

  describe('bad archives: 422 naming the problem, nothing stored', () => {
    const docker = (): Buffer => readFileSync(oci('image.docker.tar'));
    const cases: [string, () => Uint8Array, string, RegExp][] = [
      [
        'a layer whose bytes do not match its diff id',
        () => {
          // One byte of /usr/bin/app's content in layer 3 (layer.tar at 3072 in the archive,
          // the file's data at 2560 in the layer, tarfile offsets): headers and sizes stay valid.
          const b = docker();
          b[3072 + 2560 + 100]! ^= 0xff;
          return b;
        },
        'EDIGEST',
        /uncompressed layer has digest sha256:[0-9a-f]{64}, the config's diff id is sha256:c85053f6/,
      ],
      ['a truncated archive', () => docker().subarray(0, 150_000), 'ETRUNCATED', /archive ends/],
      [
        'not an archive (an EROFS image)',
        () => readFileSync(erofs('edge-mini.b512.img')),
        'EFORMAT',
        /not a tar archive, gzip or zstd stream/,
      ],
    ];
    for (const [what, body, reason, message] of cases)
      it(what, async () => {
        const before = { rows: await manifestRows(), blobs: filesUnder(s.ctx.blobs.blobDir) };
        const r = await upload(body(), 'name=bad.tar');
        expect(r.status, r.text).toBe(422);
        const e = errorOf(r);
        expect(e.code).toBe('bad-archive');
        expect(e.reason).toBe(reason);
        expect(e.message).toMatch(/^bad\.tar: /);
        expect(e.message).toMatch(message);
        expect(await manifestRows()).toBe(before.rows);
        expect(filesUnder(s.ctx.blobs.blobDir)).toEqual(before.blobs);
      });
  });

  it('a failed database insert leaves none of the blobs the prediction wrote', async () => {
    // A name of its own: the predicted manifest (it carries the name) is a blob no row has yet.
    const body = readFileSync(oci('rootfs.tar'));
    const before = { rows: await manifestRows(), blobs: filesUnder(s.ctx.blobs.blobDir) };
    // A trigger that refuses every manifest row, in each backend's own trigger language.
    const postgres = s.config.databaseUrl !== undefined;
    if (postgres) {
      await backendSql(
        s,
        `CREATE FUNCTION refuse_manifest() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$`,
      );
      await backendSql(
        s,
        'CREATE TRIGGER refuse_manifests BEFORE INSERT ON manifests FOR EACH ROW EXECUTE FUNCTION refuse_manifest()',
      );
    } else
      await backendSql(
        s,
        `CREATE TRIGGER refuse_manifests BEFORE INSERT ON manifests BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
      );
    try {
      const r = await upload(body, 'name=insert-fails.tar');
      expect(r.status, r.text).toBe(500);
      expect(errorOf(r).message).toBeTruthy();
    } finally {
      await backendSql(
        s,
        postgres ? 'DROP TRIGGER refuse_manifests ON manifests' : 'DROP TRIGGER refuse_manifests',
      );
    }
    expect(await manifestRows()).toBe(before.rows);
    expect(filesUnder(s.ctx.blobs.blobDir)).toEqual(before.blobs);
    // The same upload, recorded: one blob more (the one a failed insert must not leave).
    const ok = await upload(body, 'name=insert-fails.tar');
    expect(ok.status, ok.text).toBe(201);
    expect(filesUnder(s.ctx.blobs.blobDir)).toHaveLength(before.blobs.length + 1);
  });

  it('maxFilesPerImage is checked while predicting: 422 ELIMIT, nothing stored', async () => {
    const small = await startTestServer({ config: { adminToken: ADMIN }, limits: { maxFilesPerImage: 33 } });
    try {
      const post = (name: string) =>
        api(small.url, 'POST', `/api/archives?name=${name}`, {
          body: readFileSync(oci('image.docker.tar')),
          headers: { ...auth, 'content-type': 'application/octet-stream' },
        });
      // The flattened image has 34 paths (image.flat.files.json).
      const r = await post('big.tar');
      expect(r.status, r.text).toBe(422);
      const e = errorOf(r);
      expect(e.reason).toBe('ELIMIT');
      expect(e.message).toMatch(
        /^big\.tar: .*predicted image sharemap_demo:1\.0 has more than 33 paths \(maxPaths\)/,
      );
      expect(filesUnder(small.ctx.blobs.blobDir)).toEqual([]);
    } finally {
      await small.stop();
    }
  }, 180_000);

  it('refuses an unknown model or platform before reading the body (400)', async () => {
    const r = await upload(new Uint8Array(10), 'name=a.tar&model=tree');
    expect(r.status).toBe(400);
    expect(errorOf(r).message).toContain('query parameter "model": expected layers or flattened');
    const p = await upload(new Uint8Array(10), 'name=a.tar&platform=linux');
    expect(p.status).toBe(400);
    expect(errorOf(p).message).toContain('query parameter "platform"');
  });
});
