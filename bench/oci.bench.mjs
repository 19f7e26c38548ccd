// OCI prediction benchmark, in one run: `sharemap`'s prediction (packages/oci: read a
// `docker save` archive, verify every layer's digest, hash every file, build the flattened and
// per-layer manifests) against `sha256sum` over the same archive, plus peak RSS. The archive
// (>= 1 GB) is built in BENCH_WORK from this machine's files: one uncompressed layer tar per
// directory of BENCH_DIRS until BENCH_MIN_BYTES, assembled like Docker <= 24 `docker save`.
// A second, one-layer archive shows whether RSS grows with the data (it must not: layers are
// streamed, only metadata is kept). Ratio = sha256sum time / prediction time (above 1: faster).
// Both are whole-process wall times: the prediction, like the CLI, hashes each layer's tar stream
// and every file in it on a worker thread (@sharemap/oci/node workerTarHasher) while the main
// thread reads and parses the headers, so it may use two cores where sha256sum uses one. CPU
// seconds are reported beside the wall times (main thread, whole process, sha256sum), since on
// a loaded machine they are the trustworthy figures; so is the load average.
// Env: BENCH_WORK (default /tmp/sharemap-oci-bench), BENCH_RUNS (default 3), BENCH_MIN_BYTES.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const work = process.env.BENCH_WORK ?? '/tmp/sharemap-oci-bench';
const runs = Number(process.env.BENCH_RUNS ?? 3);
const minBytes = Number(process.env.BENCH_MIN_BYTES ?? 1.1e9);
const dirs = (
  process.env.BENCH_DIRS ?? 'usr/share usr/lib/x86_64-linux-gnu usr/bin usr/lib/python3 usr/lib/gcc usr/lib'
).split(' ');
mkdirSync(work, { recursive: true });

function sh(cmd) {
  const r = spawnSync('sh', ['-c', cmd], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0 && r.status !== 1 && r.status !== 2)
    throw new Error(`${cmd}: exit ${r.status}: ${r.stderr.slice(0, 500)}`);
  return r.stdout;
}

const sha256File = (p) => sh(`sha256sum ${p}`).split(' ')[0];

/** A docker-save archive of the given layer tars (paths in `work`). */
function dockerSave(name, layers) {
  const out = path.join(work, `${name}.tar`);
  if (existsSync(out)) return out;
  const stage = path.join(work, `${name}.d`);
  mkdirSync(stage, { recursive: true });
  const diffIds = layers.map((l) => `sha256:${sha256File(l)}`);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }),
  );
  const cfgName = `${createHash('sha256').update(config).digest('hex')}.json`;
  writeFileSync(path.join(stage, cfgName), config);
  const layerPaths = layers.map((l, i) => {
    const id = createHash('sha256').update(`${name}-${i}`).digest('hex');
    mkdirSync(path.join(stage, id), { recursive: true });
    sh(`ln -f ${l} ${path.join(stage, id, 'layer.tar')} || cp ${l} ${path.join(stage, id, 'layer.tar')}`);
    return `${id}/layer.tar`;
  });
  writeFileSync(
    path.join(stage, 'manifest.json'),
    JSON.stringify([{ Config: cfgName, RepoTags: [`bench/${name}:latest`], Layers: layerPaths }]),
  );
  sh(`tar -cf ${out} -C ${stage} ${layerPaths.join(' ')} ${cfgName} manifest.json`);
  return out;
}

// Layers: whole directories of this machine, until the archive is big enough.
const layers = [];
let total = 0;
for (const d of dirs) {
  if (total >= minBytes || !existsSync('/' + d)) continue;
  const t = path.join(work, `layer-${d.replace(/\//g, '_')}.tar`);
  if (!existsSync(t)) sh(`tar -cf ${t} -C / --exclude='${d}/*/__pycache__' ${d} 2>/dev/null`);
  layers.push(t);
  total += statSync(t).size;
}
const big = dockerSave('big', layers);
const small = dockerSave('small', [layers[0]]);

/** Prediction in a fresh Node process: wall time (ms) and peak RSS (MiB), as the CLI runs it. */
function predict(archive) {
  const script = `
    import { nodeFileSource, nodeSha256 } from '@sharemap/erofs/node';
    import { openArchive, loadImages, predictImage } from '@sharemap/oci';
    import { readFileSync } from 'node:fs';
    import { workerSha256, workerTarHasher } from '@sharemap/oci/node';
    // CPU ms of this (the main) thread: utime + stime of /proc/self/task/PID/stat, in 10 ms ticks.
    const mainCpuMs = () => {
      const f = readFileSync('/proc/self/task/' + process.pid + '/stat', 'utf8').split(') ')[1].split(' ');
      return (Number(f[11]) + Number(f[12])) * 10;
    };
    const t0 = performance.now();
    const m0 = mainCpuMs();
    const c0 = process.cpuUsage();
    const src = await nodeFileSource(${JSON.stringify(archive)});
    const a = await openArchive(src, 'bench');
    const { images } = await loadImages(a.files, {
      hasher: nodeSha256,
      digestHasher: workerSha256,
      tarHasher: workerTarHasher,
    });
    const p = images.map((i) => predictImage(i, { hash: true }));
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    const mainMs = mainCpuMs() - m0;
    const files = p.reduce((s, x) => s + x.flattened.files.length, 0);
    console.log(JSON.stringify({ ms, mainCpuMs: mainMs, processCpuMs: (cpu.user + cpu.system) / 1000, files, layers: p[0].layers.length, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: path.resolve('apps/cli'),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(r.stderr.slice(0, 1000));
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

/** CPU ms of this process's reaped children (cutime + cstime of /proc/self/stat, 10 ms ticks). */
function childrenCpuMs() {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
}

/** sha256sum's wall time (ms); its CPU time (user + system) is pushed to shaCpuMs. */
const shaCpuMs = [];
function timeSha256sum(p) {
  const c0 = childrenCpuMs();
  const t0 = process.hrtime.bigint();
  sh(`sha256sum ${p} >/dev/null`);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  shaCpuMs.push(childrenCpuMs() - c0); // sh -c and sha256sum
  return ms;
}

const loadBefore = os.loadavg();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Warm the page cache for both alike, then alternate the two tools.
timeSha256sum(big);
const shaMs = [];
const pred = [];
for (let i = 0; i < runs; i++) {
  shaMs.push(timeSha256sum(big));
  pred.push(predict(big));
}
const smallRun = predict(small);
const bigBytes = statSync(big).size;
const predMs = median(pred.map((x) => x.ms));
const sha = median(shaMs);
console.log(
  JSON.stringify({
    archive: big,
    archiveBytes: bigBytes,
    layers: pred[0].layers,
    files: pred[0].files,
    runs,
    sha256sumMs: Math.round(sha),
    predictMs: Math.round(predMs),
    predictMBps: Math.round(bigBytes / 1e6 / (predMs / 1000)),
    sha256sumMBps: Math.round(bigBytes / 1e6 / (sha / 1000)),
    throughputVsSha256sum: +(sha / predMs).toFixed(3),
    // CPU seconds (medians): the prediction's main thread (its critical path when a second
    // core is free) and whole process, against sha256sum's (warm-up run excluded).
    predictMainCpuMs: Math.round(median(pred.map((x) => x.mainCpuMs))),
    predictProcessCpuMs: Math.round(median(pred.map((x) => x.processCpuMs))),
    sha256sumCpuMs: Math.round(median(shaCpuMs.slice(1))),
    peakRssMiB: Math.round(Math.max(...pred.map((x) => x.maxRssMiB))),
    smallArchiveBytes: statSync(small).size,
    smallArchiveFiles: smallRun.files,
    smallArchivePeakRssMiB: Math.round(smallRun.maxRssMiB),
    loadAverage1m: { before: +loadBefore[0].toFixed(2), after: +os.loadavg()[0].toFixed(2) },
  }),
);
