/**
 * Named baselines against a real server: `upload --save-as main` on the main branch, then
 * `upload|analyze --baseline main` in a pull request shows the delta and gates; unknown
 * names (exit 2), tokens, a server that is down (exit 3), and the CI journey as written in
 * README and docs/ci.md (`sharemap upload build/*.erofs --mounts deploy/fstab --baseline main`
 * with the server and thresholds in .sharemap.yml).
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@sharemap/server';
import type { Report } from '@sharemap/sharing';
import { cli, cliProcessAsync, fx, haveBuild, oneLine, tmp } from './helpers.js';
import { serve, unusedPort } from './server-helpers.js';

type JsonResult = Report & {
  url: string;
  id: string;
  baseline?: string;
  baselineUrl?: string;
  savedAs?: string;
  gate: { passed: boolean; checks: { id: string; ok: boolean }[] };
  delta: null | {
    totals: { delta: { bytesSaved: number } };
    stoppedSharing: { image: string; path: string }[];
  };
};
const json = (s: string): JsonResult => JSON.parse(s) as JsonResult;

/**
 * A repository checkout: build/base.erofs and build/app.erofs (base v2 on main, v1 in the pull
 * request: libexpat stops sharing), deploy/fstab mounting both in one domain.
 */
function checkout(base: 'v1' | 'v2', yml?: string): string {
  const dir = tmp();
  mkdirSync(join(dir, 'build'));
  mkdirSync(join(dir, 'deploy'));
  copyFileSync(fx(`base-${base}.fp.img`), join(dir, 'build/base.erofs'));
  copyFileSync(fx('app.fp.img'), join(dir, 'build/app.erofs'));
  writeFileSync(
    join(dir, 'deploy/fstab'),
    [
      '/var/lib/images/base.erofs  /run/images/base  erofs  ro,inode_share,domain_id=acme  0 0',
      '/var/lib/images/app.erofs   /run/images/app   erofs  ro,inode_share,domain_id=acme  0 0',
      '',
    ].join('\n'),
  );
  if (yml !== undefined) writeFileSync(join(dir, '.sharemap.yml'), yml);
  return dir;
}
const IMAGES = ['build/base.erofs', 'build/app.erofs'];

/**
 * The CLI in-process in a checkout: its relative paths (build/..., deploy/...) are made
 * absolute, since in-process runs share the test process's working directory.
 */
function run(args: string[], opts: { cwd: string; env?: Record<string, string> }): ReturnType<typeof cli> {
  return cli(
    args.map((a) => (/^(build|deploy)\//.test(a) ? join(opts.cwd, a) : a)),
    opts,
  );
}

async function nameOf(s: RunningServer, name: string, token?: string): Promise<string | undefined> {
  const res = await fetch(`${s.url}/api/report-names/${name}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (res.status === 404) return undefined;
  expect(res.status).toBe(200);
  return ((await res.json()) as { reportId: string }).reportId;
}

describe('named baselines (open server)', () => {
  let s: RunningServer;
  let main: JsonResult;
  beforeAll(async () => {
    s = (await serve(false)).server;
  });
  afterAll(async () => {
    await s?.close(1000);
  });

  it('upload --save-as main names the new report', async () => {
    const cwd = checkout('v2');
    const r = await run(
      ['upload', ...IMAGES, '--mounts', 'deploy/fstab', '--server', s.url, '--save-as', 'main'],
      {
        cwd,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Report: http:/);
    expect(r.stderr).toMatch(new RegExp(`report name "main" now points at ${s.url}/r/[A-Za-z0-9_-]{22}\\n`));
    const j = await run(
      [
        'upload',
        ...IMAGES,
        '--mounts',
        'deploy/fstab',
        '--server',
        s.url,
        '--save-as',
        'main',
        '--json',
        '-q',
      ],
      { cwd },
    );
    expect(j.code).toBe(0);
    expect(j.stderr).toBe('');
    main = json(j.stdout);
    expect(main.savedAs).toBe('main');
    expect(await nameOf(s, 'main')).toBe(main.id);
  }, 120_000);

  it('upload --baseline main: delta against the named report, gate exit 1', async () => {
    const cwd = checkout('v1');
    const r = await run(
      [
        'upload',
        ...IMAGES,
        '--mounts',
        'deploy/fstab',
        '--server',
        s.url,
        '--baseline',
        'main',
        '--max-bytes-lost',
        '0',
        '--json',
        '-q',
      ],
      { cwd },
    );
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^sharemap: gate failed: maxBytesLost \(/);
    const pr = json(r.stdout);
    expect(pr.baseline).toBe('main');
    expect(pr.baselineUrl).toBe(main.url);
    expect(pr.delta!.totals.delta.bytesSaved).toBe(pr.totals.bytesSaved - main.totals.bytesSaved);
    expect(pr.delta!.totals.delta.bytesSaved).toBeLessThan(0);
    expect(pr.delta!.stoppedSharing.map((f) => `${f.image}:${f.path}`)).toContain(
      'app.erofs:/opt/app/lib/libexpat.so.1.8.10',
    );
    // the name did not move (no --save-as)
    expect(await nameOf(s, 'main')).toBe(main.id);
    // text and markdown name and link the baseline
    const t = await run(
      ['upload', ...IMAGES, '--mounts', 'deploy/fstab', '--server', s.url, '--baseline', 'main', '-q'],
      { cwd },
    );
    expect(t.code).toBe(0);
    expect(t.stdout).toContain(`Compared with the baseline (main: ${main.url}):`);
    const m = await run(
      [
        'upload',
        ...IMAGES,
        '--mounts',
        'deploy/fstab',
        '--server',
        s.url,
        '--baseline',
        'main',
        '--markdown',
        '-q',
      ],
      { cwd },
    );
    expect(m.code).toBe(0);
    expect(m.stdout).toContain(`Bytes lost since the baseline ([main](${main.url})): `);
  });

  it('analyze --baseline main --server URL (and server: in .sharemap.yml)', async () => {
    const cwd = checkout('v1');
    const a = await run(
      ['analyze', ...IMAGES, '--mounts', 'deploy/fstab', '--baseline', 'main', '--server', s.url, '--json'],
      {
        cwd,
      },
    );
    expect(a.code).toBe(0);
    const out = json(a.stdout);
    expect(out.baselineUrl).toBe(main.url);
    expect(out.delta!.totals.delta.bytesSaved).toBe(out.totals.bytesSaved - main.totals.bytesSaved);
    const withYml = checkout('v1', `server: ${s.url}\nthresholds:\n  maxFilesStoppedSharing: 0\n`);
    const y = await run(['analyze', ...IMAGES, '--mounts', 'deploy/fstab', '--baseline', 'main'], {
      cwd: withYml,
    });
    expect(y.code).toBe(1);
    expect(oneLine(y.stderr)).toMatch(/^sharemap: gate failed: maxFilesStoppedSharing \(/);
    // without a server, a name cannot be resolved
    const none = await run(['analyze', ...IMAGES, '--baseline', 'main'], { cwd });
    expect(none.code).toBe(2);
    expect(oneLine(none.stderr)).toBe(
      'sharemap: --baseline main: no such file; to fetch the report named "main" from a server, give --server URL (or server: in .sharemap.yml)',
    );
  });

  it('an unknown name is exit 2 with one line, before anything is uploaded', async () => {
    const cwd = checkout('v1');
    const reports = (): number =>
      (s.ctx.db.prepare('SELECT count(*) AS n FROM reports').get() as { n: number }).n;
    const images = (): number =>
      (s.ctx.db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n;
    const before = [reports(), images()];
    const u = await run(['upload', ...IMAGES, '--server', s.url, '--baseline', 'nope', '-q'], { cwd });
    expect(u.code).toBe(2);
    expect(oneLine(u.stderr)).toBe(
      `sharemap: --baseline nope: no such file, and no report is named "nope" on the sharemap server at ${s.url} (upload --save-as nope names a report)`,
    );
    expect([reports(), images()]).toEqual(before);
    const a = await run(['analyze', ...IMAGES, '--baseline', 'release/9', '--server', s.url], { cwd });
    expect(a.code).toBe(2);
    expect(oneLine(a.stderr)).toMatch(
      /^sharemap: --baseline release\/9: no such file, and no report is named "release\/9"/,
    );
    // a missing baseline file (a CI cache miss) is not sent a hint about --save-as
    const f = await run(['analyze', ...IMAGES, '--baseline', 'sharemap-baseline.json', '--server', s.url], {
      cwd,
    });
    expect(f.code).toBe(2);
    expect(oneLine(f.stderr)).toBe(
      `sharemap: --baseline sharemap-baseline.json: no such file, and no report is named "sharemap-baseline.json" on the sharemap server at ${s.url}`,
    );
    // an id the server does not know, and no name like it
    const id = await run(['analyze', ...IMAGES, '--baseline', 'AAAAAAAAAAAAAAAAAAAAAA', '--server', s.url], {
      cwd,
    });
    expect(id.code).toBe(2);
    expect(oneLine(id.stderr)).toMatch(
      /--baseline AAAAAAAAAAAAAAAAAAAAAA: no report has this id or name on the sharemap server/,
    );
    // neither a file, nor a link, id or name
    const bad = await run(['analyze', ...IMAGES, '--baseline', '/no/such/file.json'], { cwd });
    expect(bad.code).toBe(2);
    expect(oneLine(bad.stderr)).toBe(
      'sharemap: --baseline /no/such/file.json: no such file, and not a report link, id or name',
    );
  });

  it('--save-as: bad names are exit 2 before any network access; names with "/" and of id length', async () => {
    const cwd = checkout('v2');
    for (const [name, problem] of [
      ['../main', 'must not contain ".."'],
      ['/main', 'must not start with "/"'],
      ['main branch', 'may contain only letters, digits, ".", "_", "-" and "/"'],
      ['a'.repeat(101), 'must be 1-100 characters long'],
    ] as const) {
      const r = await run(['upload', ...IMAGES, '--server', 'http://127.0.0.1:1', '--save-as', name], {
        cwd,
      });
      expect(r.code, name).toBe(2);
      expect(oneLine(r.stderr)).toBe(`sharemap: --save-as ${name}: a report name ${problem}`);
    }
    const slash = json(
      (
        await run(['upload', ...IMAGES, '--server', s.url, '--save-as', 'release/1.2', '--json', '-q'], {
          cwd,
        })
      ).stdout,
    );
    expect(await nameOf(s, 'release%2F1.2')).toBe(slash.id);
    // 22 characters of the id alphabet: tried as a report id first, then as a name
    const idLike = 'release-2024-01-branch';
    expect(idLike).toHaveLength(22);
    const saved = json(
      (await run(['upload', ...IMAGES, '--server', s.url, '--save-as', idLike, '--json', '-q'], { cwd }))
        .stdout,
    );
    for (const ref of ['release/1.2', idLike]) {
      const r = await run(['analyze', ...IMAGES, '--baseline', ref, '--server', s.url, '--json'], { cwd });
      expect(r.code, ref).toBe(0);
      expect(json(r.stdout).baselineUrl).toBe(ref === idLike ? saved.url : slash.url);
    }
  });

  it('--baseline main --save-as main compares with the previous main, then moves the name', async () => {
    const cwd = checkout('v1');
    const previous = await nameOf(s, 'main');
    const r = json(
      (
        await run(
          [
            'upload',
            ...IMAGES,
            '--mounts',
            'deploy/fstab',
            '--server',
            s.url,
            '--baseline',
            'main',
            '--save-as',
            'main',
            '--json',
            '-q',
          ],
          { cwd },
        )
      ).stdout,
    );
    expect(r.baselineUrl).toBe(`${s.url}/r/${previous}`);
    expect(r.delta!.totals.delta.bytesSaved).toBeLessThan(0);
    expect(await nameOf(s, 'main')).toBe(r.id);
    // and back, so the other tests' "main" stays what they expect when run alone
    const put = await fetch(`${s.url}/api/report-names/main`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reportId: previous }),
    });
    expect(put.status).toBe(200);
  });
});

describe('named baselines (server requiring tokens): the CI journey', () => {
  let s: RunningServer;
  let data: string;
  let token = '';
  beforeAll(async () => {
    ({ server: s, data } = await serve(true));
    token = (await cli(['token', 'create', 'ci', '--data', data])).stdout.trim();
  });
  afterAll(async () => {
    await s?.close(1000);
  });

  it('main saves, the pull request prints the link and a markdown summary and exits 1 below the threshold', async () => {
    const env = { SHAREMAP_TOKEN: token };
    // main branch: sharemap upload build/*.erofs --mounts deploy/fstab --save-as main
    const mainCwd = checkout('v2', `server: ${s.url}\n`);
    const m = await run(
      ['upload', ...IMAGES, '--mounts', 'deploy/fstab', '--save-as', 'main', '--json', '-q'],
      {
        cwd: mainCwd,
        env,
      },
    );
    expect(m.code).toBe(0);
    const mainReport = json(m.stdout);
    // the pull request's savings are lower; the threshold sits between the two
    const prCwd = checkout('v1');
    const probe = json(
      (await run(['analyze', ...IMAGES, '--mounts', 'deploy/fstab', '--json'], { cwd: prCwd })).stdout,
    );
    expect(probe.totals.percentSaved).toBeLessThan(mainReport.totals.percentSaved);
    const threshold = ((probe.totals.percentSaved + mainReport.totals.percentSaved) / 2).toFixed(3);
    writeFileSync(
      join(prCwd, '.sharemap.yml'),
      `server: ${s.url}\nmounts: [deploy/fstab]\nthresholds:\n  minSavedPercent: ${threshold}\n`,
    );
    // pull request: sharemap upload build/*.erofs --mounts deploy/fstab --baseline main --markdown
    const pr = await run(
      ['upload', ...IMAGES, '--mounts', 'deploy/fstab', '--baseline', 'main', '--markdown'],
      {
        cwd: prCwd,
        env,
      },
    );
    expect(pr.code).toBe(1);
    expect(pr.stderr.trim().split('\n').at(-1)).toMatch(/^sharemap: gate failed: minSavedPercent \(/);
    expect(pr.stdout).toMatch(/:x: \*\*Gate failed\*\*/);
    expect(pr.stdout).toMatch(
      new RegExp(`\\[Full report\\]\\(${s.url.replace(/\./g, '\\.')}/r/[A-Za-z0-9_-]{22}\\)`),
    );
    expect(pr.stdout).toContain(`Bytes lost since the baseline ([main](${mainReport.url})): `);
    expect(pr.stdout).toMatch(/Compared with the baseline: saved -/);
    // the same on main's images passes
    writeFileSync(
      join(mainCwd, '.sharemap.yml'),
      `server: ${s.url}\nthresholds:\n  minSavedPercent: ${threshold}\n`,
    );
    const again = await run(['upload', ...IMAGES, '--mounts', 'deploy/fstab', '--baseline', 'main', '-q'], {
      cwd: mainCwd,
      env,
    });
    expect(again.code).toBe(0);
  }, 120_000);

  it('resolving a name needs a token on this server', async () => {
    const cwd = checkout('v1');
    const r = await run(['analyze', ...IMAGES, '--baseline', 'main', '--server', s.url], { cwd });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(
      /baseline name "main": the server refused the request \(401\).*give a token with --token or SHAREMAP_TOKEN/,
    );
    const ok = await run(['analyze', ...IMAGES, '--baseline', 'main', '--server', s.url, '--token', token], {
      cwd,
    });
    expect(ok.code).toBe(0);
    const bad = await run(
      ['analyze', ...IMAGES, '--baseline', 'main', '--server', s.url, '--token', 'smt_wrong'],
      {
        cwd,
      },
    );
    expect(bad.code).toBe(2);
    expect(oneLine(bad.stderr)).toMatch(/\(401\).*check the token/);
  });

  it('a baseline link to another host is fetched without the token', async () => {
    const seen: (string | undefined)[] = [];
    const other = createHttpServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"not-found","message":"no such report"}}');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      const port = (other.address() as { port: number }).port;
      const link = `http://127.0.0.1:${port}/r/AAAAAAAAAAAAAAAAAAAAAA`;
      const cwd = checkout('v1');
      const r = await run(['analyze', ...IMAGES, '--baseline', link, '--server', s.url, '--token', token], {
        cwd,
      });
      expect(r.code).toBe(2);
      expect(seen).toEqual([undefined]);
      // The configured server's own links still carry it (reports are readable by link anyway).
      const ok = await run(
        ['analyze', ...IMAGES, '--baseline', 'main', '--server', s.url, '--token', token],
        {
          cwd,
        },
      );
      expect(ok.code).toBe(0);
    } finally {
      await new Promise((r) => other.close(r));
    }
  });

  it.skipIf(!haveBuild())('child process: the journey with the built CLI', async () => {
    const cwd = checkout('v1', `server: ${s.url}\nthresholds:\n  maxBytesLost: 0\n`);
    const r = await cliProcessAsync(['upload', ...IMAGES, '--mounts', 'deploy/fstab', '--baseline', 'main'], {
      cwd,
      env: { SHAREMAP_TOKEN: token },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Report: http:\/\/127\.0\.0\.1:\d+\/r\/[A-Za-z0-9_-]{22}\n/);
    expect(r.stdout).toContain('Compared with the baseline (main: ');
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^sharemap: gate failed: maxBytesLost/);
  });
});

describe('named baselines: server down', () => {
  it('exit 3 when the server that should resolve the name is unreachable', async () => {
    const port = await unusedPort();
    const cwd = checkout('v1');
    const a = await run(
      ['analyze', ...IMAGES, '--baseline', 'main', '--server', `http://127.0.0.1:${port}`],
      { cwd },
    );
    expect(a.code).toBe(3);
    expect(oneLine(a.stderr)).toMatch(
      new RegExp(
        `^sharemap: cannot reach the sharemap server at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`,
      ),
    );
    const u = await run(
      [
        'upload',
        ...IMAGES,
        '--server',
        `http://127.0.0.1:${port}`,
        '--baseline',
        'main',
        '--save-as',
        'main',
        '-q',
      ],
      { cwd },
    );
    expect(u.code).toBe(3);
  });
});
