// Server soak benchmark: a real server (apps/server/dist/main.js in a child process, loopback
// only) under a fixed-rate mix of valid work (image and manifest uploads, report creation,
// CSV/Markdown exports) and hostile requests (truncated multipart bodies, aborted gzip
// manifest uploads, trickling senders that give up, malformed percent-encoding), for
// --seconds (default 600). Meanwhile /api/health is probed every 100 ms on its own connection.
//
// Reports: requests sent and answered (by kind and status class), p50/p99/max latency of
// /api/health, the server's peak RSS, and its open file descriptors and temp files (tmp/ of
// the data folder) at the start and at the end (after the load stops and in-flight requests
// have ended), RSS and the machine's load average every 30 s. Whether the server survived.
// No assertions: figures go to docs/benchmarks.md.
//
//   pnpm bench server-soak                     # 10 minutes
//   pnpm bench server-soak --seconds 30        # a short run
//   node bench/server-soak.bench.mjs --seconds 30 --rate 10 --skip truncated-multipart
//
// Last stdout line: one JSON object (scripts/bench.mjs).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { startServerChild } from '../apps/server/test/child-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.SHAREMAP_SOAK_SECONDS ?? '600' },
    /** Requests started per second (valid and hostile together). */
    rate: { type: 'string', default: '5' },
    /** Comma-separated kinds to leave out of the mix. */
    skip: { type: 'string', default: '' },
  },
});
const SECONDS = Number(opts.seconds);
const RATE = Number(opts.rate);
if (!(SECONDS > 0) || !(RATE > 0)) throw new Error('--seconds and --rate must be positive numbers');
const SKIP = new Set(opts.skip.split(',').filter(Boolean));
/** A trickling sender sends one byte per second for this long, then gives up. */
const TRICKLE_SECONDS = 5;
/** After the load stops: in-flight requests, then queued scans and renders, get this long to end. */
const DRAIN_MS = 120_000;
/** RSS and load average are sampled this often for the timeline in the result. */
const SAMPLE_EVERY_MS = 30_000;

const { scanImageFile } = await import(path.join(root, 'packages/erofs/dist/node.js'));
const { manifestToNdjson } = await import(path.join(root, 'packages/erofs/dist/index.js'));

const IMAGE = readFileSync(path.join(root, 'testdata/erofs/app.fp.img'));
const MANIFEST = [
  ...manifestToNdjson(await scanImageFile(path.join(root, 'testdata/erofs/base-v1.fp.img'), { hash: true })),
].join('');

// ---------------------------------------------------------------- server and its process

function procStatus(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    return {
      rssKiB: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0),
      hwmKiB: Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0),
    };
  } catch {
    return null;
  }
}
const openFds = (pid) => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
};
const tempFiles = (dataDir) => {
  try {
    return readdirSync(path.join(dataDir, 'tmp')).length;
  } catch {
    return 0;
  }
};

// ---------------------------------------------------------------- HTTP helpers

/**
 * A request with a whole body, on its own connection (no client-side pool: the server sees
 * the offered load as it is, and must shed what it cannot take); resolves {status, body} or {error}.
 */
function send(base, method, url, { body, headers = {} } = {}) {
  return new Promise((resolve) => {
    const req = http.request(base + url, { method, headers, agent: false }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', (e) => resolve({ error: e.code ?? e.message }));
    });
    req.on('error', (e) => resolve({ error: e.code ?? e.message }));
    req.end(body);
  });
}

/**
 * A request whose body stops early: `head` is sent, then the socket is destroyed after
 * `afterMs` (a client that crashes or loses its network). Resolves when the socket is gone.
 */
function abandon(base, url, headers, head, afterMs) {
  return new Promise((resolve) => {
    const req = http.request(base + url, { method: 'POST', headers, agent: false });
    req.on('error', () => resolve({ status: 'aborted' }));
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode });
    });
    req.write(head);
    setTimeout(() => {
      req.destroy();
      resolve({ status: 'aborted' });
    }, afterMs);
  });
}

/** One byte a second for TRICKLE_SECONDS, then the client gives up. */
function trickle(base) {
  return new Promise((resolve) => {
    const req = http.request(base + '/api/images?name=trickle.img', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(IMAGE.length) },
      agent: false,
    });
    let k = 0;
    const timer = setInterval(() => {
      if (k >= TRICKLE_SECONDS) {
        clearInterval(timer);
        req.destroy();
        resolve({ status: 'aborted' });
        return;
      }
      req.write(IMAGE.subarray(k, k + 1));
      k++;
    }, 1000);
    req.on('error', () => {
      clearInterval(timer);
      resolve({ status: 'aborted' });
    });
    req.on('response', (res) => {
      clearInterval(timer);
      res.resume();
      req.destroy();
      resolve({ status: res.statusCode });
    });
  });
}

// ---------------------------------------------------------------- the mix

const state = { manifests: [], images: [], reports: [] };
const pick = (a) => a[Math.floor(Math.random() * a.length)];
let uploadSeq = 0;

const KINDS = {
  'upload-image': async (base) => {
    // Distinct bytes each time (a trailing zero block count), so each upload is stored and scanned.
    const pad = Buffer.alloc(4096 * (uploadSeq++ % 64));
    const r = await send(base, 'POST', `/api/images?name=soak-${uploadSeq}.img`, {
      body: Buffer.concat([IMAGE, pad]),
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (r.status === 202) state.images.push(JSON.parse(r.body).id);
    return r;
  },
  'upload-manifest': async (base) => {
    const r = await send(base, 'POST', `/api/manifests?name=soak-${uploadSeq++}.img`, {
      body: gzipSync(MANIFEST),
      headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
    });
    if (r.status === 201) state.manifests.push(JSON.parse(r.body).id);
    return r;
  },
  'create-report': async (base) => {
    if (state.manifests.length === 0) return KINDS['upload-manifest'](base);
    const json = { manifests: [pick(state.manifests)] };
    if (state.images.length > 0 && Math.random() < 0.5) json.images = [state.images.at(-1)];
    const r = await send(base, 'POST', '/api/reports', {
      body: JSON.stringify(json),
      headers: { 'content-type': 'application/json' },
    });
    if (r.status === 201) state.reports.push(JSON.parse(r.body).id);
    return r;
  },
  export: async (base) => {
    if (state.reports.length === 0) return KINDS['create-report'](base);
    // Mostly the newest reports (first renders), sometimes an older one (the cache).
    const id = Math.random() < 0.7 ? state.reports.at(-1) : pick(state.reports);
    return send(base, 'GET', `/api/reports/${id}?format=${Math.random() < 0.5 ? 'csv' : 'markdown'}`);
  },
  'truncated-multipart': (base) =>
    abandon(
      base,
      '/api/images',
      { 'content-type': 'multipart/form-data; boundary=soakboundary', 'content-length': '100000' },
      '--soakboundary\r\nContent-Disposition: form-data; name="image"; filename="t.img"\r\n' +
        'Content-Type: application/octet-stream\r\n\r\n' +
        'x'.repeat(4000),
      50,
    ),
  'aborted-gzip': (base) => {
    const junk = gzipSync(
      Buffer.from(Array.from({ length: 200_000 }, () => Math.floor(Math.random() * 256))),
    );
    return abandon(
      base,
      '/api/manifests',
      {
        'content-type': 'application/x-ndjson',
        'content-encoding': 'gzip',
        'content-length': String(junk.length),
      },
      junk.subarray(0, junk.length >> 1),
      100,
    );
  },
  trickle: (base) => trickle(base),
  'bad-percent': (base) =>
    send(base, 'GET', pick(['/api/reports/%ZZ', '/api/images/%E0%A4%A', '/api/report-names/%'])),
};

// Of every 20 requests: 9 valid, 11 hostile.
const MIX = [
  ...Array(2).fill('upload-image'),
  ...Array(2).fill('upload-manifest'),
  ...Array(2).fill('create-report'),
  ...Array(3).fill('export'),
  ...Array(3).fill('truncated-multipart'),
  ...Array(3).fill('aborted-gzip'),
  ...Array(1).fill('trickle'),
  ...Array(4).fill('bad-percent'),
].filter((k) => !SKIP.has(k));
if (MIX.length === 0) throw new Error('--skip left nothing to send');

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const round = (x) => (x === null ? null : Math.round(x * 10) / 10);

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sharemap-soak-'));
  const server = await startServerChild(dataDir);
  const pid = server.proc.pid;
  const t0 = Date.now();
  let exited = null;
  server.proc.on(
    'exit',
    (code, signal) => (exited = { code, signal, atSeconds: round((Date.now() - t0) / 1000) }),
  );
  // Warm up: one of each valid kind, so the start figures include loaded workers and caches.
  await KINDS['upload-manifest'](server.url);
  await KINDS['create-report'](server.url);
  await KINDS.export(server.url);
  const start = { rssKiB: procStatus(pid)?.rssKiB, fds: openFds(pid), tempFiles: tempFiles(dataDir) };

  const byKind = {};
  const stats = (kind) =>
    (byKind[kind] ??= {
      sent: 0,
      answered: 0,
      '2xx': 0,
      '3xx': 0,
      '4xx': 0,
      '5xx': 0,
      aborted: 0,
      failed: 0,
    });
  const count = (kind, r) => {
    const k = stats(kind);
    if (r.status === 'aborted') k.aborted++;
    else if (typeof r.status === 'number') {
      k.answered++;
      k[`${Math.floor(r.status / 100)}xx`]++;
    } else k.failed++;
  };

  // Health probe: its own keep-alive agent, one request every 100 ms.
  const healthAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const healthMs = [];
  let healthFailures = 0;
  let peakRssKiB = start.rssKiB ?? 0;
  // RSS and the machine's 1-minute load average over time (the machine may be shared: the
  // load says how much CPU the server had), one sample per SAMPLE_EVERY_MS.
  const timeline = [];
  const sample = () =>
    timeline.push({
      atSeconds: round((Date.now() - t0) / 1000),
      rssMiB: round((procStatus(pid)?.rssKiB ?? 0) / 1024),
      load1: round(os.loadavg()[0]),
    });
  sample();
  const sampler = setInterval(sample, SAMPLE_EVERY_MS);
  const loadEnd = Date.now() + SECONDS * 1000;
  const probe = (async () => {
    while (Date.now() < loadEnd && !exited) {
      const t = performance.now();
      const ok = await new Promise((resolve) => {
        const req = http.get(server.url + '/api/health', { agent: healthAgent, timeout: 10_000 }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(false));
      });
      if (ok) healthMs.push(performance.now() - t);
      else healthFailures++;
      const rss = procStatus(pid)?.rssKiB ?? 0;
      if (rss > peakRssKiB) peakRssKiB = rss;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  // The load: one request started every 1/RATE s, whatever the earlier ones are doing.
  const inflight = new Set();
  let sent = 0;
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      if (Date.now() >= loadEnd || exited) {
        clearInterval(timer);
        resolve();
        return;
      }
      const kind = MIX[sent++ % MIX.length];
      stats(kind).sent++;
      const p = KINDS[kind](server.url).then(
        (r) => count(kind, r),
        () => count(kind, { status: 'failed' }),
      );
      inflight.add(p);
      p.finally(() => inflight.delete(p));
    }, 1000 / RATE);
  });
  await probe;
  const drainEnd = Date.now() + DRAIN_MS;
  while (inflight.size > 0 && Date.now() < drainEnd)
    await Promise.race([...inflight, new Promise((r) => setTimeout(r, 500))]);
  // Then the server's own queues (scans of the last uploads, renders).
  for (;;) {
    const h = await send(server.url, 'GET', '/api/health');
    const b = h.status === 200 ? JSON.parse(h.body) : null;
    const busy = b
      ? b.scans.running + b.scans.queued + (b.renders?.running ?? 0) + (b.renders?.queued ?? 0)
      : 0;
    if (busy === 0 || Date.now() > drainEnd || exited) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  healthAgent.destroy();
  clearInterval(sampler);
  sample();
  // Give the server a moment to notice closed sockets and clean up after them (polled, bounded).
  let end = { rssKiB: procStatus(pid)?.rssKiB, fds: openFds(pid), tempFiles: tempFiles(dataDir) };
  for (let k = 0; k < 20 && !exited && (end.fds > start.fds || end.tempFiles > start.tempFiles); k++) {
    await new Promise((r) => setTimeout(r, 500));
    end = { rssKiB: procStatus(pid)?.rssKiB, fds: openFds(pid), tempFiles: tempFiles(dataDir) };
  }
  const hwm = procStatus(pid)?.hwmKiB;
  const sorted = healthMs.sort((a, b) => a - b);
  const answered = Object.values(byKind).reduce((a, k) => a + k.answered, 0);
  const result = {
    bench: 'server-soak',
    seconds: SECONDS,
    rate: RATE,
    skipped: [...SKIP],
    serverSurvived: exited === null,
    serverExit: exited,
    requests: { sent, answered, inflightAtEnd: inflight.size, byKind },
    health: {
      probes: sorted.length,
      failures: healthFailures,
      p50Ms: round(percentile(sorted, 50)),
      p99Ms: round(percentile(sorted, 99)),
      maxMs: round(sorted.at(-1) ?? null),
    },
    rss: {
      startMiB: round(start.rssKiB / 1024),
      peakMiB: round(Math.max(peakRssKiB, hwm ?? 0) / 1024),
      endMiB: round((end.rssKiB ?? 0) / 1024),
    },
    timeline,
    loadAverage: { atEnd: os.loadavg().map(round), peak1: Math.max(...timeline.map((x) => x.load1)) },
    fds: { start: start.fds, end: end.fds },
    tempFiles: { start: start.tempFiles, end: end.tempFiles },
    reports: state.reports.length,
    cpus: os.cpus().length,
    node: process.version,
  };
  if (!exited) {
    server.proc.kill('SIGTERM');
    await new Promise((r) => server.proc.once('exit', r));
  } else result.serverStderrTail = server.stderr().split('\n').slice(-5);
  rmSync(dataDir, { recursive: true, force: true });
  console.log(JSON.stringify(result));
}

await main();
