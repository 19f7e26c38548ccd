// Web UI benchmark (headless Debian Chromium): initial JS size (gzip), time until the headline
// of a generated report with ROWS file records is on screen, time to the first files-table rows
// (filter + sort of every row), and frame times while scrolling the files table.
// The report is served to the page by request interception (uncompressed, through the
// DevTools protocol), so the headline time includes that transfer. Needs `pnpm build`. Usage: node bench/web.bench.mjs [--rows 2000000]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'e2e/package.json'));
const { chromium } = require('@playwright/test');
const arg = process.argv.indexOf('--rows');
const ROWS = arg > 0 ? Number(process.argv[arg + 1]) : 2_000_000;

// 1. Initial JS: the entry module and its static imports (modulepreload), gzip.
const dist = path.join(root, 'apps/web/dist');
const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
const initial = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
const initialGzip = initial.reduce((a, f) => a + gzipSync(readFileSync(path.join(dist, f)), { level: 9 }).length, 0);

// 2. A server with the demo report, whose structure the generated report copies.
const port = 19000 + (process.pid % 500);
const data = mkdtempSync(path.join(tmpdir(), 'sharemap-webbench-'));
const server = spawn(process.execPath, ['apps/server/dist/main.js'], { cwd: root, env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', SHAREMAP_DATA: data }, stdio: 'ignore' });
const base = `http://127.0.0.1:${port}`;
async function get(p) {
  for (let i = 0; i < 120; i++) {
    try {
      const r = await fetch(base + p);
      if (r.ok) return r.json();
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${p} never answered`);
}
try {
  const demo = await get('/api/demo');
  const r = await get(`/api/reports/${demo.id}`);
  const n0 = r.files.instance.length;
  const f = r.files;
  const big = { instance: new Array(ROWS), file: new Array(ROWS), status: new Array(ROWS), group: new Array(ROWS), pagesWithout: new Array(ROWS), pagesWith: new Array(ROWS), size: new Array(ROWS), hardlinks: { row: [], primary: [] } };
  for (let k = 0; k < ROWS; k++) {
    const s = k % n0;
    big.instance[k] = f.instance[s];
    big.file[k] = f.file[s];
    big.status[k] = f.status[s];
    big.group[k] = -1;
    big.pagesWithout[k] = f.pagesWithout[s];
    big.pagesWith[k] = f.pagesWith[s];
    big.size[k] = f.size[s];
  }
  const body = JSON.stringify({ ...r, files: big, groups: [], findings: [] });

  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.route('**/api/reports/BENCHREPORTBENCHREPORT0', (route) => route.fulfill({ status: 200, contentType: 'application/json', body }));
  await page.route('**/api/reports/BENCHREPORTBENCHREPORT0/input', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":{"code":"not-found","message":"bench"}}' }));
  const t0 = Date.now();
  await page.goto(`${base}/r/BENCHREPORTBENCHREPORT0`);
  await page.getByTestId('headline').waitFor({ timeout: 120_000 });
  const interactive = Date.now() - t0;
  const t1 = Date.now();
  await page.getByRole('tab', { name: 'Files' }).click();
  await page.locator('[data-testid=files-body] [role=row]').first().waitFor({ timeout: 120_000 });
  const filesView = Date.now() - t1;
  const frames = await page.evaluate(async () => {
    const el = document.querySelector('[data-testid=files-body]');
    const times = [];
    let last = performance.now();
    for (let i = 0; i < 120; i++) {
      el.scrollTop += i % 20 === 19 ? el.scrollHeight / 7 : 900;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    times.sort((a, b) => a - b);
    return { p50: times[60], p95: times[114], max: times[119] };
  });
  await browser.close();
  const out = {
    rows: ROWS,
    reportJsonBytes: body.length,
    initialJsGzipBytes: initialGzip,
    initialJsFiles: initial,
    headlineVisibleMs: interactive,
    filesTableMs: filesView,
    scrollFrameMs: frames,
  };
  process.stderr.write(`initial JS ${(initialGzip / 1024).toFixed(1)} KiB gzip (target <= 250), headline of ${ROWS} rows in ${interactive} ms (target <= 2000), files table ${filesView} ms, scroll frames p50 ${frames.p50.toFixed(1)} ms p95 ${frames.p95.toFixed(1)} ms\n`);
  // pnpm bench reads the last stdout line.
  console.log(JSON.stringify(out));
} finally {
  server.kill('SIGTERM');
  setTimeout(() => rmSync(data, { recursive: true, force: true }), 500);
}
