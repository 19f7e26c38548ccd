/**
 * Worker thread: one task per worker (scan an image into a manifest blob, or run an
 * analysis into report blobs), so the event loop never parses untrusted images and a
 * runaway task is ended with worker.terminate().
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  manifestHeader,
  manifestToNdjson,
  NdjsonManifestParser,
  StringTable,
  type Manifest,
} from '@sharemap/erofs';
import { nodeFileSource, nodeSha256, scanImageFile } from '@sharemap/erofs/node';
import { modelManifests, parsePlatform, platformString, predictArchive } from '@sharemap/oci';
import { encodeFiles, reportSummary } from '@sharemap/report-wire';
import {
  analyze,
  createDomainRedactor,
  MountConfigError,
  parseMountConfig,
  withTrust,
  applyTrustPolicy,
  type AnalysisInput,
  type Report,
} from '@sharemap/sharing';
import { pipeline } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import { splitLines } from '../manifest-stream.js';
import { renderToFile } from './render.js';
import { readStoredReport } from './report-read.js';
import { BlobStore } from '../storage/blobs.js';
import type {
  MountConfigResult,
  MountConfigTask,
  PartsResult,
  PartsTask,
  PredictResult,
  PredictTask,
  AnalyzeResult,
  AnalyzeTask,
  ScanResult,
  ScanTask,
  SerializedError,
  Task,
  WorkerMessage,
} from './tasks.js';

const post = (m: WorkerMessage): void => parentPort!.postMessage(m);

async function scan(task: ScanTask): Promise<ScanResult> {
  const store = new BlobStore(task.dataDir);
  const manifest = await scanImageFile(store.path(task.image.sha256), {
    devices: task.devices.map((d) => store.path(d)),
    hash: true,
    limits: { maxInodesWalked: task.maxFiles, maxWalkMillis: task.timeoutMs },
    onProgress: (p) => post({ type: 'progress', files: p.files, bytesHashed: p.bytesHashed, path: p.path }),
  });
  manifest.image = { name: task.image.name, size: task.image.size, sha256: task.image.sha256 };
  const blob = await store.putGzip(manifestToNdjson(manifest));
  return { blob: blob.sha256, header: manifestHeader(manifest) };
}

/**
 * An uploaded archive's predicted manifests, by the same package functions as `sharemap scan
 * ARCHIVE` (predictArchive, modelManifests). Every manifest is checked before any is stored,
 * so a refused archive leaves no blob behind.
 */
async function predict(task: PredictTask): Promise<PredictResult> {
  const store = new BlobStore(task.dataDir);
  const src = await nodeFileSource(store.path(task.archive.sha256));
  try {
    const a = await predictArchive(src, task.archive.name, {
      hasher: nodeSha256,
      hash: true,
      ...(task.platform !== undefined ? { platform: parsePlatform(task.platform) } : {}),
      layerCache: new Map(),
      layerManifests: new Map(),
      // maxFilesPerImage, checked while each tree is walked (before its records are built).
      limits: { maxPaths: task.maxFiles },
    });
    const manifests = modelManifests(a.images, task.model);
    const stored: PredictResult['manifests'] = [];
    for (const m of manifests) {
      const blob = await store.putGzip(manifestToNdjson(m));
      stored.push({ blob: blob.sha256, header: manifestHeader(m) });
    }
    return {
      kind: a.kind,
      images: a.images.map(({ image }) => ({
        name: image.name,
        repoTags: image.repoTags,
        ...(image.manifestDigest ? { manifestDigest: image.manifestDigest } : {}),
        configDigest: image.configDigest,
        ...(image.platform ? { platform: platformString(image.platform) } : {}),
        layers: image.layers.map((l) => ({
          diffId: l.diffId,
          digest: l.digest,
          compression: l.compression,
          storedSize: l.storedSize,
          size: l.size,
        })),
      })),
      manifests: stored,
    };
  } finally {
    await src.close();
  }
}

/** JSON of a report, key by key (no single giant string for 2M-row tables). */
function* reportJson(report: Report): Generator<string> {
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

/**
 * The web UI's parts of a report: the summary (JSON gzip) and the per-file columns
 * (sharemap-files encoding, gzip), derived from the report and stored once.
 */
async function writeParts(store: BlobStore, report: Report): Promise<PartsResult> {
  const summary = await store.putGzipSync(JSON.stringify(reportSummary(report)));
  const files = await store.put(gzipSync(encodeFiles(report), { level: 6 }));
  return { summaryBlob: summary.sha256, filesBlob: files.sha256 };
}

async function parts(task: PartsTask): Promise<PartsResult> {
  const store = new BlobStore(task.dataDir);
  return writeParts(store, await readStoredReport(store, task.reportBlob));
}

/** Longest line of a stored manifest (written by this server, so trusted more than an upload). */
const MAX_STORED_LINE_BYTES = 64 * 1024 * 1024;

/**
 * A stored manifest blob (gzip NDJSON) parsed line by line from the file: never one string,
 * so a manifest larger than V8's string limit (512 MiB) is as usable as a small one (#13 item 10).
 */
async function readStoredManifest(store: BlobStore, sha: string, strings: StringTable): Promise<Manifest> {
  const parser = new NdjsonManifestParser({ strings, maxLineLength: MAX_STORED_LINE_BYTES });
  const text = pipeline(store.createReadStream(sha), createGunzip(), () => undefined);
  for await (const line of splitLines(text, MAX_STORED_LINE_BYTES)) parser.line(line.toString('utf8'));
  return parser.end();
}

async function runAnalysis(task: AnalyzeTask): Promise<AnalyzeResult> {
  const store = new BlobStore(task.dataDir);
  const images: AnalysisInput['images'] = [];
  const strings = new StringTable(); // one copy of each recurring path, fingerprint and digest
  for (const { image, manifestBlob } of task.images) {
    const manifest = await readStoredManifest(store, manifestBlob, strings);
    images.push({ image, manifest });
  }
  const input: AnalysisInput = {
    images,
    instances: task.instances,
    options: task.options,
    createdAt: task.createdAt,
  };
  if (task.residency) input.residency = task.residency;
  // The trust model (docs/trust.md) is built here, where the manifests are.
  const report = withTrust(analyze(input), input);
  // The reviewer's policy and its result travel with the stored report (a reproducible sign-off).
  if (task.trustPolicy && report.trust) applyTrustPolicy(report.trust, task.trustPolicy);
  const reportBlob = await store.putGzip(reportJson(report));
  const inputBlob = await store.putGzip(inputJson(input));
  const { summaryBlob, filesBlob } = await writeParts(store, report);
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

function parseConfig(task: MountConfigTask): MountConfigResult {
  const redactor = createDomainRedactor(task.domainKey, task.known);
  const opts: Parameters<typeof parseMountConfig>[1] = { domains: redactor };
  if (task.file !== undefined) opts.file = task.file;
  if (task.format) opts.format = task.format;
  try {
    const config = parseMountConfig(task.text, opts);
    return { config, labels: redactor.entries() };
  } catch (e) {
    if (!(e instanceof MountConfigError)) throw e;
    const { code, problem, file, line, column } = e;
    return { error: { code, problem, file, line, column } };
  }
}

function serialize(e: unknown): SerializedError {
  const err = e as Error & { code?: unknown; offset?: unknown; line?: unknown; field?: unknown };
  const out: SerializedError = { name: err?.name ?? 'Error', message: err?.message ?? String(e) };
  if (typeof err?.code === 'string') out.code = err.code;
  if (typeof err?.offset === 'number') out.offset = err.offset;
  if (typeof err?.line === 'number') out.line = err.line;
  if (typeof err?.field === 'string') out.field = err.field;
  return out;
}

const task = workerData as Task;
(task.kind === 'scan'
  ? scan(task)
  : task.kind === 'predict'
    ? predict(task)
    : task.kind === 'mount-config'
      ? Promise.resolve().then(() => parseConfig(task))
      : task.kind === 'render'
        ? renderToFile(task)
        : task.kind === 'parts'
          ? parts(task)
          : runAnalysis(task)
).then(
  (result) => post({ type: 'done', result }),
  (e: unknown) => post({ type: 'error', error: serialize(e) }),
);
