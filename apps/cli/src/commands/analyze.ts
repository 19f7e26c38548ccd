/**
 * `sharemap analyze IMAGE_OR_MANIFEST... [--mounts FILE]... [options]`: the sharing report,
 * computed locally (nothing leaves the machine), optionally gated and compared with a baseline.
 */
import { manifestColumns, StringTable, type Manifest, type ManifestColumns } from '@sharemap/erofs';
import { manifestFromTransfer } from '@sharemap/erofs/node';
import {
  flag,
  helpText,
  parseCommandArgs,
  positionalsWithDevices,
  str,
  type CommandSpec,
  type ParsedArgs,
} from '../args.js';
import { runAnalysis } from '../analysis.js';
import type { ServerClient } from '../client.js';
import { EXIT_OK } from '../errors.js';
import { inspectInput, loadInputs, type InputInspection } from '../inputs.js';
import { manifestStringsHint } from '../manifest-file.js';
import type { MIN_THREAD_BYTES } from '../manifest-threads.js';
import {
  isThreadCandidate,
  manifestThreadCount,
  manifestThreadsFromEnv,
  ManifestThreads,
  manifestWorkerScript,
} from '../manifest-threads.js';
import { MODEL_OPTIONS, parseModel, type Model } from '../model-options.js';
import type { Io } from '../io.js';
import { requestedThreads, threadsOption } from '../scan-threads.js';
import {
  ANALYSIS_OPTIONS,
  GATE_OPTIONS,
  OUTPUT_OPTIONS,
  outputFiles,
  outputFormat,
  resolveSettings,
} from '../options.js';
import { finish, loadBaseline } from './common.js';
import { COMMAND_SUMMARIES } from './summaries.js';

export const analyzeSpec: CommandSpec = {
  name: 'analyze',
  summary: COMMAND_SUMMARIES.analyze,
  usage:
    'sharemap analyze IMAGE_OR_MANIFEST... [--device BLOB]... [--mounts FILE]... [--residency [INSTANCE=]FILE]... [--page-size N] [--working-set F] [--json|--markdown] [--threat-model] [--baseline FILE|NAME|ID|URL [--server URL]] [thresholds]',
  details: [
    'OCI images (`docker save` archives, OCI layouts as directory or tar, rootfs tars; gzip or zstd layers) are predicted as mkfs.erofs would build them (docs/oci.md), one image per OCI image (--model flattened) or per distinct layer (--model layers); --compare-models shows both, with and without inode_share.',
    'Inputs are EROFS images (scanned here) or manifests written by `sharemap scan --json|--ndjson` (optionally gzip). Without --mounts, each image is mounted once, file-backed, with inode_share, all in one domain ("default"): the most a single domain can share.',
    'Thresholds come from .sharemap.yml and the flags below (flags win). Exit codes: 0 pass, 1 a threshold failed, 2 bad input or usage (including an unknown --baseline name), 3 server or network error (fetching a baseline from a server).',
  ],
  options: {
    device: {
      type: 'string',
      multiple: true,
      value: 'BLOB',
      description: 'Extra device of the image named before it (--blobdev blob, --tar=i tarball).',
      group: 'Inputs',
    },
    hash: {
      type: 'boolean',
      description: 'Hash file contents of images to verify fingerprints (finds fingerprint-mismatch).',
      group: 'Inputs',
    },
    threads: threadsOption('Inputs'),
    ...MODEL_OPTIONS,
    ...ANALYSIS_OPTIONS,
    ...OUTPUT_OPTIONS,
    baseline: {
      type: 'string',
      value: 'FILE|NAME|ID|URL',
      description:
        'Compare with a previous report: a report JSON file (e.g. from --json), a report link, a report id on --server, or a report name on --server (e.g. main, set by upload --save-as).',
      group: 'Baseline',
    },
    server: {
      type: 'string',
      value: 'URL',
      description: 'Server to fetch a --baseline report id or name from (default: server in .sharemap.yml).',
      group: 'Baseline',
    },
    token: {
      type: 'string',
      value: 'T',
      description: 'Bearer token for the server (default: $SHAREMAP_TOKEN).',
      group: 'Baseline',
    },
    ...GATE_OPTIONS,
  },
  positionals: { min: 1, name: 'IMAGE_OR_MANIFEST' },
  examples: [
    'sharemap analyze build/*.erofs',
    'sharemap analyze base.erofs app.erofs --mounts deploy/fstab --min-saved-percent 20 --fail-on fingerprint-mismatch',
    'sharemap analyze build/*.erofs --baseline main-report.json --markdown > comment.md',
    'sharemap analyze base.erofs app.erofs --hash --mounts deploy/fstab --publisher base.erofs=acme --threat-model',
    'sharemap analyze build/*.erofs --baseline main --server https://sharemap.example.com --max-bytes-lost 4MiB',
  ],
};

export async function analyzeCommand(argv: string[], io: Io): Promise<number> {
  const args = parseCommandArgs(analyzeSpec, argv);
  if (flag(args, 'help')) {
    io.stdout.write(helpText(analyzeSpec));
    return EXIT_OK;
  }
  const format = outputFormat(args);
  const settings = await resolveSettings(args, io);
  const token = str(args, 'token') ?? io.env.SHAREMAP_TOKEN;
  const hash = flag(args, 'hash');
  // The baseline first: a bad or unknown one fails before a long analysis. The server client
  // is loaded only for a baseline (one may come from a server).
  const ref = str(args, 'baseline');
  let baseline = null;
  if (ref !== undefined) {
    const { ServerClient } = await import('../client.js');
    const mk = (base: string, withToken = true): ServerClient =>
      new ServerClient(base, token && withToken ? { token } : {});
    baseline = await loadBaseline(ref, io, settings.server ? mk(settings.server) : null, mk);
  }
  const model = parseModel(str(args, 'model'));
  const platform = str(args, 'platform');
  if (flag(args, 'compare-models')) {
    const { compareModels, renderComparison } = await import('../models.js');
    const cmp = await compareModels(
      positionalsWithDevices(args).map((x) => x.path),
      {
        hash,
        ...(platform !== undefined ? { platform } : {}),
        ...(settings.pageSize !== undefined ? { pageSize: settings.pageSize } : {}),
      },
    );
    io.stdout.write(renderComparison(cmp, format));
    return EXIT_OK;
  }
  const manifests = await readManifests(
    args,
    { hash, threads: requestedThreads(args, 'analyze'), env: io.env },
    model,
    platform,
    { cores: manifestThreadsFromEnv(io.env) },
  );
  const { report, warnings, mountConfigs } = await runAnalysis({
    manifests,
    mounts: settings.mounts,
    residency: settings.residency,
    cwd: io.cwd,
    mapping: settings.mapping,
    publishers: settings.publishers,
    ...(settings.pageSize !== undefined ? { pageSize: settings.pageSize } : {}),
    ...(settings.workingSet !== undefined ? { workingSet: settings.workingSet } : {}),
  });
  // The records are not needed past the analysis (the report has its own columns): at a million
  // files they are hundreds of MB that writing the report need not carry.
  manifests.length = 0;
  for (const w of warnings) io.stderr.write(`sharemap: warning: ${w}\n`);
  return finish(io, report, settings, format, {
    baseline,
    ...(ref !== undefined ? { baselineRef: ref } : {}),
    ...outputFiles(args),
    threatModel: flag(args, 'threat-model'),
    ...(mountConfigs.length > 0 ? { mountConfigs } : {}),
  });
}

/**
 * The manifests of the positionals (images scanned, manifests read, archives predicted), each
 * once, in one StringTable (one copy of each distinct path and fingerprint) whose lookup
 * tables are released once reading ends (StringTable.releaseLookups).
 * Large manifest files are read on threads beside this one (manifest-threads.ts,
 * docs/cli.md#manifest-threads); the result is the same as reading them one after another.
 */
export async function readManifests(
  args: ParsedArgs,
  /** threads: --threads, or undefined for digestThreadsFor's default per image. */
  scan: { hash: boolean; threads?: number | undefined; env?: Record<string, string | undefined> },
  model: Model,
  platform: string | undefined,
  manifestThreads: { cores?: number; minBytes?: typeof MIN_THREAD_BYTES; script?: URL } = {},
): Promise<Manifest[]> {
  const manifests: Manifest[] = [];
  const strings = new StringTable();
  // Identical layers of several archives are read once and are one per-layer image.
  const archive = {
    layerCache: new Map(),
    layerManifests: new Map(),
    ...(platform !== undefined ? { platform } : {}),
  };
  const seen = new Set<unknown>();
  const inputs = positionalsWithDevices(args);
  const inspected = await inspectInputs(inputs);
  const files = inspected.map((x) => (x?.kind === 'manifest' && x.file ? x.file : null));
  // The table sized for every manifest file's strings before any is read: a later input's new
  // strings would otherwise regrow it past the first's reservation, re-placing every string so
  // far (~2.1M, 0.5-0.9 s of this thread, for two 1M-record manifests:
  // docs/benchmarks.md#analyze-reserve-2026-12-06). reserve() caps what the headers claim.
  let claimed = 0;
  for (const [i, file] of files.entries())
    if (file) claimed += await manifestStringsHint(inputs[i]!.path, file);
  strings.reserve(claimed);
  const threads = startManifestThreads(inputs, files, manifestThreads);
  /** The columns last read into `strings` (manifestFromTransfer takes its equal strings unhashed). */
  let previous: ManifestColumns | null = null;
  try {
    for (const [i, { path, devices }] of inputs.entries()) {
      const fromThread = threads?.take(i);
      const loaded: { kind: string; manifest: Manifest }[] = fromThread
        ? [
            {
              kind: 'manifest',
              manifest: manifestFromTransfer(await fromThread, strings, previous, { pathBytes: true }),
            },
          ]
        : await loadInputs(path, devices, { ...scan, strings, model, archive, kind: inspected[i]?.kind });
      for (const x of loaded) {
        // Only manifest files are read into `strings` (images and archives are not interned).
        if (x.kind === 'manifest') previous = manifestColumns(x.manifest) ?? null;
        if (!seen.has(x.manifest)) {
          seen.add(x.manifest);
          manifests.push(x.manifest);
        }
      }
    }
  } finally {
    await threads?.close();
  }
  // The columns that declare `strings` (internedIn) keep it alive through the analysis, which
  // needs its strings and ids but not its lookups (~100 MB at two million records).
  strings.releaseLookups();
  return manifests;
}

/**
 * What each input is (its kind, and a regular file's size and first bytes: a manifest file's
 * are what the strings reservation and the thread planning read), worked out once for them
 * and for loadInputs; only when there are several inputs (one manifest's own header sizes the
 * table). An input with --device is not inspected (an image, or an error loadInputs reports in
 * order); nor is one whose inspection fails: loadInputs tries it again and reports the error.
 */
async function inspectInputs(
  inputs: readonly { path: string; devices: string[] }[],
): Promise<(InputInspection | null)[]> {
  if (inputs.length < 2) return [];
  const inspected: (InputInspection | null)[] = [];
  for (const { path, devices } of inputs)
    inspected.push(devices.length > 0 ? null : await inspectInput(path, { head: true }).catch(() => null));
  return inspected;
}

/** The manifest threads for these inputs (`files`: the manifest files of inspectInputs), or null when every input is read here (see manifestThreadCount). */
function startManifestThreads(
  inputs: readonly { path: string; devices: string[] }[],
  files: readonly ({ size: number; head: Uint8Array } | null)[],
  opts: { cores?: number; minBytes?: typeof MIN_THREAD_BYTES; script?: URL },
): ManifestThreads | null {
  if (inputs.length < 2) return null;
  const script = opts.script ?? manifestWorkerScript();
  if (!script) return null;
  const candidates: number[] = [];
  for (const [i, file] of files.entries())
    if (file && isThreadCandidate(file, opts.minBytes)) candidates.push(i);
  const count = manifestThreadCount(candidates.length, opts.cores);
  if (count === 0) return null;
  return new ManifestThreads(
    inputs.map((x) => x.path),
    candidates,
    script,
    count,
  );
}
