// Replicas benchmark: scans per minute of the built server (apps/server/dist/main.js, child
// processes on 127.0.0.1 and free ports) with the one-process SQLite default, and with one and
// two replicas on one private PostgreSQL cluster and one shared data folder
// (docs/server.md#several-replicas). Each configuration starts from an empty database and data
// folder and gets the same batch: --uploads distinct EROFS images (default 40), built here with
// mkfs.erofs from one real tree (--tree, default /usr/share/vim; lz4hc unless --compress none)
// with a marker file and a UUID of their own, so every upload has other bytes and gets its own
// scan (the server reuses the manifest of identical content scanned before: an upload answered
// `deduplicated` fails the bench). Uploads go round-robin over the replicas, --concurrency at a
// time (default 4); each image is followed by its server-sent events on the replica that took
// its upload (and its status is read again every WATCHDOG_MS while it has not ended).
//
// Reports per configuration: wall time from the first upload to the last scan recorded (the
// latest `updatedAt` of the images, the servers' clock, the same machine), scans per minute,
// the upload phase alone, and per replica the uploads it took and the scans it ran with their
// mean duration (`sharemap_scan_duration_seconds` of its /metrics); the CPU seconds the replicas
// (worker threads included) and the PostgreSQL cluster spent meanwhile, per scan (/proc: the
// machine is shared, wall times follow its load); the load average before and after, and the
// core count. Configurations: sqlite, pg-1, pg-2 and pg-2x1 (two replicas with
// SHAREMAP_MAX_CONCURRENT_SCANS=1 each: as many scans at once as one replica runs by default).
// No assertions on figures: they go to
// docs/benchmarks.md#replicas-scans-per-minute-with-one-and-two-replicas.
//
// Fails (exit code 1, one line on stderr, {"error"} as the JSON result) when an upload is not
// accepted, a scan fails, a replica exits during a run, or the scans do not end within
// SCANS_TIMEOUT_MS. The cluster, the replicas and every temporary file are removed on exit,
// also on Ctrl-C (SIGINT) and SIGTERM.
//
//   pnpm bench replicas
//   pnpm bench replicas --uploads 24 --configs pg-1,pg-2 --rounds 2
//
// Last stdout line: one JSON object (scripts/bench.mjs).
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startServerChild } from '../apps/server/test/child-server.mjs';
import { startPgCluster } from '../apps/server/test/pg-cluster.mjs';
import { ensurePostgres } from '../scripts/lib.mjs';

/** The configurations: how many replicas, on SQLite (the one-process default) or PostgreSQL, and their extra env. */
const CONFIGS = {
  sqlite: { replicas: 1, postgres: false, env: {} },
  'pg-1': { replicas: 1, postgres: true, env: {} },
  'pg-2': { replicas: 2, postgres: true, env: {} },
  'pg-2x1': { replicas: 2, postgres: true, env: { SHAREMAP_MAX_CONCURRENT_SCANS: '1' } },
};
/** Every scan of one configuration must be recorded within this long, or the bench fails. */
const SCANS_TIMEOUT_MS = 20 * 60_000;
/** How often the status of images still scanning is read, besides their event streams. */
const WATCHDOG_MS = 5_000;
/** A replica (migrations, pg-boss's schema) must serve within this long on a loaded machine. */
const START_TIMEOUT_MS = 180_000;
/** The file each image gets with its own number, so that no two images have the same bytes. */
const MARKER_FILE = '.sharemap-bench-id';

const { values: opts } = parseArgs({
  options: {
    uploads: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '4' },
    tree: { type: 'string', default: process.env.BENCH_TREE ?? '/usr/share/vim' },
    compress: { type: 'string', default: 'lz4hc' },
    configs: { type: 'string', default: Object.keys(CONFIGS).join(',') },
    rounds: { type: 'string', default: '1' },
  },
  strict: false, // scripts/bench.mjs passes the same options to every bench it runs
});
const UPLOADS = Number(opts.uploads);
const CONCURRENCY = Number(opts.concurrency);
const ROUNDS = Number(opts.rounds);
const CONFIG_NAMES = String(opts.configs).split(',').filter(Boolean);

// ---------------------------------------------------------------- failing loudly, cleaning up

/** Everything to undo on exit: replica processes, the cluster, the temporary folder. */
const live = { procs: new Set(), cluster: null, work: null };

function cleanup() {
  for (const p of live.procs) p.kill('SIGKILL');
  live.procs.clear();
  try {
    live.cluster?.stop();
  } catch {
    /* the cluster's folder is removed below anyway */
  }
  live.cluster = null;
  // A replica just sent SIGKILL may still be ending a write into the data folder: retry.
  if (live.work) rmSync(live.work, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  live.work = null;
}
process.on('exit', cleanup);
process.on('SIGINT', () => {
  process.stderr.write('replicas bench: interrupted (SIGINT), cleaning up\n');
  process.exit(130);
});
process.on('SIGTERM', () => {
  process.stderr.write('replicas bench: terminated (SIGTERM), cleaning up\n');
  process.exit(143);
});

/** One line on stderr, the error as the JSON result, exit code 1 (the exit handler cleans up). */
function die(message) {
  const line = String(message).split('\n')[0];
  process.stderr.write(`replicas bench: ${line}\n`);
  console.log(JSON.stringify({ error: line }));
  process.exit(1);
}

if (!(UPLOADS > 0) || !Number.isInteger(UPLOADS))
  die(`--uploads must be a positive integer, got ${opts.uploads}`);
if (!(CONCURRENCY > 0) || !Number.isInteger(CONCURRENCY))
  die(`--concurrency must be a positive integer, got ${opts.concurrency}`);
if (!(ROUNDS > 0) || !Number.isInteger(ROUNDS))
  die(`--rounds must be a positive integer, got ${opts.rounds}`);
for (const c of CONFIG_NAMES)
  if (!(c in CONFIGS)) die(`unknown configuration ${c}: one of ${Object.keys(CONFIGS).join(', ')}`);
if (!['lz4hc', 'lz4', 'none'].includes(opts.compress))
  die(`--compress: lz4hc, lz4 or none, got ${opts.compress}`);

// ---------------------------------------------------------------- the images

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error || r.status !== 0)
    die(
      `${cmd} ${args.join(' ')}: ${r.error?.message ?? `exit ${r.status}: ${r.stderr.trim().split('\n').at(-1)}`}`,
    );
}

/** `count` images of `tree`, each with its own marker file and UUID; returns their paths. */
function buildImages(work, tree, count) {
  const copy = path.join(work, 'tree');
  cpSync(tree, copy, { recursive: true, dereference: false, verbatimSymlinks: true });
  const dir = path.join(work, 'images');
  mkdirSync(dir);
  const images = [];
  for (let i = 0; i < count; i++) {
    writeFileSync(path.join(copy, MARKER_FILE), `${i}\n`);
    const img = path.join(dir, `bench-${String(i).padStart(3, '0')}.img`);
    const uuid = `5ea2e3a9-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    const compress = opts.compress === 'none' ? [] : [`-z${opts.compress}`];
    sh('mkfs.erofs', ['-T0', `-U${uuid}`, ...compress, img, copy]);
    images.push(img);
  }
  return images;
}

// ---------------------------------------------------------------- HTTP

/** GET a JSON (or text) answer; rejects on a connection error. */
function get(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Streams one image to POST /api/images; resolves with the answer's JSON, dies on anything but 202. */
function upload(base, file) {
  const name = path.basename(file);
  return new Promise((resolve) => {
    const req = http.request(`${base}/api/images?name=${encodeURIComponent(name)}`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/octet-stream', 'content-length': statSync(file).size },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(body);
        } catch {
          die(`upload of ${name} to ${base}: HTTP ${res.statusCode}, not JSON: ${body.slice(0, 200)}`);
        }
        if (res.statusCode !== 202)
          die(
            `upload of ${name} to ${base}: HTTP ${res.statusCode}: ${json.error?.message ?? body.slice(0, 200)}`,
          );
        if (json.deduplicated) die(`upload of ${name} was deduplicated: the images are not distinct`);
        resolve(json);
      });
    });
    req.on('error', (e) => die(`upload of ${name} to ${base}: ${e.message}`));
    createReadStream(file).pipe(req);
  });
}

/**
 * Follows the events of image `id` on `base` until its status is ready or failed; calls
 * `settle(status)` then. The stream is closed by the server after the final status.
 */
function followEvents(base, id, settle) {
  const req = http.get(`${base}/api/images/${id}/events`, { agent: false }, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buf += chunk;
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        if (!/^event: status$/m.test(block)) continue;
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data) {
          const s = JSON.parse(data);
          if (s.status === 'ready' || s.status === 'failed') settle(s, 'event');
        }
      }
    });
    res.on('error', () => undefined); // the watchdog reads the status instead
  });
  req.on('error', () => undefined); // ditto
  return req;
}

/** `sharemap_scan_duration_seconds` of one replica's /metrics: scans it ran to `ready`, and their seconds. */
async function scanMetrics(base) {
  const r = await get(`${base}/metrics`);
  if (r.status !== 200) die(`GET ${base}/metrics: HTTP ${r.status}`);
  const value = (series) => {
    const m = new RegExp(`^${series}\\{outcome="ready"\\} (\\S+)$`, 'm').exec(r.body);
    return m ? Number(m[1]) : 0;
  };
  return {
    scans: value('sharemap_scan_duration_seconds_count'),
    seconds: value('sharemap_scan_duration_seconds_sum'),
  };
}

// ---------------------------------------------------------------- CPU time

/** Clock ticks per second of /proc/<pid>/stat's times. */
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime, stime, cutime, cstime (seconds) and the parent pid of a process, from /proc/<pid>/stat (proc(5)). */
function procTimes(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // gone meanwhile
  }
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = (field) => Number(f[field - 3]) / CLK_TCK;
  return { ppid: Number(f[4 - 3]), self: at(14) + at(15), children: at(16) + at(17) };
}

/** CPU seconds of a process so far, its threads (the scan workers) included. */
const cpuOf = (pid) => procTimes(pid)?.self ?? 0;

/**
 * CPU seconds of the PostgreSQL cluster so far: the postmaster with its ended children (reaped:
 * cutime, cstime) plus the live ones (a backend per connection, the background processes).
 */
function clusterCpu(cluster) {
  if (!cluster) return 0;
  const pid = Number(readFileSync(path.join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const main = procTimes(pid);
  if (!main) die(`the PostgreSQL cluster (pid ${pid}) is gone`);
  let total = main.self + main.children;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const t = procTimes(entry);
    if (t?.ppid === pid) total += t.self;
  }
  return total;
}

// ---------------------------------------------------------------- one configuration

const round2 = (x) => Math.round(x * 100) / 100;
const loadavg = () => os.loadavg().map((v) => Math.round(v * 100) / 100);

async function startReplicas(name, config, dataDir, env) {
  const replicas = [];
  // One after the other: the first one migrates the schema and makes pg-boss's.
  for (let k = 0; k < config.replicas; k++) {
    let child;
    try {
      child = await startServerChild(
        dataDir,
        { ...env, ...config.env },
        { startTimeoutMs: START_TIMEOUT_MS },
      );
    } catch (e) {
      die(`${name}: replica ${k + 1} did not start: ${e.message.split('\n').join(' ').slice(0, 400)}`);
    }
    live.procs.add(child.proc);
    const replica = { name: `${name}#${k + 1}`, ...child, stopping: false, uploads: 0 };
    child.proc.on('exit', (code, signal) => {
      live.procs.delete(child.proc);
      if (!replica.stopping) {
        const last = child.stderr().trim().split('\n').at(-1) ?? '';
        die(
          `${replica.name} exited (${signal ?? `code ${code}`}) during the run; its last line: ${last.slice(0, 300)}`,
        );
      }
    });
    replicas.push(replica);
  }
  return replicas;
}

/** SIGTERM (graceful shutdown) and wait for each replica's exit. */
async function stopReplicas(replicas) {
  await Promise.all(
    replicas.map(
      (r) =>
        new Promise((resolve) => {
          r.stopping = true;
          if (r.proc.exitCode !== null || r.proc.signalCode !== null) return resolve();
          r.proc.once('exit', resolve);
          r.proc.kill('SIGTERM');
        }),
    ),
  );
}

async function runConfig(name, round, images, cluster) {
  const config = CONFIGS[name];
  const dataDir = path.join(live.work, `data-${name}-${round}`);
  const env = config.postgres
    ? {
        SHAREMAP_DATABASE_URL: cluster.createDatabase(`bench_${name.replace(/-/g, '_')}_${round}`),
        SHAREMAP_SHARED_DATA: '1',
      }
    : // The one-process default, whatever the environment says (undefined: not passed on).
      { SHAREMAP_DATABASE_URL: undefined, SHAREMAP_SHARED_DATA: undefined };
  const loadBefore = loadavg();
  const replicas = await startReplicas(name, config, dataDir, env);

  /** id -> { resolve, replica } of images whose scan has not ended yet. */
  const pending = new Map();
  const settledBy = { event: 0, poll: 0 };
  const done = [];
  const streams = [];
  const settle = (id, status, how) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    settledBy[how] += 1;
    if (status.status === 'failed')
      die(
        `${name}: the scan of ${status.name} failed on ${p.replica.name}: ${status.error?.code}: ${status.error?.message}`,
      );
    done.push(status);
    p.resolve();
  };
  const watchdog = setInterval(() => {
    for (const [id, p] of pending)
      get(`${p.replica.url}/api/images/${id}`).then(
        (r) => {
          if (r.status !== 200) return;
          const s = JSON.parse(r.body);
          if (s.status === 'ready' || s.status === 'failed') settle(id, s, 'poll');
        },
        () => undefined, // a replica that died is reported by its exit
      );
  }, WATCHDOG_MS);

  const cpu0 = { replicas: replicas.map((r) => cpuOf(r.proc.pid)), postgres: clusterCpu(cluster) };
  const client0 = process.cpuUsage();
  const t0 = Date.now();
  const scans = [];
  let next = 0;
  const uploader = async () => {
    while (next < images.length) {
      const i = next++;
      const replica = replicas[i % replicas.length];
      replica.uploads += 1;
      const accepted = await upload(replica.url, images[i]);
      scans.push(
        new Promise((resolve) => {
          pending.set(accepted.id, { resolve, replica });
          streams.push(followEvents(replica.url, accepted.id, (s, how) => settle(accepted.id, s, how)));
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, uploader));
  const uploadsDone = Date.now();
  const timeout = setTimeout(
    () => die(`${name}: ${pending.size} scans not recorded within ${SCANS_TIMEOUT_MS / 60_000} min`),
    SCANS_TIMEOUT_MS,
  );
  await Promise.all(scans);
  const clientDone = Date.now();
  const replicaCpu = replicas.map((r, k) => cpuOf(r.proc.pid) - cpu0.replicas[k]);
  const postgresCpu = config.postgres ? clusterCpu(cluster) - cpu0.postgres : 0;
  const clientCpu = process.cpuUsage(client0);
  clearTimeout(timeout);
  clearInterval(watchdog);
  for (const s of streams) s.destroy();

  const shas = new Set(done.map((s) => s.sha256));
  if (shas.size !== images.length) die(`${name}: ${images.length} uploads but ${shas.size} distinct images`);
  const lastRecorded = Math.max(...done.map((s) => Date.parse(s.updatedAt)));
  const wallSeconds = (lastRecorded - t0) / 1000;
  const perReplica = [];
  for (const [k, r] of replicas.entries()) {
    const m = await scanMetrics(r.url);
    perReplica.push({
      replica: r.name,
      uploads: r.uploads,
      scans: m.scans,
      meanScanSeconds: m.scans ? Math.round((m.seconds / m.scans) * 1000) / 1000 : null,
      cpuSeconds: round2(replicaCpu[k]),
    });
  }
  const serverCpu = replicaCpu.reduce((a, b) => a + b, 0) + postgresCpu;
  const loadAfter = loadavg();
  await stopReplicas(replicas);
  rmSync(dataDir, { recursive: true, force: true });
  const fileCounts = [...new Set(done.map((s) => s.manifest?.fileCount))];
  return {
    config: name,
    round,
    backend: config.postgres ? 'postgresql' : 'sqlite',
    replicas: config.replicas,
    scansAtOncePerReplica: Number(config.env.SHAREMAP_MAX_CONCURRENT_SCANS ?? 2),
    scans: done.length,
    filesPerImage: fileCounts.length === 1 ? fileCounts[0] : fileCounts,
    wallSeconds: Math.round(wallSeconds * 100) / 100,
    scansPerMinute: Math.round((done.length / wallSeconds) * 60 * 10) / 10,
    uploadSeconds: Math.round((uploadsDone - t0) / 10) / 100,
    clientSeenSeconds: Math.round((clientDone - t0) / 10) / 100,
    /** Scans run (metrics) beyond the images: a job run twice (none expected: no replica dies). */
    scansRunTwice: perReplica.reduce((n, r) => n + r.scans, 0) - done.length,
    settledBy,
    /** CPU seconds from the first upload to the last scan: the replicas (threads included), the cluster, this client. */
    cpuSeconds: {
      replicas: round2(replicaCpu.reduce((a, b) => a + b, 0)),
      postgres: round2(postgresCpu),
      client: round2((clientCpu.user + clientCpu.system) / 1e6),
    },
    serverCpuSecondsPerScan: round2(serverCpu / done.length),
    /** Scans a minute if the server had every core to itself at that CPU cost (the machine is shared). */
    cpuBoundScansPerMinute: Math.round(((os.cpus().length * 60) / (serverCpu / done.length)) * 10) / 10,
    perReplica,
    loadavgBefore: loadBefore,
    loadavgAfter: loadAfter,
  };
}

// ---------------------------------------------------------------- main

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  if (spawnSync('sh', ['-c', 'command -v mkfs.erofs']).status !== 0)
    die('mkfs.erofs is not installed (apt-get install -y erofs-utils)');
  const tree = path.resolve(String(opts.tree));
  if (!statSync(tree, { throwIfNoEntry: false })?.isDirectory()) die(`--tree ${tree} is not a directory`);
  const needsPostgres = CONFIG_NAMES.some((c) => CONFIGS[c].postgres);
  if (needsPostgres && !ensurePostgres('the replicas benchmark')) die('PostgreSQL is not installed');

  live.work = mkdtempSync(path.join(os.tmpdir(), 'sharemap-replicas-bench-'));
  const loadStart = loadavg();
  const tBuild = Date.now();
  const images = buildImages(live.work, tree, UPLOADS);
  const buildSeconds = (Date.now() - tBuild) / 1000;
  const imageBytes = images.map((f) => statSync(f).size);
  if (needsPostgres) {
    try {
      live.cluster = await startPgCluster();
    } catch (e) {
      die(e.message.split('\n').join(' ').slice(0, 400));
    }
  }

  const runs = [];
  for (let round = 1; round <= ROUNDS; round++)
    for (const name of CONFIG_NAMES) {
      process.stderr.write(`replicas bench: ${name} (round ${round} of ${ROUNDS})...\n`);
      const r = await runConfig(name, round, images, live.cluster);
      process.stderr.write(
        `replicas bench: ${name}: ${r.scansPerMinute} scans/min, ${r.wallSeconds} s, load ${r.loadavgAfter[0]}\n`,
      );
      runs.push(r);
    }

  const scansPerMinute = Object.fromEntries(
    CONFIG_NAMES.map((c) => [c, median(runs.filter((r) => r.config === c).map((r) => r.scansPerMinute))]),
  );
  const ratio = (a, b) =>
    scansPerMinute[a] && scansPerMinute[b]
      ? Math.round((scansPerMinute[a] / scansPerMinute[b]) * 100) / 100
      : null;
  return {
    date: new Date().toISOString(),
    node: process.version,
    cores: os.cpus().length,
    loadavgAtStart: loadStart,
    loadavgAtEnd: loadavg(),
    image: {
      tree,
      compress: opts.compress,
      uploads: UPLOADS,
      meanBytes: Math.round(imageBytes.reduce((a, b) => a + b, 0) / imageBytes.length),
      buildSeconds: Math.round(buildSeconds * 10) / 10,
    },
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    /** Median over the rounds. */
    scansPerMinute,
    pg2OverPg1: ratio('pg-2', 'pg-1'),
    pg1OverSqlite: ratio('pg-1', 'sqlite'),
    runs,
  };
}

main().then(
  (result) => {
    cleanup();
    console.log(JSON.stringify(result));
  },
  (e) => die(e?.stack ?? e),
);
