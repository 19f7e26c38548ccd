/**
 * `sharemap upload` (and `token create`, `--baseline REPORT_ID`) against a real server
 * (apps/server) started in-process on a free port with a temporary data folder.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@sharemap/server';
import { formatBytes, formatPercent, markdownText, type Report } from '@sharemap/sharing';
import { cli, cliProcessAsync, fx, haveBuild, MOUNTS, oneLine, tmp } from './helpers.js';
import { serve } from './server-helpers.js';

type JsonResult = Report & {
  url: string;
  id: string;
  gate: { passed: boolean; checks: { id: string; ok: boolean }[] };
  delta: null | {
    totals: { delta: { bytesSaved: number } };
    stoppedSharing: { image: string; path: string }[];
  };
};
const json = (s: string): JsonResult => JSON.parse(s) as JsonResult;

async function getReport(server: RunningServer, id: string): Promise<Report> {
  const res = await fetch(`${server.url}/api/reports/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
}

describe('sharemap upload (open server)', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = (await serve(false)).server;
  });
  afterAll(async () => {
    await s?.close(1000);
  });

  it('uploads images, prints the link, the summary matches the stored report', async () => {
    const r = await cli(['upload', fx('base-v2.fp.img'), fx('app.fp.img'), '--server', s.url, '--json']);
    expect(r.stderr).toMatch(/^uploading base-v2\.fp\.img: 3\.4 MiB\n/);
    expect(r.code, r.stderr).toBe(0);
    const out = json(r.stdout);
    expect(out.url).toBe(`${s.url}/r/${out.id}`);
    const stored = await getReport(s, out.id);
    expect(out.totals).toEqual(stored.totals);
    expect(stored.images.map((i) => i.name)).toEqual(['app.fp.img', 'base-v2.fp.img']); // canonical order
    // the same figures as the offline analysis
    const offline = json((await cli(['analyze', fx('base-v2.fp.img'), fx('app.fp.img'), '--json'])).stdout);
    expect(stored.totals).toEqual(offline.totals);
    // text output: link first
    const t = await cli(['upload', fx('base-v2.fp.img'), fx('app.fp.img'), '--server', s.url, '-q']);
    expect(t.code).toBe(0);
    expect(t.stderr).toBe('');
    expect(t.stdout).toMatch(new RegExp(`^Report: ${s.url.replace(/\./g, '\\.')}/r/[A-Za-z0-9_-]{22,}\\n`));
  }, 120_000);

  it('--scan-locally sends manifests only; --mounts; markdown numbers = the report; job summary', async () => {
    const summary = join(tmp(), 'summary.md');
    const countImages = (): number =>
      (s.ctx.db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n;
    const before = countImages();
    const imgs = ['base-v1.fp.img', 'base-v2.fp.img', 'app.fp.img', 'app.fp.lz4hc.img'].map(fx);
    const r = await cli(
      [
        'upload',
        ...imgs,
        '--scan-locally',
        '--mounts',
        join(MOUNTS, 'fleet.fstab'),
        '--server',
        s.url,
        '--markdown',
        '--json-out',
        join(tmp(), 'x.json'),
      ],
      { env: { GITHUB_STEP_SUMMARY: summary } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /scanning base-v1\.fp\.img locally\.\.\.\nuploaded the manifest of base-v1\.fp\.img \(\d+ records\) as /,
    );
    expect(r.stderr).toMatch(/sharemap: warning: .*\/run\/images\/edge ignored: /); // edge.img was not uploaded
    const m = /\[Full report\]\((http:\/\/[^)]+\/r\/([A-Za-z0-9_-]+))\)/.exec(r.stdout);
    expect(m).not.toBeNull();
    const report = await getReport(s, m![2]!);
    expect(report.instances.map((i) => i.label)).toContain('/run/images/app-thirdparty');
    const t = report.totals;
    expect(r.stdout).toContain(
      `**${report.instances.filter((i) => i.mountError === undefined && !(i.inodeShare.effective === false && i.inodeShare.reason === 'not-mounted')).length} instances, ${formatBytes(t.bytesWithoutSharing)} of page cache without sharing, ${formatBytes(t.bytesWithSharing)} with, ${formatBytes(t.bytesSaved)} saved (${formatPercent(t.percentSaved)})**`,
    );
    for (const [label, d] of Object.entries(report.perDomain)) {
      const row = r.stdout.split('\n').find((l) => l.startsWith(`| ${markdownText(label)} |`));
      expect(row, label).toBeDefined();
      expect(row).toContain(
        `| ${formatBytes(d.bytesWithoutSharing)} | ${formatBytes(d.bytesWithSharing)} | ${formatBytes(d.bytesSaved)} (${formatPercent(d.percentSaved)}) |`,
      );
    }
    expect(readFileSync(summary, 'utf8')).toBe(r.stdout + '\n');
    expect(countImages()).toBe(before); // --scan-locally: no image bytes reached the server
  }, 120_000);

  it('image with a blob device (multipart), and a manifest file input', async () => {
    const dir = tmp();
    const man = join(dir, 'app.manifest.ndjson');
    writeFileSync(man, (await cli(['scan', fx('app.fp.img'), '--ndjson'])).stdout);
    const r = await cli([
      'upload',
      fx('edge-mini.chunk4k.blob.img'),
      '--device',
      fx('edge-mini.chunk4k.blob.blob'),
      man,
      '--server',
      s.url,
      '--json',
      '-q',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code, r.stderr).toBe(0);
    const rep = await getReport(s, json(r.stdout).id);
    expect(rep.images.map((i) => i.name).sort()).toEqual(['app.fp.img', 'edge-mini.chunk4k.blob.img']);
  }, 120_000);

  it('thresholds: pass 0, fail 1; a corrupt image is exit 2', async () => {
    const imgs = [fx('base-v2.fp.img'), fx('app.fp.img')];
    expect((await cli(['upload', ...imgs, '--server', s.url, '-q', '--min-saved-percent', '1'])).code).toBe(
      0,
    );
    const f = await cli([
      'upload',
      ...imgs,
      '--server',
      s.url,
      '-q',
      '--min-saved-percent',
      '99',
      '--fail-on',
      'mixed-publishers',
      '--publisher',
      'app.fp.img=acme',
      '--publisher',
      'base-v2.fp.img=debian',
    ]);
    expect(f.code).toBe(1);
    expect(oneLine(f.stderr)).toMatch(
      /^sharemap: gate failed: minSavedPercent \(.*\); failOn:mixed-publishers \(/,
    );
    expect(f.stdout).toMatch(/^Report: http:/);
    const b = await cli(['upload', fx('broken/zeroed-magic.img'), '--server', s.url, '-q']);
    expect(b.code).toBe(2);
    expect(oneLine(b.stderr)).toMatch(/zeroed-magic\.img: the server could not read the image: EBADMAGIC/);
    const m = await cli([
      'upload',
      fx('app.fp.img'),
      '--mounts',
      join(MOUNTS, 'README.md'),
      '--server',
      s.url,
      '-q',
    ]);
    expect(m.code).toBe(2);
  }, 120_000);

  it('--baseline REPORT_ID and report link: delta against the stored report', async () => {
    const v2 = join(tmp(), 'v2');
    const v1 = join(tmp(), 'v1');
    for (const [dir, base] of [
      [v2, 'base-v2.fp.img'],
      [v1, 'base-v1.fp.img'],
    ] as const) {
      mkdirSync(dir);
      copyFileSync(fx(base), join(dir, 'base.img'));
      copyFileSync(fx('app.fp.img'), join(dir, 'app.img'));
    }
    const up = await cli([
      'upload',
      join(v2, 'base.img'),
      join(v2, 'app.img'),
      '--server',
      s.url,
      '--json',
      '-q',
    ]);
    expect(up.code, up.stderr).toBe(0);
    const first = json(up.stdout);
    // The server's ids are random base64url: one in 64 starts with "-", which the argument
    // parser once refused as an ambiguous option value (exit 2 at random). The same report
    // under such an id, so `--baseline ID` meets one every run.
    // When the server's id already starts with "-" (one run in 64) it is used as it is: a copy
    // under the same id would break the table's unique key.
    const dashId = first.id.startsWith('-') ? first.id : `-${first.id.slice(1)}`;
    if (dashId !== first.id) {
      s.ctx.db.exec('CREATE TEMP TABLE dash_report AS SELECT * FROM reports WHERE 0');
      s.ctx.db.prepare('INSERT INTO dash_report SELECT * FROM reports WHERE id = ?').run(first.id);
      s.ctx.db.prepare('UPDATE dash_report SET id = ?').run(dashId);
      s.ctx.db.exec('INSERT INTO reports SELECT * FROM dash_report; DROP TABLE dash_report');
    }
    const r = await cli([
      'upload',
      join(v1, 'base.img'),
      join(v1, 'app.img'),
      '--server',
      s.url,
      '--json',
      '-q',
      '--baseline',
      dashId,
      '--max-bytes-lost',
      '0',
    ]);
    expect(r.code, r.stderr).toBe(1);
    const next = json(r.stdout);
    expect(next.delta!.totals.delta.bytesSaved).toBe(next.totals.bytesSaved - first.totals.bytesSaved);
    expect(next.delta!.stoppedSharing.map((f) => `${f.image}:${f.path}`)).toContain(
      'app.img:/opt/app/lib/libexpat.so.1.8.10',
    );
    // analyze offline against the server's report, by link
    const a = await cli([
      'analyze',
      join(v1, 'base.img'),
      join(v1, 'app.img'),
      '--json',
      '--baseline',
      first.url,
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(json(a.stdout).delta!.totals.delta.bytesSaved).toBe(next.delta!.totals.delta.bytesSaved);
    // unknown id (and no name like it): the server says 404 -> exit 2
    const u = await cli([
      'analyze',
      fx('app.fp.img'),
      '--baseline',
      'AAAAAAAAAAAAAAAAAAAAAA',
      '--server',
      s.url,
    ]);
    expect(u.code, u.stderr).toBe(2);
    expect(oneLine(u.stderr)).toMatch(
      /--baseline AAAAAAAAAAAAAAAAAAAAAA: no report has this id or name on the sharemap server at /,
    );
  }, 120_000);
});

describe('sharemap upload (server requiring tokens) and sharemap token create', () => {
  let s: RunningServer;
  let data: string;
  beforeAll(async () => {
    ({ server: s, data } = await serve(true));
  });
  afterAll(async () => {
    await s?.close(1000);
  });

  it('without a token: exit 2 with a hint; with a token from `sharemap token create`: exit 0', async () => {
    const no = await cli(['upload', fx('app.fp.img'), '--server', s.url, '-q']);
    expect(no.code).toBe(2);
    expect(oneLine(no.stderr)).toMatch(
      /the server refused the request \(401\).*give a token with --token or SHAREMAP_TOKEN/,
    );
    const bad = await cli(['upload', fx('app.fp.img'), '--server', s.url, '-q', '--token', 'smt_wrong']);
    expect(bad.code).toBe(2);
    expect(oneLine(bad.stderr)).toMatch(/check the token/);
    const t = await cli(['token', 'create', 'ci-test', '--data', data]);
    expect(t.code).toBe(0);
    const token = t.stdout.trim();
    expect(token).toMatch(/^smt_[A-Za-z0-9_-]{20,}$/);
    expect(t.stderr).toMatch(/shown only once/);
    const env = await cli(['upload', fx('app.fp.img'), '--server', s.url, '-q', '--json'], {
      env: { SHAREMAP_TOKEN: token },
    });
    expect(env.code).toBe(0);
    expect(json(env.stdout).url).toMatch(/\/r\//);
    const flagged = await cli([
      'upload',
      fx('app.fp.img'),
      '--scan-locally',
      '--server',
      s.url,
      '-q',
      '--token',
      token,
    ]);
    expect(flagged.code).toBe(0);
    expect((await cli(['token', 'create', 'bad name!', '--data', data])).code).toBe(2);
  }, 120_000);

  it.skipIf(!haveBuild())(
    'child process: upload with SHAREMAP_TOKEN and a failing gate exits 1 (built CLI)',
    async () => {
      const token = (await cli(['token', 'create', 'child', '--data', data])).stdout.trim();
      const r = await cliProcessAsync(
        ['upload', fx('app.fp.img'), fx('base-v2.fp.img'), '--server', s.url, '--min-saved-percent', '99'],
        {
          env: { SHAREMAP_TOKEN: token },
        },
      );
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toMatch(/^Report: http:\/\/127\.0\.0\.1:\d+\/r\//);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^sharemap: gate failed: minSavedPercent/);
      expect(r.stderr).toMatch(/^uploading app\.fp\.img: 896\.0 KiB$/m); // plain lines, not a TTY
    },
    120_000,
  );
});
