import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { analyze, formatBytes, formatPercent, REPORT_VERSION, type Report } from '@sharemap/sharing';
import { inputOf, inst } from '@sharemap/sharing/testing';
import { cli, cliProcess, FLEET_IMAGES, fx, haveBuild, MOUNTS, oneLine, tmp } from './helpers.js';

type JsonResult = Report & {
  gate: { passed: boolean; checks: { id: string; ok: boolean; actual: number }[] };
  delta: null | Record<string, unknown>;
};
const json = (s: string): JsonResult => JSON.parse(s) as JsonResult;
const IMAGES = ['base-v1.fp.img', 'base-v2.fp.img', 'app.fp.img'].map(fx);

describe('sharemap analyze', () => {
  it('default instances: one domain, text headline with the report figures', async () => {
    const j = await cli(['analyze', ...IMAGES, '--json']);
    expect(j.code).toBe(0);
    const report = json(j.stdout);
    expect(report.kind).toBe('sharemap-report');
    expect(report.instances).toHaveLength(3);
    expect(report.domains.map((d) => d.label)).toEqual(['default']);
    expect(report.totals.bytesSaved).toBe(report.totals.bytesWithoutSharing - report.totals.bytesWithSharing);
    // docs/sharing-rules.md worked example "base-v1.fp, base-v2.fp, app.fp : acme".
    expect(report.totals).toMatchObject({
      bytesWithoutSharing: 8_675_328,
      bytesWithSharing: 7_434_240,
      bytesSaved: 1_241_088,
    });
    expect(report.gate).toEqual({ passed: true, checks: [] });
    expect(report.delta).toBeNull();
    const t = await cli(['analyze', ...IMAGES]);
    expect(t.code).toBe(0);
    expect(t.stderr).toBe('');
    const tt = report.totals;
    expect(t.stdout.split('\n')[0]).toBe(
      `3 instances, ${formatBytes(tt.bytesWithoutSharing)} of page cache without sharing, ${formatBytes(tt.bytesWithSharing)} with, ${formatBytes(tt.bytesSaved)} saved (${formatPercent(tt.percentSaved)})`,
    );
  });

  it('an empty fingerprint xattr: the manifest scan writes is accepted by analyze, and the file is private (R4)', async () => {
    const dir = tmp();
    const img = fx('synthetic/empty-fingerprint.img');
    const scanned = await cli(['scan', img, '--hash', '--ndjson']);
    expect(scanned.code).toBe(0);
    expect(scanned.stdout).toContain('"path":"/private"');
    expect(scanned.stdout).toMatch(/"path":"\/private".*"fingerprint":""/);
    const p = join(dir, 'empty-fp.ndjson');
    writeFileSync(p, scanned.stdout);
    const r = await cli(['analyze', p, img, '--json']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const rep = json(r.stdout);
    // two instances of one image: /shared shares its one page, /private (empty fingerprint) does not
    expect(rep.instances).toHaveLength(2);
    expect(rep.totals.bytesSaved).toBe(4096);
  });

  it('manifests (NDJSON, gzip, JSON) give the same figures as images', async () => {
    const dir = tmp();
    const files: string[] = [];
    for (const [k, img] of IMAGES.entries()) {
      const r = await cli(['scan', img, k === 2 ? '--json' : '--ndjson']);
      const p = join(dir, `m${k}.${k === 2 ? 'json' : k === 1 ? 'ndjson.gz' : 'ndjson'}`);
      writeFileSync(p, k === 1 ? gzipSync(r.stdout) : r.stdout);
      files.push(p);
    }
    const a = json((await cli(['analyze', ...IMAGES, '--json'])).stdout);
    const b = json((await cli(['analyze', ...files, '--json'])).stdout);
    expect(b.totals).toEqual(a.totals);
    // canonical order (image name), whatever the argument order
    expect(b.images.map((i) => i.name)).toEqual(['app.fp.img', 'base-v1.fp.img', 'base-v2.fp.img']);
  });

  it('--mounts fleet.fstab: instances, failed mounts, warnings on stderr', async () => {
    const imgs = FLEET_IMAGES.map(fx);
    const r = await cli(['analyze', ...imgs, '--mounts', join(MOUNTS, 'fleet.fstab'), '--json']);
    expect(r.code).toBe(0);
    const rep = json(r.stdout);
    expect(rep.instances.map((i) => i.label)).toContain('/run/images/no-domain');
    expect(rep.findings.map((f) => f.code)).toContain('mount-failed');
    expect(rep.domains.map((d) => d.label).sort()).toEqual(['D1', 'D2']);
    expect(r.stderr).toMatch(/^sharemap: warning: fleet\.fstab:10:1: /m);
    expect(JSON.stringify(rep)).not.toContain('acme-signed'); // raw domain ids never appear (R11)
    // --page-size and --working-set reach the engine
    const r2 = await cli([
      'analyze',
      ...imgs,
      '--mounts',
      join(MOUNTS, 'fleet.fstab'),
      '--page-size',
      '16KiB',
      '--working-set',
      '50%',
      '--json',
    ]);
    expect(json(r2.stdout).options).toEqual({ pageSize: 16384, workingSetFraction: 0.5 });
  });

  it('a pasted fstab line with domain_id= is read as fstab, keeps its domain, and the CLI says which format it used', async () => {
    const dir = tmp();
    const p = join(dir, 'pasted.txt');
    writeFileSync(
      p,
      '/var/lib/images/app.fp.img /run/images/app erofs ro,inode_share,domain_id=tenant-a 0 0\n',
    );
    const r = await cli(['analyze', fx('app.fp.img'), '--mounts', p, '--json']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const rep = json(r.stdout) as JsonResult & { mountConfigs: unknown };
    expect(rep.mountConfigs).toEqual([{ file: 'pasted.txt', format: 'fstab', erofsMounts: 1 }]);
    expect(rep.domains.map((d) => d.label)).toEqual(['D1']);
    expect(rep.instances.map((i) => i.domainKnown)).toEqual([true]);
    const t = await cli(['analyze', fx('app.fp.img'), '--mounts', p]);
    expect(t.stdout).toContain('\nMount configurations: pasted.txt read as fstab (1 erofs mount)\n');
  });

  it('a mount configuration that matches no image is exit 2', async () => {
    const r = await cli(['analyze', fx('edge-mini.b512.img'), '--mounts', join(MOUNTS, 'fleet.fstab')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/no erofs mount in fleet\.fstab matches the images/);
  });

  it('thresholds: pass -> 0, fail -> 1 with one gate line on stderr', async () => {
    const rep = json((await cli(['analyze', ...IMAGES, '--json'])).stdout);
    const pct = rep.totals.percentSaved;
    let r = await cli([
      'analyze',
      ...IMAGES,
      '--min-saved-percent',
      String(Math.floor(pct)),
      '--max-unfingerprinted-files',
      '0',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Gate: PASSED\n {2}ok {4}minSavedPercent: /);
    r = await cli(['analyze', ...IMAGES, '--min-saved-percent', String(Math.ceil(pct + 1))]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      /^sharemap: gate failed: minSavedPercent \(saved [\d.]+ % of page cache < minimum/,
    );
    expect(r.stdout).toContain('FAIL  minSavedPercent');
    // unfingerprinted files: edge.img has none
    r = await cli([
      'analyze',
      fx('edge.img'),
      fx('app.fp.img'),
      '--max-unfingerprinted-files',
      '0',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const g = json(r.stdout).gate;
    const regular = json(r.stdout).images.find((i) => i.name === 'edge.img')!.regularFiles;
    expect(g.checks[0]).toMatchObject({ id: 'maxUnfingerprintedFiles', ok: false, actual: regular });
  });

  it('failOn: fingerprint mismatch (--hash on a forged image), mixed publishers, inode_share ineffective', async () => {
    let r = await cli([
      'analyze',
      fx('base-v2.fp.forged.img'),
      fx('base-v2.fp.img'),
      '--hash',
      '--fail-on',
      'fingerprint-mismatch',
    ]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/gate failed: failOn:fingerprint-mismatch/);
    r = await cli([
      'analyze',
      fx('base-v2.fp.img'),
      fx('app.fp.img'),
      '--publisher',
      'base-v2.fp.img=debian',
      '--publisher',
      'app.fp.img=acme',
      '--fail-on',
      'mixed-publishers,fingerprint-mismatch',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}failOn:mixed-publishers/);
    expect(r.stdout).toMatch(/ok {4}failOn:fingerprint-mismatch/);
    r = await cli(['analyze', fx('base-v2.fp.img'), fx('app.fp.img'), '--fail-on', 'mixed-publishers']);
    expect(r.code).toBe(0);
    r = await cli(['analyze', fx('edge.img'), fx('app.fp.img'), '--fail-on', 'inode-share-ineffective']);
    expect(r.code).toBe(1);
    r = await cli(['analyze', fx('app.fp.img'), '--fail-on', 'no-such-code']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/--fail-on: unknown finding code "no-such-code"/);
  });

  it('.sharemap.yml thresholds apply, flags override, invalid config is exit 2', async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, '.sharemap.yml'),
      'thresholds:\n  minSavedPercent: 99\n  failOn: [inode-share-ineffective]\n',
    );
    let r = await cli(['analyze', ...IMAGES], { cwd: dir });
    expect(r.code).toBe(1);
    r = await cli(['analyze', ...IMAGES, '--min-saved-percent', '1'], { cwd: dir });
    expect(r.code).toBe(0);
    r = await cli(['analyze', ...IMAGES, '--no-config'], { cwd: dir });
    expect(r.code).toBe(0);
    writeFileSync(join(dir, '.sharemap.yml'), 'thresholds:\n  minSavedPercent: "many"\n');
    r = await cli(['analyze', ...IMAGES], { cwd: dir });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(
      'sharemap: .sharemap.yml:2:20: thresholds.minSavedPercent: expected a number between 0 and 100, got "many"',
    );
  });

  // A "release": base.img was base-v2 (app shares its libraries), now it is base-v1.
  function release(version: 'v1' | 'v2'): string {
    const dir = join(tmp(), version);
    mkdirSync(dir);
    copyFileSync(fx(`base-${version}.fp.img`), join(dir, 'base.img'));
    copyFileSync(fx('app.fp.img'), join(dir, 'app.img'));
    return dir;
  }

  it('--baseline FILE: delta, files that stopped sharing, maxBytesLost gate', async () => {
    const before = release('v2');
    const after = release('v1');
    const base = await cli(['analyze', join(before, 'base.img'), join(before, 'app.img'), '--json']);
    const baseFile = join(before, 'report.json');
    writeFileSync(baseFile, base.stdout);
    const baseReport = json(base.stdout);
    const r = await cli([
      'analyze',
      join(after, 'base.img'),
      join(after, 'app.img'),
      '--baseline',
      baseFile,
      '--max-bytes-lost',
      '0',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const next = json(r.stdout);
    const delta = next.delta as {
      totals: { delta: { bytesSaved: number } };
      stoppedSharing: { image: string; path: string; savedBefore: number }[];
      bytesLost: number;
      bytesGained: number;
    };
    expect(delta.totals.delta.bytesSaved).toBe(next.totals.bytesSaved - baseReport.totals.bytesSaved);
    expect(delta.totals.delta.bytesSaved).toBeLessThan(0);
    expect(delta.bytesGained - delta.bytesLost).toBe(delta.totals.delta.bytesSaved);
    expect(delta.stoppedSharing.map((f) => `${f.image}:${f.path}`)).toContain(
      'app.img:/opt/app/lib/libexpat.so.1.8.10',
    );
    expect(next.gate.checks).toEqual([
      expect.objectContaining({ id: 'maxBytesLost', ok: false, actual: -delta.totals.delta.bytesSaved }),
    ]);
    // text output shows the delta and the top regressions
    const t = await cli(['analyze', join(after, 'base.img'), join(after, 'app.img'), '--baseline', baseFile]);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain(`Compared with the baseline (${baseFile}):`);
    expect(t.stdout).toContain(`  saved ${formatBytes(delta.totals.delta.bytesSaved)}:`);
    expect(t.stdout).toMatch(
      /top regressions \(stopped sharing\):\n +[\d.]+ KiB {2}base\.img:\/usr\/lib\/x86_64-linux-gnu\/libxslt/,
    );
    // without a baseline, baseline thresholds are skipped, not failed
    const s = await cli(['analyze', join(after, 'base.img'), '--max-bytes-lost', '0', '--json']);
    expect(s.code).toBe(0);
    expect(json(s.stdout).gate.checks[0]).toMatchObject({
      id: 'maxBytesLost',
      ok: true,
      skipped: 'no --baseline given',
    });
    // a baseline that is neither a file nor a link, id or name, and a bad file
    const bad = await cli(['analyze', join(after, 'base.img'), '--baseline', '/no/such/file.json']);
    expect(bad.code).toBe(2);
    expect(oneLine(bad.stderr)).toMatch(
      /--baseline \/no\/such\/file\.json: no such file, and not a report link, id or name/,
    );
    writeFileSync(join(before, 'x.json'), '{"kind":"something"}');
    const bad2 = await cli(['analyze', join(after, 'base.img'), '--baseline', join(before, 'x.json')]);
    expect(bad2.code).toBe(2);
    expect(oneLine(bad2.stderr)).toMatch(/not a sharemap report/);
    const bad3 = await cli(['analyze', join(after, 'base.img'), '--baseline', 'main']);
    expect(bad3.code).toBe(2);
    expect(oneLine(bad3.stderr)).toMatch(
      /--baseline main: no such file; to fetch the report named "main" from a server, give --server URL/,
    );
  });

  it('reads a compact (version 2) baseline as its per-instance form, and refuses a newer version', async () => {
    const dir = tmp();
    // Three mounts of each image in one domain: a compact table keeps the first's rows only.
    const names = ['base-v1.fp', 'base-v2.fp', 'app.fp'];
    const fleet = [0, 1, 2].flatMap((k) => names.map((n) => inst(`${n}-${k}`, n, 'default')));
    const perInstance = analyze(inputOf(fleet));
    const compact = analyze({ ...inputOf(fleet), fileTable: 'compact' });
    expect(compact.version).toBe(REPORT_VERSION);
    expect(compact.files.status.length * 3).toBe(perInstance.files.status.length);
    const files = { v1: join(dir, 'v1.json'), v2: join(dir, 'v2.json'), v3: join(dir, 'v3.json') };
    writeFileSync(files.v1, JSON.stringify(perInstance));
    writeFileSync(files.v2, JSON.stringify(compact));
    writeFileSync(files.v3, JSON.stringify({ ...compact, version: REPORT_VERSION + 1 }));
    const deltaOf = async (baseline: string) => {
      const r = await cli(['analyze', ...IMAGES, '--baseline', baseline, '--json']);
      expect(r.code).toBe(0);
      return json(r.stdout).delta;
    };
    const d1 = await deltaOf(files.v1);
    expect(d1).not.toBeNull();
    expect(await deltaOf(files.v2)).toEqual(d1);
    const bad = await cli(['analyze', ...IMAGES, '--baseline', files.v3]);
    expect(bad.code).toBe(2);
    expect(oneLine(bad.stderr)).toBe(
      `sharemap: ${files.v3}: unsupported report version ${REPORT_VERSION + 1} (this sharemap reads versions 1 to ${REPORT_VERSION})`,
    );
  }, 120_000);

  it('--markdown: PR comment with the report numbers, delta, gate; appended to $GITHUB_STEP_SUMMARY', async () => {
    const before = release('v2');
    const after = release('v1');
    const baseFile = join(before, 'report.json');
    writeFileSync(
      baseFile,
      (await cli(['analyze', join(before, 'base.img'), join(before, 'app.img'), '--json'])).stdout,
    );
    const rep = json(
      (
        await cli([
          'analyze',
          join(after, 'base.img'),
          join(after, 'app.img'),
          '--baseline',
          baseFile,
          '--json',
        ])
      ).stdout,
    );
    const summary = join(tmp(), 'summary.md');
    writeFileSync(summary, '# earlier step\n');
    const r = await cli(
      [
        'analyze',
        join(after, 'base.img'),
        join(after, 'app.img'),
        '--baseline',
        baseFile,
        '--markdown',
        '--min-saved-percent',
        '0',
        '--fail-on',
        'fingerprint-mismatch',
      ],
      {
        env: { GITHUB_STEP_SUMMARY: summary },
      },
    );
    expect(r.code).toBe(0);
    const md = r.stdout;
    const t = rep.totals;
    expect(md).toMatch(
      /^### sharemap: page cache sharing\n\n:white_check_mark: \*\*Gate passed\*\* \(2 checks\)\n/,
    );
    expect(md).toContain(
      `**2 instances, ${formatBytes(t.bytesWithoutSharing)} of page cache without sharing, ${formatBytes(t.bytesWithSharing)} with, ${formatBytes(t.bytesSaved)} saved (${formatPercent(t.percentSaved)})**`,
    );
    const d = rep.delta as {
      totals: { base: Report['totals']; delta: Report['totals'] };
      stoppedSharing: { image: string; path: string; savedBefore: number }[];
      bytesLost: number;
      bytesGained: number;
    };
    expect(md).toContain(
      `Compared with the baseline: saved ${formatBytes(d.totals.delta.bytesSaved)} (${formatBytes(d.totals.base.bytesSaved)} -> ${formatBytes(t.bytesSaved)}); ${d.stoppedSharing.length} file(s) stopped sharing`,
    );
    expect(md).toContain(
      `| app.img:/opt/app/lib/libexpat.so.1.8.10 | ${formatBytes(d.stoppedSharing.find((f) => f.path === '/opt/app/lib/libexpat.so.1.8.10')!.savedBefore)} |`,
    );
    expect(md).toContain(
      `Bytes lost since the baseline: ${formatBytes(d.bytesLost)}, gained: ${formatBytes(d.bytesGained)}.`,
    );
    expect(md).toContain('| `minSavedPercent` | ok |');
    expect(readFileSync(summary, 'utf8')).toBe('# earlier step\n' + md + '\n');
    // --json-out: the JSON in the same run, usable as the next baseline
    const out = join(tmp(), 'next-baseline.json');
    const r2 = await cli([
      'analyze',
      join(after, 'base.img'),
      join(after, 'app.img'),
      '--markdown',
      '--json-out',
      out,
    ]);
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/^### sharemap/);
    expect(json(readFileSync(out, 'utf8')).totals).toEqual(t);
    expect(
      (
        await cli([
          'analyze',
          join(after, 'base.img'),
          join(after, 'app.img'),
          '--baseline',
          out,
          '--max-bytes-lost',
          '0',
        ])
      ).code,
    ).toBe(0);
    // failing gate in markdown
    const f = await cli(['analyze', join(after, 'base.img'), '--markdown', '--min-saved-percent', '100']);
    expect(f.code).toBe(1);
    expect(f.stdout).toContain(':x: **Gate failed**: 1 of 1 checks failed');
    expect(f.stdout).toContain('| `minSavedPercent` | **failed** |');
  });

  it('usage errors are exit 2 with one line', async () => {
    for (const args of [
      ['analyze'],
      ['analyze', fx('app.fp.img'), '--json', '--markdown'],
      ['analyze', fx('app.fp.img'), '--page-size', '3000'],
      ['analyze', fx('app.fp.img'), '--working-set', '2'],
      ['analyze', fx('app.fp.img'), '--map', 'nonsense'],
      ['analyze', fx('broken/truncated-half.img')],
      ['analyze', fx('app.fp.img'), '--mounts', '/no/such/fstab'],
      ['frobnicate'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(oneLine(r.stderr)).toMatch(/^sharemap/);
    }
  });

  it.skipIf(!haveBuild())('child process: gate exit codes (built CLI)', () => {
    expect(cliProcess(['analyze', ...IMAGES, '--min-saved-percent', '1']).code).toBe(0);
    const r = cliProcess(['analyze', ...IMAGES, '--min-saved-percent', '99']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/gate failed: minSavedPercent/);
    expect(cliProcess(['analyze', ...IMAGES, '--min-saved-percent', 'x']).code).toBe(2);
  });
});
