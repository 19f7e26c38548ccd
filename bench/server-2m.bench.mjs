// Server at 2M records, end to end over loopback
// (docs/benchmarks.md#server-2m-2m-records-end-to-end): a manifest of RECORDS records (default
// 2,000,000, about 800 MB of NDJSON) is generated record by record and gzip-streamed to a file (never held whole), uploaded to a real server (apps/server/dist/main.js
// in a child process, default limits), a report is created over it, and every render of the
// report is fetched and streamed to disk: json (the stored gzip), csv, markdown, html, and the
// web UI's parts (/summary, /files: the sharemap-files encoding). Then the HTML report opens in
// headless Chromium from file:// with the network off (bench/html-open.mjs).
// Records per step: time, bytes; the server's peak RSS (VmHWM) after each step. Any answer
// other than 2xx fails the run (exit 1, the status and body on stderr).
// Needs `pnpm build`. Usage: node bench/server-2m.bench.mjs [--records 2000000] [--runs 3]
// [--analysis-timeout-ms N] (the server's SHAREMAP_ANALYSIS_TIMEOUT_MS; default: its default)
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { headline } from '../packages/sharing/dist/index.js';
import { startServerChild } from '../apps/server/test/child-server.mjs';
import { openHtmlReport } from './html-open.mjs';
import { manifestLines } from './manifest-2m.mjs';

const opt = (name, dflt) => {
  const k = process.argv.indexOf(`--${name}`);
  return k > 0 ? process.argv[k + 1] : dflt;
};
const RECORDS = Number(opt('records', 2_000_000));
const RUNS = Number(opt('runs', 3));
/** Server environment: the defaults, unless given (e.g. --analysis-timeout-ms 1800000 to measure past it). */
const SERVER_ENV = opt('analysis-timeout-ms')
  ? { SHAREMAP_ANALYSIS_TIMEOUT_MS: opt('analysis-timeout-ms') }
  : {};
const log = (s) => process.stderr.write(`[server-2m bench] ${s}\n`);
const ms = (t0) => Math.round(performance.now() - t0);

function vmHwmMiB(pid) {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : null;
}

/**
 * One request; the answer streamed into `out` (a file) or collected (small JSON). Throws on
 * any status other than 2xx, with the body's start.
 */
function request(url, { method = 'GET', headers = {}, body, out } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers });
    req.on('error', reject);
    req.on('response', async (res) => {
      try {
        if (res.statusCode < 200 || res.statusCode > 299) {
          let text = '';
          for await (const c of res) if (text.length < 4000) text += c;
          throw new Error(`${method} ${url}: ${res.statusCode} ${text}`);
        }
        if (out) {
          let bytes = 0;
          res.on('data', (c) => (bytes += c.length));
          await pipeline(res, createWriteStream(out));
          resolve({ status: res.statusCode, headers: res.headers, bytes });
        } else {
          let text = '';
          for await (const c of res) text += c;
          resolve({ status: res.statusCode, headers: res.headers, bytes: Buffer.byteLength(text), text });
        }
      } catch (e) {
        reject(e);
      }
    });
    if (body) pipeline(body, req).catch(reject);
    else req.end();
  });
}

const tmp = mkdtempSync(path.join(tmpdir(), 'sharemap-server-2m-'));
let server;
try {
  const load = { start: loadavg().map((x) => Math.round(x * 100) / 100) };
  log(`generating ${RECORDS} records (gzip NDJSON, streamed to a file)`);
  const manifestFile = path.join(tmp, 'big.ndjson.gz');
  let ndjsonBytes = 0;
  let t0 = performance.now();
  await pipeline(
    Readable.from(
      (async function* () {
        for await (const s of manifestLines(RECORDS)) {
          const b = Buffer.from(s);
          ndjsonBytes += b.length;
          yield b;
        }
      })(),
    ),
    createGzip({ level: 6 }),
    createWriteStream(manifestFile),
  );
  const generateMs = ms(t0);
  const gzipBytes = statSync(manifestFile).size;

  server = await startServerChild(path.join(tmp, 'data'), SERVER_ENV, { startTimeoutMs: 120_000 });
  const pid = server.proc.pid;
  const steps = {};
  const step = (name, t, r) => {
    steps[name] = { ms: ms(t), bytes: r.bytes, peakRssMiB: vmHwmMiB(pid) };
    log(`${name}: ${JSON.stringify(steps[name])}`);
  };

  log('uploading');
  t0 = performance.now();
  const up = await request(`${server.url}/api/manifests?name=big.img`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-ndjson',
      'content-encoding': 'gzip',
      'content-length': gzipBytes,
    },
    body: createReadStream(manifestFile),
  });
  step('upload', t0, { bytes: gzipBytes });
  const manifestId = JSON.parse(up.text).id;

  log('creating the report');
  t0 = performance.now();
  const body = JSON.stringify({ manifests: [manifestId], title: 'server-2m' });
  const created = await request(`${server.url}/api/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    body: Readable.from([Buffer.from(body)]),
  });
  step('report', t0, created);
  const reportId = JSON.parse(created.text).id;
  const api = `${server.url}/api/reports/${reportId}`;

  const fetches = [
    ['json.gzip', api, { 'accept-encoding': 'gzip' }],
    ['json', api, {}],
    ['csv', `${api}?format=csv`, {}],
    ['csv.cached', `${api}?format=csv`, {}],
    ['markdown', `${api}?format=markdown`, {}],
    ['html', `${api}?format=html`, {}],
    ['summary', `${api}/summary`, {}],
    ['files', `${api}/files`, {}],
  ];
  for (const [name, url, headers] of fetches) {
    log(`GET ${name}`);
    t0 = performance.now();
    step(name, t0, await request(url, { headers, out: path.join(tmp, `report.${name}`) }));
  }
  const summary = JSON.parse(readFileSync(path.join(tmp, 'report.summary'), 'utf8'));
  const htmlFile = path.join(tmp, 'report.html');
  const expectedHeadline = headline(summary);
  log('opening the HTML in Chromium');
  const opens = await openHtmlReport(htmlFile, expectedHeadline, RUNS);
  load.end = loadavg().map((x) => Math.round(x * 100) / 100);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    JSON.stringify({
      name: 'server-2m',
      records: RECORDS,
      serverEnv: SERVER_ENV,
      ndjsonBytes,
      gzipBytes,
      generateMs,
      steps,
      reportCreationMs: steps.report.ms,
      jsonGzipBytes: steps['json.gzip'].bytes,
      htmlBytes: steps.html.bytes,
      htmlToJsonGzip: Math.round((steps.html.bytes / steps['json.gzip'].bytes) * 1000) / 1000,
      htmlBudget: 1.5,
      headline: expectedHeadline,
      headlineMs: median(opens.map((o) => o.headlineMs)),
      headlineBudgetMs: 3000,
      filesRowsMs: median(opens.map((o) => o.filesRowsMs)),
      opens,
      peakRssMiB: vmHwmMiB(pid),
      loadavg: load,
    }),
  );
} catch (e) {
  log(`FAILED: ${e.stack ?? e}`);
  if (server) log(`server stderr:\n${server.stderr().slice(-4000)}`);
  process.exitCode = 1;
} finally {
  server?.proc.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
