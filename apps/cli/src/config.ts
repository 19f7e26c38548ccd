/**
 * `.sharemap.yml`: project settings and CI thresholds (schema in docs/cli.md). Flags given on
 * the command line override the file key by key. Validation errors name the file, the key
 * path and the line and column: `.sharemap.yml:4:20: thresholds.minSavedPercent: expected ...`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  FINDING_CODES,
  isPageSize,
  PAGE_SIZE_RULE,
  trimTrailingSlashes,
  type FindingCode,
  type TrustPolicy,
} from '@sharemap/sharing';
import { inputError } from './errors.js';
import { parseCount, parseNumber, parseSize } from './units.js';

export const CONFIG_FILE_NAMES = ['.sharemap.yml', '.sharemap.yaml'] as const;

/** Finding codes `failOn` accepts: every code the engine reports, in its detector table's order. */
export { FINDING_CODES };

export interface Thresholds {
  /** Fail when totals.percentSaved is below this (0-100). */
  minSavedPercent?: number;
  /** Fail when totals.bytesSaved is below this. */
  minSavedBytes?: number;
  /**
   * Which totals minSavedPercent and minSavedBytes check: `static` (report.totals, default) or
   * `measured` (report.measured.totals: the measured working set, needs residency data).
   */
  measure?: 'static' | 'measured';
  /** Fail when the bytes of duplicate content that cannot share (unsharable-duplicate findings) exceed this. */
  maxUnsharableDuplicateBytes?: number;
  /** Fail when more regular files than this lack a fingerprint (summed over images). */
  maxUnfingerprintedFiles?: number;
  /** With a baseline: fail when bytes saved dropped by more than this. */
  maxBytesLost?: number;
  /** With a baseline: fail when more files than this stopped sharing. */
  maxFilesStoppedSharing?: number;
  /** Fail when any finding with one of these codes is present. */
  failOn?: FindingCode[];
}

export interface CliConfig {
  /** The file read, or null when none. */
  file: string | null;
  server?: string;
  pageSize?: number;
  workingSet?: number;
  /** Mount configurations (paths resolved against the config file's directory). */
  mounts: string[];
  /** Residency inputs ([INSTANCE=]FILE; FILE resolved against the config file's directory). */
  residency: string[];
  /** Image name -> publisher label (for the mixed-publishers finding). */
  publishers: Record<string, string>;
  /** Mount source -> image name, when sources do not match image file names. */
  mapping: Record<string, string>;
  thresholds: Thresholds;
  /** The reviewer's trust policy (docs/trust.md#policy); absent: none. */
  trust?: TrustPolicy;
}

export const EMPTY_CONFIG: CliConfig = {
  file: null,
  mounts: [],
  residency: [],
  publishers: {},
  mapping: {},
  thresholds: {},
};

type Kind =
  | 'size'
  | 'count'
  | 'percent'
  | 'fraction'
  | 'pageSize'
  | 'url'
  | 'codes'
  | 'paths'
  | 'stringMap'
  | 'measure';

export const THRESHOLD_KEYS: Record<keyof Thresholds, Kind> = {
  minSavedPercent: 'percent',
  minSavedBytes: 'size',
  measure: 'measure',
  maxUnsharableDuplicateBytes: 'size',
  maxUnfingerprintedFiles: 'count',
  maxBytesLost: 'size',
  maxFilesStoppedSharing: 'count',
  failOn: 'codes',
};

export const TOP_KEYS: Record<string, Kind | 'version' | 'thresholds' | 'trust'> = {
  version: 'version',
  server: 'url',
  pageSize: 'pageSize',
  workingSet: 'fraction',
  mounts: 'paths',
  residency: 'paths',
  publishers: 'stringMap',
  mapping: 'stringMap',
  thresholds: 'thresholds',
  trust: 'trust',
};

export const EXPECT: Record<Kind, string> = {
  size: 'a size in bytes (a number, or a string such as "10MiB")',
  count: 'a non-negative integer',
  percent: 'a number between 0 and 100',
  fraction: 'a number greater than 0 and at most 1 (or a percentage such as "50%")',
  pageSize: PAGE_SIZE_RULE,
  url: 'an http(s) URL',
  codes: `a list of finding codes (${FINDING_CODES.join(', ')})`,
  paths: 'a list of file paths',
  stringMap: 'a mapping of strings to strings',
  measure: '"static" or "measured"',
};

/** Validates one value; returns the parsed value or an error text. */
export function checkValue(
  kind: Kind,
  v: unknown,
): { ok: true; value: unknown } | { ok: false; error: string } {
  const bad = (extra = ''): { ok: false; error: string } => ({
    ok: false,
    error: `expected ${EXPECT[kind]}${extra}, got ${JSON.stringify(v)}`,
  });
  switch (kind) {
    case 'size': {
      const n = typeof v === 'number' || typeof v === 'string' ? parseSize(v) : null;
      return n === null ? bad() : { ok: true, value: n };
    }
    case 'count': {
      const n = typeof v === 'number' || typeof v === 'string' ? parseCount(v) : null;
      return n === null ? bad() : { ok: true, value: n };
    }
    case 'percent': {
      const n = typeof v === 'number' || typeof v === 'string' ? parseNumber(v, 0, 100) : null;
      return n === null ? bad() : { ok: true, value: n };
    }
    case 'fraction': {
      const n = typeof v === 'number' || typeof v === 'string' ? parseNumber(v, 0, 1, true) : null;
      return n === null || n === 0 ? bad() : { ok: true, value: n };
    }
    case 'pageSize': {
      const n = typeof v === 'number' || typeof v === 'string' ? parseSize(v) : null;
      return isPageSize(n) ? { ok: true, value: n } : bad();
    }
    case 'url': {
      if (typeof v !== 'string') return bad();
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:'
          ? { ok: true, value: trimTrailingSlashes(v) }
          : bad();
      } catch {
        return bad();
      }
    }
    case 'codes': {
      const arr =
        typeof v === 'string'
          ? v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : v;
      if (!Array.isArray(arr)) return bad();
      for (const c of arr) {
        if (c === 'none') continue;
        if (typeof c !== 'string' || !(FINDING_CODES as readonly string[]).includes(c))
          return {
            ok: false,
            error: `unknown finding code ${JSON.stringify(c)} (known: ${FINDING_CODES.join(', ')})`,
          };
      }
      return { ok: true, value: [...new Set(arr.filter((c) => c !== 'none'))] };
    }
    case 'measure':
      return v === 'static' || v === 'measured' ? { ok: true, value: v } : bad();
    case 'paths': {
      const arr = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(arr) || !arr.every((x) => typeof x === 'string' && x !== '')) return bad();
      return { ok: true, value: arr };
    }
    case 'stringMap': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad();
      for (const [k, x] of Object.entries(v))
        if (typeof x !== 'string') return bad(` (key ${JSON.stringify(k)})`);
      return { ok: true, value: { ...(v as Record<string, string>) } };
    }
  }
}

/**
 * The config in effect: `--config FILE` (must exist), else `.sharemap.yml` / `.sharemap.yaml`
 * in `cwd` when present, else none. `--no-config` skips the lookup.
 */
export async function loadConfig(
  cwd: string,
  explicit: string | undefined,
  disabled: boolean,
): Promise<CliConfig> {
  if (disabled) return { ...EMPTY_CONFIG };
  let path: string | undefined;
  if (explicit !== undefined) {
    path = resolve(cwd, explicit);
    if (!existsSync(path)) throw inputError(`config file ${explicit} not found`);
  } else {
    path = CONFIG_FILE_NAMES.map((n) => resolve(cwd, n)).find((p) => existsSync(p));
    if (path === undefined) return { ...EMPTY_CONFIG };
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw inputError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  const shown = explicit ?? path.slice(path.lastIndexOf('/') + 1);
  // The YAML parser is loaded only when there is a file to parse (it is ~70 modules).
  const { readConfigText } = await import('./config-file.js');
  return readConfigText(text, shown, path);
}

/**
 * `[INSTANCE=]FILE` -> instance and file. `INSTANCE=FILE` when the value holds `=` and is not
 * itself an existing file (a file name with `=` in it still reads as a file).
 */
export function splitResidencyArg(value: string, base: string): { instance?: string; file: string } {
  const i = value.indexOf('=');
  if (i <= 0 || existsSync(resolve(base, value))) return { file: value };
  return { instance: value.slice(0, i), file: value.slice(i + 1) };
}

/** A config file's residency entry with its FILE resolved against the config file's directory. */
export function resolveResidencyArg(base: string, value: string): string {
  const { instance, file } = splitResidencyArg(value, base);
  return instance === undefined ? resolve(base, file) : `${instance}=${resolve(base, file)}`;
}
