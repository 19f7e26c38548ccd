/**
 * Findings of `pnpm fuzz` (testdata/erofs/broken/fuzz/<hash>.img + .json, see scripts/fuzz.mjs):
 * each mutated image, put through the whole reader surface, must fail with typed ErofsErrors
 * only (and stay within the vitest time limit: some findings were hangs).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErofsError } from '../src/errors.js';
import { openImage } from '../src/image.js';
import { scanManifest } from '../src/manifest.js';
import { nodeSha256 } from '../src/node.js';
import { memorySource } from '../src/source/memory.js';
import { walk } from '../src/walk.js';
import { applyOps, cleanPaths, exerciseImage, type FuzzOp } from './fuzz-lib.mjs';

const DATA = join(import.meta.dirname, '../../../testdata/erofs');
const DIR = join(DATA, 'broken', 'fuzz');
const api = { openImage, memorySource, scanManifest, nodeSha256, ErofsError, walk };

interface Finding {
  image: string;
  devices?: string[];
  ops: FuzzOp[];
  mutation: string;
  kind: string;
  error: { name: string; message: string }[];
}

const findings = existsSync(DIR)
  ? readdirSync(DIR)
      .filter((f) => f.endsWith('.img'))
      .sort()
  : [];

describe.runIf(findings.length > 0)('fuzz findings stay fixed', () => {
  it.each(findings)('%s fails with typed errors only', async (file) => {
    const info = JSON.parse(readFileSync(join(DIR, file.replace(/\.img$/, '.json')), 'utf8')) as Finding;
    const bytes = new Uint8Array(readFileSync(join(DIR, file)));
    const base = new Uint8Array(readFileSync(join(DATA, info.image)));
    // the saved image is the replay of its ops on the base fixture
    expect(Buffer.from(applyOps(base, info.ops)).equals(Buffer.from(bytes))).toBe(true);
    const devices = (info.devices ?? []).map((d) => new Uint8Array(readFileSync(join(DATA, d))));
    // the paths of the clean image: from its oracle, or a walk (synthetic images have none)
    const oraclePath = join(DATA, info.image.replace(/\.img$/, '.expected.json'));
    const paths = existsSync(oraclePath)
      ? (JSON.parse(readFileSync(oraclePath, 'utf8')) as { files: { path: string }[] }).files.map(
          (f) => f.path,
        )
      : await cleanPaths(
          api,
          await openImage(memorySource(base), { devices: devices.map((d) => memorySource(d)) }),
        );
    // through both read paths: synchronous (files) and asynchronous only (browser Blobs)
    for (const asyncOnly of [false, true]) {
      const r = await exerciseImage(api, bytes, { devices, paths, asyncOnly });
      expect(r.scan).toMatch(/^(ok|E[A-Z_]+)$/);
      // the mutation is detected somewhere: at least one typed ErofsError
      expect([...r.codes.keys()].length).toBeGreaterThan(0);
      for (const code of r.codes.keys()) expect(code).toMatch(/^E[A-Z_]+$/);
    }
  });
});
