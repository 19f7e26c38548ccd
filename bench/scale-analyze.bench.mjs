// `sharemap analyze` at scale, whole process, under a heap limit.
//
// Builds its own inputs (deterministic; cached under $TMPDIR/sharemap-scale-analyze, rebuilt
// when missing) and runs the built CLI (apps/cli/dist/main.js) once per case under
// `/usr/bin/time` (wall and peak RSS of the whole process, Node start-up and input reading
// included), with `--max-old-space-size` set to the case's memory target, so running out of
// memory fails the case loudly instead of swapping: the bench exits 1 and the case says why.
//
// Cases (targets in docs/benchmarks.md#scale-analyze-analysis-at-a-million-files):
//   two-1m-ndjson   two manifests of 1,000,000 files + 1,000 directories each (NDJSON, the
//                   second a new version: every 10th file changed), `analyze --json`; <= 5 s, <= 1 GB
//   two-1m-parquet  the same two manifests in the columnar form (scan --format parquet); <= 5 s, <= 1 GB
//   20k-instances   20 images of 1,000 files mounted 1,000 times each (an fstab of 20,000
//                   file-backed inode_share mounts in 4 domains), `analyze --json`; <= 5 s, <= 1 GB
//   20k-instances-html  the same fleet, `analyze --html report.html` (the static page of its
//                   compact report); reportBytes is the page's size; <= 5 s, <= 1 GB
//
// Prints one JSON line: {name, loadavg, cases: {NAME: {wallS, peakRssMB, heapLimitMB,
// targetS, targetMB, reportBytes, inputBytes, ok, error?}}}. Options: --only CASE[,CASE].
// Needs a build (`pnpm build`). Run: `pnpm bench scale-analyze`.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  renameSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { bigTreeHeader } from '../packages/sharing/test/synthetic-manifest.mjs';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'apps/cli/dist/main.js');
const dir = path.join(process.env.SHAREMAP_BENCH_DIR ?? tmpdir(), 'sharemap-scale-analyze');
mkdirSync(dir, { recursive: true });
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? process.argv[onlyArg + 1].split(',') : null;

const hex = (n, w) => n.toString(16).padStart(w, '0');

/** A manifest of `files` regular files in directories of 1,000 (sorted by path bytes), NDJSON. */
async function writeManifest(file, { files, imageIndex, changedEvery, name }) {
  if (existsSync(file)) return;
  const part = file + '.part';
  const out = createWriteStream(part);
  const dirs = Math.ceil(files / 1000);
  const header = bigTreeHeader({ name, files, uuid: `00000000-0000-4000-8000-${hex(imageIndex, 12)}` });
  const dirRecord = (p, nid) =>
    JSON.stringify({
      path: p,
      nid,
      type: 'dir',
      mode: '0755',
      uid: 0,
      gid: 0,
      size: 4096,
      nlink: 2,
      mtime: 1700000000,
      mtime_nsec: 0,
      layout: 'flat_inline',
      inode_size: 32,
      xattr_isize: 0,
      xattrs: {},
      fingerprint: null,
    }) + '\n';
  let buf = JSON.stringify(header) + '\n' + dirRecord('/', 36);
  const flush = async (force) => {
    if (!force && buf.length < 1 << 20) return;
    if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
    buf = '';
  };
  let nid = 100;
  for (let d = 0, k = 0; d < dirs; d++) {
    const dirPath = `/usr/lib/pkg${String(d).padStart(5, '0')}`;
    buf += dirRecord(dirPath, nid++);
    for (let j = 0; j < 1000 && k < files; j++, k++) {
      // A new version changes every changedEvery-th file (new content: new fingerprint, new size).
      const changed = imageIndex > 0 && k % changedEvery === 0;
      const v = changed ? k * 64 + imageIndex : k * 64;
      buf +=
        JSON.stringify({
          path: `${dirPath}/file${String(j).padStart(4, '0')}.so`,
          nid: nid++,
          type: 'file',
          mode: '0644',
          uid: 0,
          gid: 0,
          size: 1 + ((k * 7919) % 200_000) + (changed ? imageIndex : 0),
          nlink: 1,
          mtime: 1700000000,
          mtime_nsec: 0,
          layout: k % 10 === 0 ? 'compressed_compact' : 'flat_plain',
          inode_size: 32,
          xattr_isize: 0,
          xattrs: {},
          fingerprint: '7368613235363a' + hex(v, 16).repeat(4),
        }) + '\n';
      await flush(false);
    }
  }
  await flush(true);
  await new Promise((r) => out.end(r));
  renameSync(part, file);
}

async function toParquet(ndjson, parquet) {
  if (existsSync(parquet)) return;
  const { parseManifest } = await import('../packages/erofs/dist/index.js');
  const { manifestToParquet } = await import('../packages/erofs/dist/manifest-parquet.js');
  writeFileSync(parquet + '.part', manifestToParquet(parseManifest(readFileSync(ndjson, 'utf8'))));
  renameSync(parquet + '.part', parquet);
}

function run(name, args, { heapLimitMB, targetS, targetMB, inputs, output }) {
  const report = path.join(dir, `${name}.report.json`);
  rmSync(report, { force: true });
  if (output) rmSync(output, { force: true });
  // `analyze --json > report.json`, as a user runs it: the report is rendered and written once.
  const fd = openSync(report, 'w');
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', 'TIME %e %M', process.execPath, `--max-old-space-size=${heapLimitMB}`, cli, ...args],
    {
      encoding: 'utf8',
      stdio: ['ignore', fd, 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  closeSync(fd);
  const m = /TIME ([\d.]+) (\d+)\s*$/.exec(r.stderr ?? '');
  const res = {
    wallS: m ? Number(m[1]) : null,
    peakRssMB: m ? Math.round(Number(m[2]) / 1024) : null,
    heapLimitMB,
    targetS,
    targetMB,
    inputBytes: inputs.reduce((s, f) => s + statSync(f).size, 0),
    // The report: stdout, or the file the case writes (`output`, e.g. --html).
    reportBytes:
      existsSync(output ?? report) && statSync(output ?? report).size > 0
        ? statSync(output ?? report).size
        : null,
    exit: r.status,
  };
  // Exit 0 (gate passed) or 1 (a gate threshold failed) both mean a report; anything else is a failure.
  res.ok = (r.status === 0 || r.status === 1) && res.reportBytes !== null;
  if (!res.ok) {
    const err = (r.stderr ?? '').split('\n').filter((l) => l && !l.startsWith('TIME '));
    res.error = /heap out of memory|Allocation failed/i.test(r.stderr ?? '')
      ? `ran out of memory under --max-old-space-size=${heapLimitMB}`
      : err.slice(-3).join(' | ') || `exit ${r.status}`;
    process.stderr.write(`scale-analyze ${name}: FAILED: ${res.error}\n`);
  } else {
    process.stderr.write(
      `scale-analyze ${name}: ${res.wallS} s, ${res.peakRssMB} MB peak RSS (targets ${targetS} s, ${targetMB} MB)\n`,
    );
  }
  rmSync(report, { force: true });
  if (output) rmSync(output, { force: true });
  return res;
}

const want = (c) => !only || only.includes(c);
const cases = {};
const a = path.join(dir, 'big-a.ndjson');
const b = path.join(dir, 'big-b.ndjson');
if (want('two-1m-ndjson') || want('two-1m-parquet')) {
  await writeManifest(a, { files: 1_000_000, imageIndex: 0, changedEvery: 10, name: 'big-a.erofs' });
  await writeManifest(b, { files: 1_000_000, imageIndex: 1, changedEvery: 10, name: 'big-b.erofs' });
}
if (want('two-1m-ndjson'))
  cases['two-1m-ndjson'] = run('two-1m-ndjson', ['analyze', a, b, '--json'], {
    heapLimitMB: 1024,
    targetS: 5,
    targetMB: 1024,
    inputs: [a, b],
  });
if (want('two-1m-parquet')) {
  const ap = a.replace(/\.ndjson$/, '.parquet');
  const bp = b.replace(/\.ndjson$/, '.parquet');
  await toParquet(a, ap);
  await toParquet(b, bp);
  cases['two-1m-parquet'] = run('two-1m-parquet', ['analyze', ap, bp, '--json'], {
    heapLimitMB: 1024,
    targetS: 5,
    targetMB: 1024,
    inputs: [ap, bp],
  });
}
if (want('20k-instances') || want('20k-instances-html')) {
  const IMAGES = 20;
  const PER_IMAGE = 1000;
  const images = [];
  for (let i = 0; i < IMAGES; i++) {
    const f = path.join(dir, `fleet${String(i).padStart(2, '0')}.ndjson`);
    await writeManifest(f, {
      files: 1000,
      imageIndex: i,
      changedEvery: 3,
      name: `fleet${String(i).padStart(2, '0')}.erofs`,
    });
    images.push(f);
  }
  const fstab = path.join(dir, 'fleet.fstab');
  if (!existsSync(fstab)) {
    const lines = [];
    for (let i = 0; i < IMAGES; i++)
      for (let k = 0; k < PER_IMAGE; k++)
        lines.push(
          `/var/lib/images/fleet${String(i).padStart(2, '0')}.erofs /run/c/${i}-${k} erofs ro,inode_share,domain_id=d${k % 4} 0 0`,
        );
    writeFileSync(fstab, lines.join('\n') + '\n');
  }
  if (want('20k-instances'))
    cases['20k-instances'] = run('20k-instances', ['analyze', ...images, '--mounts', fstab, '--json'], {
      heapLimitMB: 1024,
      targetS: 5,
      targetMB: 1024,
      inputs: [...images, fstab],
    });
  if (want('20k-instances-html')) {
    const html = path.join(dir, '20k-instances.report.html');
    cases['20k-instances-html'] = run(
      '20k-instances-html',
      ['analyze', ...images, '--mounts', fstab, '--html', html],
      { heapLimitMB: 1024, targetS: 5, targetMB: 1024, inputs: [...images, fstab], output: html },
    );
  }
}
const failed = Object.entries(cases).filter(([, c]) => !c.ok);
console.log(
  JSON.stringify({ name: 'scale-analyze', loadavg: loadavg().map((l) => Math.round(l * 100) / 100), cases }),
);
if (failed.length) process.exitCode = 1;
