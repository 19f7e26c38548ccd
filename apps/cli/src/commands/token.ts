/**
 * `sharemap token create NAME | revoke NAME | list [--data DIR]`: the API tokens of a server
 * (run on the server host, against its data folder).
 */
import { resolve } from 'node:path';
import { flag, helpText, parseCommandArgs, str, type CommandSpec } from '../args.js';
import { EXIT_OK, inputError, oneLine } from '../errors.js';
import type { Io } from '../io.js';
import { loadServer } from '../server.js';
import { COMMAND_SUMMARIES } from './summaries.js';

export const tokenSpec: CommandSpec = {
  name: 'token',
  summary: COMMAND_SUMMARIES.token,
  usage: 'sharemap token create NAME | revoke NAME | list [--data DIR]',
  details: [
    "Run on the server host, against the server's data directory. Give the printed token to CI as the SHAREMAP_TOKEN secret. The server only asks for tokens when configured to (see docs/ci.md).",
    '`list` prints one token per line: name, admin or writer, created, last used (never the token). `revoke NAME` removes every token of that name; the server refuses it at its next request (401), without a restart.',
  ],
  options: {
    data: {
      type: 'string',
      value: 'DIR',
      description: "Server data directory (default: $SHAREMAP_DATA, then the server's default).",
    },
  },
  positionals: { min: 1, max: 2, name: 'create NAME | revoke NAME | list' },
  examples: [
    'sharemap token create github-actions --data /var/lib/sharemap',
    'sharemap token list --data /var/lib/sharemap',
    'sharemap token revoke github-actions --data /var/lib/sharemap',
  ],
};

const NAME_RE = /^[\w.@-]{1,64}$/;

export async function tokenCommand(argv: string[], io: Io): Promise<number> {
  const args = parseCommandArgs(tokenSpec, argv);
  if (flag(args, 'help')) {
    io.stdout.write(helpText(tokenSpec));
    return EXIT_OK;
  }
  const [sub, name] = args.positionals as [string, string | undefined];
  if (sub !== 'create' && sub !== 'revoke' && sub !== 'list')
    throw inputError(`sharemap token: unknown subcommand "${sub}" (usage: ${tokenSpec.usage})`);
  if (sub === 'list' ? name !== undefined : name === undefined)
    throw inputError(`sharemap token: usage: ${tokenSpec.usage}`);
  if (name !== undefined && !NAME_RE.test(name))
    throw inputError(`sharemap token ${sub}: NAME must be 1-64 letters, digits, ".", "_", "@" or "-"`);
  const data = str(args, 'data') ?? io.env.SHAREMAP_DATA;
  const dir = data !== undefined ? resolve(io.cwd, data) : undefined;
  const server = await loadServer();
  const failed = (e: unknown): never => {
    throw inputError(`sharemap token ${sub}: ${oneLine((e as Error).message)}`);
  };
  if (sub === 'list') {
    const tokens = await server.listTokensIn(dir).catch(failed);
    for (const t of tokens)
      io.stdout.write(
        `${t.name}\t${t.admin ? 'admin' : 'writer'}\tcreated ${t.createdAt}\tlast used ${t.lastUsedAt ?? 'never'}\n`,
      );
    return EXIT_OK;
  }
  if (sub === 'revoke') {
    const n = await server.revokeTokenIn(dir, name!).catch(failed);
    if (n === 0) throw inputError(`sharemap token revoke: no token named "${name!}"`);
    io.stderr.write(`sharemap: revoked ${n} token${n === 1 ? '' : 's'} named "${name!}"\n`);
    return EXIT_OK;
  }
  const token = await server.createTokenIn(dir, name!).catch(failed);
  io.stdout.write(`${token}\n`);
  io.stderr.write(
    `sharemap: created token "${name!}"; it is shown only once. Store it as the CI secret SHAREMAP_TOKEN.\n`,
  );
  return EXIT_OK;
}
