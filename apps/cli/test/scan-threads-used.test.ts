/**
 * `--threads N` is used, not only parsed (docs/cli.md#digest-threads): every command that scans
 * EROFS images with --hash starts exactly N digest threads per image, as the digest pool
 * announces on its diagnostics channel (DIGEST_POOL_CHANNEL, docs/reader.md#content-digests-on-worker-threads).
 * N = 1 and N = 3 both: a command that ignored --threads would start the default number
 * (defaultDigestThreads()) for both, which cannot equal both.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DIGEST_POOL_CHANNEL,
  defaultDigestThreads,
  digestWorkerScript,
  type DigestPoolStart,
} from '@sharemap/erofs/node';
import { DIGEST_THREADS_MIN_BYTES, DIGEST_THREADS_MIN_BYTES_ENV } from '../src/scan-split-start.js';
import { cli, fx, type RunResult } from './helpers.js';
import { serve } from './server-helpers.js';

const IMAGES = ['base-v2.fp.forged.img', 'base-v2.fp.img'];

/** Run the CLI in this process; the digest pools it started, as [image name, threads], sorted. */
async function poolsOf(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ r: RunResult; pools: [string, number][] }> {
  const seen: DigestPoolStart[] = [];
  const listener = (m: unknown): void => {
    seen.push(m as DigestPoolStart);
  };
  subscribe(DIGEST_POOL_CHANNEL, listener);
  try {
    const r = await cli(args, { env });
    const pools = seen.map((m): [string, number] => [basename(m.path), m.threads]).sort();
    return { r, pools };
  } finally {
    unsubscribe(DIGEST_POOL_CHANNEL, listener);
  }
}

/** `args --threads n` succeeds and starts n digest threads for each of IMAGES. */
async function expectThreadsPerImage(args: string[], n: number): Promise<void> {
  const { r, pools } = await poolsOf([...args, '--threads', String(n)]);
  expect(r.code, r.stderr).toBe(0);
  expect(pools).toEqual(IMAGES.map((i) => [i, n]).sort());
}

/**
 * `args` (a command with --hash over `images`, no --threads) starts no digest thread for the
 * fixtures (below DIGEST_THREADS_MIN_BYTES), the default number for each image when the minimum
 * (SHAREMAP_DIGEST_THREADS_MIN_BYTES) is the images' size, none when it is one byte more.
 */
async function expectDefaultFromMinimum(args: string[], images: readonly string[]): Promise<void> {
  const size = Math.min(...images.map((i) => statSync(fx(i)).size));
  expect(Math.max(...images.map((i) => statSync(fx(i)).size))).toBe(size);
  // The fixtures (3.5 MB) are below the default minimum: hashed on the walking thread alone.
  expect(size).toBeLessThan(DIGEST_THREADS_MIN_BYTES);
  const none = await poolsOf(args);
  expect(none.r.code, none.r.stderr).toBe(0);
  expect(none.pools).toEqual([]);
  for (const [min, pools] of [
    [size, images.map((i) => [i, defaultDigestThreads()]).sort()],
    [size + 1, []],
  ] as const) {
    const { r, pools: started } = await poolsOf(args, { [DIGEST_THREADS_MIN_BYTES_ENV]: String(min) });
    expect(r.code, r.stderr).toBe(0);
    expect(started, `minimum ${min}`).toEqual(pools);
  }
}

// The pool needs the built worker script (without it a scan hashes in its own thread).
describe.skipIf(!digestWorkerScript())('--threads N starts N digest threads', () => {
  it.each([1, 3])(
    'scan --hash --threads %i',
    async (n) => {
      const { r, pools } = await poolsOf([
        'scan',
        fx(IMAGES[1]!),
        '--hash',
        '--ndjson',
        '--threads',
        String(n),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(pools).toEqual([[IMAGES[1], n]]);
    },
    120_000,
  );

  it('scan --hash without --threads: the default from DIGEST_THREADS_MIN_BYTES on, none below; --threads 0 and no --hash: none', async () => {
    const img = fx(IMAGES[1]!);
    await expectDefaultFromMinimum(['scan', img, '--hash', '--ndjson'], [IMAGES[1]!]);
    expect((await poolsOf(['scan', img, '--hash', '--ndjson', '--threads', '0'])).pools).toEqual([]);
    expect((await poolsOf(['scan', img, '--ndjson', '--threads', '3'])).pools).toEqual([]);
  }, 120_000);

  it.each([
    ['scan', fx(IMAGES[1]!), '--hash', '--ndjson'],
    ['analyze', ...IMAGES.map(fx), '--hash', '--json'],
  ])(
    '%s --hash with a SHAREMAP_DIGEST_THREADS_MIN_BYTES that is not a byte count: exit 2, one line naming it',
    async (...args) => {
      for (const bad of ['8M', '-1', ' 5', '1e9']) {
        const { r, pools } = await poolsOf(args, { [DIGEST_THREADS_MIN_BYTES_ENV]: bad });
        expect(r.code, bad).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toContain(`${DIGEST_THREADS_MIN_BYTES_ENV} must be a byte count`);
        expect(r.stderr).toContain(JSON.stringify(bad));
        expect(pools).toEqual([]);
      }
    },
    120_000,
  );

  it('analyze --hash without --threads: the default for each image from DIGEST_THREADS_MIN_BYTES on, none below', async () => {
    await expectDefaultFromMinimum(['analyze', ...IMAGES.map(fx), '--hash', '--json'], IMAGES);
  }, 120_000);

  it('upload --scan-locally --hash without --threads: the default for each image from DIGEST_THREADS_MIN_BYTES on, none below', async () => {
    const { server } = await serve(false);
    try {
      const args = ['upload', ...IMAGES.map(fx), '--scan-locally', '--hash', '--server', server.url];
      await expectDefaultFromMinimum([...args, '--json', '-q'], IMAGES);
    } finally {
      await server.close(1000);
    }
  }, 180_000);

  it.each([1, 3])(
    'analyze --hash --threads %i: N threads for each image',
    async (n) => {
      await expectThreadsPerImage(['analyze', ...IMAGES.map(fx), '--hash', '--json'], n);
    },
    120_000,
  );

  it('upload --scan-locally --hash --threads 1 and 3: N threads for each image', async () => {
    const { server } = await serve(false);
    try {
      for (const n of [1, 3]) {
        const args = ['upload', ...IMAGES.map(fx), '--scan-locally', '--hash', '--server', server.url];
        await expectThreadsPerImage([...args, '--json', '-q'], n);
      }
    } finally {
      await server.close(1000);
    }
  }, 180_000);
});
