/**
 * Report creation in the analysis worker, phase by phase: the stored manifests read back
 * (their columnar form, stored-columns.ts, or else their NDJSON, stored-manifest.ts), analyze() and the trust model, then the blobs of the report: its
 * analysis input (references to the manifest blobs, analysis-input.ts), its JSON and the web
 * UI's parts (report-blobs.ts). `onPhase` gets each phase's wall time
 * (bench/report-phases.bench.mjs prints them).
 */
import { analyze, applyTrustPolicy, withTrust, type AnalysisInput } from '@sharemap/sharing';
import { analysisInputRefJson } from '../analysis-input.js';
import { BlobStore } from '../storage/blobs.js';
import { writeReportBlobs } from './report-blobs.js';
import type { Logger } from '../log.js';
import { readManifestsForReport } from './stored-columns.js';
import type { AnalyzeResult, AnalyzeTask } from './tasks.js';

/**
 * Phases of report creation, in order: `encode-parts` encodes the web UI's parts on this thread;
 * `blobs` generates the report JSON while the thread pool compresses it and the parts.
 */
export type AnalysisPhase = 'read-manifests' | 'analyze' | 'trust' | 'input-blob' | 'encode-parts' | 'blobs';

export async function runAnalysis(
  task: AnalyzeTask,
  onPhase: (phase: AnalysisPhase, ms: number) => void = () => undefined,
  log?: Logger,
): Promise<AnalyzeResult> {
  const store = new BlobStore(task.dataDir);
  let t = performance.now();
  const phase = (name: AnalysisPhase): void => {
    const now = performance.now();
    onPhase(name, now - t);
    t = now;
  };
  const manifests = await readManifestsForReport(
    store,
    task.images.map((i) => i.manifestBlob),
    log,
  );
  const images: AnalysisInput['images'] = task.images.map(({ image }, k) => ({
    image,
    manifest: manifests[k]!,
  }));
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
  const inputBlob = await store.putGzipSync(
    analysisInputRefJson({
      images: task.images,
      instances: task.instances,
      options: task.options,
      createdAt: task.createdAt,
    }),
  );
  phase('input-blob');
  const { reportBlob, summaryBlob, filesBlob } = await writeReportBlobs(store, report, () =>
    phase('encode-parts'),
  );
  phase('blobs');
  const findings: Record<string, number> = {};
  for (const f of report.findings) findings[f.code] = (findings[f.code] ?? 0) + 1;
  return {
    reportBlob,
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
