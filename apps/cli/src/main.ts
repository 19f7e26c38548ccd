#!/usr/bin/env node
/** Entry point of the `sharemap` command (bin). */
import { run } from './cli.js';
import { processIo } from './io.js';
import { v8FlagsFor } from './v8-flags.js';

// SHAREMAP_LZ4_DECODER is a process setting: applied here, once, for this thread; the digest
// threads are handed this thread's choice (docs/reader.md#lz4-decoders). A bad value ends the
// command before it starts, with one line. Unset or empty it changes nothing, and the reader
// is not loaded for it: `sharemap --version` needs none of it (half its CPU time).
if (process.env.SHAREMAP_LZ4_DECODER) {
  const { ErofsError, lz4DecoderFromEnv } = await import('@sharemap/erofs/node');
  try {
    lz4DecoderFromEnv();
  } catch (e) {
    process.stderr.write(`sharemap: ${e instanceof ErofsError ? e.detail : (e as Error).message}\n`);
    process.exit(2);
  }
}

const args = process.argv.slice(2);
// `scan --hash` raises V8's interrupt budget, so that only its hot functions are optimized, in
// every thread (v8-flags.ts): set before the digest threads start.
const v8Flags = v8FlagsFor(args);
if (v8Flags) {
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString(v8Flags);
}
// `scan IMAGE --ndjson|--json` of a large image: the second thread of its walk starts now, to
// load the reader on the other core while this thread loads the command (docs/cli.md#metadata-scan-on-two-threads);
// with --hash on two cores it is the scan's second hashing thread.
let splitStarted = false;
if (args[0] === 'scan') {
  const { prestartSplitWorker } = await import('./scan-split-start.js');
  splitStarted = prestartSplitWorker(args.slice(1), process.env);
}

// `scan --hash` with the default threads (and no shared walk started above) of an image large
// enough for them: its digest threads start now, so that they load their modules beside this
// thread's loading of the command, on a core idle until the walk begins; the scan's pool takes
// them (docs/reader.md#digest-threads-started-ahead). With `--threads` the scan starts the
// threads it asks for itself; a small image is hashed without them (digestThreadsPay).
if (
  args[0] === 'scan' &&
  !splitStarted &&
  args.includes('--hash') &&
  !args.some((a) => a.startsWith('--threads'))
) {
  const { digestThreadsPay, scanImageArg } = await import('./scan-split-start.js');
  const { image } = scanImageArg(args.slice(1));
  if (image === undefined || digestThreadsPay(image, process.env)) {
    const { prestartDigestThreads } = await import('@sharemap/erofs/digest-pool');
    prestartDigestThreads();
  }
}

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
