// Engine benchmark: analyze() on a synthetic fleet, default 200 images x 10,000 files
// (2M (instance, file) records), each image mounted once, file-backed, in 4 domains.
// Images are "minor versions": path k of image i holds one of a few versions of that file,
// so most fingerprints recur across images.
//
// Only analyze() is timed; it builds every index it needs from the manifests itself (nothing
// is precomputed here). The target (docs/benchmarks.md#sharing-analyze-the-engine-at-fleet-scale): 200 x 10,000 in under 2 s (targetMs) and under
// 1 GiB (targetMB, compared with peakRssMB: the whole process, input included).
//
// By default records of different images share their string objects (one string per
// fingerprint, digest and path), as manifests parsed with one StringTable do (the server's and
// the CLI's analyses parse them so). BENCH_PARSED=1 instead serialises each manifest to NDJSON
// and parses it back with the product's parser (parseManifest with one StringTable for the
// fleet): the input as an analysis really gets it; parsing is not timed but reported (parseMs).
//
// Prints one JSON line: {name, images, filesPerImage, files, parsedInput, ms, targetMs, cpuMs,
// heapMB, heapForReportMB, rssMB, peakRssMB, targetMB, groups, findings, bytesSaved}.
// Needs a build (`pnpm build`, or `npx tsc -b packages/sharing`): it imports dist/.
// Env: BENCH_IMAGES (200), BENCH_FILES (10000), BENCH_PARSED (unset; 1 to parse).
// Run: `pnpm bench sharing-analyze`, or `node --expose-gc bench/sharing-analyze.bench.mjs`.
import { manifestToNdjson, parseManifest, StringTable } from '../packages/erofs/dist/index.js';
import { analyze, buildTrustModel } from '../packages/sharing/dist/index.js';
import { fleet } from './fleet.mjs';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 200);
const FILES = Number(process.env.BENCH_FILES ?? 10_000);
const PARSED = process.env.BENCH_PARSED === '1';
const { images, instances } = fleet(IMAGES, FILES);
let parseMs = 0;
if (PARSED) {
  const strings = new StringTable();
  for (const img of images) {
    const text = [...manifestToNdjson(img.manifest)].join('');
    const p0 = performance.now();
    img.manifest = parseManifest(text, { strings });
    parseMs += performance.now() - p0;
  }
}
globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const c0 = process.cpuUsage();
const t0 = performance.now();
const report = analyze({ images, instances, createdAt: '2026-01-01T00:00:00Z' });
const ms = performance.now() - t0;
const cpu = process.cpuUsage(c0);
const mem = process.memoryUsage();
// The trust model (docs/trust.md) is built after analyze() where the manifests are (CLI,
// server, browser): timed on its own, not part of `ms`.
const c1 = process.cpuUsage();
const t1 = performance.now();
const trust = buildTrustModel(report, { images, instances });
const trustMs = performance.now() - t1;
const trustCpu = process.cpuUsage(c1);
console.log(
  JSON.stringify({
    name: 'sharing-analyze',
    images: IMAGES,
    filesPerImage: FILES,
    files: report.files.instance.length,
    parsedInput: PARSED,
    ...(PARSED ? { parseMs: Math.round(parseMs) } : {}),
    ms: Math.round(ms),
    targetMs: 2000,
    // CPU time of this process (user + system, all threads incl. GC helpers): less sensitive to a busy machine.
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    heapMB: Math.round(mem.heapUsed / 2 ** 20),
    heapForReportMB: Math.round((mem.heapUsed - heapBefore) / 2 ** 20),
    rssMB: Math.round(mem.rss / 2 ** 20),
    // Largest resident set of the process so far (input generation included).
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    targetMB: 1024,
    groups: report.groups.length,
    findings: report.findings.length,
    bytesSaved: report.totals.bytesSaved,
    trustMs: Math.round(trustMs),
    trustCpuMs: Math.round((trustCpu.user + trustCpu.system) / 1000),
    trustMatrixCells: trust.matrix.length,
  }),
);
