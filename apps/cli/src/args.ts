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
    parsed = parseArgs({
      args: joinDashValues(argv, options),
      options,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
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

/**
 * `--name VALUE` (or `-n VALUE`) where VALUE starts with "-" becomes `--name=VALUE` (`-nVALUE`) when VALUE is no option of
 * the command: node:util parseArgs (strict) refuses such a value as ambiguous, and a server's
 * report id is 22 random base64url characters, so one in 64 starts with "-" (`upload
 * --baseline ID` then failed with exit 2 at random). A VALUE that names an option of the
 * command (`--baseline --json`, `--baseline -q`) is left to parseArgs' refusal: the value was
 * more likely forgotten. Nothing after a `--` terminator is touched.
 */
export function joinDashValues(
  argv: readonly string[],
  options: Readonly<Record<string, { type: 'string' | 'boolean'; short?: string }>>,
): string[] {
  const shorts = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) if (o.short) shorts.set(o.short, name);
  const takesValue = (arg: string): boolean => {
    const name = arg.startsWith('--') ? arg.slice(2) : arg.length === 2 ? shorts.get(arg[1]!) : undefined;
    return name !== undefined && !name.includes('=') && options[name]?.type === 'string';
  };
  const namesOption = (arg: string): boolean => {
    if (arg.startsWith('--')) return Object.hasOwn(options, arg.slice(2).split('=')[0]!);
    // a cluster of known short options (-qh), as parseArgs would read it
    return [...arg.slice(1)].every((c) => shorts.has(c));
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (
      next !== undefined &&
      a.startsWith('-') &&
      takesValue(a) &&
      next.length > 1 &&
      next.startsWith('-') &&
      next !== '--' &&
      !namesOption(next)
    ) {
      // -o-x is parseArgs' form of a short option's value ("-o=-x" would keep the "=")
      out.push(a.startsWith('--') ? `${a}=${next}` : `${a}${next}`);
      i++;
    } else out.push(a);
  }
  return out;
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
