// `pnpm e2e:stress`: the whole Playwright suite RUNS times in a row (default 5) with BURNERS
// CPU-burning processes beside it (default 2), as on a loaded CI machine; fails on the first
// failing run. Proves the suite does not depend on timing. Builds first unless --no-build.
//   pnpm e2e:stress                     # 5 runs, 2 burners
//   pnpm e2e:stress --runs 3 --burners 2 --no-build
import { spawn } from 'node:child_process';
import { build, log, pnpm } from './lib.mjs';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`e2e:stress: --${name} needs a non-negative integer\n`);
    process.exit(2);
  }
  return n;
}
const RUNS = option('runs', 5);
const BURNERS = option('burners', 2);

if (!process.argv.includes('--no-build')) build();

// Busy loops in separate processes (each takes a core as long as the OS gives it one).
const burners = [];
for (let k = 0; k < BURNERS; k++) {
  const p = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  burners.push(p);
}
const stopBurners = () => {
  for (const p of burners) if (p.exitCode === null && p.pid !== undefined) process.kill(p.pid, 'SIGKILL');
};
process.on('exit', stopBurners);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const env = {
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
  CHROMIUM_PATH: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
};
let failedRun = 0;
for (let run = 1; run <= RUNS; run++) {
  log(`e2e:stress: run ${run} of ${RUNS} with ${BURNERS} CPU burners`);
  const t0 = Date.now();
  const code = pnpm(['-s', '--filter', '@sharemap/e2e', 'exec', 'playwright', 'test'], { env });
  log(
    `e2e:stress: run ${run} ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${Math.round((Date.now() - t0) / 1000)} s`,
  );
  if (code !== 0) {
    failedRun = run;
    break;
  }
}
stopBurners();
log(
  failedRun
    ? `e2e:stress: FAILED in run ${failedRun} of ${RUNS}`
    : `e2e:stress: ${RUNS} of ${RUNS} runs passed`,
);
process.exit(failedRun ? 1 : 0);
