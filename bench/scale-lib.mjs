// Shared by the scale benches (scale-scan, scale-verify): the 1M-inode test tree and
// its images, whole-process wall time and peak RSS of a command (GNU time), alternating runs.
// Generated trees and images live in BENCH_WORK (default /tmp/sharemap-scale-bench), never in
// the repository; they are built once and reused.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

export const work = process.env.BENCH_WORK ?? '/tmp/sharemap-scale-bench';
export const cli = path.resolve('apps/cli/dist/main.js');
/** The heap the CLI gets in every scale bench: running out of it fails the bench. */
export const CLI_HEAP_MB = 256;
/** 100 directories of 100 directories of 100 files: 1,010,101 inodes with the root. */
export const TREE_FANOUT = 100;

export function options() {
  const { values } = parseArgs({
    options: {
      image: { type: 'string', multiple: true },
      'erofs-utils': { type: 'string' },
      runs: { type: 'string' },
    },
    strict: false,
  });
  return {
    images: values.image ?? [],
    /** Directory of the peer tools (erofs-utils 1.9.3 built from source); default: PATH. */
    bin: (tool) => (values['erofs-utils'] ? path.join(values['erofs-utils'], tool) : tool),
    runs: Number(values.runs ?? process.env.BENCH_RUNS ?? 3),
  };
}

export function fail(message) {
  console.log(JSON.stringify({ error: message }));
  process.exit(1);
}

export function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** The 1M-inode tree (tiny files with distinct contents), made once under `work`. */
export function tree() {
  const dir = path.join(work, 'tree-1m');
  if (existsSync(dir)) return dir;
  const tmp = dir + '.partial';
  rmSync(tmp, { recursive: true, force: true });
  const name = (p, i) => p + String(i).padStart(2, '0');
  for (let a = 0; a < TREE_FANOUT; a++)
    for (let b = 0; b < TREE_FANOUT; b++) {
      const d = path.join(tmp, name('d', a), name('d', b));
      mkdirSync(d, { recursive: true });
      for (let c = 0; c < TREE_FANOUT; c++)
        writeFileSync(path.join(d, `${name('f', c)}.txt`), `${a}/${b}/${c}\n`);
    }
  renameSync(tmp, dir);
  return dir;
}

/** An image of the tree made by `mkfs` with `args`, once. */
export function image(name, mkfs, args) {
  mkdirSync(work, { recursive: true });
  const img = path.join(work, `${name}.img`);
  if (existsSync(img)) return img;
  const src = tree();
  const r = spawnSync('sh', ['-c', `${mkfs} ${args} ${img}.partial ${src} >/dev/null`], { encoding: 'utf8' });
  if (r.status !== 0) fail(`${mkfs} ${args}: exit ${r.status}: ${r.stderr.slice(0, 300)}`);
  renameSync(`${img}.partial`, img);
  return img;
}

/**
 * Wall seconds and peak RSS (MB) of one whole process, via GNU time. A CLI run that ran out of
 * its heap (or failed otherwise) fails the bench loudly: memory limits are enforced, not hoped for.
 */
export function measure(cmd) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', 'sh', '-c', `${cmd} >/dev/null`], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  const lines = r.stderr.trim().split('\n');
  if (r.status !== 0) {
    const oom = /heap out of memory|Allocation failed/.test(r.stderr);
    fail(
      `${oom ? 'OUT OF MEMORY' : `exit ${r.status}`}: ${cmd}: ${lines.slice(-3).join(' | ').slice(0, 500)}`,
    );
  }
  const [wall, rssKb, user, sys] = lines.at(-1).split(' ').map(Number);
  // CPU seconds (user + sys) move less with a shared machine's load than wall time does.
  return {
    wallS: wall,
    cpuS: +(user + sys).toFixed(2),
    rssMB: Math.round(rssKb / 1024),
    load1: +loadavg()[0].toFixed(2),
  };
}

/**
 * Each command run `runs` times after one warm-up (page cache warm for all alike), the
 * commands alternating within each round so a shared machine's load falls on all of them.
 * Returns per command the median wall and CPU (user + sys) seconds, the largest peak RSS and
 * every sample.
 */
export function alternate(cmds, runs) {
  for (const c of Object.values(cmds)) measure(c);
  const samples = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) for (const [k, c] of Object.entries(cmds)) samples[k].push(measure(c));
  const out = {};
  for (const [k, s] of Object.entries(samples)) {
    const walls = s.map((x) => x.wallS).sort((a, b) => a - b);
    const cpus = s.map((x) => x.cpuS).sort((a, b) => a - b);
    out[k] = {
      wallS: walls[Math.floor(walls.length / 2)],
      cpuS: cpus[Math.floor(cpus.length / 2)],
      rssMB: Math.max(...s.map((x) => x.rssMB)),
      samples: s,
    };
  }
  return out;
}

export const ratio = (a, b) => +(a / b).toFixed(3);
export const nodeCli = (args) => `node --max-old-space-size=${CLI_HEAP_MB} ${cli} ${args}`;
export const load = () => loadavg().map((x) => +x.toFixed(2));
