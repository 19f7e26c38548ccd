/** Messages between the main thread and the scan/analysis workers (plain structured-clone data). */
import type { Lz4DecoderKind, ManifestHeader } from '@sharemap/erofs';
import type {
  AnalysisOptions,
  InstanceInput,
  MountConfig,
  MountFormat,
  ResidencyInput,
  Totals,
  TrustPolicy,
} from '@sharemap/sharing';
import type { ImageEntry } from '@sharemap/sharing';

export interface ScanTask {
  kind: 'scan';
  dataDir: string;
  /** Blob (sha256) of the image and of its extra devices, in device-table order. */
  image: { sha256: string; name: string; size: number };
  devices: string[];
  maxFiles: number;
  /**
   * The scan's CPU budget (scanTimeoutMs), enforced by the pool (pool.ts). Not passed to the
   * reader as maxWalkMillis: that is wall-clock time, which a loaded machine stretches.
   */
  timeoutMs: number;
}

export interface ScanResult {
  blob: string;
  header: ManifestHeader;
  /** The LZ4 decoder the worker scanned with (WorkerStartData.lz4Decoder; logged with the scan). */
  lz4Decoder: Lz4DecoderKind;
}

/** What the pool starts each worker thread with (its workerData). */
export interface WorkerStartData {
  /** The LZ4 decoder, applied as the thread starts (ServerConfig.lz4Decoder, docs/reader.md#lz4-decoders). */
  lz4Decoder?: Lz4DecoderKind;
}

/**
 * Predict the EROFS manifests of an uploaded OCI archive (docker save, OCI layout tar, rootfs
 * tar) with @sharemap/oci, as `sharemap scan ARCHIVE` does (docs/oci.md): one manifest per OCI
 * image (flattened) or per distinct layer (layers), each stored as a gzip NDJSON blob.
 */
export interface PredictTask {
  kind: 'predict';
  dataDir: string;
  archive: { sha256: string; name: string };
  model: 'layers' | 'flattened';
  /** "os/arch[/variant]" picked from a multi-platform index (default linux/amd64). */
  platform?: string;
  /** Records per predicted manifest (maxFilesPerImage). */
  maxFiles: number;
}

/** What the archive held: its images, their layers, and the stored predicted manifests. */
export interface PredictResult {
  kind: 'docker-save' | 'oci-layout' | 'rootfs';
  images: {
    name: string;
    repoTags: string[];
    manifestDigest?: string;
    configDigest: string;
    platform?: string;
    layers: { diffId: string; digest: string; compression: string; storedSize: number; size: number }[];
  }[];
  manifests: { blob: string; header: ManifestHeader }[];
}

export interface AnalyzeTask {
  kind: 'analyze';
  dataDir: string;
  images: { image: ImageEntry; manifestBlob: string }[];
  instances: InstanceInput[];
  options: Partial<AnalysisOptions>;
  createdAt: string;
  title?: string;
  /** Residency per instance (the measured working set), when the request named some. */
  residency?: ResidencyInput;
  /** Evaluated on the report's trust model; its result is stored in `report.trust.policy`. */
  trustPolicy?: TrustPolicy;
}

export interface ReportSummary {
  title: string | null;
  createdAt: string;
  images: number;
  instances: number;
  totals: Totals;
  /** The measured working set's totals, when the report has residency data. */
  measured?: Totals;
  findings: Record<string, number>;
}

export interface AnalyzeResult {
  reportBlob: string;
  inputBlob: string;
  /** The web UI's parts (see PartsResult). */
  summaryBlob: string;
  filesBlob: string;
  summary: ReportSummary;
}

/** Derive the web UI's parts of a stored report (reports created before they existed). */
export interface PartsTask {
  kind: 'parts';
  dataDir: string;
  reportBlob: string;
}

export interface PartsResult {
  /** `@sharemap/report-wire` ReportSummaryDoc, JSON gzip. */
  summaryBlob: string;
  /** `@sharemap/report-wire` sharemap-files encoding, gzip. */
  filesBlob: string;
}

/**
 * Render a stored report as CSV or Markdown (large reports: off the event loop) from its
 * parts (see PartsResult) into a gzip file of the render cache, streamed into `tmpFile` (in
 * tmp/) and renamed to `outFile`: complete or absent.
 */
export interface RenderTask {
  kind: 'render';
  dataDir: string;
  summaryBlob: string;
  filesBlob: string;
  format: 'csv' | 'markdown';
  url: string;
  tmpFile: string;
  outFile: string;
}

export interface RenderResult {
  /** Size of the gzip file. */
  bytes: number;
}

/**
 * Parse one mount configuration with the server's domain redactor (the event loop never
 * parses untrusted configurations: a pathological one once held it for 30 s).
 */
export interface MountConfigTask {
  kind: 'mount-config';
  text: string;
  file?: string;
  format?: MountFormat;
  domainKey: Uint8Array;
  /** fingerprint -> label pairs already assigned (labels stay stable across uploads). */
  known: [string, string][];
}

export type MountConfigResult =
  | {
      config: MountConfig;
      /** Every fingerprint -> label pair after parsing (the known ones and new ones). */
      labels: [string, string][];
    }
  | {
      /** A MountConfigError's fields (rebuilt on the main thread: 422 with the location). */
      error: { code: string; problem: string; file: string; line: number; column: number };
    };

export type Task = ScanTask | PredictTask | AnalyzeTask | RenderTask | PartsTask | MountConfigTask;

/**
 * The pool's message to a worker with no task running that it will give no more (pool.ts):
 * the worker ends its helper threads and closes its port, and ends on its own
 * (docs/development.md#how-worker-threads-end).
 */
export interface WorkerEndMessage {
  kind: 'end';
}

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  offset?: number;
  line?: number;
  field?: string;
}

export type WorkerMessage =
  /**
   * The worker begins a task: its thread's id and CPU time then (ms), from /proc (undefined
   * without it), so the pool counts the task's CPU budget from here (pool.ts).
   */
  | { type: 'begin'; tid: number | undefined; cpuMs: number | undefined }
  /** A thread the task started to compute for it (a scan's digest threads): its CPU time counts. */
  | { type: 'helper'; tid: number }
  | { type: 'progress'; files: number; bytesHashed: number; path: string }
  | {
      type: 'done';
      result: ScanResult | PredictResult | AnalyzeResult | RenderResult | PartsResult | MountConfigResult;
      /** The worker's V8 heap in use after the task (pool.ts retires a worker above its bound). */
      heapUsed?: number;
    }
  | { type: 'error'; error: SerializedError; heapUsed?: number };
