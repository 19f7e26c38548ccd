/** `--residency`, both measures in the outputs, and the gate on either measure (docs/working-set.md). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@sharemap/server';
import type { Report } from '@sharemap/sharing';
import { cli, fx, tmp } from './helpers.js';
import { serve } from './server-helpers.js';

type JsonResult = Report & {
  gate: { passed: boolean; checks: { id: string; ok: boolean; message: string }[] };
};
const LIBCAP = '/lib/x86_64-linux-gnu/libcap.so.2.66'; // 47128 bytes: 12 pages
// The same image mounted twice (default instances i1, i2: one domain, inode_share): every file shared.
const IMAGES = [fx('base-v1.fp.img'), fx('base-v1.fp.img')];

/** fincore --raw and -J outputs (format of util-linux 2.38) naming one file of the image, 7 pages resident. */
function inputs(dir: string): { raw: string; json: string } {
  const raw = join(dir, 'i1.fincore.raw');
  writeFileSync(raw, `RES PAGES SIZE FILE\n28K 7 46K ${LIBCAP}\n`);
  const json = join(dir, 'i2.fincore.json');
  writeFileSync(json, JSON.stringify({ fincore: [{ res: '28K', pages: 7, size: '46K', file: LIBCAP }] }));
  return { raw, json };
}

describe('sharemap analyze --residency', () => {
  it('INSTANCE=FILE per instance: a shared inode both report resident counts once; both measures shown', async () => {
    const dir = tmp();
    const { raw, json } = inputs(dir);
    const args = ['analyze', ...IMAGES, '--residency', `i1=${raw}`, '--residency', `i2=${json}`];
    const j = await cli([...args, '--json']);
    expect(j.stderr).toBe('');
    expect(j.code).toBe(0);
    const r = JSON.parse(j.stdout) as JsonResult;
    expect(r.measured!.totals).toMatchObject({
      pagesWithoutSharing: 14,
      pagesWithSharing: 7,
      percentSaved: 50,
    });
    expect(r.measured!.coverage).toMatchObject({ files: 476, filesWithData: 2, unmatchedEntries: 0 });
    expect(r.measured!.sources).toEqual(['i1.fincore.raw', 'i2.fincore.json']);
    // The upper bound in the JSON: the 474 files without data fully resident (libcap's 12 pages
    // measured as 7 on each instance): 2 x 924 - 2 x 5 without sharing, 924 - 5 with.
    expect(r.measured!.upper).toMatchObject({ pagesWithoutSharing: 1838, pagesWithSharing: 919 });
    const t = await cli(args);
    expect(t.stdout.split('\n')[1]).toBe(
      '  static: 7.2 MiB -> 3.6 MiB, 50.0 %; measured: 56.0 KiB -> 28.0 KiB, 50.0 % (residency data for 2 of 476 files, 92.0 KiB of 6.4 MiB); ' +
        'at most 7.2 MiB -> 3.6 MiB, 50.0 % if the files without data were fully resident',
    );
    const md = await cli([...args, '--markdown']);
    expect(md.stdout).toContain(
      '\nstatic: 7.2 MiB -> 3.6 MiB, 50.0 %; measured: 56.0 KiB -> 28.0 KiB, 50.0 %',
    );
  });

  it('--measure measured gates on the measured saving (flag and .sharemap.yml); without residency it is a usage error', async () => {
    const dir = tmp();
    const { raw, json } = inputs(dir);
    const args = ['analyze', ...IMAGES, '--residency', `i1=${raw}`, '--residency', `i2=${json}`, '--json'];
    const fail = JSON.parse(
      (await cli([...args, '--measure', 'measured', '--min-saved-bytes', '29KiB'])).stdout,
    ) as JsonResult;
    expect(fail.gate.passed).toBe(false);
    expect(fail.gate.checks[0]!.message).toBe(
      'saved 28.0 KiB of the measured working set < minimum 29.0 KiB',
    );
    const failed = await cli([...args, '--measure', 'measured', '--min-saved-bytes', '29KiB']);
    expect(failed.code).toBe(1);
    // The static saving (3.6 MiB) passes the same threshold.
    expect((await cli([...args, '--min-saved-bytes', '29KiB'])).code).toBe(0);
    writeFileSync(
      join(dir, '.sharemap.yml'),
      `residency:\n  - i1=i1.fincore.raw\n  - i2=i2.fincore.json\nthresholds:\n  measure: measured\n  minSavedPercent: 60\n`,
    );
    const viaConfig = await cli(['analyze', ...IMAGES, '--json'], { cwd: dir });
    expect(viaConfig.code).toBe(1);
    const g = (JSON.parse(viaConfig.stdout) as JsonResult).gate;
    expect(g.checks[0]!.message).toBe('saved 50.0 % of the measured working set < minimum 60.0 %');
    const none = await cli(['analyze', ...IMAGES, '--measure', 'measured', '--min-saved-percent', '10']);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      'sharemap: --measure measured needs residency data (--residency FILE, or a host snapshot as --mounts)\n',
    );
  });

  it('--help names the residency formats, fincore first', async () => {
    const h = await cli(['analyze', '--help']);
    expect(h.stdout.replace(/\s+/g, ' ')).toContain(
      'Page-cache residency for the measured working set: fincore -J, fincore --raw (util-linux; -b for exact sizes), vmtouch -v, pcstat -json',
    );
  });

  it('bad input: one line with file:line:column, exit 2; an unknown instance is named', async () => {
    const dir = tmp();
    const bad = join(dir, 'bad.raw');
    writeFileSync(bad, `RES PAGES SIZE FILE\n28K seven 46K ${LIBCAP}\n`);
    const r = await cli(['analyze', ...IMAGES, '--residency', `i1=${bad}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('sharemap: bad.raw:2:5: PAGES must be a whole number of pages, found "seven"\n');
    const { raw } = inputs(dir);
    const u = await cli(['analyze', ...IMAGES, '--residency', `web=${raw}`]);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('no instance "web"');
  });
});

describe('sharemap upload --residency', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = (await serve(false)).server;
  });
  afterAll(async () => {
    await s?.close(1000);
  });

  it('sends each residency input beside the images; the server report has both measures', async () => {
    const dir = tmp();
    const { raw, json } = inputs(dir);
    // base-v1 and base-v2 share libcap (same fingerprint and size) in the default domain.
    const images = [fx('base-v1.fp.img'), fx('base-v2.fp.img')];
    const args = ['--residency', `i1=${raw}`, '--residency', `i2=${json}`, '--json'];
    const up = await cli(['upload', ...images, '--server', s.url, ...args]);
    expect(up.stderr).not.toContain('error');
    expect(up.code).toBe(0);
    const r = JSON.parse(up.stdout) as JsonResult;
    expect(r.measured!.totals).toMatchObject({ pagesWithoutSharing: 14, pagesWithSharing: 7 });
    // The same figures as the local analysis.
    const local = JSON.parse((await cli(['analyze', ...images, ...args])).stdout) as JsonResult;
    expect(r.measured!.totals).toEqual(local.measured!.totals);
    expect(r.totals).toEqual(local.totals);
  }, 120_000);
});
