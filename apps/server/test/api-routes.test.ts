/**
 * The OpenAPI document (built from packages/api) against the real server over a socket:
 * every documented operation gets a valid request and must answer with the documented status
 * and a body that validates against the documented schema; every route Express registers
 * under /api is documented, and every documented one is registered. Then the request rules
 * the schemas state, as the server words them.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { manifestToNdjson } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SharemapApp } from '../src/app.js';
import { api, erofs, errorOf, mounts, repo, startTestServer, waitImage, type TestServer } from './helpers.js';

const ADMIN = 'smt_api-routes-admin';
const auth = { authorization: `Bearer ${ADMIN}` };

interface OpenApiDoc {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
}

/** `get /api/images/{id}` for every route registered under /api (router stack walk). */
export function expressApiRoutes(app: SharemapApp): string[] {
  interface Layer {
    rawPath?: unknown;
    route?: { path: string; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
  }
  const out: string[] = [];
  const walk = (stack: Layer[], prefix: string): void => {
    for (const layer of stack) {
      if (layer.route) {
        const p = (prefix + layer.route.path).replace(/[:*](\w+)/g, '{$1}');
        for (const m of Object.keys(layer.route.methods)) if (m !== '_all') out.push(`${m} ${p}`);
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out.filter((r) => r.split(' ')[1]!.startsWith('/api/')).sort();
}

/** JSON pointer escaping of one path segment. */
const ptr = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** A manifest as `sharemap scan --ndjson` writes it. */
const manifestOf = async (image: string): Promise<string> =>
  [...manifestToNdjson(await scanImageFile(erofs(image)))].join('');

describe('the OpenAPI document against the running server', () => {
  let s: TestServer;
  let doc: OpenApiDoc;
  let ajv: Ajv;
  const ids = { image: '', manifest: '', mountConfig: '', residency: '', report: '' };
  let ndjson = '';

  beforeAll(async () => {
    // With the demo: GET /api/demo has a report to answer with.
    s = await startTestServer({ config: { adminToken: ADMIN, demoDir: `${repo}/testdata` } });
    await s.demo;
    ndjson = await manifestOf('app.fp.img');
    const up = await api(s.url, 'POST', '/api/images?name=edge-mini.b512.img', {
      body: readFileSync(erofs('edge-mini.b512.img')),
      headers: { ...auth, 'content-type': 'application/octet-stream' },
    });
    ids.image = up.body.id as string;
    expect((await waitImage(s.url, ids.image)).status).toBe('ready');
    ids.report = (await api(s.url, 'POST', '/api/reports', { json: { images: [ids.image] }, headers: auth }))
      .body.id as string;
    for (const name of ['walk/main', 'walk/gone'])
      expect(
        (
          await api(s.url, 'PUT', `/api/report-names/${name}`, {
            json: { reportId: ids.report },
            headers: auth,
          })
        ).status,
      ).toBe(201);
    doc = (await api(s.url, 'GET', '/api/openapi.json')).body as unknown as OpenApiDoc;
    ajv = new Ajv({ strict: false, formats: { 'date-time': true, binary: true } });
    ajv.addSchema(doc as object, 'openapi.json');
  }, 180_000);
  afterAll(async () => {
    await s.stop();
  });

  const json = (body: unknown) => ({
    ...auth,
    'content-type': 'application/json',
    body: JSON.stringify(body),
  });
  /** A valid request for each operation and the status it must get. */
  const cases: Record<string, () => { status: number; url: string; init?: RequestInit }> = {
    'get /api/health': () => ({ status: 200, url: '/api/health' }),
    'get /api/ready': () => ({ status: 200, url: '/api/ready' }),
    'get /api/openapi.json': () => ({ status: 200, url: '/api/openapi.json' }),
    'get /api/demo': () => ({ status: 200, url: '/api/demo' }),
    'post /api/images': () => ({
      status: 202,
      url: '/api/images?name=edge-mini.chunk4k.blob.img',
      init: {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/octet-stream' },
        body: readFileSync(erofs('edge-mini.chunk4k.blob.img')),
      },
    }),
    'get /api/images/{id}': () => ({ status: 200, url: `/api/images/${ids.image}` }),
    'get /api/images/{id}/events': () => ({ status: 200, url: `/api/images/${ids.image}/events` }),
    'post /api/images/{id}/devices': () => ({
      status: 202,
      url: `/api/images/${ids.image}/devices?name=extra.blob`,
      init: {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/octet-stream' },
        body: readFileSync(erofs('edge-mini.chunk4k.blob.blob')),
      },
    }),
    'post /api/manifests': () => ({
      status: 201,
      url: '/api/manifests?name=app.fp.ndjson',
      init: {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
        body: gzipSync(ndjson),
      },
    }),
    'get /api/manifests/{id}': () => ({ status: 200, url: `/api/manifests/${ids.manifest}` }),
    'post /api/archives': () => ({
      status: 201,
      url: '/api/archives?name=image.docker.tar&model=layers',
      init: {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/x-tar' },
        body: readFileSync(`${repo}/testdata/oci/image.docker.tar`),
      },
    }),
    'post /api/mount-configs': () => ({
      status: 201,
      url: '/api/mount-configs?name=fleet.fstab',
      init: {
        method: 'POST',
        headers: { ...auth, 'content-type': 'text/plain' },
        body: readFileSync(mounts('fleet.fstab')),
      },
    }),
    'get /api/mount-configs/{id}': () => ({ status: 200, url: `/api/mount-configs/${ids.mountConfig}` }),
    'post /api/residency': () => ({
      status: 201,
      url: '/api/residency?name=tree.fincore.json',
      init: {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync(readFileSync(`${repo}/testdata/residency/tree.fincore.json`)),
      },
    }),
    'get /api/residency/{id}': () => ({ status: 200, url: `/api/residency/${ids.residency}` }),
    'post /api/reports': () => ({
      status: 201,
      url: '/api/reports',
      init: {
        method: 'POST',
        ...splitJson(json({ manifests: [ids.manifest], options: { pageSize: 16384 } })),
      },
    }),
    'get /api/reports': () => ({ status: 200, url: '/api/reports?limit=5', init: { headers: auth } }),
    'get /api/reports/{id}': () => ({ status: 200, url: `/api/reports/${ids.report}` }),
    'get /api/reports/{id}/summary': () => ({ status: 200, url: `/api/reports/${ids.report}/summary` }),
    'get /api/reports/{id}/files': () => ({ status: 200, url: `/api/reports/${ids.report}/files` }),
    'get /api/reports/{id}/input': () => ({ status: 200, url: `/api/reports/${ids.report}/input` }),
    'get /api/report-names': () => ({
      status: 200,
      url: '/api/report-names?limit=10',
      init: { headers: auth },
    }),
    'get /api/report-names/{name}': () => ({ status: 200, url: '/api/report-names/walk/main' }),
    'put /api/report-names/{name}': () => ({
      status: 200,
      url: '/api/report-names/walk%2Fmain',
      init: { method: 'PUT', ...splitJson(json({ reportId: ids.report })) },
    }),
    'delete /api/report-names/{name}': () => ({
      status: 204,
      url: '/api/report-names/walk/gone',
      init: { method: 'DELETE', headers: auth },
    }),
    'post /api/admin/gc': () => ({
      status: 200,
      url: '/api/admin/gc',
      init: { method: 'POST', headers: auth },
    }),
    'get /api/tokens': () => ({ status: 200, url: '/api/tokens', init: { headers: auth } }),
    'post /api/tokens': () => ({
      status: 201,
      url: '/api/tokens',
      init: { method: 'POST', ...splitJson(json({ name: 'ci-walk', admin: false })) },
    }),
  };
  function splitJson(h: Record<string, string>): RequestInit {
    const { body, ...headers } = h;
    return { headers, body: body! };
  }

  it('every route Express registers under /api is in the document, and no other', () => {
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`))
      .sort();
    expect(expressApiRoutes(s.app)).toEqual(documented);
    expect(documented).toHaveLength(28);
    // ...and this test has a valid request for each.
    expect(Object.keys(cases).sort()).toEqual(documented);
  });

  it('every documented operation answers a valid request with its documented status and schema', async () => {
    const checked: string[] = [];
    for (const [p, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        const what = `${method} ${p}`;
        const c = cases[what]!();
        const res = await fetch(s.url + c.url, c.init);
        const text = await res.text();
        expect(res.status, `${what}: ${text.slice(0, 300)}`).toBe(c.status);
        const documented = op.responses[String(c.status)];
        expect(documented, `${what}: status ${c.status} is documented`).toBeTruthy();
        const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
        if (c.status === 204) expect(text, what).toBe('');
        else expect(Object.keys(documented!.content ?? {}), `${what}: content type`).toContain(type);
        if (type === 'application/json') {
          const pointer = `openapi.json#/paths/${ptr(p)}/${method}/responses/${c.status}/content/application~1json/schema`;
          const validate: ValidateFunction = ajv.compile({ $ref: pointer });
          const body = JSON.parse(text) as unknown;
          expect(validate(body), `${what}: ${ajv.errorsText(validate.errors)}`).toBe(true);
          const created = body as { id?: string };
          if (what === 'post /api/manifests') ids.manifest = created.id!;
          if (what === 'post /api/mount-configs') ids.mountConfig = created.id!;
          if (what === 'post /api/residency') ids.residency = created.id!;
        }
        if (type === 'text/event-stream') {
          // The first event is the image's status, an Image.
          const m = /^event: status\ndata: (.*)$/m.exec(text);
          const validate = ajv.compile({ $ref: 'openapi.json#/components/schemas/Image' });
          expect(validate(JSON.parse(m![1]!)), `${what}: ${ajv.errorsText(validate.errors)}`).toBe(true);
        }
        checked.push(what);
      }
    expect(checked).toHaveLength(28);
  }, 300_000);
});

describe('request rules from the schemas', () => {
  let s: TestServer;
  let manifest = '';
  beforeAll(async () => {
    s = await startTestServer({ limits: { maxImagesPerReport: 3 } });
    manifest = (
      await api(s.url, 'POST', '/api/manifests?name=app.fp.ndjson', {
        body: await manifestOf('app.fp.img'),
        headers: { 'content-type': 'application/x-ndjson' },
      })
    ).body.id as string;
  }, 60_000);
  afterAll(async () => {
    await s.stop();
  });
  const report = (json: unknown) => api(s.url, 'POST', '/api/reports', { json });

  it('page size: the engine rule (a power of two from 512 to 65536), one message naming the field', async () => {
    for (const pageSize of [1000, 256, 131072, 4096.5, '4096']) {
      const r = await report({ manifests: [manifest], options: { pageSize } });
      expect(r.status, String(pageSize)).toBe(400);
      expect(errorOf(r)).toMatchObject({
        code: 'bad-report-request',
        message: 'options.pageSize must be a power of two from 512 to 65536',
      });
    }
    // 512 and 65536 were refused by the old hand-written check (4096 minimum); the engine takes them.
    for (const pageSize of [512, 65536]) {
      const r = await report({ manifests: [manifest], options: { pageSize } });
      expect(r.status, String(pageSize)).toBe(201);
      const full = await api(s.url, 'GET', `/api/reports/${r.body.id as string}`);
      expect((full.body.options as { pageSize: number }).pageSize).toBe(pageSize);
    }
  });

  it('names the field at fault; counts past a limit are 413', async () => {
    const cases: [unknown, number, string, string][] = [
      [[], 400, 'bad-report-request', 'the body must be a JSON object'],
      [{ manifests: [manifest], bogus: 1 }, 400, 'bad-report-request', 'unknown field "bogus"'],
      [
        { manifests: [manifest], options: { fast: true } },
        400,
        'bad-report-request',
        'options: unknown field "fast"',
      ],
      [
        { manifests: ['nope'] },
        400,
        'bad-report-request',
        'manifests[0] must be a manifest id (22 characters of base64url)',
      ],
      [
        { manifests: [manifest, manifest] },
        400,
        'bad-report-request',
        'manifests: an entry is listed twice (items 0 and 1)',
      ],
      [
        { manifests: [manifest], options: { workingSetFraction: 0 } },
        400,
        'bad-report-request',
        'options.workingSetFraction must be a number in (0, 1]',
      ],
      [
        { manifests: [manifest], title: 'x'.repeat(201) },
        400,
        'bad-report-request',
        'title must NOT have more than 200 characters',
      ],
      [
        { manifests: [manifest], mapping: { '/dev/vda': 7 } },
        400,
        'bad-report-request',
        'mapping["/dev/vda"] must be string',
      ],
      [
        { manifests: [manifest], mapping: { ['k'.repeat(4097)]: 'x' } },
        400,
        'bad-report-request',
        `mapping: key "${'k'.repeat(40)}" must NOT have more than 4096 characters`,
      ],
      [
        { manifests: [manifest], domainAssignments: { i1: '?x' } },
        400,
        'bad-report-request',
        'domainAssignments.i1 must be a domain label: 1-64 letters, digits, spaces or "_.@:+-", not starting with a space or "?"',
      ],
      [
        { manifests: [manifest], residency: [{ id: manifest, why: 1 }] },
        400,
        'bad-report-request',
        'residency[0]: unknown field "why"',
      ],
      [
        { images: null, manifests: [] },
        400,
        'bad-report-request',
        'give at least one image or manifest id (images, manifests)',
      ],
      [
        { manifests: Array.from({ length: 4 }, (_, k) => `${'A'.repeat(21)}${k}`) },
        413,
        'too-large',
        'manifests: at most 3 entries',
      ],
    ];
    for (const [body, status, code, message] of cases) {
      const r = await report(body);
      expect({ status: r.status, ...errorOf(r) }, JSON.stringify(body)).toMatchObject({
        status,
        code,
        message,
      });
    }
  });
});
