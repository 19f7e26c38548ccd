/**
 * The bounded HTTP fuzz run of `npm test` (the long one is `pnpm fuzz:http`,
 * scripts/fuzz-http.mjs): seeded random mutations of valid requests to every operation of
 * the OpenAPI description, for at most 25 s. No answer may be a 5xx other than 503 or an error
 * without a JSON body, the server must keep answering /api/health, and no temp file may stay.
 * Then every saved finding (test/fuzz-cases/*.json) is replayed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFuzzTarget } from './fuzz-target.js';
import type { TestServer } from './helpers.js';
import {
  fuzzRun,
  healthy,
  judge,
  rawRequest,
  type Fixtures,
  type FuzzFinding,
  type Operation,
} from './http-fuzz-lib.mjs';
import { eventually, filesUnder } from './raw-http.js';

const SEED = 0x13_2026;
const CASES_DIR = path.join(import.meta.dirname, 'fuzz-cases');

describe('HTTP fuzz (bounded)', () => {
  let s: TestServer;
  let fx: Fixtures;
  let ops: Operation[];
  beforeAll(async () => {
    ({ s, fx, ops } = await startFuzzTarget(16));
  }, 120_000);
  afterAll(async () => {
    await s.stop();
  });

  it(`mutated requests to every route (seed ${SEED}, at most 25 s) find nothing`, async () => {
    const { cases, findings } = await fuzzRun({
      port: s.port,
      fx,
      ops,
      seed: SEED,
      maxCases: 2000,
      deadlineMs: 25_000,
    });
    expect(findings).toEqual([]);
    expect(cases).toBeGreaterThan(20);
    await eventually(() => filesUnder(`${s.dataDir}/tmp`).length === 0, 'temp files of the fuzz run removed');
  }, 120_000);

  const saved = readdirSync(CASES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  it('has saved findings to replay', () => {
    expect(saved.length).toBeGreaterThan(0);
  });
  for (const f of saved) {
    it(`replays ${f}`, async () => {
      const c = JSON.parse(readFileSync(path.join(CASES_DIR, f), 'utf8')) as FuzzFinding;
      const r = await rawRequest(s.port, Buffer.from(c.bytes, 'base64'), { then: c.then, waitMs: 15_000 });
      expect(judge(r, c.then), `${c.route} ${c.ops.join(', ')}: was "${c.finding}"`).toBeNull();
      expect((await healthy(s.port, 3, Infinity)).alive).toBe(true);
    });
  }
});
