/**
 * The blobs of a new report (docs/server.md#stored-manifests-and-analysis-inputs): its JSON,
 * and the web UI's parts (the summary, JSON, and the per-file columns in the sharemap-files
 * encoding), each gzip at SERVER_GZIP_LEVEL. The JSON is generated as UTF-8 pieces of 256 KiB
 * (report-wire's jsonBytes: no string to encode again) and the files encoding handed over as
 * views of its columns: nothing is held as one string or one buffer, and zlib's asynchronous
 * API compresses on libuv's thread pool while this thread generates the next piece. For a
 * large report the files encoding is made on a thread of its own (the files worker,
 * files-worker.ts) while this one writes the JSON. The stored bytes are those of
 * `gzipSync(JSON.stringify(report))` and `gzipSync(encodeFiles(report))`
 * (apps/server/test/scan/report-blobs.test.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import {
  encodeFilesPieces,
  filesHandover,
  jsonBytes,
  reportSummary,
  type FilesEncoding,
  type FilesHandover,
} from '@sharemap/report-wire';
import type { Report } from '@sharemap/sharing';
import type { BlobStore, StoredBlob } from '../storage/blobs.js';
import type { FilesWorkerAnswer, FilesWorkerTask } from './files-worker.js';
import { workerExecArgv } from './pool.js';
import type { PartsResult } from './tasks.js';

/** The web UI's parts of a report, encoded (on this thread) and not yet stored. */
export interface EncodedParts {
  summary: string;
  files: FilesEncoding;
}

export function encodeParts(report: Report): EncodedParts {
  return { summary: JSON.stringify(reportSummary(report)), files: encodeFilesPieces(report) };
}

/** Store encoded parts: the files encoding streams into gzip a column at a time. */
export async function storeParts(store: BlobStore, parts: EncodedParts): Promise<PartsResult> {
  const [summary, files]: StoredBlob[] = await Promise.all([
    store.putGzipSync(parts.summary),
    store.putGzipBytes(parts.files.pieces()),
  ]);
  return { summaryBlob: summary!.sha256, filesBlob: files!.sha256 };
}

/**
 * The web UI's parts of a report: the summary (JSON gzip) and the per-file columns
 * (sharemap-files encoding, gzip), derived from the report and stored once.
 */
export async function writeParts(store: BlobStore, report: Report): Promise<PartsResult> {
  return storeParts(store, encodeParts(report));
}

/**
 * Rows from which a report's files encoding is made on the files worker: below, starting a
 * thread (~30-60 ms of CPU, its modules loaded) costs more than the encoding it would take off
 * this thread (docs/benchmarks.md#server-overlap-the-files-encoding-on-a-thread-of-its-own-2026-12-07).
 */
export const FILES_WORKER_MIN_ROWS = 200_000;

export interface ReportBlobsOptions {
  /** Rows from which the files worker is used (FILES_WORKER_MIN_ROWS; 0: always, Infinity: never). */
  filesWorkerMinRows?: number;
  /** The files worker's heap limits (tests). */
  filesWorkerLimits?: ResourceLimits;
  /** Called with the files worker once it is started (tests: end it mid-report). */
  onFilesWorker?: (worker: Worker) => void;
}

/**
 * The compiled files worker, as pool.ts finds worker.js: beside this module in dist (and in the
 * packed CLI's bundle), the server's dist build of it from TypeScript sources (vitest); null
 * when it is not there (the encoding is then made on this thread).
 */
function filesWorkerScript(): URL | null {
  const here = import.meta.url;
  const url = here.endsWith('.ts')
    ? new URL('../../dist/scan/files-worker.js', here)
    : new URL('./files-worker.js', here);
  return existsSync(fileURLToPath(url)) ? url : null;
}

/** A started files worker: `post` hands it the handover, `sha256` is its blob's name. */
interface FilesWorker {
  post(handover: FilesHandover): void;
  readonly sha256: Promise<string>;
  /** End the thread (a report that failed otherwise); resolves once it has ended. */
  stop(): Promise<void>;
}

/**
 * Start the files worker. Its answer settles `sha256`: the blob's name, or its error (an Error
 * of the same name and message); a thread that ends without answering (terminated, out of
 * memory, an uncaught error) rejects it too, so a failed worker fails the report. A thread ended
 * with its parent: when the pool terminates an analysis worker (a shutdown, a timeout), Node
 * terminates the threads it started.
 */
function startFilesWorker(store: BlobStore, script: URL, opts: ReportBlobsOptions): FilesWorker {
  const worker = new Worker(script, {
    execArgv: workerExecArgv([]),
    ...(opts.filesWorkerLimits ? { resourceLimits: opts.filesWorkerLimits } : {}),
  });
  let ended = false;
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      ended = true;
      resolve();
    }),
  );
  const sha256 = new Promise<string>((resolve, reject) => {
    worker.once('message', (a: FilesWorkerAnswer) => {
      if ('sha256' in a) resolve(a.sha256);
      else reject(Object.assign(new Error(a.error.message), { name: a.error.name }));
    });
    worker.once('error', reject);
    void exited.then(() => reject(new Error('the files worker ended before its answer')));
  });
  // Settled or not, the caller awaits it; this keeps a rejection before then from being unhandled.
  sha256.catch(() => undefined);
  opts.onFilesWorker?.(worker);
  return {
    post(handover) {
      const task: FilesWorkerTask = { dataDir: store.dataDir, handover: { ...handover, transfer: [] } };
      worker.postMessage(task, handover.transfer ?? []);
    },
    sha256,
    async stop() {
      if (!ended) await worker.terminate();
      await exited;
    },
  };
}

/**
 * The report JSON and its parts, stored. The parts are encoded first (this thread); then their
 * compression (the thread pool) runs while this thread generates the JSON, whose compression
 * follows it piece by piece on another thread of the pool. For a report of
 * `filesWorkerMinRows` rows or more, this thread only hands the files encoding's columns over
 * (its string work: codes, fingerprint bytes, the path text) and the files worker encodes,
 * compresses and hashes them meanwhile. Whatever fails (this thread or the worker), every
 * blob write is settled and the worker ended before the error is thrown.
 */
export async function writeReportBlobs(
  store: BlobStore,
  report: Report,
  onEncoded: () => void = () => undefined,
  opts: ReportBlobsOptions = {},
): Promise<{ reportBlob: string } & PartsResult> {
  const script =
    report.files.instance.length >= (opts.filesWorkerMinRows ?? FILES_WORKER_MIN_ROWS)
      ? filesWorkerScript()
      : null;
  if (script === null) {
    const parts = encodeParts(report);
    onEncoded();
    const [json, stored] = await Promise.all([
      store.putGzipBytes(jsonBytes(report)),
      storeParts(store, parts),
    ]);
    return { reportBlob: json.sha256, ...stored };
  }
  // Started first: its start-up overlaps the handover.
  const files = startFilesWorker(store, script, opts);
  try {
    files.post(filesHandover(report, { transfer: true }));
    const summary = JSON.stringify(reportSummary(report));
    onEncoded();
    const settled = await Promise.allSettled([
      store.putGzipBytes(jsonBytes(report)),
      store.putGzipSync(summary),
      files.sha256,
    ]);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const [json, sum, filesBlob] = settled.map(
      (s) => (s as PromiseFulfilledResult<StoredBlob | string>).value,
    );
    return {
      reportBlob: (json as StoredBlob).sha256,
      summaryBlob: (sum as StoredBlob).sha256,
      filesBlob: filesBlob as string,
    };
  } finally {
    await files.stop();
  }
}
