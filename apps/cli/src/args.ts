/**
 * Argument parsing on node:util parseArgs (strict), with help text generated from the same
 * option table, so `--help` and the parser can never disagree.
 */
import { parseArgs } from 'node:util';
import { inputError } from './errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in help: `--page-size N`. */
  value?: string;
  description: string;
  /** Help section; default "Options". */
  group?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  /** Paragraphs after the usage line. */
  details?: string[];
  options: Record<string, OptionSpec>;
  positionals: { min: number; max?: number; name: string };
  examples?: string[];
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  /** Options and positionals in command-line order (for `IMAGE --device BLOB` grouping). */
  order: (
    { kind: 'positional'; value: string } | { kind: 'option'; name: string; value: string | undefined }
  )[];
}

export const HELP_OPTION: OptionSpec = {
  type: 'boolean',
  short: 'h',
  description: 'Show this help.',
  group: 'General',
};

export function parseCommandArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries({ ...spec.options, help: HELP_OPTION })) {
    options[name] = { type: o.type };
    if (o.short) options[name].short = o.short;
    if (o.multiple) options[name].multiple = true;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    const msg = (e as Error).message
      .replace(/\. To specify a positional argument.*$/s, '')
      .replace(/^Unknown option/, 'unknown option');
    throw inputError(
      `sharemap ${spec.name}: ${msg.charAt(0).toLowerCase()}${msg.slice(1)} (see sharemap ${spec.name} --help)`,
    );
  }
  const order: ParsedArgs['order'] = [];
  for (const t of parsed.tokens ?? []) {
    if (t.kind === 'positional') order.push({ kind: 'positional', value: t.value });
    else if (t.kind === 'option') order.push({ kind: 'option', name: t.name, value: t.value });
  }
  const values = parsed.values as ParsedArgs['values'];
  if (!values.help) {
    const n = parsed.positionals.length;
    if (n < spec.positionals.min)
      throw inputError(`sharemap ${spec.name}: missing ${spec.positionals.name} (usage: ${spec.usage})`);
    if (spec.positionals.max !== undefined && n > spec.positionals.max)
      throw inputError(
        `sharemap ${spec.name}: unexpected argument "${parsed.positionals[spec.positionals.max]}" (usage: ${spec.usage})`,
      );
  }
  return { values, positionals: parsed.positionals, order };
}

export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function list(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** Positionals with the `--device` values that follow each one (before the next positional). */
export function positionalsWithDevices(
  args: ParsedArgs,
  deviceOption = 'device',
): { path: string; devices: string[] }[] {
  const out: { path: string; devices: string[] }[] = [];
  const early: string[] = [];
  for (const t of args.order) {
    if (t.kind === 'positional') out.push({ path: t.value, devices: [] });
    else if (t.name === deviceOption && t.value !== undefined) {
      const last = out[out.length - 1];
      if (last) last.devices.push(t.value);
      else early.push(t.value);
    }
  }
  // Devices given before any image belong to the first one.
  if (early.length > 0 && out[0]) out[0].devices.unshift(...early);
  return out;
}

function wrap(text: string, width: number, indent: number): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && cur.length + 1 + w.length > width - indent) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines.join('\n' + ' '.repeat(indent));
}

export function helpText(spec: CommandSpec): string {
  const out: string[] = [`Usage: ${spec.usage}`, '', spec.summary];
  for (const p of spec.details ?? []) out.push('', wrap(p, 88, 0));
  const groups = new Map<string, [string, OptionSpec][]>();
  for (const [name, o] of Object.entries({ ...spec.options, help: HELP_OPTION })) {
    const g = o.group ?? 'Options';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push([name, o]);
  }
  for (const [g, opts] of groups) {
    out.push('', `${g}:`);
    const labels = opts.map(
      ([name, o]) =>
        `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`,
    );
    const w = Math.min(34, Math.max(...labels.map((l) => l.length)) + 2);
    opts.forEach(([, o], k) => {
      const label = labels[k]!;
      const desc = wrap(o.description + (o.multiple ? ' Repeatable.' : ''), 88, w + 2);
      out.push(
        label.length + 2 > w ? `  ${label}\n${' '.repeat(w + 2)}${desc}` : `  ${label.padEnd(w)}${desc}`,
      );
    });
  }
  if (spec.examples?.length) {
    out.push('', 'Examples:');
    for (const e of spec.examples) out.push(`  ${e}`);
  }
  return out.join('\n') + '\n';
}
