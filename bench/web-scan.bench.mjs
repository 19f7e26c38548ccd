// Browser scan benchmark (headless Debian Chromium): the 1M-inode fingerprinted image scanned
// in a tab the way a user does it, through the real built server and web UI:
//  - the start page in "scan in this browser" mode, the image given to its file input
//    (setInputFiles: Chromium reads it from disk, nothing is copied through this process), then
//    "Analyze": apps/web/src/workers/scan.worker.ts scans and hashes the image, the start page
//    uploads the manifest (POST /api/manifests) and creates the report (POST /api/reports), and
//    the page moves to /r/<id>;
//  - times (the page's performance.now(), driven from an init script so no round trip to this
//    process is counted): the scan from the click to its end (`scanMs`: the item says it is
//    uploading the manifest), the upload, the report creation, and on the report page the
//    summary's arrival (responseEnd of GET /api/reports/<id>/summary) to interactive as
//    bench/web.bench.mjs defines it (the headline on screen, a click on the Instances tab
//    queued at once, its table on screen): `interactiveAfterSummaryMs`;
//  - memory: every chromium process's RSS from /proc, sampled every SAMPLE_MS, (the tab's
//    renderer holds its page and its dedicated workers, so the scan worker's heap is in it),
//    their peak (VmHWM) at the end, and the page's own JS heap from CDP Performance.getMetrics.
// Fails loudly (exit 1, one JSON line `{"error":...}`) when the tab crashes (Chromium's answer to
// running out of memory), when the page reports a failure, or when the tab's renderer RSS passes
// --max-renderer-mb (default TAB_LIMIT_MB). Needs `pnpm build`.
// Usage: node bench/web-scan.bench.mjs [--image IMG] [--max-renderer-mb N] [--js-heap-mb N] [--web-dir DIR]
// (IMG default: /tmp/sharemap-scale/fp-1m.img when it exists, else the scale benches' 1M-inode
// image, built with the mkfs.erofs on PATH: bench/scale-lib.mjs).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumLaunchOptions } from '../e2e/chromium.mjs';
import { addMarkWatcher, startBenchServer } from './browser-lib.mjs';
import { image as scaleImage, load } from './scale-lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'e2e/package.json'));
const { chromium } = require('@playwright/test');
const opt = (name, dflt) => {
  const k = process.argv.indexOf(`--${name}`);
  return k > 0 ? process.argv[k + 1] : dflt;
};
/** The target of the issue: the tab (its renderer, workers included) stays under 1 GB. */
const TAB_LIMIT_MB = 1000;
/** How often the chromium processes' RSS is read. */
const SAMPLE_MS = 250;
/** The longest the whole scan, upload and report creation may take on a loaded machine. */
const FLOW_TIMEOUT_MS = 60 * 60_000;
/** How often the bench says where the flow is (stderr). */
const PROGRESS_LOG_MS = 15_000;
const FP_1M = '/tmp/sharemap-scale/fp-1m.img';
const maxRendererMb = Number(opt('max-renderer-mb', TAB_LIMIT_MB));
const webDir = path.resolve(opt('web-dir', path.join(root, 'apps/web/dist')));
const log = (s) => process.stderr.write(`[web-scan bench] ${s}\n`);
const loadStart = load();

function fail(message) {
  log(`FAILED: ${message}`);
  console.log(JSON.stringify({ error: message, load: [loadStart, load()] }));
  process.exit(1);
}

const given = opt('image', existsSync(FP_1M) ? FP_1M : null);
const imagePath = path.resolve(given ?? scaleImage('plain-1m', 'mkfs.erofs', '-T0'));
if (!existsSync(imagePath)) fail(`no image at ${imagePath}`);
const imageBytes = statSync(imagePath).size;

// --- Chromium's processes, from /proc: every descendant of this process.
function procTable() {
  const rows = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      rows.push({ pid: Number(d), ppid });
    } catch {
      /* gone */
    }
  }
  return rows;
}
function chromiumProcesses() {
  const rows = procTable();
  const mine = new Set([process.pid]);
  // Parents come before children often, not always: repeat until nothing is added.
  for (let added = true; added;) {
    added = false;
    for (const r of rows)
      if (!mine.has(r.pid) && mine.has(r.ppid)) {
        mine.add(r.pid);
        added = true;
      }
  }
  mine.delete(process.pid);
  const out = [];
  for (const pid of mine) {
    try {
      // Zygote children rewrite their command line as one space-separated string.
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (!/^\S*chrom/.test(cmd)) continue;
      const type = /--type=(\S+)/.exec(cmd)?.[1] ?? 'browser';
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
      out.push({ pid, type, rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 });
    } catch {
      /* gone */
    }
  }
  return out;
}
const mb = (x) => Math.round(x);

// --- The server (no demo), as bench/web.bench.mjs starts it.
const port = 19500 + (process.pid % 400);
const data = mkdtempSync(path.join(tmpdir(), 'sharemap-webscan-'));
const { server, base, ready } = startBenchServer({ root, port, data, webDir });

let browser;
let sampler;
const peak = { rendererMb: 0, totalMb: 0, browserMb: 0, pageJsHeapUsedMb: 0, pageJsHeapTotalMb: 0 };
let phase = 'start';
const peakByPhase = {};
try {
  await ready();
  log(`image ${imagePath} (${(imageBytes / 1e6).toFixed(1)} MB), load ${loadStart.join(' ')}`);
  // --js-heap-mb N caps every V8 heap of the tab (page and workers): a scan that needs more runs
  // out of memory for real, which is how the failure path of this bench is checked.
  const jsHeapMb = opt('js-heap-mb', '');
  browser = await chromium.launch({
    ...chromiumLaunchOptions,
    args: [
      ...chromiumLaunchOptions.args,
      ...(jsHeapMb ? [`--js-flags=--max-old-space-size=${jsHeapMb}`] : []),
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  let crashed = null;
  const crashedP = new Promise((resolve) => {
    page.on('crash', () => {
      crashed = 'the tab crashed (Chromium kills a renderer that runs out of memory)';
      resolve();
    });
  });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  // The renderer RSS sampler; it notes the limit being passed (checked by the flow below).
  let overLimit = null;
  let metricsPending = false;
  sampler = setInterval(() => {
    const ps = chromiumProcesses();
    const renderer = Math.max(0, ...ps.filter((p) => p.type === 'renderer').map((p) => p.rssMb));
    const total = ps.reduce((a, p) => a + p.rssMb, 0);
    const browserRss = ps.filter((p) => p.type === 'browser').reduce((a, p) => a + p.rssMb, 0);
    peak.rendererMb = Math.max(peak.rendererMb, renderer);
    peak.totalMb = Math.max(peak.totalMb, total);
    peak.browserMb = Math.max(peak.browserMb, browserRss);
    const p = (peakByPhase[phase] ??= { rendererMb: 0, totalMb: 0 });
    p.rendererMb = Math.max(p.rendererMb, renderer);
    p.totalMb = Math.max(p.totalMb, total);
    if (renderer > maxRendererMb && !overLimit)
      overLimit = `the tab's renderer reached ${mb(renderer)} MB RSS (limit ${maxRendererMb} MB) while ${phase}`;
    // The page's JS heap (main thread): skipped while the previous answer is pending.
    if (!metricsPending && !crashed) {
      metricsPending = true;
      cdp
        .send('Performance.getMetrics')
        .then(({ metrics }) => {
          const v = (n) => (metrics.find((m) => m.name === n)?.value ?? 0) / 2 ** 20;
          peak.pageJsHeapUsedMb = Math.max(peak.pageJsHeapUsedMb, v('JSHeapUsedSize'));
          peak.pageJsHeapTotalMb = Math.max(peak.pageJsHeapTotalMb, v('JSHeapTotalSize'));
        })
        .catch(() => undefined)
        .finally(() => (metricsPending = false));
    }
  }, SAMPLE_MS);

  // In the page from its first script: milestones as performance.now(). The scan ends when the
  // item says it uploads the manifest; on the report page, as in bench/web.bench.mjs, the
  // headline is clicked through to the Instances table by a task queued when it appears.
  await addMarkWatcher(page);
  await page.addInitScript(() => {
    const b = (window.__bench = { marks: {}, failure: null });
    const tab = (name) =>
      [...document.querySelectorAll('[role=tab]')].find((t) => t.textContent.startsWith(name));
    const itemSays = (words) =>
      [...document.querySelectorAll('[data-testid=upload-item]')].some((e) => e.textContent.includes(words));
    const watch = [
      ['scanEnd', () => itemSays('uploading the manifest'), null],
      ['uploadEnd', () => itemSays('scanned in the browser'), null],
      ['headline', () => document.querySelector('[data-testid=headline]'), () => tab('Instances').click()],
      ['instances', () => document.querySelector('table.instances-table'), null],
    ];
    const noteFailure = () => {
      if (b.failure) return;
      const alert = document.querySelector('[data-testid=upload-error], .start [role=alert]');
      if (alert && alert.textContent.trim()) b.failure = alert.textContent.trim();
    };
    window.__benchWatch(b.marks, watch, noteFailure, { childList: true, subtree: true, characterData: true });
  });
  await page.goto(base + '/');
  await page.getByTestId('mode-browser').check();
  await page.getByTestId('file-input').setInputFiles(imagePath);
  phase = 'scanning';
  await page.evaluate(() => {
    window.__bench.marks.click = performance.now();
    document.querySelector('[data-testid=analyze]').click();
  });

  // Wait for the report page to be interactive, or a crash, a failure, the memory limit.
  const t0 = Date.now();
  let lastLog = t0;
  for (;;) {
    await Promise.race([crashedP, new Promise((r) => setTimeout(r, 1000))]);
    if (crashed) throw new Error(`${crashed} while ${phase}`);
    if (overLimit) throw new Error(overLimit);
    const st = await page.evaluate(() => ({
      ...window.__bench,
      says: [...document.querySelectorAll('[data-testid=upload-item]')].map((e) => e.textContent).join(' | '),
    }));
    if (Date.now() - lastLog >= PROGRESS_LOG_MS) {
      lastLog = Date.now();
      const ps = chromiumProcesses().filter((p) => p.type === 'renderer');
      log(
        `${Math.round((lastLog - t0) / 1000)} s, ${phase}: renderers ${ps.map((p) => mb(p.rssMb)).join('/')} MB; ${st.says.slice(0, 160)}`,
      );
    }
    if (st.failure) throw new Error(`the page reports a failure while ${phase}: ${st.failure}`);
    const m = st.marks;
    phase =
      m.instances !== undefined
        ? 'done'
        : m.headline !== undefined || m.uploadEnd !== undefined
          ? 'creating and opening the report'
          : m.scanEnd !== undefined
            ? 'uploading'
            : 'scanning';
    if (phase === 'done') break;
    if (Date.now() - t0 > FLOW_TIMEOUT_MS)
      throw new Error(`no interactive report page after ${FLOW_TIMEOUT_MS} ms (${phase})`);
  }
  clearInterval(sampler);
  const ps = chromiumProcesses();
  const hwm = {
    rendererMb: Math.max(0, ...ps.filter((p) => p.type === 'renderer').map((p) => p.hwmMb)),
    browserMb: Math.max(0, ...ps.filter((p) => p.type === 'browser').map((p) => p.hwmMb)),
  };
  const b = await page.evaluate(() => {
    const summary = performance
      .getEntriesByType('resource')
      .find((e) => /\/api\/reports\/[^/]+\/summary/.test(e.name));
    const manifest = performance.getEntriesByType('resource').find((e) => /\/api\/manifests/.test(e.name));
    return {
      marks: window.__bench.marks,
      summaryEnd: summary ? summary.responseEnd : null,
      manifestUpload: manifest ? { start: manifest.startTime, end: manifest.responseEnd } : null,
      url: location.pathname,
      measures: performance
        .getEntriesByType('measure')
        .map((e) => ({ name: e.name, start: Math.round(e.startTime), ms: Math.round(e.duration) })),
    };
  });
  const fileCount = await (async () => {
    const id = b.url.split('/').pop();
    const r = await fetch(`${base}/api/reports/${id}/summary`);
    const s = await r.json();
    return s.images?.[0]?.fileCount ?? s.images?.[0]?.files ?? null;
  })().catch(() => null);
  await browser.close();
  browser = null;
  const m = b.marks;
  const r0 = (x) => (x === undefined || x === null ? null : Math.round(x));
  const out = {
    image: imagePath,
    imageBytes,
    fileCount,
    load: [loadStart, load()],
    scanMs: r0(m.scanEnd - m.click),
    uploadMs: b.manifestUpload ? r0(b.manifestUpload.end - b.manifestUpload.start) : null,
    reportCreateAndOpenMs: r0((b.summaryEnd ?? m.headline) - m.uploadEnd),
    summaryToHeadlineMs: b.summaryEnd === null ? null : r0(m.headline - b.summaryEnd),
    interactiveAfterSummaryMs: b.summaryEnd === null ? null : r0(m.instances - b.summaryEnd),
    peakRendererRssMb: mb(Math.max(peak.rendererMb, hwm.rendererMb)),
    peakRendererRssSampledMb: mb(peak.rendererMb),
    peakBrowserProcessRssMb: mb(Math.max(peak.browserMb, hwm.browserMb)),
    peakAllChromiumRssMb: mb(peak.totalMb),
    peakPageJsHeapUsedMb: mb(peak.pageJsHeapUsedMb),
    peakPageJsHeapTotalMb: mb(peak.pageJsHeapTotalMb),
    peakByPhase: Object.fromEntries(
      Object.entries(peakByPhase).map(([k, v]) => [
        k,
        { rendererMb: mb(v.rendererMb), totalMb: mb(v.totalMb) },
      ]),
    ),
    targets: { tabMb: TAB_LIMIT_MB, interactiveAfterSummaryMs: 2000 },
    pageErrors,
    pageMeasures: b.measures,
  };
  log(
    `scan ${out.scanMs} ms, upload ${out.uploadMs} ms, report created and opened ${out.reportCreateAndOpenMs} ms, ` +
      `interactive ${out.interactiveAfterSummaryMs} ms after the summary (target <= 2000); peak renderer RSS ` +
      `${out.peakRendererRssMb} MB (target < ${TAB_LIMIT_MB}), browser process ${out.peakBrowserProcessRssMb} MB, ` +
      `page JS heap ${out.peakPageJsHeapUsedMb} MB; load ${out.load.map((l) => l.join(' ')).join(' -> ')}`,
  );
  // pnpm bench reads the last stdout line.
  console.log(JSON.stringify(out));
} catch (e) {
  clearInterval(sampler);
  await browser?.close().catch(() => undefined);
  server.kill('SIGTERM');
  rmSync(data, { recursive: true, force: true });
  // A crash often reaches a pending page.evaluate before the page's crash event.
  const what = /Target crashed/.test(e.message)
    ? `the tab crashed (Chromium kills a renderer that runs out of memory) while ${phase}`
    : e.message;
  fail(`${what}; peak renderer RSS ${mb(peak.rendererMb)} MB, all chromium ${mb(peak.totalMb)} MB`);
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  rmSync(data, { recursive: true, force: true });
}
