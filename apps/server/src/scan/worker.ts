/**
 * Worker thread: runs the tasks the pool posts, one at a time (scan an image into a manifest
 * blob, or run an analysis into report blobs), so the event loop never parses untrusted
 * images and a runaway task is ended with worker.terminate(). The pool keeps the worker for
 * the next task or tells it to end, and it ends on its own (pool.ts `reuse`, WorkerEndMessage).
 */
import { subscribe } from 'node:diagnostics_channel';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { getLz4Decoder, manifestHeader, manifestToNdjson, setLz4Decoder } from '@sharemap/erofs';
import {
  DIGEST_THREAD_CHANNEL,
  nodeFileSource,
  nodeSha256,
  scanImageFile,
  type DigestThreadAnnounce,
} from '@sharemap/erofs/node';
import { modelManifests, parsePlatform, platformString, predictArchive } from '@sharemap/oci';
import { releaseDigestWorker, workerSha256, workerTarHasher } from '@sharemap/oci/node';
import { createDomainRedactor, MountConfigError, parseMountConfig } from '@sharemap/sharing';
import { createLogger } from '../log.js';
import { runAnalysis } from './analysis.js';
import { renderToFile } from './render.js';
import { writeColumns } from './stored-columns.js';
import { writeParts } from './report-blobs.js';
import { readStoredReport } from './report-read.js';
import { BlobStore } from '../storage/blobs.js';
import { ownThreadCpu } from './thread-cpu.js';
import type {
  MountConfigResult,
  MountConfigTask,
  PartsResult,
  PartsTask,
  PredictResult,
  PredictTask,
  ScanResult,
  ScanTask,
  SerializedError,
  Task,
  WorkerEndMessage,
  WorkerMessage,
  WorkerStartData,
} from './tasks.js';

const post = (m: WorkerMessage): void => parentPort!.postMessage(m);

// The server's LZ4 decoder (SHAREMAP_LZ4_DECODER, checked when the server started), applied
// once as this thread starts (docs/reader.md#lz4-decoders).
const start = (workerData ?? {}) as WorkerStartData;
if (start.lz4Decoder) setLz4Decoder(start.lz4Decoder);

async function scan(task: ScanTask): Promise<ScanResult> {
  const store = new BlobStore(task.dataDir);
  const manifest = await scanImageFile(store.path(task.image.sha256), {
    devices: task.devices.map((d) => store.path(d)),
    hash: true,
    // No maxWalkMillis: the pool's CPU budget (scanTimeoutMs) bounds the scan, whatever the load.
    limits: { maxInodesWalked: task.maxFiles },
    onProgress: (p) => post({ type: 'progress', files: p.files, bytesHashed: p.bytesHashed, path: p.path }),
  });
  manifest.image = { name: task.image.name, size: task.image.size, sha256: task.image.sha256 };
  const blob = await store.putGzip(manifestToNdjson(manifest));
  // Its first report then reads the columns, not the NDJSON (docs/server.md#stored-columnar-manifests).
  await writeColumns(store, blob.sha256, manifest, workerLog);
  return { blob: blob.sha256, header: manifestHeader(manifest), lz4Decoder: getLz4Decoder() };
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
      // The layers' digests and the files' fingerprints on a thread of this worker's own (kept
      // with it for its next prediction, ended with it, so the scan pool bounds them), as the
      // CLI does (docs/oci.md#library).
      digestHasher: workerSha256,
      tarHasher: workerTarHasher,
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
      await writeColumns(store, blob.sha256, m, workerLog);
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

async function parts(task: PartsTask): Promise<PartsResult> {
  const store = new BlobStore(task.dataDir);
  return writeParts(store, await readStoredReport(store, task.reportBlob));
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

type TaskResult = Extract<WorkerMessage, { type: 'done' }>['result'];

function run(task: Task): Promise<TaskResult> {
  return task.kind === 'scan'
    ? scan(task)
    : task.kind === 'predict'
      ? predict(task)
      : task.kind === 'mount-config'
        ? Promise.resolve().then(() => parseConfig(task))
        : task.kind === 'render'
          ? renderToFile(task)
          : task.kind === 'parts'
            ? parts(task)
            : runAnalysis(task, undefined, workerLog);
}

/**
 * Warnings of a task (a damaged columnar manifest read from its NDJSON instead, a columnar file
 * that could not be written): one JSON line on stderr, like the server's log.
 */
const workerLog = createLogger('warn');

const heapUsed = (): number => getHeapStatistics().used_heap_size;

// The digest threads a scan starts hash and decompress for it: their CPU time is the task's
// too (the pool adds it to the thread's own, pool.ts). One task at a time, so every thread
// announced belongs to the task running.
subscribe(DIGEST_THREAD_CHANNEL, (m) => post({ type: 'helper', tid: (m as DigestThreadAnnounce).tid }));

// One task at a time: the pool posts the next only after this one's answer. Told to end
// (WorkerEndMessage, never while a task runs), the thread ends its archive digest thread and
// closes its port: its loop is then empty and it ends on its own (the pool awaits its exit).
parentPort!.on('message', (task: Task | WorkerEndMessage) => {
  if (task.kind === 'end') {
    void releaseDigestWorker().finally(() => parentPort!.close());
    return;
  }
  // The task's CPU budget counts from here (pool.ts), not from the thread's start.
  const own = ownThreadCpu();
  post({ type: 'begin', tid: own?.tid, cpuMs: own?.cpuMs });
  run(task).then(
    (result) => post({ type: 'done', result, heapUsed: heapUsed() }),
    (e: unknown) => post({ type: 'error', error: serialize(e), heapUsed: heapUsed() }),
  );
});
