/**
 * Reading what the user names on the command line: EROFS images (scanned with the reader),
 * manifests (`sharemap scan --json|--ndjson` output, optionally gzip), mount configurations
 * and baseline reports. Every failure becomes one line naming the file (exit 2).
 */
import { open, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isGzip, isParquet, type Manifest, type StringTable } from '@sharemap/erofs';
import {
  isHostSnapshotText,
  MAX_RESIDENCY_INPUT_BYTES,
  MountConfigError,
  parseHostSnapshot,
  snapshotMountConfigText,
  parseMountConfig,
  parseResidency,
  REPORT_VERSION,
  ResidencyError,
  type DomainRedactor,
  type HostSnapshot,
  type MountConfig,
  type Report,
  type ResidencyData,
} from '@sharemap/sharing';
import { inputError, oneLine } from './errors.js';
import { fsMessage, scanImage } from './images.js';
import { readManifestFile } from './manifest-file.js';
import { digestThreadsFor } from './scan-threads.js';
import { ARCHIVE_HEAD_BYTES, isArchiveHead } from './archive-sniff.js';
// The OCI reader is loaded only for an archive input (loadInputs).
import type { LoadArchiveOptions } from './archives.js';
import type { Model } from './model-options.js';
import { EROFS_SUPER_MAGIC, EROFS_SUPER_OFFSET } from '@sharemap/erofs/limits';
import type { ScanImageFileOptions } from '@sharemap/erofs/node';

export { fsMessage } from './images.js';
export { MANIFEST_READ_PIECE_BYTES, readManifestFile } from './manifest-file.js';

const MANIFEST_EXT = /\.(json|ndjson|jsonl)(\.gz)?$|\.gz$/i;

export type InputKind = 'image' | 'manifest' | 'archive';

/** Names that make a file a manifest whatever its bytes. */
const MANIFEST_NAME = /\.(json|ndjson|jsonl)(\.gz)?$|\.parquet$/i;

/**
 * Image, manifest or OCI archive? OCI archives (docker save, OCI layout directory or tar,
 * rootfs tar, gzip/zstd tar) by their bytes (docs/oci.md); then manifests by extension,
 * EROFS images by their magic, then by content.
 */
export async function detectInput(path: string): Promise<InputKind> {
  return (await inspectInput(path)).kind;
}

/** What inspectInput found: the input's kind, and a regular file's size and first bytes. */
export interface InputInspection {
  kind: InputKind;
  /** A regular file's size and first bytes (up to ARCHIVE_HEAD_BYTES); null for anything else, or when the name told the kind and `head` was not asked for. */
  file: { size: number; head: Buffer } | null;
}

/**
 * detectInput, with what it read: a regular file is opened once and its first bytes read once
 * (the analysis's thread planning takes a manifest's form and size from them too). `head`: read
 * them even when the name tells the kind (a manifest by its extension). A pipe is read only
 * where it must be (a FIFO opened without a writer never returns), as detectInput always did.
 */
export async function inspectInput(path: string, opts: { head?: boolean } = {}): Promise<InputInspection> {
  const byName = MANIFEST_NAME.test(path);
  if (byName && !opts.head) return { kind: 'manifest', file: null };
  const st = await stat(path).catch(() => null);
  if (st?.isFile()) {
    let head: Buffer;
    try {
      head = await readHead(path, ARCHIVE_HEAD_BYTES);
    } catch (e) {
      if (byName) return { kind: 'manifest', file: null }; // the manifest reader names the problem
      throw inputError(`${path}: cannot read: ${fsMessage(e)}`);
    }
    return { kind: byName ? 'manifest' : kindOfHead(path, head, true), file: { size: st.size, head } };
  }
  if (byName) return { kind: 'manifest', file: null };
  if (st?.isDirectory()) return { kind: 'archive', file: null }; // an OCI layout directory
  // Not a regular file (a pipe, a device) or not there: by its name, else by its first bytes.
  if (MANIFEST_EXT.test(path)) return { kind: 'manifest', file: null };
  let head: Buffer;
  try {
    head = await readHead(path, 1028);
  } catch (e) {
    throw inputError(`${path}: cannot read: ${fsMessage(e)}`);
  }
  return { kind: kindOfHead(path, head, false), file: null };
}

/** The first `bytes` bytes of the file at `path` (fewer when it is shorter). */
async function readHead(path: string, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(head, 0, bytes, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The kind of an input whose name did not tell it, from its first bytes (`regular`: a regular file, which may be an archive). */
function kindOfHead(path: string, head: Buffer, regular: boolean): InputKind {
  if (regular && isArchiveHead(head)) return 'archive';
  if (MANIFEST_EXT.test(path)) return 'manifest';
  if (head.length >= EROFS_SUPER_OFFSET + 4 && head.readUInt32LE(EROFS_SUPER_OFFSET) === EROFS_SUPER_MAGIC)
    return 'image';
  if (isGzip(head)) return 'manifest';
  if (isParquet(head)) return 'manifest'; // the columnar form (docs/manifest.md)
  const first = head
    .subarray(0, 64)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (first.startsWith('{')) return 'manifest';
  return 'image'; // the reader names the problem (e.g. EBADMAGIC at offset 1024)
}

export interface LoadedInput {
  path: string;
  kind: InputKind;
  devices: string[];
  manifest: Manifest;
}

export interface LoadInputOptions {
  hash?: boolean;
  /** With hash: digest threads for an EROFS image (--threads; docs/cli.md#digest-threads); when absent, digestThreadsFor's default for the image's size. */
  threads?: number;
  /** The environment digestThreadsFor reads (SHAREMAP_DIGEST_THREADS_MIN_BYTES); default process.env. */
  env?: Record<string, string | undefined>;
  onProgress?: ScanImageFileOptions['onProgress'];
  /** Shared by the manifests of one analysis (see StringTable). */
  strings?: StringTable;
}

/** Load an image (scanned) or a manifest, of the kind detectInput found. */
async function loadInput(
  path: string,
  kind: Exclude<InputKind, 'archive'>,
  devices: string[],
  opts: LoadInputOptions,
): Promise<LoadedInput> {
  if (kind === 'manifest') {
    if (devices.length > 0) throw inputError(`${path}: --device applies to images, not to manifests`);
    return { path, kind, devices, manifest: await readManifestFile(path, opts.strings) };
  }
  const scanOpts: ScanImageFileOptions = { devices, hash: !!opts.hash };
  if (opts.hash) scanOpts.threads = digestThreadsFor(path, opts.threads, opts.env ?? process.env);
  if (opts.onProgress) scanOpts.onProgress = opts.onProgress;
  return { path, kind, devices, manifest: await scanImage(path, scanOpts) };
}

/**
 * Load an input of any kind: an image (scanned), a manifest, or an OCI archive, which gives one
 * manifest per image (model "flattened") or per distinct layer (model "layers"), all marked
 * predicted. `kind`: what detectInput (or inspectInput) said of `path` already, so that it is
 * worked out once; detected here when not given.
 */
export async function loadInputs(
  path: string,
  devices: string[],
  opts: LoadInputOptions & {
    kind?: InputKind;
    model?: Model;
    archive?: Omit<LoadArchiveOptions, 'hash'>;
  } = {},
): Promise<LoadedInput[]> {
  const kind = opts.kind ?? (await detectInput(path));
  if (kind !== 'archive') return [await loadInput(path, kind, devices, opts)];
  if (devices.length > 0) throw inputError(`${path}: --device applies to EROFS images, not to archives`);
  const { loadArchive, modelManifests } = await import('./archives.js');
  const a = await loadArchive(path, { hash: !!opts.hash, ...(opts.archive ?? {}) });
  return modelManifests([a], opts.model ?? 'flattened').map((manifest) => ({
    path,
    kind: 'archive',
    devices,
    manifest,
  }));
}

/** Text of a file, gunzipped when it starts with the gzip magic (host snapshots are written gzipped). */
export async function readMaybeGzipText(path: string): Promise<string> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw inputError(`${path}: cannot read: ${fsMessage(e)}`);
  }
  if (isGzip(buf)) {
    try {
      buf = gunzipSync(buf, { maxOutputLength: MAX_RESIDENCY_INPUT_BYTES });
    } catch (e) {
      throw inputError(
        `${path}: bad gzip data or larger than ${MAX_RESIDENCY_INPUT_BYTES} bytes: ${fsMessage(e)}`,
      );
    }
  }
  return buf.toString('utf8');
}

/** A `sharemap collect` snapshot, parsed; null when the text is not one. */
function snapshotOf(text: string, path: string): { snapshot: HostSnapshot; residency: ResidencyData } | null {
  if (!isHostSnapshotText(text)) return null; // the detector detectFormat and detectResidencyFormat use
  try {
    return parseHostSnapshot(text, basename(path));
  } catch (e) {
    if (e instanceof ResidencyError) throw inputError(oneLine(e.message));
    throw e;
  }
}

/** A residency input (`--residency`): any format of parseResidency, or a host snapshot; gzip read. */
export async function readResidencyFile(path: string): Promise<ResidencyData> {
  const text = await readMaybeGzipText(path);
  try {
    return snapshotOf(text, path)?.residency ?? parseResidency(text, { file: basename(path) });
  } catch (e) {
    if (e instanceof ResidencyError) throw inputError(oneLine(e.message));
    throw inputError(`${path}: ${oneLine((e as Error).message)}`);
  }
}

/**
 * The text of a `--mounts` file, read (and gunzipped) once: a host snapshot without its
 * residency (its mountinfo lines and what collect recorded of the backing files) is the mount
 * configuration, and its residency comes along with the snapshot's own text (`raw`, what
 * `upload` sends to /api/residency).
 */
export async function readMountInput(
  path: string,
): Promise<{ text: string; raw: string; snapshot: boolean; residency?: ResidencyData }> {
  const raw = await readMaybeGzipText(path);
  const snap = snapshotOf(raw, path);
  return snap
    ? { text: snapshotMountConfigText(snap.snapshot), raw, snapshot: true, residency: snap.residency }
    : { text: raw, raw, snapshot: false };
}

/** A mount configuration (`--mounts`), parsed; a host snapshot counts as one (readMountInput). */
export async function readMountConfig(
  path: string,
  domains: DomainRedactor,
): Promise<{ text: string; config: MountConfig; residency?: ResidencyData }> {
  const { text, snapshot, residency } = await readMountInput(path);
  try {
    const config = parseMountConfig(text, {
      file: basename(path),
      domains,
      ...(snapshot ? { format: 'host-snapshot' as const } : {}),
    });
    return residency ? { text, config, residency } : { text, config };
  } catch (e) {
    if (e instanceof MountConfigError) throw inputError(oneLine(e.message));
    throw inputError(`${path}: ${oneLine((e as Error).message)}`);
  }
}

/** A saved report: the bare report, `sharemap analyze --json` output, or a server reply wrapping it. */
export function reportFromJson(value: unknown, what: string): Report {
  let v = value as Record<string, unknown> | null;
  if (v && typeof v === 'object' && v.kind !== 'sharemap-report' && v.report && typeof v.report === 'object')
    v = v.report as Record<string, unknown>;
  if (!v || typeof v !== 'object' || v.kind !== 'sharemap-report')
    throw inputError(`${what}: not a sharemap report (no "kind": "sharemap-report")`);
  if (
    typeof v.version !== 'number' ||
    !Number.isInteger(v.version) ||
    v.version < 1 ||
    v.version > REPORT_VERSION
  )
    throw inputError(
      `${what}: unsupported report version ${JSON.stringify(v.version)} (this sharemap reads versions 1 to ${REPORT_VERSION})`,
    );
  for (const k of ['totals', 'images', 'instances', 'files', 'paths', 'findings'] as const)
    if (!v[k] || typeof v[k] !== 'object') throw inputError(`${what}: report lacks "${k}"`);
  return v as unknown as Report;
}

export async function readReportFile(path: string): Promise<Report> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw inputError(`${path}: cannot read: ${fsMessage(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw inputError(`${path}: not JSON: ${oneLine((e as Error).message)}`);
  }
  return reportFromJson(json, path);
}
