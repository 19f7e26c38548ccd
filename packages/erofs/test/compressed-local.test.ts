// Extra layouts the shared fixtures do not cover: LZ4 ztailpacking (inline tail pclusters),
// full indexes with and without big pclusters, and the pre-0padding LZ4 layout.
import { describe, expect, it } from 'vitest';
import { LOCAL_FIXTURES, TestImage, loadOracle, sha256 } from './compressed-harness.js';

const IMAGES = ['lz4hc-ztail', 'lz4-legacy', 'lz4hc-full-big-ztail', 'lz4hc-compact-big'];

describe.each(IMAGES)('local compressed fixture %s', (name) => {
  const oracle = loadOracle(name, LOCAL_FIXTURES);
  const files = oracle.files.filter((f) => (f.layout as unknown) === 1 || (f.layout as unknown) === 3);
  const img = TestImage.load(name, LOCAL_FIXTURES);

  it.each(files.map((f) => [f.path, f] as const))('%s matches sha256', async (_p, f) => {
    const file = await img.open(f.nid);
    expect(sha256(await file.read(0, f.size))).toBe(f.sha256);
  });

  it.each(files.map((f) => [f.path, f] as const))('%s reads back in odd-sized chunks', async (_p, f) => {
    const file = await img.open(f.nid);
    const whole = await file.read(0, f.size);
    const parts: Uint8Array[] = [];
    for (let at = 0; at < f.size; at += 3001) parts.push(await file.read(at, 3001));
    expect(sha256(Buffer.concat(parts))).toBe(sha256(whole));
  });
});

it('inline tail pclusters are exercised', async () => {
  const img = TestImage.load('lz4hc-ztail', LOCAL_FIXTURES);
  const oracle = loadOracle('lz4hc-ztail', LOCAL_FIXTURES);
  let inline = 0;
  for (const f of oracle.files) {
    if ((f.layout as unknown) !== 3) continue;
    for (const e of await (await img.open(f.nid)).extents()) if (e.inline) inline++;
  }
  expect(inline).toBeGreaterThan(0);
});
