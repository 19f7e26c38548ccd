// CI benchmark (docs/ci.md):
//  - install: `pnpm pack:cli` once, then `npm install -g --prefix <fresh dir> ./sharemap-*.tgz`
//    with npm's cache warm (one untimed install first) and offline, RUNS times: median and all;
//    also `sharemap --version` from the installed package (start-up);
//  - HTML report of the synthetic fleet (bench/fleet.mjs; default 200 images x 10,000 files =
//    2M file records): the report's JSON gzip (level 6, what `gzip report.json` gives), the HTML
//    file (`--html`: the template with the gzip+base64 parts) and their ratio (budget 1.5); then
//    the file opened in headless Chromium from file:// (offline): time to the headline
//    (`headlineMs`, budget 3 s) and to the first rows of the files table (`filesRowsMs`), both
//    the page's performance.now() (since navigation start).
// Needs `pnpm build` (the web UI's report template, the packages' dist/).
// Usage: node bench/ci-pack.bench.mjs [--images 200] [--files 10000] [--runs 3]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { renderStaticReport } from '../packages/report-wire/dist/index.js';
import { analyze, headline } from '../packages/sharing/dist/index.js';
import { chromiumLaunchOptions } from '../e2e/chromium.mjs';
import { fleet } from './fleet.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'e2e/package.json'));
const { chromium } = require('@playwright/test');
const opt = (name, dflt) => {
  const k = process.argv.indexOf(`--${name}`);
  return k > 0 ? process.argv[k + 1] : dflt;
};
const IMAGES = Number(opt('images', 200));
const FILES = Number(opt('files', 10_000));
const RUNS = Number(opt('runs', 3));
const log = (s) => process.stderr.write(`[ci-pack bench] ${s}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const tmp = mkdtempSync(path.join(tmpdir(), 'sharemap-ci-bench-'));
try {
  // 1. Install time of the packed CLI.
  log('packing');
  const tarball = execFileSync(process.execPath, [path.join(root, 'scripts/pack-cli.mjs'), '--out', tmp], {
    cwd: root,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .at(-1);
  const env = { PATH: process.env.PATH, HOME: tmp, npm_config_cache: path.join(tmp, 'npm-cache') };
  const install = (prefix) =>
    execFileSync(
      'npm',
      ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball],
      {
        cwd: tmp,
        env,
        stdio: 'ignore',
      },
    );
  install(path.join(tmp, 'warm')); // the cache warm
  const installMs = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    install(path.join(tmp, `p${i}`));
    installMs.push(Math.round(performance.now() - t0));
  }
  const bin = path.join(tmp, 'p0/bin/sharemap');
  const versionMs = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    execFileSync(bin, ['--version'], { env, stdio: 'ignore' });
    versionMs.push(Math.round(performance.now() - t0));
  }

  // 2. The HTML report of the fleet.
  log(`generating the fleet (${IMAGES} x ${FILES}) and its report`);
  const { images, instances } = fleet(IMAGES, FILES);
  const report = analyze({ images, instances, createdAt: '2026-01-01T00:00:00Z' });
  images.length = 0;
  const rows = report.files.instance.length;
  const jsonGzipBytes = gzipSync(Buffer.from(JSON.stringify(report)), { level: 6 }).length;
  const template = readFileSync(path.join(root, 'apps/web/dist/report-template.html'), 'utf8');
  const t0 = performance.now();
  const html = renderStaticReport(
    template,
    report,
    (b) => gzipSync(b, { level: 6 }),
    `sharemap: ${headline(report)}`,
  );
  const renderMs = Math.round(performance.now() - t0);
  const htmlFile = path.join(tmp, 'report.html');
  writeFileSync(htmlFile, html);
  const htmlBytes = statSync(htmlFile).size;
  const expectedHeadline = headline(report);

  log('opening it in Chromium');
  const browser = await chromium.launch(chromiumLaunchOptions);
  const opens = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext({ offline: true, viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'commit' });
      const h = await page.waitForFunction(
        () => {
          const el = document.querySelector('[data-testid="headline"]');
          return el ? { text: el.textContent, at: performance.now() } : null;
        },
        null,
        { timeout: 120_000, polling: 'raf' },
      );
      const { text, at: headlineMs } = await h.jsonValue();
      if (text !== expectedHeadline)
        throw new Error(`headline ${JSON.stringify(text)} != ${JSON.stringify(expectedHeadline)}`);
      await page.getByRole('tab', { name: 'Files' }).click();
      const f = await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="files-body"] [data-row], [data-testid="files-body"] tr')
            ? performance.now()
            : null,
        null,
        { timeout: 300_000, polling: 'raf' },
      );
      opens.push({ headlineMs: Math.round(headlineMs), filesRowsMs: Math.round(await f.jsonValue()) });
      await context.close();
    }
  } finally {
    await browser.close();
  }

  console.log(
    JSON.stringify({
      name: 'ci-pack',
      tarballBytes: statSync(tarball).size,
      installMs: median(installMs),
      installRunsMs: installMs,
      versionMs: median(versionMs),
      images: IMAGES,
      filesPerImage: FILES,
      rows,
      jsonGzipBytes,
      htmlBytes,
      templateBytes: Buffer.byteLength(template),
      htmlToJsonGzip: Math.round((htmlBytes / jsonGzipBytes) * 1000) / 1000,
      htmlBudget: 1.5,
      renderMs,
      headlineMs: median(opens.map((o) => o.headlineMs)),
      headlineBudgetMs: 3000,
      filesRowsMs: median(opens.map((o) => o.filesRowsMs)),
      opens,
    }),
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
