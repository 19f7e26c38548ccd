/** Entry of the GitHub Action (bundled as action/dist/index.js; see action.ts). */
import { ErofsError, lz4DecoderFromEnv } from '@sharemap/erofs/node';
import { runAction } from './action.js';
import { processIo } from './io.js';

// SHAREMAP_LZ4_DECODER, once for the process, as the CLI's entry (main.ts) reads it.
try {
  lz4DecoderFromEnv();
} catch (e) {
  process.stdout.write(
    `::error::sharemap action: ${e instanceof ErofsError ? e.detail : (e as Error).message}\n`,
  );
  process.exit(2);
}

runAction(processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stdout.write(
      `::error::sharemap action: unexpected error: ${(e as Error)?.message ?? String(e)}\n`,
    );
    process.exitCode = 2;
  },
);
