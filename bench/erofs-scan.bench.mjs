// Reader benchmark against the peer tool (Debian's erofs-utils), in one run:
//  - metadata scan: `sharemap scan IMG --ndjson` vs `dump.erofs -S IMG`; also the scan alone
//    inside one Node process (scanInProcessMs: open + scanManifest, no start-up, no output) and
//    the start-up of an empty Node process (nodeStartMs), the floor of any Node CLI
//  - full content hashing: `sharemap scan IMG --hash --ndjson` vs `fsck.erofs --extract`
//    and vs `sha256sum` over the same source tree
// on images built from a large real tree (default /usr/share, ~50k files) with Debian's
// mkfs.erofs, uncompressed and lz4hc. Prints one JSON object with medians and ratios
// (ratio = sharemap time / peer time; below 1 means sharemap is faster).
// Env: BENCH_TREE (source tree), BENCH_RUNS (default 3), BENCH_WORK (default /tmp/sharemap-bench).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const tree = process.env.BENCH_TREE ?? '/usr/share';
const runs = Number(process.env.BENCH_RUNS ?? 3);
const work = process.env.BENCH_WORK ?? '/tmp/sharemap-bench';
const cli = path.resolve('apps/cli/dist/main.js');
mkdirSync(work, { recursive: true });

function need(tool) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.log(JSON.stringify({ skipped: `${tool} not installed (apt-get install -y erofs-utils)` }));
    process.exit(0);
  }
}
need('mkfs.erofs');
need('dump.erofs');
need('fsck.erofs');

function sh(cmd) {
  const r = spawnSync('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: exit ${r.status}: ${r.stderr.slice(0, 500)}`);
}

/** Median wall time in ms over `runs` runs, after one warm-up run (page cache warm for every tool alike). */
function time(cmd, before) {
  before?.();
  sh(cmd);
  const samples = [];
  for (let i = 0; i < runs; i++) {
    before?.();
    const t0 = process.hrtime.bigint();
    sh(cmd);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return Math.round(samples[Math.floor(samples.length / 2)] * 10) / 10;
}

function image(name, args) {
  const img = path.join(work, `${name}.img`);
  if (!existsSync(img)) sh(`mkfs.erofs ${args} ${img} ${tree} >/dev/null 2>&1`);
  return img;
}

const files = Number(
  spawnSync('sh', ['-c', `find ${tree} -type f | wc -l`], { encoding: 'utf8' }).stdout.trim(),
);
const treeBytes = Number(
  spawnSync('sh', ['-c', `du -sb ${tree} | cut -f1`], { encoding: 'utf8' }).stdout.split('\t')[0],
);
const sha256sumMs = time(`find ${tree} -type f -print0 | xargs -0 sha256sum >/dev/null 2>&1`);

const nodeStartMs = time(`node -e 0`);
const result = { tree, files, treeBytes, runs, sha256sumMs, nodeStartMs, images: {} };

/** Median in-process time of open + scanManifest (ms), measured by a child Node process. */
function scanInProcess(img) {
  const script = `
    import { scanImageFile } from ${JSON.stringify(path.resolve('packages/erofs/dist/node.js'))};
    const samples = [];
    for (let i = 0; i <= ${runs}; i++) {
      const t0 = performance.now();
      await scanImageFile(${JSON.stringify(img)});
      if (i > 0) samples.push(performance.now() - t0); // run 0 warms the JIT and the page cache
    }
    samples.sort((a, b) => a - b);
    console.log(samples[Math.floor(samples.length / 2)]);`;
  const r = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`in-process scan: ${r.stderr.slice(0, 500)}`);
  return Math.round(Number(r.stdout.trim()) * 10) / 10;
}
for (const [name, args] of [
  ['plain', '-T0'],
  ['lz4hc', '-T0 -zlz4hc'],
]) {
  const img = image(name, args);
  const extractDir = path.join(work, `extract-${name}`);
  const scanMs = time(`node ${cli} scan ${img} --ndjson >/dev/null`);
  const dumpMs = time(`dump.erofs -S ${img} >/dev/null`);
  const scanInProcessMs = scanInProcess(img);
  const hashMs = time(`node ${cli} scan ${img} --hash --ndjson >/dev/null`);
  const fsckExtractMs = time(`fsck.erofs --extract=${extractDir} ${img} >/dev/null 2>&1`, () =>
    rmSync(extractDir, { recursive: true, force: true }),
  );
  rmSync(extractDir, { recursive: true, force: true });
  result.images[name] = {
    imageBytes: statSync(img).size,
    scanMs,
    dumpErofsStatsMs: dumpMs,
    scanVsDumpErofs: +(scanMs / dumpMs).toFixed(3),
    scanInProcessMs,
    scanInProcessVsDumpErofs: +(scanInProcessMs / dumpMs).toFixed(3),
    nodeStartVsDumpErofs: +(nodeStartMs / dumpMs).toFixed(3),
    hashMs,
    fsckExtractMs,
    hashVsFsckExtract: +(hashMs / fsckExtractMs).toFixed(3),
    hashVsSha256sum: +(hashMs / sha256sumMs).toFixed(3),
    hashMiBps: +(treeBytes / 1048576 / (hashMs / 1000)).toFixed(1),
  };
}
console.log(JSON.stringify(result));
