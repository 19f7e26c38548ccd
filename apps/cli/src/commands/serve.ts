/** `sharemap serve [--port N] [--host H] [--data DIR]`: start the sharemap server (apps/server). */
import { resolve } from 'node:path';
import { flag, helpText, parseCommandArgs, str, type CommandSpec } from '../args.js';
import { EXIT_OK, inputError } from '../errors.js';
import type { Io } from '../io.js';
import { loadServer } from '../server.js';
import { parseCount } from '../units.js';
import { COMMAND_SUMMARIES } from './summaries.js';

export const serveSpec: CommandSpec = {
  name: 'serve',
  summary: COMMAND_SUMMARIES.serve,
  usage: 'sharemap serve [--port N] [--host H] [--data DIR] [--require-token]',
  options: {
    port: { type: 'string', value: 'N', description: "Port (default: $PORT, then the server's default)." },
    host: {
      type: 'string',
      value: 'H',
      description: "Address to listen on (default: the server's default).",
    },
    data: {
      type: 'string',
      value: 'DIR',
      description: "Data directory (default: $SHAREMAP_DATA, then the server's default).",
    },
    'require-token': {
      type: 'boolean',
      description: 'Require a bearer token for uploads and report creation (tokens: sharemap token create).',
    },
  },
  positionals: { min: 0, max: 0, name: '' },
};

export async function serveCommand(argv: string[], io: Io): Promise<number> {
  const args = parseCommandArgs(serveSpec, argv);
  if (flag(args, 'help')) {
    io.stdout.write(helpText(serveSpec));
    return EXIT_OK;
  }
  const portText = str(args, 'port') ?? io.env.PORT;
  const port = portText !== undefined ? parseCount(portText) : undefined;
  if (port === null || (port !== undefined && port > 65535))
    throw inputError(`--port: expected a port number, got ${JSON.stringify(portText)}`);
  const data = str(args, 'data') ?? io.env.SHAREMAP_DATA;
  const server = await loadServer();
  const running = await server.start({
    ...(port !== undefined ? { port } : {}),
    ...(str(args, 'host') !== undefined ? { host: str(args, 'host')! } : {}),
    ...(data !== undefined ? { dataDir: resolve(io.cwd, data) } : {}),
    ...(flag(args, 'require-token') ? { requireToken: true } : {}),
  });
  io.stderr.write(`sharemap: serving on ${running.url} (Ctrl-C to stop)\n`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      void running.close().then(done, done);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    io.signal?.addEventListener('abort', stop);
  });
  return EXIT_OK;
}
