/**
 * `sharemap scan IMAGE [--device BLOB]... [--hash] [--json|--ndjson]`: print an image's manifest.
 * `sharemap scan ARCHIVE [--layers] [--platform P]`: the predicted manifest of an OCI image
 * (docker save, OCI layout, rootfs tar) as mkfs.erofs would build it (docs/oci.md).
 */
import {
  encodeRecord,
  manifestToJson,
  manifestToNdjson,
  recordBound,
  type FileRecord,
  type Manifest,
  type ManifestHeader,
  type RecordFields,
  type RecordBytesSink,
} from '@sharemap/erofs';
import { formatBytes, formatFingerprint, formatInteger } from '@sharemap/sharing/format';
import { flag, list, parseCommandArgs, helpText, str, type CommandSpec, type ParsedArgs } from '../args.js';
import { isArchive } from '../archive-sniff.js';
import { EXIT_OK, inputError } from '../errors.js';
import { scanImage, scanImageSplitTo, scanImageTo } from '../images.js';
import type { Io, Out } from '../io.js';
import { splitAllowed, type SplitSink } from '../scan-split.js';
import { releaseStartedWorker } from '../scan-split-start.js';
import { digestThreadsFor, requestedThreads, threadsOption } from '../scan-threads.js';
import { put, writeLines } from '../write.js';
import { outputForm, writeManifestOutput } from './scan-output.js';
import { COMMAND_SUMMARIES } from './summaries.js';

export { MAX_SCAN_THREADS } from '../scan-threads.js';

export const scanSpec: CommandSpec = {
  name: 'scan',
  summary: COMMAND_SUMMARIES.scan,
  usage:
    'sharemap scan IMAGE|ARCHIVE [--device BLOB]... [--layers] [--platform OS/ARCH[/VARIANT]] [--hash] [--json|--ndjson|--format text|json|ndjson|parquet] [--output FILE]',
  details: [
    'The manifest format is documented in docs/manifest.md; --ndjson is the compact streaming form the server stores and `sharemap analyze` and `sharemap upload --scan-locally` read. --format parquet writes the columnar form (Apache Parquet, for DuckDB, pandas and `sharemap analyze`; needs --output). A corrupt or unsupported image exits with code 2 and one line on stderr naming the problem and its byte offset.',
  ],
  options: {
    device: {
      type: 'string',
      multiple: true,
      value: 'BLOB',
      description: 'Extra device in device-table order (--blobdev blob, or the tarball of a --tar=i image).',
    },
    hash: {
      type: 'boolean',
      description:
        "Add the sha256 of each regular file's full decompressed content (slower; verifies fingerprints).",
    },
    threads: threadsOption(),
    json: { type: 'boolean', description: 'Print the manifest as one JSON document.' },
    ndjson: {
      type: 'boolean',
      description: 'Print the manifest as NDJSON: header line, then one record per line.',
    },
    format: {
      type: 'string',
      value: 'text|json|ndjson|parquet',
      description:
        'Output form (default text); json and ndjson are --json and --ndjson; parquet is the columnar manifest (binary: needs --output).',
    },
    output: {
      type: 'string',
      short: 'o',
      value: 'FILE',
      description: 'Write the output to FILE instead of stdout (written whole, then renamed into place).',
    },
    quiet: { type: 'boolean', short: 'q', description: 'No progress on stderr.' },
    layers: {
      type: 'boolean',
      description:
        'ARCHIVE: one predicted manifest per layer (the per-layer model, mkfs.erofs --aufs), instead of the flattened image.',
      group: 'OCI images',
    },
    platform: {
      type: 'string',
      value: 'OS/ARCH[/VARIANT]',
      description: 'ARCHIVE: the platform picked from a multi-platform OCI index (default linux/amd64).',
      group: 'OCI images',
    },
  },
  positionals: { min: 1, max: 1, name: 'IMAGE' },
  examples: [
    'sharemap scan app.erofs',
    'sharemap scan --hash --ndjson app.erofs | gzip > app.manifest.ndjson.gz',
    'sharemap scan chunked.img --device chunked.blob --json',
    "sharemap scan --hash app.erofs --format parquet -o app.manifest.parquet   # duckdb: SELECT * FROM 'app.manifest.parquet'",
    'sharemap scan app.docker.tar --hash --ndjson   # predicted: what mkfs.erofs --tar=f would build',
    'sharemap scan oci-dir/ --platform linux/arm64/v8 --layers --json',
  ],
};

function typeChar(t: FileRecord['type']): string {
  return { file: '-', dir: 'd', symlink: 'l', chr: 'c', blk: 'b', fifo: 'p', sock: 's' }[t];
}

/** "sha256:" + raw digest (mkfs --xattr-inode-digest) shown as text, anything else as hex. */
export function fingerprintText(hex: string): string {
  const text = formatFingerprint(hex);
  // A sha256 fingerprint is shown whole; other values are cut to fit the listing.
  return text.startsWith('sha256:') || text.length <= 40 ? text : `${text.slice(0, 40)}…`;
}

export function summaryLines(m: Manifest): string[] {
  const sb = m.superblock;
  const regular = m.files.filter((f) => f.type === 'file');
  const fp = regular.filter((f) => f.fingerprint !== null).length;
  if (m.predicted) {
    return [
      `${m.image.name}: PREDICTED EROFS image (${m.predicted.tool} ${m.predicted.options.join(' ')}), from ${m.predicted.source}`,
      `  ${formatInteger(sb.inodes)} inodes, ${sb.block_size}-byte blocks, inode_share: possible (fingerprint xattr ${sb.fingerprint_xattr_name})`,
      `  files: ${formatInteger(m.files.length)} paths, ${formatInteger(regular.length)} regular files, ${formatInteger(fp)} fingerprinted${m.hashed ? ', content hashed' : ''}`,
    ];
  }
  const out = [
    `${m.image.name}: EROFS image, ${formatInteger(m.image.size)} bytes, ${sb.block_size}-byte blocks, ${formatInteger(sb.blocks)} blocks, ${formatInteger(sb.inodes)} inodes`,
    `  uuid ${sb.uuid}, root nid ${sb.root_nid}, built ${new Date(sb.build_time * 1000).toISOString()}`,
    `  features: compat [${sb.feature_compat.join(' ')}] incompat [${sb.feature_incompat.join(' ')}]`,
    `  required kernel: ${sb.required_kernel ?? 'any'}`,
    `  inode_share: ${sb.ishare ? `possible (fingerprint xattr ${sb.fingerprint_xattr_name})` : 'not possible (no ishare_xattrs compat bit)'}`,
  ];
  if (sb.devices.length > 0)
    out.push(
      `  devices: ${sb.devices.map((d, i) => `#${i + 1} ${d.tag || '(no tag)'} ${d.blocks} blocks`).join(', ')}`,
    );
  out.push(
    `  files: ${formatInteger(m.files.length)} paths, ${formatInteger(regular.length)} regular files, ${formatInteger(fp)} fingerprinted${m.hashed ? ', content hashed' : ''}`,
  );
  return out;
}

function* textLines(m: Manifest): Generator<string> {
  for (const l of summaryLines(m)) yield l + '\n';
  yield '\n';
  for (const f of m.files) {
    let line = `${typeChar(f.type)}${f.mode} ${String(f.uid).padStart(5)}:${String(f.gid).padEnd(5)} ${String(f.size).padStart(10)} ${f.layout.padEnd(18)} ${f.path}`;
    if (f.target !== undefined) line += ` -> ${f.target}`;
    if (f.rdev) line += ` [${f.rdev[0]},${f.rdev[1]}]`;
    if (f.nlink > 1 && f.type !== 'dir') line += ` (nlink ${f.nlink})`;
    if (f.fingerprint) line += `  fp ${fingerprintText(f.fingerprint)}`;
    if (f.sha256) line += `  sha256 ${f.sha256}`;
    yield line + '\n';
  }
}

export async function scanCommand(argv: string[], io: Io): Promise<number> {
  const args = parseCommandArgs(scanSpec, argv);
  if (flag(args, 'help')) {
    io.stdout.write(helpText(scanSpec));
    return EXIT_OK;
  }
  const format = outputForm(args);
  const path = args.positionals[0]!;
  const hash = flag(args, 'hash');
  const requested = requestedThreads(args, 'scan');
  if (await isArchive(path)) return scanArchive(path, args, io);
  // Digest threads hash (none without --hash); for an image too small to gain from them, none
  // unless --threads asks (digestThreadsFor).
  const threads = hash ? digestThreadsFor(path, requested, io.env) : 0;
  if (flag(args, 'layers') || str(args, 'platform') !== undefined)
    throw inputError(
      `sharemap scan: --layers and --platform apply to OCI archives and tars; ${path} is not one`,
    );
  // Hashing reads every byte: show a live counter on a terminal (never in logs or pipes).
  const live = hash && !flag(args, 'quiet') && !!io.stderr.isTTY;
  let last = 0;
  const opts = {
    devices: list(args, 'device'),
    hash,
    threads,
    onProgress: (p: { files: number; bytesHashed: number }) => {
      const now = Date.now();
      if (!live || now - last < 100) return;
      last = now;
      io.stderr.write(
        `\r\x1b[2Khashing ${path}: ${formatInteger(p.files)} files, ${formatBytes(p.bytesHashed)}`,
      );
    },
  };
  if ((format === 'ndjson' || format === 'json') && str(args, 'output') === undefined) {
    // Streamed: each record is written as the walk reaches it, so memory stays bounded by one
    // directory per level whatever the image's size (docs/manifest.md, "Scanning at scale").
    // Into --output FILE (written whole, renamed into place) and as Parquet, the manifest is built first.
    const newSink = (): NdjsonSink =>
      format === 'ndjson' ? new NdjsonSink(io.stdout) : new JsonSink(io.stdout);
    // A large image's walk is shared with a second thread (docs/cli.md#metadata-scan-on-two-threads);
    // with --hash, on an image of small files, where that thread would be the one digest
    // thread, each thread then hashing the files of its part (not with a live counter, which
    // would count one part). A sink it did not use has written nothing.
    let sink = newSink();
    const split = { devices: opts.devices, form: format, ...(hash ? { hash: { threads } } : {}) };
    const shared =
      !live && splitAllowed(io.env) && (await scanImageSplitTo(path, split, () => sink)) !== undefined;
    if (!shared) {
      // A worker started ahead for this scan (main.ts) that the live counter kept unused.
      if (live) await releaseStartedWorker();
      sink = newSink();
      await scanImageTo(path, opts, sink);
    }
    if (live && last > 0) io.stderr.write('\r\x1b[2K');
    await sink.end();
    return EXIT_OK;
  }
  // The text form starts with totals (regular files, fingerprinted): it needs every record.
  const m = await scanImage(path, opts);
  if (live && last > 0) io.stderr.write('\r\x1b[2K');
  await writeManifestOutput(m, format, str(args, 'output'), io, textLines);
  return EXIT_OK;
}

/** An archive: the flattened image's predicted manifest, or one per layer (--layers). */
async function scanArchive(path: string, args: ParsedArgs, io: Io): Promise<number> {
  if (list(args, 'device').length)
    throw inputError('sharemap scan: --device applies to EROFS images, not to archives');
  const platform = str(args, 'platform');
  // The OCI reader loads only for an archive (archive-sniff.ts).
  const { loadArchive } = await import('../archives.js');
  const a = await loadArchive(path, {
    hash: flag(args, 'hash'),
    ...(platform !== undefined ? { platform } : {}),
  });
  if (a.images.length !== 1)
    throw inputError(
      `${path}: holds ${a.images.length} images; scan takes one (sharemap analyze takes them all)`,
    );
  const img = a.images[0]!;
  const manifests = flag(args, 'layers') ? img.layers.map((l) => l.manifest) : [img.flattened];
  const format = outputForm(args);
  if (format === 'parquet' || str(args, 'output') !== undefined) {
    if (manifests.length !== 1)
      throw inputError('sharemap scan: --format parquet and --output take one manifest, not --layers');
    await writeManifestOutput(manifests[0]!, format, str(args, 'output'), io, textLines);
  } else if (format === 'ndjson') {
    for (const m of manifests) await writeLines(io.stdout, manifestToNdjson(m));
  } else if (format === 'json') {
    const body = flag(args, 'layers')
      ? `[${manifests.map((m) => manifestToJson(m)).join(',')}]`
      : manifestToJson(manifests[0]!);
    await writeLines(io.stdout, [body + '\n']);
  } else {
    for (const m of manifests) await writeLines(io.stdout, textLines(m));
  }
  return EXIT_OK;
}

/**
 * Records are encoded into one buffer of this many bytes and written when it fills: strings
 * concatenated per record and encoded per write cost more than the scan itself (profiled on a
 * 1M-inode image: the UTF-8 encoding of the concatenated strings took 17 % of the time).
 */
const SINK_BYTES = 1024 * 1024;

/**
 * The NDJSON form (manifestToNdjson's bytes) written path by path: each record's JSON is
 * encoded from the scan's fields straight into the buffer (encodeRecord), with no record
 * object or string in between (docs/benchmarks.md#scale-scan-and-scale-verify-a-million-inodes).
 * It takes records before their header (HeaderLaterSink): full buffers are then held, not
 * written, until the scan gives the header, so the scan need not count the paths first
 * (docs/manifest.md#scanning-at-scale).
 */
export class NdjsonSink implements SplitSink, RecordBytesSink {
  protected buf = Buffer.allocUnsafe(SINK_BYTES);
  protected used = 0;
  /** Full buffers of records given before the header (holdUntilHeader()), in order; else null. */
  private held: Uint8Array[] | null = null;
  heldBytes = 0;
  constructor(private readonly out: Out) {}
  holdUntilHeader(): void {
    this.held ??= [];
  }
  protected headerText(h: ManifestHeader): string {
    return JSON.stringify(h) + '\n';
  }
  header(h: ManifestHeader): Promise<void> | undefined {
    const held = this.held;
    if (!held) return this.put(this.headerText(h));
    // The header, then the held buffers, then the records of the current one, in a new buffer.
    this.held = null;
    this.heldBytes = 0;
    const rest = this.buf.subarray(0, this.used);
    this.buf = Buffer.allocUnsafe(SINK_BYTES);
    this.used = 0;
    return this.writeAll([Buffer.from(this.headerText(h)), ...held, rest]);
  }
  private async writeAll(pieces: Uint8Array[]): Promise<void> {
    for (const p of pieces) if (p.length) await put(this.out, p);
  }
  file(f: RecordFields): Promise<void> | undefined {
    const p = this.room(recordBound(f) + 1);
    this.used = encodeRecord(f, this.buf, this.used);
    this.buf[this.used++] = 0x0a;
    return p;
  }
  /** RecordBytesSink: the scan encodes records whose digests are outstanding itself. */
  recordBound(f: RecordFields): number {
    return recordBound(f) + 1;
  }
  recordBytes(f: RecordFields, out: Uint8Array, pos: number): number {
    pos = encodeRecord(f, out, pos);
    out[pos++] = 0x0a;
    return pos;
  }
  copyBytes(b: Uint8Array): Promise<void> | undefined {
    const p = this.room(b.length);
    this.buf.set(b, this.used);
    this.used += b.length;
    return p;
  }
  /** Records encoded elsewhere in this form (the scan's second thread), after those given so far. */
  bytes(b: Uint8Array): Promise<void> | undefined {
    const p = this.used ? this.flush() : undefined;
    if (this.held) {
      this.held.push(b);
      this.heldBytes += b.length;
      return p;
    }
    return p ? p.then(() => put(this.out, b)) : put(this.out, b);
  }
  /**
   * Make room for `n` more bytes: when they do not fit, hand the buffer to the stream (or hold
   * it, before the header) and go on in a new one (at least `n` bytes); the promise waits for
   * the stream to drain.
   */
  protected room(n: number): Promise<void> | undefined {
    if (this.used + n <= this.buf.length) return undefined;
    const p = this.used ? this.flush() : undefined;
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    return p;
  }
  /** Append `s` (UTF-16 units encode to at most 3 bytes each). */
  protected put(s: string): Promise<void> | undefined {
    const p = this.room(3 * s.length);
    this.used += this.buf.write(s, this.used);
    return p;
  }
  private flush(): Promise<void> | undefined {
    const full = this.buf.subarray(0, this.used);
    // The stream may hold the written buffer: a new one for what follows.
    this.buf = Buffer.allocUnsafe(SINK_BYTES);
    this.used = 0;
    if (this.held) {
      this.held.push(full);
      this.heldBytes += full.length;
      return undefined;
    }
    return put(this.out, full);
  }
  async end(): Promise<void> {
    if (this.used) await this.flush();
  }
}

/** The JSON form (manifestToJson's bytes, `{...header,"files":[...]}`) written path by path. */
export class JsonSink extends NdjsonSink {
  private first = true;
  protected override headerText(h: ManifestHeader): string {
    return JSON.stringify(h).slice(0, -1) + ',"files":[';
  }
  override file(f: RecordFields): Promise<void> | undefined {
    const p = this.room(recordBound(f) + 1);
    if (!this.first) this.buf[this.used++] = 0x2c;
    this.first = false;
    this.used = encodeRecord(f, this.buf, this.used);
    return p;
  }
  override recordBytes(f: RecordFields, out: Uint8Array, pos: number): number {
    if (!this.first) out[pos++] = 0x2c;
    this.first = false;
    return encodeRecord(f, out, pos);
  }
  override async end(): Promise<void> {
    await this.put(']}\n');
    await super.end();
  }
}
