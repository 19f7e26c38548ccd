/**
 * A server to throw hostile requests at (robustness.test.ts, http-fuzz.test.ts): an admin
 * token, a short body rate window, and real resources (an image, a manifest, a mount
 * configuration, a report, a report name) for every operation of the OpenAPI description.
 * scripts/fuzz-http.mjs sets up the same from the built server.
 */
import { readFileSync } from 'node:fs';
import { manifestToNdjson } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { openapiDocument } from '../src/openapi.js';
import { erofs, mounts, startTestServer, type TestServer } from './helpers.js';
import { makeBomb, operations, prepare, type Fixtures, type Operation } from './http-fuzz-lib.mjs';

/** The admin token of the target (scripts/fuzz-http.mjs uses the same, so saved cases replay). */
export const FUZZ_ADMIN_TOKEN = 'smt_fuzz-admin-token';

export async function startFuzzTarget(
  bombMib: number,
): Promise<{ s: TestServer; fx: Fixtures; ops: Operation[] }> {
  const s = await startTestServer({
    config: { adminToken: FUZZ_ADMIN_TOKEN },
    limits: { bodyTimeoutMs: 300, minBodyBytesPerWindow: 64, maxUploadBytes: 16 * 1024 * 1024 },
  });
  const base = {
    image: readFileSync(erofs('app.fp.img')),
    manifestNdjson: [...manifestToNdjson(await scanImageFile(erofs('app.fp.img')))].join(''),
    fstab: readFileSync(mounts('fleet.fstab'), 'utf8'),
    bomb: makeBomb(bombMib),
    adminToken: FUZZ_ADMIN_TOKEN,
  };
  const fx = { ...base, ids: await prepare(s.url, base) };
  const ops = operations(openapiDocument(s.config) as Parameters<typeof operations>[0], fx.ids);
  return { s, fx, ops };
}
