/**
 * Parsing and validating a `.sharemap.yml` (config.ts finds the file and loads this module only
 * when there is one: the YAML parser is ~70 CommonJS modules, 60-80 ms of CPU at start-up, which
 * a command run without a config file does not pay).
 */
import { dirname, resolve } from 'node:path';
import { checkTrustPolicy, type TrustPolicy } from '@sharemap/sharing';
import { LineCounter, isMap, isSeq, parseDocument, type Document } from 'yaml';
import {
  checkValue,
  EXPECT,
  FINDING_CODES,
  resolveResidencyArg,
  THRESHOLD_KEYS,
  TOP_KEYS,
  type CliConfig,
  type Thresholds,
} from './config.js';
import { inputError } from './errors.js';

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

/** A config file's text read as the config in effect: `shown` names it in messages, `path` is where it is. */
export function readConfigText(text: string, shown: string, path: string): CliConfig {
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
