import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '@sharemap/erofs';
import { cli, cliProcess, fx, haveBuild, oneLine, tmp } from './helpers.js';

interface Oracle {
  image: string;
  devices?: string[];
  superblock: {
    block_size: number;
    inodes: number;
    uuid: string;
    ishare: boolean;
    fingerprint_xattr_name: string | null;
  };
  files: {
    path: string;
    type: string;
    size: number;
    mode: string;
    fingerprint: string | null;
    sha256?: string;
    layout: string;
  }[];
}
const oracle = (name: string): Oracle =>
  JSON.parse(readFileSync(fx(name.replace(/\.img$/, '.expected.json')), 'utf8')) as Oracle;

// One image of each kind: plain, fingerprinted, each compressor, chunk-based with blob device,
// --tar=i index with the tarball as device, small and big blocks, 48-bit, mkfs 1.5.
const KINDS = [
  'app.fp.img',
  'app.fp.lz4hc.img',
  'edge.lzma.frag-dedupe-ztail.img',
  'edge.deflate.img',
  'edge.zstd.fp.img',
  'edge-mini.chunk4k.blob.img',
  'edge-mini.tar-i.img',
  'edge-mini.b512.img',
  'edge-mini.b16k.img',
  'edge-mini.48bit.img',
  'edge-mini.mkfs15.lz4hc.img',
  'edge-mini.fp-trusted.img',
];

describe('sharemap scan', () => {
  for (const name of KINDS) {
    it(`scan --hash --ndjson ${name} matches the oracle`, async () => {
      const o = oracle(name);
      const devArgs = (o.devices ?? []).flatMap((d) => ['--device', fx(d)]);
      const r = await cli(['scan', fx(name), ...devArgs, '--hash', '--ndjson']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const m = parseManifest(r.stdout);
      expect(m.image.name).toBe(name);
      expect(m.hashed).toBe(true);
      expect(m.superblock.block_size).toBe(o.superblock.block_size);
      expect(m.superblock.uuid).toBe(o.superblock.uuid);
      expect(m.superblock.ishare).toBe(o.superblock.ishare);
      expect(m.superblock.fingerprint_xattr_name).toBe(o.superblock.fingerprint_xattr_name);
      const got = m.files.map((f) => [
        f.path,
        f.type,
        f.size,
        f.mode,
        f.layout,
        f.fingerprint,
        f.sha256 ?? null,
      ]);
      const want = o.files.map((f) => [
        f.path,
        f.type,
        f.size,
        f.mode,
        f.layout,
        f.fingerprint,
        f.type === 'file' ? (f.sha256 ?? null) : null,
      ]);
      expect(got).toEqual(want);
    });
  }

  it('text output: summary then one line per path', async () => {
    const o = oracle('app.fp.img');
    const r = await cli(['scan', fx('app.fp.img')]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^app\.fp\.img: EROFS image, 917,504 bytes, 4096-byte blocks/);
    expect(r.stdout).toContain('inode_share: possible (fingerprint xattr erofs.fingerprint.v1)');
    const records = lines.slice(lines.indexOf('') + 1);
    expect(records).toHaveLength(o.files.length);
    expect(records[0]).toMatch(/ \/$/);
  });

  it('--json prints one JSON manifest', async () => {
    const r = await cli(['scan', fx('edge-mini.b512.img'), '--json']);
    expect(r.code).toBe(0);
    const m = parseManifest(r.stdout);
    expect(m.files).toHaveLength(oracle('edge-mini.b512.img').files.length);
    expect(m.hashed).toBe(false);
  });

  const broken = readdirSync(fx('broken')).filter((f) => f.endsWith('.img'));
  for (const b of broken) {
    it(`broken/${b}: exit 2, one stderr line naming the problem and offset`, async () => {
      const r = await cli(['scan', fx(`broken/${b}`)]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const line = oneLine(r.stderr);
      expect(line).toMatch(
        new RegExp(`^sharemap: .*broken/${b.replace(/\./g, '\\.')}: E[A-Z_]+: .*offset \\d+`),
      );
    });
  }

  it('missing file, bad flags and usage: exit 2 with one line', async () => {
    let r = await cli(['scan', fx('no-such.img')]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/no-such\.img: cannot read: no such file/);
    r = await cli(['scan', fx('app.fp.img'), '--bogus']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/sharemap scan: unknown option '--bogus'/);
    r = await cli(['scan']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/missing IMAGE/);
    r = await cli(['scan', fx('app.fp.img'), '--json', '--ndjson']);
    expect(r.code).toBe(2);
  });

  // A child process: were the reader to open the FIFO as before, the open() would wait for a
  // writer forever; spawnSync's timeout then ends the child and the exit code is not 2.
  it.skipIf(!haveBuild())(
    'a FIFO given as the image: exit 2 with one line naming it, without waiting for a writer (built CLI)',
    () => {
      const fifo = join(tmp(), 'image.fifo');
      execFileSync('mkfifo', [fifo]);
      const r = cliProcess(['scan', fifo]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(oneLine(r.stderr)).toBe(
        `sharemap: ${fifo}: EINVAL: not a regular file (a FIFO) @ path ${JSON.stringify(fifo)}`,
      );
    },
    120_000,
  );

  it.skipIf(!haveBuild())(
    'child process: exit codes and a single stderr line (built CLI)',
    () => {
      let r = cliProcess(['scan', fx('broken/zeroed-magic.img')]);
      expect(r.code).toBe(2);
      expect(oneLine(r.stderr)).toMatch(/EBADMAGIC: .*offset 1024/);
      r = cliProcess(['scan', fx('app.fp.img'), '--ndjson']);
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(oracle('app.fp.img').files.length + 1);
      r = cliProcess(['--version']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^sharemap \d+\.\d+\.\d+\n$/);
    },
    120_000,
  );
});
