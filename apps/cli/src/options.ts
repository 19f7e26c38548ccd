/** Option tables shared by `analyze` and `upload`, and their merge with .sharemap.yml. */
import type { OptionSpec, ParsedArgs } from './args.js';
import { flag, list, str } from './args.js';
import { checkValue, FINDING_CODES, loadConfig, type CliConfig, type Thresholds } from './config.js';
import { inputError } from './errors.js';
import type { Io } from './io.js';
import type { OutputFormat } from './output/render.js';
import { MAX_PAGE_SIZE, MIN_PAGE_SIZE, RESIDENCY_FORMAT_NAMES } from '@sharemap/sharing';
import type { TrustPolicy } from '@sharemap/sharing';

export const ANALYSIS_OPTIONS: Record<string, OptionSpec> = {
  mounts: {
    type: 'string',
    multiple: true,
    value: 'FILE',
    description:
      'Mount configuration: fstab, mountinfo, /proc/mounts, systemd .mount unit, shell mount commands, losetup --json or a JSON plan (format detected). Without it, each image is mounted once with inode_share, all in one domain.',
    group: 'Analysis',
  },
  map: {
    type: 'string',
    multiple: true,
    value: 'SOURCE=IMAGE',
    description: 'Map a mount source (path or device) to an image name.',
    group: 'Analysis',
  },
  publisher: {
    type: 'string',
    multiple: true,
    value: 'IMAGE=LABEL',
    description: 'Publisher of an image (for the mixed-publishers finding).',
    group: 'Analysis',
  },
  'page-size': {
    type: 'string',
    value: 'N',
    description: `Page size in bytes (power of two, ${MIN_PAGE_SIZE}-${MAX_PAGE_SIZE}); default 4096.`,
    group: 'Analysis',
  },
  'working-set': {
    type: 'string',
    value: 'F',
    description: 'Fraction of each file assumed resident, 0 < F <= 1 or a percentage ("50%"); default 1.',
    group: 'Analysis',
  },
  residency: {
    type: 'string',
    multiple: true,
    value: '[INSTANCE=]FILE',
    description: `Page-cache residency for the measured working set: ${RESIDENCY_FORMAT_NAMES} (format detected; gzip read). FILE alone maps absolute paths to instances by mount point; INSTANCE=FILE (instance id, label or mount point) gives every path to that instance, relative to its mount point or image root. See docs/working-set.md.`,
    group: 'Analysis',
  },
};

export const GATE_OPTIONS: Record<string, OptionSpec> = {
  config: {
    type: 'string',
    value: 'FILE',
    description: 'Settings and thresholds file; default .sharemap.yml in the current directory when present.',
    group: 'Gate (exit 1 when a check fails)',
  },
  'no-config': {
    type: 'boolean',
    description: 'Do not read .sharemap.yml.',
    group: 'Gate (exit 1 when a check fails)',
  },
  'min-saved-percent': {
    type: 'string',
    value: 'P',
    description: 'Fail when less than P % of page cache is saved.',
    group: 'Gate (exit 1 when a check fails)',
  },
  measure: {
    type: 'string',
    value: 'static|measured',
    description:
      'What --min-saved-percent and --min-saved-bytes check: the static bound (default) or the measured working set (needs --residency).',
    group: 'Gate (exit 1 when a check fails)',
  },
  'min-saved-bytes': {
    type: 'string',
    value: 'SIZE',
    description: 'Fail when less than SIZE is saved (e.g. 64MiB).',
    group: 'Gate (exit 1 when a check fails)',
  },
  'max-unsharable-duplicate-bytes': {
    type: 'string',
    value: 'SIZE',
    description:
      'Fail when more than SIZE of duplicate content cannot share (other domain, aops class, missing fingerprints).',
    group: 'Gate (exit 1 when a check fails)',
  },
  'max-unfingerprinted-files': {
    type: 'string',
    value: 'N',
    description: 'Fail when more than N regular files lack a fingerprint.',
    group: 'Gate (exit 1 when a check fails)',
  },
  'max-bytes-lost': {
    type: 'string',
    value: 'SIZE',
    description: 'With --baseline: fail when bytes saved dropped by more than SIZE.',
    group: 'Gate (exit 1 when a check fails)',
  },
  'max-files-stopped-sharing': {
    type: 'string',
    value: 'N',
    description: 'With --baseline: fail when more than N files stopped sharing.',
    group: 'Gate (exit 1 when a check fails)',
  },
  'fail-on': {
    type: 'string',
    multiple: true,
    value: 'CODE[,CODE]',
    description: `Fail when a finding with this code is present (${FINDING_CODES.join(', ')}); "none" clears the list from the config file.`,
    group: 'Gate (exit 1 when a check fails)',
  },
};

export const OUTPUT_OPTIONS: Record<string, OptionSpec> = {
  json: {
    type: 'boolean',
    description: 'Print the report as JSON, with the fields gate, delta (and url, id for upload).',
    group: 'Output',
  },
  markdown: {
    type: 'boolean',
    description: 'Print a pull-request comment in Markdown: headline, delta, top regressions, gate, link.',
    group: 'Output',
  },
  'threat-model': {
    type: 'boolean',
    description:
      'Print the threat model (who can affect whose pages, what fingerprints are bound to, lifetime, trust policy) instead of the summary; with --markdown, add it as a section (docs/trust.md).',
    group: 'Output',
  },
  'json-out': {
    type: 'string',
    value: 'FILE',
    description: 'Also write the JSON output to FILE, whatever is printed (keep it as the next --baseline).',
    group: 'Output',
  },
  junit: {
    type: 'string',
    value: 'FILE',
    description:
      'Also write the gate as JUnit XML to FILE: a test case per threshold and per failOn finding class (for CI test reports).',
    group: 'Output',
  },
  html: {
    type: 'string',
    value: 'FILE',
    description:
      'Also write the report as one self-contained HTML file (the report views; opens from file:// with no network).',
    group: 'Output',
  },
};

export interface OutputFiles {
  jsonOut?: string;
  junitOut?: string;
  htmlOut?: string;
}

/** The files written besides stdout (`--json-out`, `--junit`, ...), as given. */
export function outputFiles(args: ParsedArgs): OutputFiles {
  const out: OutputFiles = {};
  const json = str(args, 'json-out');
  if (json !== undefined) out.jsonOut = json;
  const junit = str(args, 'junit');
  if (junit !== undefined) out.junitOut = junit;
  const html = str(args, 'html');
  if (html !== undefined) out.htmlOut = html;
  return out;
}

export function outputFormat(args: ParsedArgs): OutputFormat {
  if (flag(args, 'json') && flag(args, 'markdown'))
    throw inputError('--json and --markdown cannot be combined');
  return flag(args, 'json') ? 'json' : flag(args, 'markdown') ? 'markdown' : 'text';
}

function flagValue<T>(args: ParsedArgs, name: string, kind: Parameters<typeof checkValue>[0]): T | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  const r = checkValue(kind, v);
  if (!r.ok) throw inputError(`--${name}: ${r.error}`);
  return r.value as T;
}

function pairs(args: ParsedArgs, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of list(args, name)) {
    const i = p.lastIndexOf('=');
    if (i <= 0 || i === p.length - 1)
      throw inputError(`--${name}: expected KEY=VALUE, got ${JSON.stringify(p)}`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

export interface Settings {
  config: CliConfig;
  server?: string;
  pageSize?: number;
  workingSet?: number;
  mounts: string[];
  /** --residency values ([INSTANCE=]FILE), else the config file's `residency`. */
  residency: string[];
  mapping: Record<string, string>;
  publishers: Record<string, string>;
  thresholds: Thresholds;
  /** Trust policy from .sharemap.yml `trust:` (docs/trust.md#policy). */
  trust?: TrustPolicy;
}

/** .sharemap.yml, then flags on top (key by key). */
export async function resolveSettings(args: ParsedArgs, io: Io): Promise<Settings> {
  const config = await loadConfig(io.cwd, str(args, 'config'), flag(args, 'no-config'));
  const t: Thresholds = { ...config.thresholds };
  const set = <K extends keyof Thresholds>(k: K, v: Thresholds[K] | undefined): void => {
    if (v !== undefined) t[k] = v;
  };
  set('minSavedPercent', flagValue<number>(args, 'min-saved-percent', 'percent'));
  set('minSavedBytes', flagValue<number>(args, 'min-saved-bytes', 'size'));
  set('measure', flagValue<Thresholds['measure']>(args, 'measure', 'measure'));
  set('maxUnsharableDuplicateBytes', flagValue<number>(args, 'max-unsharable-duplicate-bytes', 'size'));
  set('maxUnfingerprintedFiles', flagValue<number>(args, 'max-unfingerprinted-files', 'count'));
  set('maxBytesLost', flagValue<number>(args, 'max-bytes-lost', 'size'));
  set('maxFilesStoppedSharing', flagValue<number>(args, 'max-files-stopped-sharing', 'count'));
  const failOn = list(args, 'fail-on');
  if (failOn.length > 0) {
    const r = checkValue('codes', failOn.join(','));
    if (!r.ok) throw inputError(`--fail-on: ${r.error}`);
    t.failOn = r.value as Thresholds['failOn'];
  }
  const s: Settings = {
    config,
    mounts: list(args, 'mounts').length > 0 ? list(args, 'mounts') : config.mounts,
    residency: list(args, 'residency').length > 0 ? list(args, 'residency') : config.residency,
    mapping: { ...config.mapping, ...pairs(args, 'map') },
    publishers: { ...config.publishers, ...pairs(args, 'publisher') },
    thresholds: t,
  };
  if (config.trust !== undefined) s.trust = config.trust;
  const pageSize = flagValue<number>(args, 'page-size', 'pageSize') ?? config.pageSize;
  if (pageSize !== undefined) s.pageSize = pageSize;
  const ws = flagValue<number>(args, 'working-set', 'fraction') ?? config.workingSet;
  if (ws !== undefined) s.workingSet = ws;
  const server = flagValue<string>(args, 'server', 'url') ?? config.server;
  if (server !== undefined) s.server = server;
  return s;
}
