/**
 * `sharemap scan --format parquet` writes the columnar manifest, and every command
 * that reads manifests takes it, told apart by its bytes (not its name): the fleet analysed from
 * Parquet manifests gives byte for byte the report analysed from NDJSON manifests.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '@sharemap/erofs';
import { parseParquetManifest } from '@sharemap/erofs/parquet';
import { cli, FLEET_IMAGES, fx, MOUNTS, oneLine, tmp } from './helpers.js';

describe('columnar manifests in the CLI', () => {
  it('scan --format parquet -o FILE carries the --ndjson manifest', async () => {
    const dir = tmp();
    const out = join(dir, 'app.parquet');
    const pq = await cli(['scan', fx('app.fp.img'), '--hash', '--format', 'parquet', '-o', out]);
    expect([pq.code, pq.stderr, pq.stdout]).toEqual([0, '', '']);
    const nd = await cli(['scan', fx('app.fp.img'), '--hash', '--ndjson']);
    expect(nd.code).toBe(0);
    const bytes = readFileSync(out);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('PAR1');
    expect(await parseParquetManifest(bytes)).toStrictEqual(parseManifest(nd.stdout));
    expect(existsSync(`${out}.partial`)).toBe(false);
    // --format ndjson -o FILE writes what --ndjson prints.
    const ndOut = join(dir, 'app.ndjson');
    expect((await cli(['scan', fx('app.fp.img'), '--hash', '--format', 'ndjson', '-o', ndOut])).code).toBe(0);
    expect(readFileSync(ndOut, 'utf8')).toBe(nd.stdout);
  });

  it('refuses parquet to stdout, unknown forms and contradicting flags with one line', async () => {
    const a = await cli(['scan', fx('app.fp.img'), '--format', 'parquet']);
    expect(a.code).toBe(2);
    expect(oneLine(a.stderr)).toMatch(/--format parquet writes a binary file: give --output FILE/);
    const b = await cli(['scan', fx('app.fp.img'), '--format', 'arrow']);
    expect(b.code).toBe(2);
    expect(oneLine(b.stderr)).toMatch(/--format arrow: expected one of text, json, ndjson, parquet/);
    const c = await cli(['scan', fx('app.fp.img'), '--format', 'parquet', '--json', '-o', join(tmp(), 'x')]);
    expect(c.code).toBe(2);
    expect(oneLine(c.stderr)).toMatch(/--format parquet and --json cannot be combined/);
  });

  it('analyze gives the same report from Parquet manifests (any file name) as from NDJSON ones', async () => {
    const dir = tmp();
    const ndjson: string[] = [];
    const parquet: string[] = [];
    for (const [i, name] of FLEET_IMAGES.entries()) {
      const base = name.replace(/\.img$/, '');
      const nd = await cli(['scan', fx(name), '--hash', '--ndjson']);
      expect(nd.code).toBe(0);
      writeFileSync(join(dir, `${base}.ndjson`), nd.stdout);
      ndjson.push(join(dir, `${base}.ndjson`));
      // Odd names on purpose: the form is read from the bytes ("PAR1").
      const out = join(dir, i % 2 ? `${base}.parquet` : `${base}.manifest`);
      expect((await cli(['scan', fx(name), '--hash', '--format', 'parquet', '-o', out])).code).toBe(0);
      parquet.push(out);
    }
    const mounts = join(MOUNTS, 'fleet.fstab');
    const args = existsSync(mounts) ? ['--mounts', mounts] : [];
    const fromNd = await cli(['analyze', ...ndjson, ...args, '--json']);
    const fromPq = await cli(['analyze', ...parquet, ...args, '--json']);
    expect(fromNd.code).toBe(0);
    expect(fromPq.stderr).toBe(fromNd.stderr);
    expect(fromPq.code).toBe(fromNd.code);
    // Byte for byte, once createdAt (the time of the run) is pinned; compared by digest to keep a failure readable.
    const pinned = (json: string): string =>
      createHash('sha256')
        .update(JSON.stringify({ ...(JSON.parse(json) as object), createdAt: '2026-01-01T00:00:00.000Z' }))
        .digest('hex');
    expect(pinned(fromPq.stdout)).toBe(pinned(fromNd.stdout));
    expect(JSON.parse(fromPq.stdout).files.instance.length).toBeGreaterThan(100);
  }, 120_000);

  it('a corrupt Parquet manifest is one line naming the file', async () => {
    const dir = tmp();
    const good = join(dir, 'good.parquet');
    expect((await cli(['scan', fx('app.fp.img'), '--format', 'parquet', '-o', good])).code).toBe(0);
    const bad = join(dir, 'bad.parquet');
    const bytes = readFileSync(good);
    writeFileSync(bad, bytes.subarray(0, bytes.length - 100));
    const r = await cli(['analyze', bad]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/bad\.parquet: .*Parquet/);
    copyFileSync(good, join(dir, 'ok.bin'));
    expect((await cli(['analyze', join(dir, 'ok.bin')])).code).toBe(0);
  });
});
