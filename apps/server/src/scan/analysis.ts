/**
 * Report creation in the analysis worker, phase by phase: the stored manifests read back
 * (stored-manifest.ts), analyze() and the trust model, then the blobs of the report: its JSON,
 * its analysis input (references to the manifest blobs, analysis-input.ts) and the web UI's
 * parts. `onPhase` gets each phase's wall time (bench/report-phases.bench.mjs prints them).
 */
import { StringTable } from '@sharemap/erofs';
import { encodeFiles, reportSummary } from '@sharemap/report-wire';
import { analyze, applyTrustPolicy, withTrust, type AnalysisInput, type Report } from '@sharemap/sharing';
import { gzipSync } from 'node:zlib';
import { analysisInputRefJson } from '../analysis-input.js';
import { BlobStore, SERVER_GZIP_LEVEL } from '../storage/blobs.js';
import { readStoredManifest } from './stored-manifest.js';
import type { AnalyzeResult, AnalyzeTask, PartsResult } from './tasks.js';

/** Phases of report creation, in order. */
export type AnalysisPhase = 'read-manifests' | 'analyze' | 'trust' | 'report-blob' | 'input-blob' | 'parts';

/** JSON of a report, key by key (no single giant string for 2M-row tables). */
export function* reportJson(report: Report): Generator<string> {
  let first = true;
  yield '{';
  for (const [k, v] of Object.entries(report)) {
    if (v === undefined) continue;
    yield `${first ? '' : ','}${JSON.stringify(k)}:`;
    if (k === 'files' && v && typeof v === 'object') {
      let f2 = true;
      yield '{';
      for (const [k2, v2] of Object.entries(v as object)) {
        yield `${f2 ? '' : ','}${JSON.stringify(k2)}:${JSON.stringify(v2)}`;
        f2 = false;
      }
      yield '}';
    } else yield JSON.stringify(v);
    first = false;
  }
  yield '}';
}

/**
 * The web UI's parts of a report: the summary (JSON gzip) and the per-file columns
 * (sharemap-files encoding, gzip), derived from the report and stored once.
 */
export async function writeParts(store: BlobStore, report: Report): Promise<PartsResult> {
  const summary = await store.putGzipSync(JSON.stringify(reportSummary(report)));
  const files = await store.put(gzipSync(encodeFiles(report), { level: SERVER_GZIP_LEVEL }));
  return { summaryBlob: summary.sha256, filesBlob: files.sha256 };
}

export async function runAnalysis(
  task: AnalyzeTask,
  onPhase: (phase: AnalysisPhase, ms: number) => void = () => undefined,
): Promise<AnalyzeResult> {
  const store = new BlobStore(task.dataDir);
  let t = performance.now();
  const phase = (name: AnalysisPhase): void => {
    const now = performance.now();
    onPhase(name, now - t);
    t = now;
  };
  const images: AnalysisInput['images'] = [];
  const strings = new StringTable(); // one copy of each recurring path, fingerprint and digest
  for (const { image, manifestBlob } of task.images) {
    const manifest = await readStoredManifest(store, manifestBlob, strings);
    images.push({ image, manifest });
  }
  phase('read-manifests');
  const input: AnalysisInput = {
    images,
    instances: task.instances,
    options: task.options,
    createdAt: task.createdAt,
  };
  if (task.residency) input.residency = task.residency;
  const analyzed = analyze(input);
  phase('analyze');
  // The trust model (docs/trust.md) is built here, where the manifests are.
  const report = withTrust(analyzed, input);
  // The reviewer's policy and its result travel with the stored report (a reproducible sign-off).
  if (task.trustPolicy && report.trust) applyTrustPolicy(report.trust, task.trustPolicy);
  phase('trust');
  const reportBlob = await store.putGzip(reportJson(report));
  phase('report-blob');
  const inputBlob = await store.putGzipSync(
    analysisInputRefJson({
      images: task.images,
      instances: task.instances,
      options: task.options,
      createdAt: task.createdAt,
    }),
  );
  phase('input-blob');
  const { summaryBlob, filesBlob } = await writeParts(store, report);
  phase('parts');
  const findings: Record<string, number> = {};
  for (const f of report.findings) findings[f.code] = (findings[f.code] ?? 0) + 1;
  return {
    reportBlob: reportBlob.sha256,
    inputBlob: inputBlob.sha256,
    summaryBlob,
    filesBlob,
    summary: {
      title: task.title ?? null,
      createdAt: report.createdAt,
      images: report.images.length,
      instances: report.instances.length,
      totals: report.totals,
      ...(report.measured ? { measured: report.measured.totals } : {}),
      findings,
    },
  };
}
