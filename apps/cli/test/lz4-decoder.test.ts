/**
 * SHAREMAP_LZ4_DECODER (docs/reader.md#lz4-decoders): `scan --hash --ndjson` of every compressed
 * image in testdata prints the same bytes with the JavaScript and the WebAssembly LZ4 decoder,
 * on the scan's thread and on the digest threads (the built CLI as a child process, so the
 * variable reaches every thread as it does for users); a bad value is refused with one line
 * where the command starts, whatever the command reads.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliProcessAsync, FIX, fx, haveBuild, oneLine, tmp } from './helpers.js';

/** Every compressed image of testdata/erofs (the algorithm is in the name). */
const COMPRESSED = readdirSync(FIX).filter((n) => /\.(lz4|lz4hc|lzma|deflate|zstd)\b.*\.img$/.test(n));

/**
 * Decoder and digest-thread settings each image is scanned with, beside SHAREMAP_LZ4_DECODER=js
 * on the scan's thread. An image with LZ4 clusters gets all four. One without (deflate, lzma,
 * zstd: one algorithm each, their superblocks' compr_algs) never calls either LZ4 decoder, so
 * its bytes cannot depend on the choice: one run, the other decoder on digest threads, checks
 * that the choice leaves the other codecs alone (the four runs on those three images were half
 * of this file's 95 s at load 20; packages/erofs/test/node/digest-pool.test.ts compares their
 * scans on digest threads with the in-thread ones).
 */
function settingsFor(name: string): (readonly [Record<string, string>, string])[] {
  if (!/\.lz4(hc)?\b/.test(name)) return [[{ SHAREMAP_LZ4_DECODER: 'wasm' }, '2']];
  return [
    [{ SHAREMAP_LZ4_DECODER: 'wasm' }, '0'],
    [{ SHAREMAP_LZ4_DECODER: 'wasm' }, '2'],
    [{ SHAREMAP_LZ4_DECODER: 'js' }, '2'],
    [{}, '2'],
  ];
}

describe.skipIf(!haveBuild())('SHAREMAP_LZ4_DECODER', () => {
  it('testdata holds the compressed images this test is about', () => {
    expect(COMPRESSED).toEqual(
      expect.arrayContaining([
        'app.fp.lz4hc.img',
        'edge.lz4.img',
        'edge-mini.mkfs15.lz4hc.img',
        'edge.zstd.fp.img',
      ]),
    );
  });

  it.each(COMPRESSED)(
    '%s: scan --hash --ndjson prints the same bytes with either decoder and thread count',
    async (name) => {
      const args = ['scan', fx(name), '--hash', '--ndjson'];
      const js = await cliProcessAsync([...args, '--threads', '0'], { env: { SHAREMAP_LZ4_DECODER: 'js' } });
      expect(js.stderr).toBe('');
      expect(js.code).toBe(0);
      expect(js.stdout).toContain('"sha256":');
      for (const [env, threads] of settingsFor(name)) {
        const r = await cliProcessAsync([...args, '--threads', threads], { env });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(js.stdout);
      }
    },
    300_000,
  );

  it('a value other than js or wasm is refused with one line naming the variable', async () => {
    const r = await cliProcessAsync(['scan', fx('edge.lz4.img'), '--hash', '--ndjson'], {
      env: { SHAREMAP_LZ4_DECODER: 'fast' },
    });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(oneLine(r.stderr)).toContain('SHAREMAP_LZ4_DECODER must be "js" or "wasm", not "fast"');
  }, 120_000);

  it('the value is checked where the command starts, before any image is opened (analyze of a manifest: exit 2, one line)', async () => {
    const manifest = join(tmp(), 'app.manifest.ndjson');
    const scanned = await cliProcessAsync(['scan', fx('app.fp.img'), '--ndjson', '--output', manifest]);
    expect(scanned.code, scanned.stderr).toBe(0);
    const r = await cliProcessAsync(['analyze', manifest, '--json'], {
      env: { SHAREMAP_LZ4_DECODER: 'lz4' },
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(oneLine(r.stderr)).toBe('sharemap: SHAREMAP_LZ4_DECODER must be "js" or "wasm", not "lz4"');
    // the same command with a good value runs
    const ok = await cliProcessAsync(['analyze', manifest, '--json'], {
      env: { SHAREMAP_LZ4_DECODER: 'js' },
    });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  }, 120_000);
});
