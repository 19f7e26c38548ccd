// A report's JSON as bytes (docs/benchmarks.md#report-json-as-bytes): report-wire's jsonBytes
// (what `analyze --json` writes and the server stores) against JSON.stringify of the whole
// report followed by its UTF-8 encoding (what a single write of the string costs), as CPU ms
// (user + sys of this process) and wall ms per run; the bytes of both are compared by SHA-256.
// `--report FILE` reads a report from a `--json` output (e.g. of two 1M-record manifests:
// `sharemap analyze big-a.ndjson big-b.ndjson --json > FILE`); without it a report-shaped value
// of `--groups N` (default 300000) shared inodes, 2N paths and 2N file rows is made here.
// `--runs N` (default 2) runs per variant. Needs `pnpm build`.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';

const { jsonBytes } = await import(path.resolve('packages/report-wire/dist/index.js'));

const argv = process.argv.slice(2);
const arg = (name) => {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
};
const runs = Number(arg('--runs') ?? 2);
const reportFile = arg('--report');
const log = (s) => process.stderr.write(`[report-json bench] ${s}\n`);

/** A report-shaped value: the big arrays of `analyze` of two images sharing every file. */
function syntheticReport(groups) {
  const rows = 2 * groups;
  const paths = Array.from(
    { length: groups },
    (_, i) => `/usr/lib/pkg${String(i >> 10).padStart(5, '0')}/file${i & 1023}.so`,
  );
  const hex = (i) => '7368613235363a' + i.toString(16).padStart(16, '0').repeat(4) + '0';
  return {
    kind: 'sharemap-report',
    version: 1,
    createdAt: '2026-12-06T00:00:00.000Z',
    paths: { 'a.erofs': paths, 'b.erofs': paths.slice() },
    files: {
      instance: Array.from({ length: rows }, (_, i) => (i < groups ? 0 : 1)),
      file: Array.from({ length: rows }, (_, i) => i % groups),
      status: Array.from({ length: rows }, () => 'shared'),
      group: Array.from({ length: rows }, (_, i) => i % groups),
      pagesWithout: Array.from({ length: rows }, (_, i) => 1 + (i % 7)),
      pagesWith: Array.from({ length: rows }, (_, i) => (i < groups ? 1 + (i % 7) : 0)),
      size: Array.from({ length: rows }, (_, i) => 4000 * (1 + (i % 7)) - (i % 13)),
    },
    groups: Array.from({ length: groups }, (_, i) => ({
      fingerprint: hex(i),
      domain: 'default',
      aops: 'file-backed',
      size: 4000 * (1 + (i % 7)),
      pages: 1 + (i % 7),
      members: [i, groups + i],
      rejected: [],
    })),
  };
}

let t = performance.now();
const report = reportFile
  ? JSON.parse(readFileSync(reportFile, 'utf8'))
  : syntheticReport(Number(arg('--groups') ?? 300_000));
log(`report ready in ${Math.round(performance.now() - t)} ms`);

function measure(fn) {
  globalThis.gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const bytes = fn();
  const wallMs = Math.round(performance.now() - t0);
  const c = process.cpuUsage(cpu0);
  return { bytes, wallMs, cpuMs: Math.round((c.user + c.system) / 1000) };
}

const variants = {
  // The whole report as one string, then as UTF-8 bytes (what writing the string costs).
  stringify: () => Buffer.from(JSON.stringify(report)).length,
  // Pieces of about 256 KiB, each dropped once counted (a write would hand it to the stream).
  jsonBytes: () => {
    let n = 0;
    for (const piece of jsonBytes(report)) n += piece.length;
    return n;
  },
};

const results = {};
for (let run = 0; run < runs; run++)
  for (const [name, fn] of Object.entries(variants)) {
    const r = measure(fn);
    (results[name] ??= []).push(r);
    log(`run ${run + 1}: ${name} ${r.cpuMs} ms CPU, ${r.wallMs} ms wall, ${r.bytes} bytes`);
  }

const sha = (pieces) => {
  const h = createHash('sha256');
  for (const p of pieces) h.update(p);
  return h.digest('hex');
};
const same = sha([JSON.stringify(report)]) === sha(jsonBytes(report));
const best = (name, k) => Math.min(...results[name].map((r) => r[k]));
process.stdout.write(
  JSON.stringify({
    report: reportFile ?? 'synthetic',
    bytes: results.jsonBytes[0].bytes,
    sameBytes: same,
    bestCpuMs: { stringify: best('stringify', 'cpuMs'), jsonBytes: best('jsonBytes', 'cpuMs') },
    bestWallMs: { stringify: best('stringify', 'wallMs'), jsonBytes: best('jsonBytes', 'wallMs') },
    runs: results,
    loadAverage: Math.round(loadavg()[0] * 10) / 10,
  }) + '\n',
);
if (!same) process.exitCode = 1;
