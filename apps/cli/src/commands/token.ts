/** `sharemap token create NAME [--data DIR]`: create a server API token (printed once). */
import { resolve } from 'node:path';
import { flag, helpText, parseCommandArgs, str, type CommandSpec } from '../args.js';
import { EXIT_OK, inputError, oneLine } from '../errors.js';
import type { Io } from '../io.js';
import { loadServer } from '../server.js';

export const tokenSpec: CommandSpec = {
  name: 'token',
  summary: 'Create an API token for CI uploads (stored hashed by the server; printed once).',
  usage: 'sharemap token create NAME [--data DIR]',
  details: [
    "Run on the server host, against the server's data directory. Give the printed token to CI as the SHAREMAP_TOKEN secret. The server only asks for tokens when configured to (see docs/ci.md).",
  ],
  options: {
    data: {
      type: 'string',
      value: 'DIR',
      description: "Server data directory (default: $SHAREMAP_DATA, then the server's default).",
    },
  },
  positionals: { min: 2, max: 2, name: 'create NAME' },
  examples: ['sharemap token create github-actions --data /var/lib/sharemap'],
};

export async function tokenCommand(argv: string[], io: Io): Promise<number> {
  const args = parseCommandArgs(tokenSpec, argv);
  if (flag(args, 'help')) {
    io.stdout.write(helpText(tokenSpec));
    return EXIT_OK;
  }
  const [sub, name] = args.positionals as [string, string];
  if (sub !== 'create')
    throw inputError(`sharemap token: unknown subcommand "${sub}" (usage: ${tokenSpec.usage})`);
  if (!/^[\w.@-]{1,64}$/.test(name))
    throw inputError(`sharemap token create: NAME must be 1-64 letters, digits, ".", "_", "@" or "-"`);
  const data = str(args, 'data') ?? io.env.SHAREMAP_DATA;
  const server = await loadServer();
  let token: string;
  try {
    token = await server.createTokenIn(data !== undefined ? resolve(io.cwd, data) : undefined, name);
  } catch (e) {
    throw inputError(`sharemap token create: ${oneLine((e as Error).message)}`);
  }
  io.stdout.write(`${token}\n`);
  io.stderr.write(
    `sharemap: created token "${name}"; it is shown only once. Store it as the CI secret SHAREMAP_TOKEN.\n`,
  );
  return EXIT_OK;
}
