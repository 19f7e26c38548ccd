// Web UI benchmark (headless Debian Chromium) on a generated report of ROWS file records:
//  - initial JS: the entry module and its static imports, gzip;
//  - the report is created by the real server (`node apps/server/dist/main.js`) from IMAGES
//    generated manifests (ROWS records in all, each image mounted once: ROWS file-table rows),
//    uploaded through POST /api/manifests and POST /api/reports, and delivered by it, gzip;
//  - from navigation to /r/<id> (times are the page's performance.now(), i.e. since navigation
//    start): the headline on screen (`headlineMs`); then a click on the Instances tab at once and
//    its table on screen (`interactiveMs`: the page answers input); then a click on Files and the
//    first rows of the files table (`filesRowsMs`, after the file table loaded in the background
//    and the default filter + sort of every row). The page is driven from an init script, so
//    these times hold no round trips to this process;
//  - main-thread long tasks (> 50 ms) after the headline, until the first files-table rows;
//  - frame times while scrolling the files table.
// Needs `pnpm build`. Usage: node bench/web.bench.mjs [--rows 2000000] [--images 8] [--web-dir DIR]
// [--data DIR] (--web-dir: serve another build of apps/web, e.g. an older one, to compare;
// --data: keep the server's data folder there and reuse its report in later runs, since
// creating a report of 2M rows takes minutes).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromiumLaunchOptions } from '../e2e/chromium.mjs';
import { addMarkWatcher, startBenchServer } from './browser-lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'e2e/package.json'));
const { chromium } = require('@playwright/test');
const opt = (name, dflt) => {
  const k = process.argv.indexOf(`--${name}`);
  return k > 0 ? process.argv[k + 1] : dflt;
};
const ROWS = Number(opt('rows', 2_000_000));
const IMAGES = Number(opt('images', 8));
const webDir = path.resolve(opt('web-dir', path.join(root, 'apps/web/dist')));
const log = (s) => process.stderr.write(`[web bench] ${s}\n`);

// 1. Initial JS: the entry module and its static imports (modulepreload), gzip.
const html = readFileSync(path.join(webDir, 'index.html'), 'utf8');
const initial = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
const initialGzip = initial.reduce(
  (a, f) => a + gzipSync(readFileSync(path.join(webDir, f)), { level: 9 }).length,
  0,
);

// 2. Manifests of IMAGES images, ROWS records in all. Each image: a shared tree
// (/usr/lib/pNNNNN/, 80 % of its records: most contents identical across images, some per
// pair of images, some without fingerprint, symlinks, a few size mismatches) and a tree of its
// own (/opt/appK/).
const fp = (s) => '7368613235363a' + createHash('sha256').update(s).digest('hex');
const pad = (n, w) => String(n).padStart(w, '0');
function manifestLines(k, records) {
  const recs = [];
  const rec = (p, type, size, fingerprint, extra = {}) =>
    recs.push({
      path: p,
      nid: 100 + recs.length,
      type,
      mode: type === 'dir' ? '0755' : type === 'symlink' ? '0777' : '0644',
      uid: 0,
      gid: 0,
      size,
      nlink: type === 'dir' ? 2 : 1,
      mtime: 1700000000,
      mtime_nsec: 0,
      layout: 'flat_inline',
      inode_size: 32,
      xattr_isize: fingerprint ? 56 : 0,
      ...extra,
      xattrs: {},
      fingerprint,
    });
  const file = (dir, n, own) => {
    if (n % 100 === 0) rec(`${dir}${pad(Math.floor(n / 100), 5)}`, 'dir', 4096, null);
    const p = `${dir}${pad(Math.floor(n / 100), 5)}/f${pad(n % 100, 3)}.so`;
    if (n % 50 === 7) return rec(p, 'symlink', 11, null, { target: '../lib.so.1' });
    const size = 512 + ((n * 7919) % 300000) + (!own && n % 101 === 0 && k === 3 ? 1 : 0);
    const content = own ? `own ${k} ${n}` : n % 3 === 0 ? `pair ${k >> 1} ${n}` : `common ${n}`;
    rec(p, 'file', size, n % 17 === 0 ? null : fp(content));
  };
  // Generated in path order (ASCII: code-unit order is byte order).
  for (const d of ['/', '/opt', `/opt/app${k}`]) rec(d, 'dir', 4096, null);
  const ownEnd = records - Math.floor(records * 0.8) - 2;
  for (let n = 0; recs.length < ownEnd; n++) file(`/opt/app${k}/d`, n, true);
  for (const d of ['/usr', '/usr/lib']) rec(d, 'dir', 4096, null);
  for (let n = 0; recs.length < records; n++) file('/usr/lib/p', n, false);
  const all = recs.slice(0, records);
  for (let i = 1; i < all.length; i++) if (!(all[i - 1].path < all[i].path)) throw new Error('order');
  const header = {
    kind: 'sharemap-manifest',
    version: 1,
    image: { name: `bench-${k}.img`, size: 1 << 30 },
    superblock: {
      block_size: 4096,
      blocks: 262144,
      meta_blkaddr: 0,
      xattr_blkaddr: 0,
      root_nid: 36,
      inodes: all.length,
      sb_size: 128,
      feature_compat: ['sb_csum', 'mtime', 'xattr_filter', 'plain_xattr_pfx', 'ishare_xattrs'],
      feature_incompat: ['xattr_prefixes'],
      uuid: `00000000-0000-4000-8000-${pad(k, 12)}`,
      build_time: 1700000000,
      ishare: true,
      fingerprint_xattr_name: 'erofs.fingerprint.v1',
      required_kernel: '6.4',
      devices: [],
    },
    hashed: false,
    file_count: all.length,
  };
  return [header, ...all].map((x) => JSON.stringify(x)).join('\n') + '\n';
}

// 3. A server (no demo) and the report through its API.
const port = 19000 + (process.pid % 500);
const keep = opt('data', '');
const data = keep ? path.resolve(keep) : mkdtempSync(path.join(tmpdir(), 'sharemap-webbench-'));
mkdirSync(data, { recursive: true });
const saved = path.join(data, 'web-bench.json');
const reuse = existsSync(saved) ? JSON.parse(readFileSync(saved, 'utf8')) : null;
const { server, base, ready } = startBenchServer({ root, port, data, webDir });
/**
 * POST a body and parse the JSON answer. Unlike fetch, the server's answer is read even when
 * writing the body fails (a server that refuses an upload may answer and close before the body
 * is all written), so a refusal prints its status and message (which names the limit), not EPIPE.
 */
function post(p, body, headers) {
  return new Promise((resolve, reject) => {
    // A connection of its own (agent: false): Node's global agent keeps connections alive, and
    // one left idle while the next manifest is generated (seconds of synchronous work, during
    // which this process sees no FIN) has been closed by the server after its keep-alive
    // timeout (5 s), so writing the next upload on it failed with EPIPE and no answer.
    const req = http.request(base + p, {
      agent: false,
      method: 'POST',
      headers: { ...headers, 'content-length': String(body.length) },
    });
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', () => undefined);
      res.on('close', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let j;
        try {
          j = JSON.parse(text);
        } catch {
          j = { unparsed: text.slice(0, 300) };
        }
        if (res.statusCode >= 200 && res.statusCode < 300) resolve(j);
        else
          reject(
            new Error(`POST ${p}: the server answered ${res.statusCode} ${JSON.stringify(j).slice(0, 400)}`),
          );
      });
    });
    req.on('error', (e) => {
      // An answer already parsed settles first; otherwise there was none.
      setTimeout(
        () => reject(new Error(`POST ${p}: ${e.code ?? e.message}, and no answer from the server`)),
        200,
      );
    });
    req.end(body);
  });
}
/** Bytes on the wire (gzip accepted) of a GET. */
function wireBytes(p) {
  return new Promise((resolve, reject) => {
    http
      .get(base + p, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        let n = 0;
        res.on('data', (c) => (n += c.length));
        res.on('end', () => resolve(n));
      })
      .on('error', reject);
  });
}

try {
  await ready();
  let id;
  let createMs = null;
  if (reuse && reuse.rows === ROWS && reuse.images === IMAGES) {
    id = reuse.id;
    log(`reusing report ${id} of ${data}`);
  } else {
    let t = Date.now();
    const manifests = [];
    for (let k = 0; k < IMAGES; k++) {
      const records = Math.floor(ROWS / IMAGES) + (k < ROWS % IMAGES ? 1 : 0);
      const body = gzipSync(manifestLines(k, records), { level: 1 });
      const m = await post(`/api/manifests?name=bench-${k}.img`, body, {
        'content-type': 'application/x-ndjson',
        'content-encoding': 'gzip',
      });
      manifests.push(m.id);
    }
    const uploadMs = Date.now() - t;
    t = Date.now();
    const created = await post(
      '/api/reports',
      Buffer.from(JSON.stringify({ manifests, title: 'web bench' })),
      {
        'content-type': 'application/json',
      },
    );
    createMs = Date.now() - t;
    id = created.id;
    log(`${IMAGES} manifests uploaded in ${uploadMs} ms, report created in ${createMs} ms`);
    if (keep) writeFileSync(saved, JSON.stringify({ id, rows: ROWS, images: IMAGES }));
  }
  const wire = {
    summaryGzipBytes: await wireBytes(`/api/reports/${id}/summary`),
    filesGzipBytes: await wireBytes(`/api/reports/${id}/files`),
    reportJsonGzipBytes: await wireBytes(`/api/reports/${id}`),
  };
  log(`report ${id}: ${JSON.stringify(wire)}`);

  // 4. The page.
  const browser = await chromium.launch(chromiumLaunchOptions);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  // In the page from its first script: when each milestone's element appears (performance.now(),
  // i.e. ms since navigation start) and every long task. The page is driven from inside, so no
  // round trip to the benchmark process is counted: as soon as the headline is on screen, a task
  // clicks the Instances tab (it runs when the main thread is free: the page answers input);
  // when the Instances table is on screen, a task clicks Files.
  await addMarkWatcher(page);
  await page.addInitScript(() => {
    const b = (window.__bench = { marks: {}, longTasks: [] });
    const tab = (name) =>
      [...document.querySelectorAll('[role=tab]')].find((t) => t.textContent.startsWith(name));
    const seen = (sel) => () => document.querySelector(sel);
    const watch = [
      ['headline', seen('[data-testid=headline]'), () => tab('Instances').click()],
      ['instances', seen('table.instances-table'), () => tab('Files').click()],
      ['filesRows', seen('[data-testid=files-body] [data-row]'), null],
    ];
    window.__benchWatch(b.marks, watch, null, { childList: true, subtree: true });
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) b.longTasks.push({ start: e.startTime, ms: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(`${base}/r/${id}`);
  await page.waitForFunction(() => window.__bench.marks.filesRows !== undefined, null, {
    timeout: 300_000,
    polling: 250,
  });
  const b = await page.evaluate(() => ({
    ...window.__bench,
    measures: performance.getEntriesByType('measure').map((e) => ({
      name: e.name,
      start: Math.round(e.startTime),
      ms: Math.round(e.duration),
      detail: e.detail ?? undefined,
    })),
  }));
  const m = b.marks;
  const after = b.longTasks.filter((x) => x.start >= m.headline && x.start < m.filesRows);
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
  const r1 = (x) => Math.round(x);
  const out = {
    rows: ROWS,
    images: IMAGES,
    webDir: path.relative(root, webDir) || '.',
    initialJsGzipBytes: initialGzip,
    initialJsFiles: initial,
    ...wire,
    reportCreateMs: createMs,
    headlineMs: r1(m.headline),
    interactiveMs: r1(m.instances),
    instancesClickMs: r1(m.headlineClick),
    filesRowsMs: r1(m.filesRows),
    filesClickMs: r1(m.instancesClick),
    longTasksAfterHeadline: {
      count: after.length,
      maxMs: r1(Math.max(0, ...after.map((x) => x.ms))),
      blockingMs: r1(after.reduce((a, x) => a + Math.max(0, x.ms - 50), 0)),
    },
    scrollFrameMs: frames,
    pageMeasures: b.measures,
    longTasks: after.map((x) => ({ start: r1(x.start), ms: r1(x.ms) })),
  };
  log(
    `initial JS ${(initialGzip / 1024).toFixed(1)} KiB gzip (target <= 250); ${ROWS} rows: headline ${out.headlineMs} ms, ` +
      `interactive ${out.interactiveMs} ms (target <= 2000), files-table rows ${out.filesRowsMs} ms; ` +
      `long tasks after the headline: ${after.length}, max ${out.longTasksAfterHeadline.maxMs} ms; ` +
      `scroll frames p50 ${frames.p50.toFixed(1)} ms p95 ${frames.p95.toFixed(1)} ms`,
  );
  // pnpm bench reads the last stdout line.
  console.log(JSON.stringify(out));
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  if (!keep) rmSync(data, { recursive: true, force: true });
}
