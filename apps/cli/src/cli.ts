/** The `sharemap` command: dispatch, global help and version, errors -> one line + exit code. */
import { readFileSync } from 'node:fs';
import type { CommandSpec } from './args.js';
import { COMMAND_SUMMARIES, type CommandName } from './commands/summaries.js';
import { CliError, EXIT_BAD_INPUT, EXIT_OK, oneLine } from './errors.js';
import type { Io } from './io.js';

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

type Command = (argv: string[], io: Io) => Promise<number>;

/**
 * Commands load on first use: a `sharemap scan` need not compile the server client, the
 * report renderers and the sharing engine (module loading was a quarter of a scan's time).
 */
export const COMMANDS: Record<CommandName, () => Promise<{ spec: CommandSpec; run: Command }>> = {
  scan: () => import('./commands/scan.js').then((m) => ({ spec: m.scanSpec, run: m.scanCommand })),
  analyze: () =>
    import('./commands/analyze.js').then((m) => ({ spec: m.analyzeSpec, run: m.analyzeCommand })),
  upload: () => import('./commands/upload.js').then((m) => ({ spec: m.uploadSpec, run: m.uploadCommand })),
  collect: () =>
    import('./commands/collect.js').then((m) => ({ spec: m.collectSpec, run: m.collectCommand })),
  token: () => import('./commands/token.js').then((m) => ({ spec: m.tokenSpec, run: m.tokenCommand })),
  serve: () => import('./commands/serve.js').then((m) => ({ spec: m.serveSpec, run: m.serveCommand })),
};

/** The global help, from the commands' summaries: no command is loaded for it. */
export function mainHelp(): string {
  const names = Object.keys(COMMANDS) as CommandName[];
  const w = Math.max(...names.map((k) => k.length)) + 2;
  return [
    'Usage: sharemap COMMAND [options]',
    '',
    'Which files of EROFS images share page cache under Linux 7.0 inode_share, and how much memory that saves.',
    '',
    'Commands:',
    ...names.map((name) => `  ${name.padEnd(w)}${COMMAND_SUMMARIES[name]}`),
    '',
    'Global options:',
    '  -h, --help     Show help (`sharemap COMMAND --help` for a command).',
    '  -V, --version  Print the version.',
    '',
    'Exit codes: 0 pass, 1 a threshold failed, 2 bad input or usage, 3 server or network error.',
    'Settings and thresholds: .sharemap.yml (see docs/cli.md).',
    '',
  ].join('\n');
}

/** Message for an error that escaped a command: never a stack trace. */
export function errorLine(e: unknown): { line: string; code: number } {
  if (e instanceof CliError) {
    const msg = oneLine(e.message);
    return { line: msg.startsWith('sharemap') ? msg : `sharemap: ${msg}`, code: e.exitCode };
  }
  const err = e as Error;
  return { line: `sharemap: unexpected error: ${oneLine(err?.message ?? String(e))}`, code: EXIT_BAD_INPUT };
}

export async function run(argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    if (cmd === 'help' && rest[0] && Object.hasOwn(COMMANDS, rest[0])) return run([rest[0], '--help'], io);
    io.stdout.write(mainHelp());
    return cmd === undefined ? EXIT_BAD_INPUT : EXIT_OK;
  }
  if (cmd === '-V' || cmd === '--version' || cmd === 'version') {
    io.stdout.write(`sharemap ${version()}\n`);
    return EXIT_OK;
  }
  const load = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd as CommandName] : undefined;
  if (!load) {
    io.stderr.write(
      `sharemap: unknown command "${cmd}" (commands: ${Object.keys(COMMANDS).join(', ')}; see sharemap --help)\n`,
    );
    return EXIT_BAD_INPUT;
  }
  try {
    return await (await load()).run(rest, io);
  } catch (e) {
    const { line, code } = errorLine(e);
    io.stderr.write(line + '\n');
    if (io.env.SHAREMAP_DEBUG && e instanceof Error && e.stack) io.stderr.write(e.stack + '\n');
    return code;
  }
}
