/** Entry of the GitHub Action (bundled as action/dist/index.js; see action.ts). */
import { runAction } from './action.js';
import { processIo } from './io.js';

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
