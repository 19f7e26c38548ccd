// Server report creation, phase by phase (docs/benchmarks.md#server-2m-2m-records-end-to-end):
// a manifest of RECORDS records (bench/manifest-2m.mjs) is stored as an upload stores it
// (validated record by record by canonicalManifest, gzip blob), then the analysis worker's
// code (apps/server/dist/scan/analysis.js runAnalysis) runs in this process and each phase's
// wall time is recorded: reading the stored manifest back, analyze(), the trust model, the
// analysis input blob, encoding the web UI's parts, and the report blob and parts stored
// concurrently (phase names: apps/server/src/scan/analysis.ts AnalysisPhase; older code had
// `report-blob` and `parts` instead of the last two). Prints one JSON object with the
// phases (wall and CPU ms, the analysis thread's own CPU ms (/proc/thread-self/stat, 10 ms ticks:
// what bounds the wall time when the other core is free) and the peak RSS of the process during
// each: VmHWM, reset between phases through /proc/self/clear_refs), the blob sizes and the sha256
// of each blob's decompressed bytes (the same report bytes: compare them between builds) and the
// load average. Needs
// `pnpm build`. Profile the analysis with `node --cpu-prof bench/report-phases.bench.mjs`.
// The manifest is stored as the upload route stores it, columnar file included (written as
// the records stream, UploadColumnsWriter: `columnsMs` is its final assembly), so run 1 is
// "upload, then the first report"; `--no-upload-columns` stores the NDJSON alone (as servers
// before did: run 1 then reads the NDJSON and writes the columnar file).
// `--manifests 2` stores RECORDS records as two manifests of half as many (two versions of the
// image: manifestLines with seeds 42 and 43), one image each: the several-manifest path, where
// the fingerprints of both are declared in one StringTable (apps/server/src/scan/stored-columns.ts
// readManifestsForReport).
// Usage: node bench/report-phases.bench.mjs [--records 500000] [--runs 1] [--manifests 1] [--no-upload-columns]
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ManifestStreamValidator } from '../packages/erofs/dist/index.js';
import { buildAnalysisInput } from '../packages/sharing/dist/index.js';
import { canonicalManifest } from '../apps/server/dist/manifest-stream.js';
import { runAnalysis } from '../apps/server/dist/scan/analysis.js';
import { UploadColumnsWriter } from '../apps/server/dist/scan/stored-columns.js';
import { BlobStore } from '../apps/server/dist/storage/blobs.js';
import { manifestLines } from './manifest-2m.mjs';

const opt = (name, dflt) => {
  const k = process.argv.indexOf(`--${name}`);
  return k > 0 ? process.argv[k + 1] : dflt;
};
const RECORDS = Number(opt('records', 500_000));
const RUNS = Number(opt('runs', 1));
const MANIFESTS = Number(opt('manifests', 1));
const UPLOAD_COLUMNS = !process.argv.includes('--no-upload-columns');
const log = (s) => process.stderr.write(`[report-phases bench] ${s}\n`);
const MiB = 1024 * 1024;

/** Peak RSS of this process since the last reset, in MiB (Linux: VmHWM). */
function peakRssMiB() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round((Number(m[1]) * 1024) / MiB) : null;
}

/** Start a new peak: writing 5 to clear_refs sets VmHWM to the current RSS (Linux >= 4.0). */
function resetPeakRss() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux, or not allowed: the peaks are then since the start of the process
  }
}

/** This thread's CPU time in ms (user + system, 10 ms ticks), or null without /proc. */
function threadCpuMs() {
  try {
    const t = readFileSync('/proc/thread-self/stat', 'latin1');
    const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

async function* asBuffers(lines) {
  for await (const s of lines) yield Buffer.from(s);
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'sharemap-report-phases-'));
try {
  const store = new BlobStore(dataDir);
  const load = [loadavg()[0]];
  const perManifest = Math.floor(RECORDS / MANIFESTS);
  log(`storing ${MANIFESTS} manifest(s) of ${perManifest} records as an upload does`);
  const stored = [];
  let storeMs = 0;
  let columnsMs = 0;
  let t0;
  for (let m = 0; m < MANIFESTS; m++) {
    t0 = performance.now();
    const validator = new ManifestStreamValidator({ maxRecords: perManifest });
    const columns = UPLOAD_COLUMNS ? new UploadColumnsWriter(store) : null;
    const blob = await store.putGzip(
      canonicalManifest(asBuffers(manifestLines(perManifest, 42 + m)), validator, {
        ...(columns ? { onRecord: (r) => columns.push(r) } : {}),
      }),
    );
    const header = validator.end();
    storeMs += Math.round(performance.now() - t0);
    t0 = performance.now();
    const notWritten = columns ? await columns.commit(blob.sha256, header) : 'off';
    columnsMs += Math.round(performance.now() - t0);
    log(`manifest ${m + 1} stored, columnar file ${notWritten ?? 'written'}`);
    stored.push({ blob, header });
  }
  log(`stored in ${storeMs} ms, columnar files in ${columnsMs} ms`);
  const built = buildAnalysisInput({
    images: stored.map(({ blob, header }, m) => ({
      header,
      name: MANIFESTS > 1 ? `${header.image.name}-v${m + 1}` : header.image.name,
      aliases: [`m${m + 1}`],
      payload: blob.sha256,
    })),
    mountConfigs: [],
    mapping: {},
    publishers: {},
    domainAssignments: {},
  });
  const task = {
    kind: 'analyze',
    dataDir,
    images: built.images.map((i) => ({ image: i.image, manifestBlob: i.payload })),
    instances: built.instances,
    options: {},
    createdAt: '2026-12-06T00:00:00.000Z',
  };
  const runs = [];
  for (let run = 0; run < RUNS; run++) {
    const phases = {};
    const cpu = {};
    const threadCpu = {};
    const peakRss = {};
    t0 = performance.now();
    resetPeakRss();
    const rssAtStart = Math.round(process.memoryUsage().rss / MiB);
    let cpuAt = process.cpuUsage();
    let threadAt = threadCpuMs();
    const result = await runAnalysis(task, (name, ms) => {
      // CPU time of the process (this thread and zlib's): less at the mercy of the load than wall time.
      const used = process.cpuUsage(cpuAt);
      cpuAt = process.cpuUsage();
      const threadNow = threadCpuMs();
      threadCpu[name] = threadNow === null ? null : threadNow - threadAt;
      threadAt = threadNow;
      phases[name] = Math.round(ms);
      cpu[name] = Math.round((used.user + used.system) / 1000);
      peakRss[name] = peakRssMiB();
      resetPeakRss();
      log(
        `run ${run + 1}: ${name} ${Math.round(ms)} ms (cpu ${cpu[name]} ms, thread ${threadCpu[name]} ms, peak RSS ${peakRss[name]} MiB)`,
      );
    });
    const totalMs = Math.round(performance.now() - t0);
    const size = (sha) => statSync(store.path(sha)).size;
    // After the timing: the report bytes themselves, to compare between builds.
    const digest = (sha) =>
      createHash('sha256')
        .update(gunzipSync(readFileSync(store.path(sha))))
        .digest('hex');
    runs.push({
      totalMs,
      phases,
      cpuMs: cpu,
      threadCpuMs: threadCpu,
      rssAtStartMiB: rssAtStart,
      peakRssMiB: peakRss,
      bytes: {
        report: size(result.reportBlob),
        input: size(result.inputBlob),
        summary: size(result.summaryBlob),
        files: size(result.filesBlob),
      },
      sha256: {
        report: digest(result.reportBlob),
        summary: digest(result.summaryBlob),
        files: digest(result.filesBlob),
      },
    });
    load.push(loadavg()[0]);
  }
  const out = {
    records: RECORDS,
    manifests: MANIFESTS,
    manifestBlobBytes: stored.reduce((sum, { blob }) => sum + blob.size, 0),
    storeMs,
    uploadColumns: UPLOAD_COLUMNS,
    columnsMs,
    runs,
    loadAverage: load.map((l) => Math.round(l * 10) / 10),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
