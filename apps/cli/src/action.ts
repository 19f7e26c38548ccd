/**
 * The GitHub Action (action.yml at the repository root; bundled as action/dist/index.js): the
 * action's inputs become a `sharemap analyze` or `upload` command line, run in-process; its
 * outputs go to `$GITHUB_OUTPUT` and the Markdown summary to `$GITHUB_STEP_SUMMARY` (the CLI
 * appends it there itself), in the runner's file formats; the exit code is the gate's.
 *
 * Runner conventions followed (GitHub's documentation of workflow commands and of
 * `@actions/core`, which this does not depend on):
 *  - an input `foo-bar` arrives as `INPUT_FOO-BAR` (name upper-cased, spaces as `_`), trimmed;
 *  - an output is appended to `$GITHUB_OUTPUT` as `name<<DELIMITER\nvalue\nDELIMITER\n`, with a
 *    random delimiter that the value must not contain (so multi-line values are safe);
 *  - errors are `::error::message` lines on stdout (annotations).
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { glob } from 'tinyglobby';
import { headline, type Report } from '@sharemap/sharing';
import { run } from './cli.js';
import { EXIT_BAD_INPUT, EXIT_SERVER } from './errors.js';
import { BufferOut, type Io } from './io.js';

/** The inputs of action.yml with their defaults (kept in step with it; a test compares). */
export const ACTION_INPUTS = {
  command: 'analyze',
  images: '',
  mounts: '',
  baseline: '',
  server: '',
  token: '',
  'save-as': '',
  config: '',
  args: '',
  markdown: 'sharemap-comment.md',
  json: 'sharemap-report.json',
  junit: 'sharemap-junit.xml',
  html: 'sharemap-report.html',
  'server-error': 'warn',
} as const;

export type ActionInput = keyof typeof ACTION_INPUTS;

export const ACTION_OUTPUTS = [
  'exit-code',
  'passed',
  'headline',
  'bytes-saved',
  'percent-saved',
  'report-url',
  'summary',
  'markdown',
  'json',
  'junit',
  'html',
] as const;

export type ActionOutputs = Partial<Record<(typeof ACTION_OUTPUTS)[number], string>>;

/** `@actions/core` getInput: `INPUT_` + the name upper-cased with spaces as underscores, trimmed. */
export function getInput(env: Record<string, string | undefined>, name: ActionInput): string {
  const v = env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`];
  return (v ?? ACTION_INPUTS[name]).trim();
}

/** One `name<<DELIM ... DELIM` record of the runner's output file format. */
export function outputRecord(name: string, value: string): string {
  let delim = `ghadelimiter_${randomUUID()}`;
  while (value.includes(delim)) delim = `ghadelimiter_${randomUUID()}`;
  return `${name}<<${delim}\n${value}\n${delim}\n`;
}

/** Newline- or space-separated paths and glob patterns, expanded (sorted, de-duplicated). */
async function expand(spec: string, cwd: string, what: string): Promise<string[]> {
  const out: string[] = [];
  for (const pattern of spec.split(/\s+/).filter(Boolean)) {
    if (!/[*?[\]{}]/.test(pattern)) {
      out.push(pattern);
      continue;
    }
    const hits = (await glob(pattern, { cwd, onlyFiles: true, expandDirectories: false })).sort();
    if (hits.length === 0) throw new ActionError(`${what}: no file matches ${pattern}`);
    out.push(...hits);
  }
  return [...new Set(out)];
}

class ActionError extends Error {}

/** The sharemap command line of the inputs; the JSON report always goes to a file (outputs). */
export async function actionArgs(env: Record<string, string | undefined>, cwd: string): Promise<string[]> {
  const command = getInput(env, 'command');
  if (command !== 'analyze' && command !== 'upload')
    throw new ActionError(`input command: expected analyze or upload, got ${JSON.stringify(command)}`);
  const images = await expand(getInput(env, 'images'), cwd, 'input images');
  if (images.length === 0)
    throw new ActionError('input images: required (paths or glob patterns of EROFS images)');
  const argv = [command, ...images];
  for (const m of await expand(getInput(env, 'mounts'), cwd, 'input mounts')) argv.push('--mounts', m);
  const pairs: [ActionInput, string][] = [
    ['baseline', '--baseline'],
    ['server', '--server'],
    ['config', '--config'],
    ['junit', '--junit'],
    ['html', '--html'],
  ];
  if (command === 'upload') pairs.push(['save-as', '--save-as']);
  else if (getInput(env, 'save-as')) throw new ActionError('input save-as: only with command: upload');
  for (const [name, flag] of pairs) {
    const v = getInput(env, name);
    if (v) argv.push(flag, v);
  }
  argv.push('--markdown', '--json-out', getInput(env, 'json') || jsonScratch(env));
  // Thresholds and other options, as on a command line (whitespace-separated, no quoting).
  argv.push(...getInput(env, 'args').split(/\s+/).filter(Boolean));
  return argv;
}

/** Where the JSON goes when the json input is empty: the runner's temp directory. */
function jsonScratch(env: Record<string, string | undefined>): string {
  return resolve(env.RUNNER_TEMP ?? '/tmp', `sharemap-${randomUUID()}.json`);
}

/** Runs the action; returns the exit code of the step. */
export async function runAction(io: Io): Promise<number> {
  const env = io.env;
  const annotate = (level: 'error' | 'warning', msg: string): void => {
    // Workflow commands: %, CR and LF escaped in the message.
    io.stdout.write(`::${level}::${msg.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}\n`);
  };
  let argv: string[];
  try {
    argv = await actionArgs(env, io.cwd);
  } catch (e) {
    if (!(e instanceof ActionError)) throw e;
    annotate('error', `sharemap: ${e.message}`);
    return EXIT_BAD_INPUT;
  }
  // The token stays out of the command line (visible to other processes): the environment.
  const token = getInput(env, 'token');
  const cliEnv = { ...env, ...(token ? { SHAREMAP_TOKEN: token } : {}) };
  const stdout = new BufferOut();
  const stderr = new BufferOut();
  const code = await run(argv, { ...io, env: cliEnv, stdout, stderr });
  io.stdout.write(stdout.text);
  io.stderr.write(stderr.text);

  const outputs: ActionOutputs = { 'exit-code': String(code), passed: String(code === 0) };
  const jsonPath = argv[argv.indexOf('--json-out') + 1]!;
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(io.cwd, p));
  if (code <= 1) {
    const result = JSON.parse(readFileSync(path(jsonPath), 'utf8')) as Report & { url?: string };
    outputs.headline = headline(result);
    outputs['bytes-saved'] = String(result.totals.bytesSaved);
    outputs['percent-saved'] = String(result.totals.percentSaved);
    if (result.url) outputs['report-url'] = result.url;
    outputs.summary = stdout.text;
    for (const name of ['json', 'junit', 'html'] as const) {
      const v = getInput(env, name);
      if (v) outputs[name] = path(v);
    }
    const md = getInput(env, 'markdown');
    if (md) {
      // The comment file: exactly what was printed (the PR comment).
      writeFileSync(path(md), stdout.text);
      outputs.markdown = path(md);
    }
  }
  const outFile = env.GITHUB_OUTPUT;
  if (outFile)
    appendFileSync(
      outFile,
      Object.entries(outputs)
        .map(([k, v]) => outputRecord(k, v))
        .join(''),
    );

  const lastLine = stderr.text.trim().split('\n').at(-1) ?? '';
  if (code === 1) annotate('error', lastLine || 'sharemap: the sharing gate failed');
  else if (code === EXIT_SERVER && getInput(env, 'server-error') === 'warn') {
    annotate('warning', `${lastLine} (server error: gate skipped; input server-error: fail makes this fail)`);
    return 0;
  } else if (code !== 0) annotate('error', lastLine || `sharemap exited with ${code}`);
  return code;
}
