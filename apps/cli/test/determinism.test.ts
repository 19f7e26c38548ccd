/**
 * A report is a function of its inputs, whichever way it is made (docs/metrics.md#determinism-a-report-is-a-function-of-its-inputs).
 *  - the CLI: `analyze` of base-v1.fp, base-v2.fp, app.fp, base-v1.fp.lz4hc in two orders;
 *  - the server: the same images uploaded in different orders, the report requested in the
 *    order the scans finished (what the web UI does) or in upload order;
 *  - CLI, server and the browser's analysis worker (apps/web/src/workers/analysis.worker.ts,
 *    run here as it runs in the browser: a message in, a report out) on the same manifests.
 * Reports are compared as bytes; only `createdAt` (the time the server made the report) is set
 * to one value first, since a CLI run and a server report are not made at the same instant.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestToNdjson, type Manifest } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import type { RunningServer } from '@sharemap/server';
import { runAnalysis } from '../src/analysis.js';
import { cli, fx } from './helpers.js';
import { serve } from './server-helpers.js';

const NAMES = ['base-v1.fp.img', 'base-v2.fp.img', 'app.fp.img', 'base-v1.fp.lz4hc.img'];
const at = (json: string, createdAt = '2026-01-01T00:00:00.000Z'): string =>
  JSON.stringify({ ...(JSON.parse(json) as object), createdAt });

async function post(
  s: RunningServer,
  url: string,
  body: RequestInit['body'],
  type: string,
): Promise<{ id: string }> {
  const res = await fetch(s.url + url, { method: 'POST', body, headers: { 'content-type': type } });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as { id: string };
}

async function report(s: RunningServer, body: object): Promise<{ id: string; text: string }> {
  const { id } = await post(s, '/api/reports', JSON.stringify(body), 'application/json');
  const res = await fetch(`${s.url}/api/reports/${id}`);
  expect(res.status).toBe(200);
  return { id, text: await res.text() };
}

/** Upload images in this order; the ids in the order their scans finished. */
async function uploadImages(s: RunningServer, names: string[]): Promise<string[]> {
  const ids = await Promise.all(
    names.map(
      async (n) =>
        (await post(s, `/api/images?name=${n}`, readFileSync(fx(n)), 'application/octet-stream')).id,
    ),
  );
  const finished: string[] = [];
  while (finished.length < ids.length) {
    for (const id of ids) {
      if (finished.includes(id)) continue;
      const r = (await (await fetch(`${s.url}/api/images/${id}`)).json()) as { status: string };
      expect(r.status).not.toBe('failed');
      if (r.status === 'ready') finished.push(id);
    }
    await new Promise((r) => setImmediate(r)); // yield to the server between polls
  }
  return finished;
}

describe('a report is a function of its inputs', () => {
  let s: RunningServer;
  let t: RunningServer;
  beforeAll(async () => {
    s = (await serve(false)).server;
    t = (await serve(false)).server;
  });
  afterAll(async () => {
    await s.close(1000);
    await t.close(1000);
  });

  it('sharemap analyze base-v1.fp base-v2.fp app.fp base-v1.fp.lz4hc, in both orders: byte-identical reports', async () => {
    const a = await cli(['analyze', ...NAMES.map(fx), '--json']);
    const b = await cli(['analyze', ...[...NAMES].reverse().map(fx), '--json']);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(at(b.stdout)).toBe(at(a.stdout));
    // the figure of the first order (2,920,448 bytes saved; the reverse gave 2,400,256)
    // is now the one figure for every order
    const saved = (JSON.parse(a.stdout) as { totals: { bytesSaved: number } }).totals.bytesSaved;
    expect([2_920_448, 2_400_256]).toContain(saved);
  });

  it('server: the same images uploaded in different orders, reports requested in scan-completion or upload order: byte-identical', async () => {
    const first = await uploadImages(s, NAMES);
    const second = await uploadImages(t, [...NAMES].reverse());
    const r1 = await report(s, { images: first });
    const r2 = await report(t, { images: second });
    const r3 = await report(t, { images: [...second].reverse() });
    expect(at(r2.text)).toBe(at(r1.text));
    expect(at(r3.text)).toBe(at(r1.text));
  }, 120_000);

  it('CLI, server and the browser analysis worker give byte-identical reports for the same manifests', async () => {
    const manifests: Manifest[] = [];
    for (const n of NAMES) manifests.push(await scanImageFile(fx(n), { hash: true }));
    const ids: string[] = [];
    for (const m of [...manifests].reverse())
      ids.push(
        (
          await post(
            s,
            `/api/manifests?name=${m.image.name}`,
            [...manifestToNdjson(m)].join(''),
            'application/x-ndjson',
          )
        ).id,
      );
    const server = await report(s, { manifests: ids });
    const createdAt = (JSON.parse(server.text) as { createdAt: string }).createdAt;
    const viaCli = await runAnalysis({ manifests, mounts: [], mapping: {}, publishers: {}, createdAt });
    // the browser's analysis worker: its module as the browser loads it, one message in, one out
    const posted = new Promise<{ ok: boolean; report?: unknown; error?: string }>((resolve) => {
      (globalThis as { self?: unknown }).self = { postMessage: resolve };
    });
    // A specifier in a variable: tsc does not follow it into apps/web, whose sources use the
    // bundler's module resolution and are typechecked by apps/web/tsconfig.json; vitest loads it.
    const analysisWorker = '../../web/src/workers/analysis.worker.js';
    await import(analysisWorker);
    const self = (globalThis as unknown as { self: { onmessage: (e: { data: unknown }) => Promise<void> } })
      .self;
    await self.onmessage({
      data: {
        seq: 1,
        kind: 'analyze',
        inputUrl: `${s.url}/api/reports/${server.id}/input`,
        whatIf: { domains: {}, scenarios: [] },
      },
    });
    const browser = await posted;
    expect(browser.error).toBeUndefined();
    const serverText = JSON.stringify(JSON.parse(server.text));
    expect(JSON.stringify(viaCli.report)).toBe(serverText);
    expect(JSON.stringify(browser.report)).toBe(serverText);
  }, 120_000);
});
