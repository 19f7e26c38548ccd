/**
 * The packed CLI as CI installs it (docs/ci.md): `pnpm pack:cli`, `npm install -g` of the
 * tarball into a temporary prefix from a temporary directory (no workspace on any path, npm
 * offline), then `scan` and `analyze --markdown --junit --html` on copied fixture images. The
 * HTML report opens from file:// in Chromium with every network request refused and shows the
 * JSON report's headline, and its views render from the embedded data.
 */
import { expect, test } from '@playwright/test';
import { headline, type Report } from '@sharemap/sharing';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { fixtures, root } from './helpers';

const IMAGES = ['base-v1.fp.img', 'base-v2.fp.img', 'app.fp.img'];

test.describe('packed CLI', () => {
  test.setTimeout(300_000);
  let dir = '';
  let bin = '';
  let tarball = '';

  test.beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sharemap-packed-'));
    const out = execFileSync(
      process.execPath,
      [path.join(root, 'scripts/pack-cli.mjs'), '--out', path.join(dir, 'pack')],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 240_000,
      },
    );
    tarball = out.trim().split('\n').at(-1)!;
    const version = (
      JSON.parse(readFileSync(path.join(root, 'apps/cli/package.json'), 'utf8')) as { version: string }
    ).version;
    expect(path.basename(tarball)).toBe(`sharemap-${version}.tgz`);
    const work = path.join(dir, 'work');
    mkdirSync(work);
    for (const img of IMAGES) copyFileSync(path.join(fixtures, img), path.join(work, img));
    // A clean environment: the temp dir as cwd and HOME, npm's cache there, offline.
    const env = { PATH: process.env.PATH ?? '', HOME: dir, npm_config_cache: path.join(dir, 'npm-cache') };
    execFileSync(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        path.join(dir, 'prefix'),
        '--offline',
        '--no-audit',
        '--no-fund',
        tarball,
      ],
      {
        cwd: work,
        env,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    bin = path.join(dir, 'prefix/bin/sharemap');
  });

  test.afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (args: string[]) => {
    const r = spawnSync(bin, args, {
      cwd: path.join(dir, 'work'),
      env: { PATH: process.env.PATH ?? '', HOME: dir },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  test('the package holds the bundle, the template and the server, no sources or test data', () => {
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(files.filter((f) => !f.startsWith('package/dist/web/assets/'))).toEqual([
      'package/README.md',
      'package/dist/digest-worker.js',
      'package/dist/main.js',
      'package/dist/manifest-read-worker.js',
      'package/dist/report-template.html',
      'package/dist/scan-split-worker.js',
      'package/dist/server.js',
      'package/dist/web/index.html',
      'package/dist/worker.js',
      'package/package.json',
    ]);
    const pkg = JSON.parse(
      execFileSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
    ) as Record<string, unknown>;
    expect(pkg).toMatchObject({
      name: 'sharemap',
      license: 'MIT',
      bin: { sharemap: 'dist/main.js' },
      files: ['dist', 'README.md'],
      engines: { node: '>=20.19' },
      peerDependenciesMeta: { 'better-sqlite3': { optional: true } },
    });
    expect(pkg.dependencies).toBeUndefined();
    // Nothing of the workspace was installed beside it: only the package itself.
    expect(readdirSync(path.join(dir, 'prefix/lib/node_modules'))).toEqual(['sharemap']);
  });

  test('scan, analyze --markdown --junit --html; the HTML opens offline from file:// with the JSON headline', async ({
    browser,
  }) => {
    const scan = run(['scan', 'app.fp.img', '--json']);
    expect(scan.stderr).toBe('');
    expect(scan.code).toBe(0);
    const expected = JSON.parse(readFileSync(path.join(fixtures, 'app.fp.expected.json'), 'utf8')) as {
      files: unknown[];
    };
    expect((JSON.parse(scan.stdout) as { files: unknown[] }).files.length).toBe(expected.files.length);
    // `scan --hash` on the package's digest thread (dist/digest-worker.js beside main.js) prints
    // the bytes of the in-thread scan.
    const threaded = run(['scan', 'app.fp.img', '--hash', '--ndjson', '--threads', '2']);
    const inThread = run(['scan', 'app.fp.img', '--hash', '--ndjson', '--threads', '0']);
    expect([threaded.code, threaded.stderr, inThread.code]).toEqual([0, '', 0]);
    expect(threaded.stdout).toBe(inThread.stdout);
    expect(threaded.stdout).toContain('"sha256":"');

    const r = run([
      'analyze',
      ...IMAGES,
      '--markdown',
      '--junit',
      'gate.xml',
      '--html',
      'report.html',
      '--json-out',
      'report.json',
      '--min-saved-percent',
      '99',
    ]);
    expect(r.code).toBe(1); // the gate fails: 99 % is not saved
    const report = JSON.parse(readFileSync(path.join(dir, 'work/report.json'), 'utf8')) as Report;
    const line = headline(report);
    expect(r.stdout).toContain(`**${line}**`);
    expect(r.stdout).toContain(':x: **Gate failed**: 1 of 1 checks failed');
    const junit = readFileSync(path.join(dir, 'work/gate.xml'), 'utf8');
    expect(junit).toContain(
      '<testsuites name="sharemap" tests="1" failures="1" errors="0" skipped="0" time="0">',
    );
    expect(junit).toContain('<testcase classname="sharemap.thresholds" name="minSavedPercent" time="0">');
    expect(junit).toMatch(
      /<failure type="threshold" message="saved [\d.]+ % of page cache &lt; minimum 99\.0 %">/,
    );

    const context = await browser.newContext({ offline: true });
    const requests: string[] = [];
    await context.route(
      (url) => url.protocol !== 'file:' && url.protocol !== 'data:' && url.protocol !== 'blob:',
      (route) => {
        requests.push(route.request().url());
        return route.abort();
      },
    );
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(path.join(dir, 'work/report.html')).href);
    await expect(page.getByTestId('headline')).toHaveText(line);
    await expect(page).toHaveTitle(`sharemap: ${line}`);
    // The views over the per-file parts: the files table (sorted by bytes saved), the graph, the
    // findings.
    await page.getByRole('tab', { name: 'Files' }).click();
    await expect(page.getByTestId('files-body')).toBeVisible();
    expect(page.url()).toMatch(/report\.html\?view=files$/);
    const f = report.files;
    const saved = (row: number) => f.pagesWithout[row]! - f.pagesWith[row]!;
    const order = [...f.size.keys()].sort((a, b) => saved(b) - saved(a));
    const top = report.instances[report.files.instance[order[0]!]!]!;
    const topPath = report.paths[top.imageId]![report.files.file[order[0]!]!]!;
    await expect(page.getByTestId('files-body')).toContainText(topPath);
    await page.getByRole('tab', { name: 'Sharing graph' }).click();
    await expect(page.locator('#view-panel svg').first()).toBeVisible();
    await page.getByRole('tab', { name: 'Findings' }).click();
    await expect(page.locator('#view-panel')).toContainText(
      report.findings.length === 0 ? 'No findings' : report.findings[0]!.message,
    );
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await context.close();
  });

  test('the GitLab CI template (ci/sharemap.gitlab-ci.yml) installs the package and gates, as its job would', () => {
    const tpl = parseYaml(readFileSync(path.join(root, 'ci/sharemap.gitlab-ci.yml'), 'utf8')) as {
      '.sharemap': {
        image: string;
        variables: Record<string, string>;
        script: string[];
        allow_failure: { exit_codes: number[] };
        artifacts: { when: string; paths: string[]; reports: { junit: string } };
      };
    };
    const job = tpl['.sharemap'];
    // Every script line is a string (a stray ": " would make YAML read a mapping).
    expect(job.script.filter((l) => typeof l !== 'string')).toEqual([]);
    expect(job.image).toBe('node:20-bookworm-slim');
    expect(job.allow_failure).toEqual({ exit_codes: [3] });
    expect(job.artifacts.reports.junit).toBe('sharemap-junit.xml');
    const work = path.join(dir, 'gitlab');
    mkdirSync(work);
    for (const img of IMAGES) copyFileSync(path.join(fixtures, img), path.join(work, img));
    // GitLab runs the script lines in one shell, stopping at the first failing command.
    const prefix = path.join(dir, 'gitlab-prefix');
    const r = spawnSync('sh', ['-e', '-c', job.script.join('\n')], {
      cwd: work,
      encoding: 'utf8',
      timeout: 180_000,
      env: {
        PATH: `${path.join(prefix, 'bin')}:${process.env.PATH ?? ''}`,
        HOME: dir,
        npm_config_prefix: prefix,
        npm_config_cache: path.join(dir, 'npm-cache'),
        npm_config_offline: 'true',
        ...job.variables,
        SHAREMAP_PACKAGE: tarball,
        SHAREMAP_IMAGES: '*.img',
        SHAREMAP_ARGS: '--min-saved-percent 99',
      },
    });
    expect(r.status, r.stderr).toBe(1); // the gate fails the job
    expect(r.stderr).toMatch(/^sharemap: gate failed: minSavedPercent/m);
    for (const f of job.artifacts.paths)
      expect(readFileSync(path.join(work, f), 'utf8').length, f).toBeGreaterThan(0);
    expect(readFileSync(path.join(work, 'sharemap-comment.md'), 'utf8')).toContain(':x: **Gate failed**');
    expect(readFileSync(path.join(work, 'sharemap-junit.xml'), 'utf8')).toContain('name="minSavedPercent"');
  });

  test('serve without the optional better-sqlite3: exit 2 and how to add it', () => {
    const r = run(['serve', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sharemap: serve and token need the optional native module better-sqlite3, which is not installed: npm install -g better-sqlite3@12 (beside a global sharemap), or npm install better-sqlite3@12 next to a local one\n',
    );
  });
});
