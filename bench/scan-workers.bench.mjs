// Scan worker threads: where a server scan's time goes. One EROFS image (mkfs.erofs of --tree,
// default /usr/share/vim, lz4hc: the image of the replicas bench) is stored in a temporary blob
// folder and scanned through the server's own worker pool (apps/server/dist/scan/pool.js, the
// scan task of POST /api/images: hashing on, manifest blob written) --rounds times in each way,
// alternating so that the machine's changing load falls on both alike:
//   - fresh: a pool without reuse, one new worker thread per scan (the server before reuse);
//   - reused: a pool that keeps its worker (the server's scan pool now), warmed by one scan;
//   - thread start: a new worker thread running a trivial task (a one-line mount configuration):
//     starting the thread and loading the worker's modules, no scan;
//   - `sharemap scan --hash` of the same image (a whole CLI process), for reference.
// Medians in seconds, the load average before and after, the core count. No assertions on
// figures: they go to docs/benchmarks.md#scan-workers-where-a-server-scans-time-goes.
//
//   pnpm bench scan-workers [--rounds 7] [--tree DIR]
//
// Fails (exit code 1, one line on stderr, {"error"} as the JSON result) when mkfs.erofs is
// missing or a scan fails. The temporary folder is removed on exit.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { root } from '../scripts/lib.mjs';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    tree: { type: 'string', default: process.env.BENCH_TREE ?? '/usr/share/vim' },
  },
  strict: false, // scripts/bench.mjs passes the same options to every bench it runs
});
const ROUNDS = Number(opts.rounds);
/** Every task's time limit: far above any scan here; a scan that takes longer fails the bench. */
const TASK_TIMEOUT_MS = 600_000;
const HEAP_MB = 1024;

const work = mkdtempSync(path.join(os.tmpdir(), 'sharemap-scan-workers-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function die(message) {
  const line = String(message).split('\n')[0];
  process.stderr.write(`scan-workers bench: ${line}\n`);
  console.log(JSON.stringify({ error: line }));
  process.exit(1);
}

if (!(ROUNDS > 0) || !Number.isInteger(ROUNDS))
  die(`--rounds must be a positive integer, got ${opts.rounds}`);
if (spawnSync('sh', ['-c', 'command -v mkfs.erofs']).status !== 0)
  die('mkfs.erofs is not installed (apt-get install -y erofs-utils)');

const { WorkerPool } = await import(path.join(root, 'apps/server/dist/scan/pool.js'));
const { BlobStore } = await import(path.join(root, 'apps/server/dist/storage/blobs.js'));

const img = path.join(work, 'bench.img');
const mk = spawnSync('mkfs.erofs', ['-T0', '-zlz4hc', img, opts.tree], { encoding: 'utf8' });
if (mk.status !== 0) die(`mkfs.erofs: ${mk.stderr.trim().split('\n').at(-1)}`);
const bytes = readFileSync(img);
const store = new BlobStore(path.join(work, 'data'));
const blob = await store.put(bytes);
const scanTask = {
  kind: 'scan',
  dataDir: store.dataDir,
  image: { sha256: blob.sha256, name: 'bench.img', size: bytes.length },
  devices: [],
  maxFiles: 10_000_000,
  timeoutMs: TASK_TIMEOUT_MS,
};
const trivialTask = {
  kind: 'mount-config',
  text: '/dev/vda / erofs ro 0 0\n',
  domainKey: new Uint8Array(32),
  known: [],
};

async function timed(pool, task) {
  const t = performance.now();
  try {
    await pool.run(task, { timeoutMs: TASK_TIMEOUT_MS });
  } catch (e) {
    die(`${task.kind}: ${e.message}`);
  }
  return (performance.now() - t) / 1000;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)] * 1000) / 1000;
};

const loadBefore = os.loadavg().map((x) => Math.round(x * 100) / 100);
const reusedPool = new WorkerPool(1, 10, HEAP_MB, { reuse: ['scan'] });
await timed(reusedPool, scanTask); // warm: the thread and its modules
const times = { fresh: [], reused: [], threadStart: [], cli: [] };
for (let r = 0; r < ROUNDS; r++) {
  const freshPool = new WorkerPool(1, 10, HEAP_MB);
  times.fresh.push(await timed(freshPool, scanTask));
  times.threadStart.push(await timed(freshPool, trivialTask));
  await freshPool.close();
  times.reused.push(await timed(reusedPool, scanTask));
  const t = performance.now();
  const cli = spawnSync(process.execPath, [path.join(root, 'apps/cli/dist/main.js'), 'scan', '--hash', img], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (cli.status !== 0) die(`sharemap scan --hash: ${cli.stderr.trim().split('\n').at(-1)}`);
  times.cli.push((performance.now() - t) / 1000);
}
const workersStarted = reusedPool.workersStarted;
await reusedPool.close();
const medians = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
console.log(
  JSON.stringify({
    image: { tree: opts.tree, compress: 'lz4hc', bytes: bytes.length },
    rounds: ROUNDS,
    medianSeconds: medians,
    freshOverReused: Math.round((medians.fresh / medians.reused) * 100) / 100,
    reusedPoolWorkersStarted: workersStarted,
    seconds: times,
    loadavgBefore: loadBefore,
    loadavgAfter: os.loadavg().map((x) => Math.round(x * 100) / 100),
    cores: os.cpus().length,
  }),
);
