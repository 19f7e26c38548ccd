/**
 * `.sharemap.yml`: project settings and CI thresholds (schema in docs/cli.md). Flags given on
 * the command line override the file key by key. Validation errors name the file, the key
 * path and the line and column: `.sharemap.yml:4:20: thresholds.minSavedPercent: expected ...`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  checkTrustPolicy,
  FINDING_CODES,
  isPageSize,
  PAGE_SIZE_RULE,
  trimTrailingSlashes,
  type FindingCode,
  type TrustPolicy,
} from '@sharemap/sharing';
import { LineCounter, isMap, isSeq, parseDocument, type Document } from 'yaml';
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

const THRESHOLD_KEYS: Record<keyof Thresholds, Kind> = {
  minSavedPercent: 'percent',
  minSavedBytes: 'size',
  measure: 'measure',
  maxUnsharableDuplicateBytes: 'size',
  maxUnfingerprintedFiles: 'count',
  maxBytesLost: 'size',
  maxFilesStoppedSharing: 'count',
  failOn: 'codes',
};

const TOP_KEYS: Record<string, Kind | 'version' | 'thresholds' | 'trust'> = {
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

const EXPECT: Record<Kind, string> = {
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

function closest(key: string, known: string[]): string {
  const k = key.toLowerCase();
  const hit = known.find((x) => x.toLowerCase() === k || x.toLowerCase().startsWith(k.slice(0, 4)));
  return hit ? ` (did you mean "${hit}"?)` : ` (known keys: ${known.join(', ')})`;
}

/** Parse and validate config text. `file` is used in messages and to resolve `mounts`. */
export function parseConfig(text: string, file: string): CliConfig {
  const lc = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number | undefined): string => {
    if (offset === undefined) return file;
    const p = lc.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw inputError(`${where(e.pos[0])}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const fail = (path: (string | number)[], msg: string): never => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    let offset = node && typeof node === 'object' && 'range' in node ? node.range?.[0] : undefined;
    if (offset === undefined && path.length > 1) {
      const parent = doc.getIn(path.slice(0, -1), true) as { range?: [number, number, number] } | undefined;
      offset = parent?.range?.[0];
    }
    throw inputError(`${where(offset)}: ${path.join('.')}: ${msg}`);
  };
  const keyOffset = (path: string[], key: string): number | undefined => {
    const map = path.length ? doc.getIn(path, true) : doc.contents;
    if (!isMap(map)) return undefined;
    for (const pair of map.items) {
      const k = pair.key as { value?: unknown; range?: [number, number, number] };
      if (k && k.value === key) return k.range?.[0];
    }
    return undefined;
  };

  const root: unknown = doc.toJS();
  const cfg: CliConfig = { file, mounts: [], residency: [], publishers: {}, mapping: {}, thresholds: {} };
  if (root === null || root === undefined) return cfg;
  if (!isMap(doc.contents)) throw inputError(`${where(0)}: expected a mapping of settings at the top level`);
  const obj = root as Record<string, unknown>;
  const base = dirname(resolve(file));
  for (const [key, v] of Object.entries(obj)) {
    const kind = TOP_KEYS[key];
    if (kind === undefined)
      throw inputError(
        `${where(keyOffset([], key))}: unknown key "${key}"${closest(key, Object.keys(TOP_KEYS))}`,
      );
    if (kind === 'version') {
      if (v !== 1) fail([key], `expected 1 (the only schema version), got ${JSON.stringify(v)}`);
      continue;
    }
    if (kind === 'thresholds') {
      if (v === null) continue;
      if (!isMap(doc.getIn([key], true))) fail([key], 'expected a mapping of thresholds');
      for (const [tk, tv] of Object.entries(v as Record<string, unknown>)) {
        const tkind = THRESHOLD_KEYS[tk as keyof Thresholds];
        if (tkind === undefined)
          throw inputError(
            `${where(keyOffset([key], tk))}: unknown key "thresholds.${tk}"${closest(tk, Object.keys(THRESHOLD_KEYS))}`,
          );
        if (tkind === 'codes' && !isSeq(doc.getIn([key, tk], true)) && typeof tv !== 'string')
          fail([key, tk], `expected ${EXPECT.codes}`);
        const r = checkValue(tkind, tv);
        if (!r.ok) {
          if (tkind === 'codes' && Array.isArray(tv)) {
            const i = tv.findIndex((c) => !(FINDING_CODES as readonly unknown[]).includes(c) && c !== 'none');
            fail([key, tk, i], r.error);
          }
          fail([key, tk], r.error);
        }
        (cfg.thresholds as Record<string, unknown>)[tk] = (r as { value: unknown }).value;
      }
      continue;
    }
    if (kind === 'trust') {
      if (v === null) continue;
      const t = checkTrustPolicy(v);
      if (!t.ok) {
        // An unknown rule points at its key, a bad value at the value.
        const at = t.key !== null ? keyOffset([key], t.key) : undefined;
        if (at !== undefined && t.error.startsWith('unknown'))
          throw inputError(`${where(at)}: trust.${t.key}: ${t.error}`);
        fail(t.key !== null ? [key, t.key] : [key], t.error);
      }
      cfg.trust = (t as { policy: TrustPolicy }).policy;
      continue;
    }
    const r = checkValue(kind, v);
    if (!r.ok) fail([key], r.error);
    const value = (r as { value: unknown }).value;
    if (key === 'server') cfg.server = value as string;
    else if (key === 'pageSize') cfg.pageSize = value as number;
    else if (key === 'workingSet') cfg.workingSet = value as number;
    else if (key === 'mounts') cfg.mounts = (value as string[]).map((p) => resolve(base, p));
    else if (key === 'residency')
      cfg.residency = (value as string[]).map((p) => resolveResidencyArg(base, p));
    else if (key === 'publishers') cfg.publishers = value as Record<string, string>;
    else if (key === 'mapping') cfg.mapping = value as Record<string, string>;
  }
  return cfg;
}

/**
 * The config in effect: `--config FILE` (must exist), else `.sharemap.yml` / `.sharemap.yaml`
 * in `cwd` when present, else none. `--no-config` skips the lookup.
 */
export function loadConfig(cwd: string, explicit: string | undefined, disabled: boolean): CliConfig {
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
  const cfg = parseConfig(text, shown);
  // Resolve `mounts` against the config file's directory, not the shown name.
  const base = dirname(path);
  const raw = parseDocument(text).toJS() as { mounts?: unknown } | null;
  if (raw && raw.mounts !== undefined)
    cfg.mounts = (typeof raw.mounts === 'string' ? [raw.mounts] : (raw.mounts as string[])).map((p) =>
      resolve(base, p),
    );
  const rawResidency = (raw as { residency?: unknown } | null)?.residency;
  if (rawResidency !== undefined)
    cfg.residency = (typeof rawResidency === 'string' ? [rawResidency] : (rawResidency as string[])).map(
      (p) => resolveResidencyArg(base, p),
    );
  cfg.file = path;
  return cfg;
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
function resolveResidencyArg(base: string, value: string): string {
  const { instance, file } = splitResidencyArg(value, base);
  return instance === undefined ? resolve(base, file) : `${instance}=${resolve(base, file)}`;
}
