/**
 * Report creation in the analysis worker, phase by phase: the stored manifests read back
 * (stored-manifest.ts), analyze() and the trust model, then the blobs of the report: its JSON,
 * its analysis input (references to the manifest blobs, analysis-input.ts) and the web UI's
 * parts. `onPhase` gets each phase's wall time (bench/report-phases.bench.mjs prints them).
 */
import { NdjsonManifestParser, StringTable, type Manifest } from '@sharemap/erofs';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { splitLines } from '../manifest-stream.js';
import { encodeFiles, reportSummary } from '@sharemap/report-wire';
import { analyze, applyTrustPolicy, withTrust, type AnalysisInput, type Report } from '@sharemap/sharing';
import { gzipSync } from 'node:zlib';
import { BlobStore } from '../storage/blobs.js';
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
  const files = await store.put(gzipSync(encodeFiles(report), { level: 6 }));
  return { summaryBlob: summary.sha256, filesBlob: files.sha256 };
}

/** JSON of the analysis input, record by record. */
function* inputJson(input: AnalysisInput): Generator<string> {
  yield '{"images":[';
  for (const [k, { image, manifest }] of input.images.entries()) {
    const { files, ...header } = manifest;
    yield `${k ? ',' : ''}{"image":${JSON.stringify(image)},"manifest":`;
    yield JSON.stringify({ ...header, files: [] }).slice(0, -2); // up to '"files":['
    for (const [j, f] of files.entries()) yield (j ? ',' : '') + JSON.stringify(f);
    yield ']}}';
  }
  yield `],"instances":${JSON.stringify(input.instances)},"options":${JSON.stringify(input.options ?? {})}`;
  if (input.createdAt !== undefined) yield `,"createdAt":${JSON.stringify(input.createdAt)}`;
  yield '}';
}

/** Longest line of a stored manifest (written by this server, so trusted more than an upload). */
const MAX_STORED_LINE_BYTES = 64 * 1024 * 1024;

async function readStoredManifest(store: BlobStore, sha: string, strings: StringTable): Promise<Manifest> {
  const parser = new NdjsonManifestParser({ strings, maxLineLength: MAX_STORED_LINE_BYTES });
  const text = pipeline(store.createReadStream(sha), createGunzip(), () => undefined);
  for await (const line of splitLines(text, MAX_STORED_LINE_BYTES)) parser.line(line.toString('utf8'));
  return parser.end();
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
  const inputBlob = await store.putGzip(inputJson(input));
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
