#!/usr/bin/env node
/** Entry point of the `sharemap` command (bin). */
import { run } from './cli.js';
import { processIo } from './io.js';

// A closed pipe (`sharemap scan x --ndjson | head`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
});

const controller = new AbortController();
// `serve` stops gracefully on its own; everything else stops at once.
if (process.argv[2] !== 'serve') {
  process.once('SIGINT', () => {
    controller.abort();
    process.stderr.write('\nsharemap: interrupted\n');
    process.exit(130);
  });
}

const io = { ...processIo(), signal: controller.signal };
run(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`sharemap: unexpected error: ${(e as Error)?.message ?? String(e)}\n`);
    process.exitCode = 2;
  },
);
