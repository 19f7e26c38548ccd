/**
 * The robustness suite (docs/development.md#fuzzing-the-server): every operation of the server's OpenAPI description
 * (built from packages/api, the one definition of the routes) gets every malformed class
 * (percent-encoding, aborted connection, truncated multipart, trickling sender, gzip bomb,
 * corrupt gzip/deflate/br, unknown encoding, wrong type, invalid JSON, a declared length past
 * every limit) over a real socket. After each request: a 4xx/503 JSON error naming the problem (or a closed
 * connection for the aborted ones), the server alive with /api/health answering (best of 3
 * probes under HEALTH_BOUND_MS: an event loop blocked for seconds fails it), and no new file in the data folder's
 * blobs/ or tmp/ (a refused request writes nothing that stays).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFuzzTarget } from './fuzz-target.js';
import type { TestServer } from './helpers.js';
import {
  HEALTH_BOUND_MS,
  healthy,
  malformedClasses,
  rawRequest,
  type Fixtures,
  type Operation,
} from './http-fuzz-lib.mjs';
import { eventually, storedFiles } from './raw-http.js';

describe('every route x every malformed class (OpenAPI walk)', () => {
  let s: TestServer;
  let fx: Fixtures;
  let ops: Operation[];
  beforeAll(async () => {
    ({ s, fx, ops } = await startFuzzTarget(64));
  }, 120_000);
  afterAll(async () => {
    await s.stop();
  });

  it('walks all 28 operations of the OpenAPI description', () => {
    expect(ops.map((o) => `${o.method} ${o.path}`)).toContain('POST /api/images/{id}/devices');
    expect(ops.map((o) => `${o.method} ${o.path}`)).toContain('POST /api/residency');
    expect(ops.map((o) => `${o.method} ${o.path}`)).toContain('GET /api/ready');
    expect(ops.map((o) => `${o.method} ${o.path}`)).toContain('POST /api/archives');
    expect(ops).toHaveLength(28);
  });

  it('answers every malformed request with a 4xx/503 JSON error, stays up and fast, and keeps nothing', async () => {
    const before = storedFiles(s.dataDir);
    const seen: string[] = [];
    for (const op of ops) {
      for (const c of malformedClasses(op, fx)) {
        const what = `${op.method} ${op.path}: ${c.name}`;
        const r = await rawRequest(s.port, c.bytes, {
          then: c.then,
          ...(c.trickle ? { trickle: c.trickle, everyMs: 100 } : {}),
          waitMs: c.waitMs ?? 20_000,
        });
        if (c.then === 'abort') expect(r.closed, what).toBe(true);
        else {
          expect(r.gaveUp, `${what}: no answer`).toBe(false);
          const status = r.response?.status ?? 0;
          expect(status >= 400 && (status < 500 || status === 503), `${what}: status ${status}`).toBe(true);
          const e = (r.response?.json as { error?: { code?: unknown; message?: unknown } } | undefined)
            ?.error;
          expect(typeof e?.code, `${what}: JSON error code`).toBe('string');
          expect(String(e?.message).length, `${what}: error message`).toBeGreaterThan(10);
          seen.push(`${what} -> ${status} ${String(e?.code)}`);
        }
        const h = await healthy(s.port);
        expect(h.alive, `${what}: /api/health`).toBe(true);
        expect(h.bestMs, `${what}: /api/health latency (best of 3), ms`).toBeLessThan(HEALTH_BOUND_MS);
        await eventually(
          () => storedFiles(s.dataDir).join() === before.join(),
          `${what}: left ${storedFiles(s.dataDir)
            .filter((f) => !before.includes(f))
            .join(', ')}`,
        );
      }
    }
    // Each body class reached a handler that names it (not just a 404 before the body).
    const codes = seen.join('\n');
    expect(codes).toMatch(/POST \/api\/images: truncated multipart -> 400 bad-multipart/);
    expect(codes).toMatch(/POST \/api\/images\/\{id\}\/devices: truncated multipart -> 400 bad-multipart/);
    expect(codes).toMatch(/POST \/api\/manifests: gzip decompression bomb -> 413 too-large/);
    expect(codes).toMatch(/POST \/api\/reports: corrupt br body -> 400 bad-encoding/);
    expect(codes).toMatch(/POST \/api\/reports: trickling sender -> 408 timeout/);
    expect(codes).toMatch(/GET \/api\/reports\/\{id\}: percent-encoding -> 400 bad-url/);
    for (const route of [
      'POST /api/reports',
      'POST /api/mount-configs',
      'PUT /api/report-names/{name}',
      'POST /api/manifests',
    ])
      expect(codes).toContain(`${route}: declared length past every limit -> 413 too-large`);
  }, 600_000);
});
