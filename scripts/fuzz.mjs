// `pnpm fuzz`: long mutation-fuzzing run of the EROFS reader (the bounded run is part of
// `npm test`, packages/erofs/test/robustness.test.ts; both draw their cases with
// packages/erofs/test/fuzz-lib.mjs).
//
//   pnpm fuzz [--seconds 300] [--seed S] [--image NAME]... [--case-timeout MS] [--max-mb MB] [--no-build]
//
// Every fixture image of testdata/erofs and testdata/erofs/synthetic (filtered by --image, a
// substring of the file name) is mutated in turn; each case runs the whole reader surface (open, manifest scan with
// content hashing, then stat/readFile/readdir/readlink/listxattr/layoutOf per path) in a
// worker thread. A finding is anything but a typed ErofsError: an untyped exception, a case
// that runs longer than --case-timeout (a hang), a worker whose JS heap exceeds --max-mb / 2
// or whose process RSS grows by more than --max-mb (an unbounded allocation), or a crash.
// Each distinct finding is saved as testdata/erofs/broken/fuzz/<hash>.img plus <hash>.json
// (base image, seed, case, mutation ops, error) and printed; the exit code is then 1.
// `fuzz-regressions.test.ts` replays every saved image in `npm test`.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { build, ensureInstalled, log, root } from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '300' },
    seed: { type: 'string' },
    image: { type: 'string', multiple: true, default: [] },
    'case-timeout': { type: 'string', default: '20000' },
    'max-mb': { type: 'string', default: '1024' },
    'no-build': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  process.stdout.write(
    'pnpm fuzz [--seconds 300] [--seed S] [--image NAME]... [--case-timeout MS] [--max-mb MB] [--no-build]\n',
  );
  process.exit(0);
}
const seconds = Number(opt.seconds);
const seed = opt.seed !== undefined ? Number(opt.seed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const caseTimeout = Number(opt['case-timeout']);
const maxMb = Number(opt['max-mb']);
if (!(seconds > 0) || !(caseTimeout > 0) || !(maxMb > 0) || Number.isNaN(seed)) {
  process.stderr.write('fuzz: --seconds, --case-timeout, --max-mb must be positive numbers\n');
  process.exit(2);
}

if (!opt['no-build']) {
  ensureInstalled();
  build(['@sharemap/erofs']);
}
const api = await import('../packages/erofs/dist/node.js');
const lib = await import('../packages/erofs/test/fuzz-lib.mjs');

const DATA = path.join(root, 'testdata', 'erofs');
const OUT = path.join(DATA, 'broken', 'fuzz');

// ------------------------------------------------------------------ fixtures

// The fixtures, plus synthetic images of features mkfs cannot make (testdata/erofs/synthetic).
const names = [
  ...readdirSync(DATA).filter((f) => f.endsWith('.img')),
  ...readdirSync(path.join(DATA, 'synthetic'))
    .filter((f) => f.endsWith('.img'))
    .map((f) => `synthetic/${f}`),
]
  .filter((f) => opt.image.length === 0 || opt.image.some((p) => f.includes(p)))
  .sort();
if (!names.length) {
  process.stderr.write(`fuzz: no image in ${path.relative(root, DATA)} matches ${opt.image.join(', ')}\n`);
  process.exit(2);
}
const fixtures = [];
for (const file of names) {
  const name = file.replace(/\.img$/, '');
  const bytes = new Uint8Array(readFileSync(path.join(DATA, file)));
  const oraclePath = path.join(DATA, `${name}.expected.json`);
  const oracle = existsSync(oraclePath) ? JSON.parse(readFileSync(oraclePath, 'utf8')) : null;
  const devices = (oracle?.devices ?? []).map((d) => new Uint8Array(readFileSync(path.join(DATA, d))));
  const img = await api.openImage(api.memorySource(bytes), {
    devices: devices.map((d) => api.memorySource(d)),
  });
  const regions = await lib.collectRegions(api, img);
  const paths = oracle ? oracle.files.map((f) => f.path) : await lib.cleanPaths(api, img);
  fixtures.push({ name, bytes, devices, deviceNames: oracle?.devices ?? [], paths, regions });
}
log(
  `fuzz: seed ${seed}, ${seconds} s, ${fixtures.length} images, case limit ${caseTimeout} ms, ` +
    `memory cap ${maxMb} MiB (heap ${Math.floor(maxMb / 2)} MiB)`,
);

// ------------------------------------------------------------------ worker management

let worker = null;
let loaded = new Set();
let pending = null; // { id, resolve }

function spawn() {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./fuzz-worker.mjs', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: Math.floor(maxMb / 2), maxYoungGenerationSizeMb: 64 },
      stdout: false,
      stderr: false,
    });
    w.once('message', (m) => (m.type === 'ready' ? resolve(w) : reject(new Error('worker did not start'))));
    w.on('message', (m) => {
      if (m.type === 'ready' || !pending || m.id !== pending.id) return;
      const p = pending;
      pending = null;
      p.resolve(m);
    });
    w.on('error', (e) => {
      if (pending) {
        const p = pending;
        pending = null;
        p.resolve({
          type: 'finding',
          kind: e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'crash',
          error: [
            {
              name: e.name,
              code: e.code,
              message: e.message,
              stack: e.stack?.split('\n').slice(0, 8).join('\n'),
            },
          ],
        });
      } else reject(e);
    });
    w.on('exit', (code) => {
      if (worker === w) worker = null;
      if (pending) {
        const p = pending;
        pending = null;
        p.resolve({
          type: 'finding',
          kind: 'crash',
          error: [{ name: 'exit', message: `worker exited with code ${code}` }],
        });
      }
    });
  });
}

async function killWorker() {
  const w = worker;
  worker = null;
  loaded = new Set();
  if (w) await w.terminate();
}

let nextId = 0;
async function runCase(fx, ops) {
  if (!worker) {
    worker = await spawn();
    loaded = new Set();
  }
  if (!loaded.has(fx.name)) {
    worker.postMessage({
      type: 'image',
      name: fx.name,
      bytes: fx.bytes,
      devices: fx.devices,
      paths: fx.paths,
    });
    loaded.add(fx.name);
  }
  const id = ++nextId;
  const baseRss = process.memoryUsage.rss();
  const started = performance.now();
  const result = await new Promise((resolve) => {
    pending = { id, resolve };
    const done = (m) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve(m);
    };
    pending.resolve = done;
    const timer = setTimeout(() => {
      if (pending?.id !== id) return;
      pending = null;
      done({
        type: 'finding',
        kind: 'timeout',
        error: [{ name: 'timeout', message: `case ran longer than ${caseTimeout} ms` }],
      });
    }, caseTimeout);
    const poll = setInterval(() => {
      const rss = process.memoryUsage.rss();
      if (pending?.id !== id || rss - baseRss <= maxMb * 1024 * 1024) return;
      pending = null;
      done({
        type: 'finding',
        kind: 'memory',
        error: [
          {
            name: 'memory',
            message: `process RSS grew by ${Math.round((rss - baseRss) / 2 ** 20)} MiB (cap ${maxMb} MiB)`,
          },
        ],
      });
    }, 25);
    worker.postMessage({ type: 'case', id, name: fx.name, ops });
  });
  result.ms ??= performance.now() - started;
  if (result.type === 'finding' && result.kind !== undefined) await killWorker();
  return result;
}

// ------------------------------------------------------------------ findings

const signatures = new Set();
let findings = 0;
let duplicates = 0;

function signature(kind, error) {
  const inner = error.at(-1) ?? {};
  const frame = (inner.stack ?? '').split('\n').find((l) => /^\s+at /.test(l)) ?? '';
  return [kind, inner.name, (inner.message ?? '').replace(/\d+/g, 'N'), frame.trim()].join('|');
}

function saveFinding(fx, caseIndex, ops, result) {
  const kind = result.kind ?? 'exception';
  const sig = signature(kind, result.error);
  if (signatures.has(sig)) {
    duplicates++;
    return;
  }
  signatures.add(sig);
  findings++;
  const bytes = ops ? lib.applyOps(fx.bytes, ops) : fx.bytes;
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  mkdirSync(OUT, { recursive: true });
  const info = {
    image: `${fx.name}.img`,
    devices: fx.deviceNames,
    seed,
    case: caseIndex,
    mutation: ops ? lib.describeOps(ops) : 'none (clean image)',
    ops: ops ?? [],
    kind,
    error: result.error,
    ms: Math.round(result.ms),
  };
  writeFileSync(path.join(OUT, `${hash}.img`), bytes);
  writeFileSync(path.join(OUT, `${hash}.json`), JSON.stringify(info, null, 2) + '\n');
  const e = result.error[0] ?? {};
  process.stdout.write(
    `\nFINDING ${kind} on ${fx.name} (case ${caseIndex}, seed ${seed}): ${e.name}: ${e.message}\n` +
      `  mutation: ${info.mutation}\n  saved: ${path.relative(root, path.join(OUT, hash))}.{img,json}\n` +
      `${(result.error.at(-1)?.stack ?? '').split('\n').slice(1, 6).join('\n')}\n`,
  );
}

// ------------------------------------------------------------------ run

const outcomes = new Map();
const slowest = { ms: 0, what: '' };
// The clean images first: a finding there is a bug without any mutation.
for (const fx of fixtures) {
  const r = await runCase(fx, null);
  if (r.type === 'finding') saveFinding(fx, -1, null, r);
  else if (r.scan !== 'ok') log(`note: clean ${fx.name} scans as ${r.scan}`);
}
const deadline = Date.now() + seconds * 1000;
let cases = 0;
let lastReport = Date.now();
for (let i = 0; Date.now() < deadline; i++) {
  const fx = fixtures[i % fixtures.length];
  const ops = lib.drawCase(lib.rng(lib.caseSeed(seed, i)), fx.bytes.length, fx.regions);
  const r = await runCase(fx, ops);
  cases++;
  if (r.type === 'finding') saveFinding(fx, i, ops, r);
  else {
    outcomes.set(r.scan, (outcomes.get(r.scan) ?? 0) + 1);
    if (r.ms > caseTimeout / 4)
      log(`slow case: ${fx.name} case ${i} took ${Math.round(r.ms)} ms (${lib.describeOps(ops)})`);
    if (r.ms > slowest.ms) Object.assign(slowest, { ms: r.ms, what: `${fx.name} case ${i}` });
  }
  if (Date.now() - lastReport > 15_000) {
    lastReport = Date.now();
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    log(`fuzz: ${cases} cases, ${findings} findings (${duplicates} duplicates), ${left} s left`);
  }
}
await killWorker();
const hist = [...outcomes]
  .sort((a, b) => b[1] - a[1])
  .map(([k, v]) => `${k} ${v}`)
  .join(', ');
log(
  `fuzz: seed ${seed}: ${cases} cases in ${seconds} s over ${fixtures.length} images; scan outcomes: ${hist}; ` +
    `slowest ${Math.round(slowest.ms)} ms (${slowest.what}); ${findings} findings` +
    (duplicates ? ` (+${duplicates} duplicates)` : ''),
);
process.exit(findings ? 1 : 0);
