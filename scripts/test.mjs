// `npm test`: everything a change must pass, from a fresh clone.
// Installs what is missing (dependencies; Debian's chromium and postgresql when root), builds, then runs
// typecheck, lint, unit + integration tests (vitest) and browser e2e tests (Playwright),
// and ends with one summary line: `N passed, N failed`.
import { existsSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  ensureInstalled,
  ensurePostgres,
  havePostgres,
  build,
  root,
  log,
  pnpm,
  pnpmAsync,
  pnpmCaptured,
} from './lib.mjs';
import { firstLine, playwrightTitle } from './failure-lines.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const resultsDir = path.join(root, 'node_modules', '.cache', 'sharemap-test');

function ensureChromium() {
  if (existsSync(CHROMIUM)) return true;
  if (process.getuid?.() === 0) {
    log("installing Debian's chromium for the browser tests (apt-get)...");
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
    if (existsSync(CHROMIUM)) return true;
  }
  process.stderr.write(
    `[sharemap] ${CHROMIUM} not found: install Debian's chromium (sudo apt-get install -y chromium) ` +
      'or set CHROMIUM_PATH; the e2e tests count as failed until then.\n',
  );
  return false;
}

/** Each step adds to the totals; a step that produces no per-test results counts as one check. */
const totals = { passed: 0, failed: 0, skipped: 0 };
const failedSteps = [];
/** Names of the tests that failed, printed again at the end: CI shows only the tail of the log. */
const failedTests = [];
/** Tests that passed only on CI's second run: named so they get fixed (docs/development.md#flaky-tests). */
const flakyTests = [];

function check(name, code) {
  if (code === 0) totals.passed += 1;
  else {
    totals.failed += 1;
    failedSteps.push(name);
  }
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Wall time of each step, printed at the end (docs/development.md#how-long-npm-test-takes). */
const stepTimes = [];
let stepStart = Date.now();
/** Ends the step running since the last call: records its wall time under `name`. */
function stepDone(name) {
  const now = Date.now();
  stepTimes.push(`${name} ${Math.round((now - stepStart) / 1000)} s`);
  stepStart = now;
}

ensureInstalled();
const haveChromium = ensureChromium();
ensurePostgres("the server's PostgreSQL tests");
stepDone('install');
build();
stepDone('build');
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });

// Typecheck and lint side by side: each is one single-threaded process that only reads the
// tree, so on two cores they take about as long together as the longer one alone. Their
// output is printed one after the other once both are done.
log('typecheck and lint (side by side)');
const [typecheck, lint] = await Promise.all([
  pnpmCaptured(['-s', 'typecheck']),
  pnpmCaptured(['-s', 'lint']),
]);
for (const [name, r] of [
  ['typecheck', typecheck],
  ['lint', lint],
]) {
  log(`${name}: exit code ${r.code}`);
  process.stdout.write(r.output);
  check(name, r.code);
}
stepDone('typecheck + lint');

/** The arguments of one vitest run writing its JSON results for `name`. */
function vitestArgs(name, args) {
  const out = path.join(resultsDir, `${name}.json`);
  return [
    '-s',
    'exec',
    'vitest',
    'run',
    ...args,
    '--reporter=default',
    '--reporter=json',
    `--outputFile=${out}`,
  ];
}

/** Adds the per-test results of the vitest run `name`, which ended with exit code `code`, to the totals. */
function vitestResults(name, code) {
  const result = readJson(path.join(resultsDir, `${name}.json`));
  if (result) {
    totals.passed += result.numPassedTests;
    totals.failed += result.numFailedTests;
    totals.skipped += result.numPendingTests + result.numTodoTests;
    // A suite that fails to load has no failed tests but a non-zero exit: count it.
    if (code !== 0 && result.numFailedTests === 0) check(`${name} (suite errors)`, code);
    if (result.numFailedTests > 0) failedSteps.push(name);
    for (const file of result.testResults ?? []) {
      for (const t of file.assertionResults ?? []) {
        if (t.status === 'passed' && t.failureMessages?.length) {
          const first = firstLine(t.failureMessages[0]);
          flakyTests.push(`${name}: ${path.relative(process.cwd(), file.name)} > ${t.fullName}: ${first}`);
        }
        if (t.status !== 'failed') continue;
        const why = firstLine(t.failureMessages?.[0]);
        failedTests.push(`${name}: ${path.relative(process.cwd(), file.name)} > ${t.fullName}: ${why}`);
      }
    }
  } else check(name, code || 1);
}

log('unit and integration tests (vitest)');
vitestResults('vitest', pnpm(vitestArgs('vitest', [])));
stepDone('vitest');

// The server's HTTP tests again with the server on PostgreSQL (apps/server/vitest.postgres.config.ts:
// one private cluster, a database per test server), side by side with Playwright: both spend
// much of their time waiting (on the database, on child processes, on pages rendering), so
// together they keep CI's two cores busier than one after the other
// (docs/development.md#how-long-npm-test-takes). Its output is printed when Playwright is done.
const pgOnPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).status === 0;
const pgStart = Date.now();
let pgSeconds = 0;
const pgRun =
  havePostgres() || pgOnPath
    ? (log('server tests on PostgreSQL (vitest), beside the browser tests; output when they end'),
      pnpmCaptured(vitestArgs('vitest-postgres', ['--config', 'apps/server/vitest.postgres.config.ts'])).then(
        (r) => {
          pgSeconds = Math.round((Date.now() - pgStart) / 1000);
          return r;
        },
      ))
    : (log('server tests on PostgreSQL: not run (no PostgreSQL binaries)'), null);

log('browser tests (Playwright, Debian chromium)');
if (haveChromium) {
  const pwOut = path.join(resultsDir, 'playwright.json');
  const pwCode = await pnpmAsync(
    ['-s', '--filter', '@sharemap/e2e', 'exec', 'playwright', 'test', '--reporter=list,json'],
    {
      env: {
        PLAYWRIGHT_JSON_OUTPUT_NAME: pwOut,
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
        CHROMIUM_PATH: CHROMIUM,
      },
    },
  );
  const pw = readJson(pwOut);
  if (pw?.stats) {
    totals.passed += pw.stats.expected + (pw.stats.flaky ?? 0);
    totals.failed += pw.stats.unexpected;
    totals.skipped += pw.stats.skipped;
    if (pw.stats.unexpected > 0) failedSteps.push('e2e');
    collectPlaywrightFailures(pw.suites ?? [], []);
    if (pwCode !== 0 && pw.stats.unexpected === 0) check('e2e (runner error)', pwCode);
  } else check('e2e', pwCode || 1);
} else check('e2e (no chromium)', 1);
const pwSeconds = Math.round((Date.now() - pgStart) / 1000);
if (pgRun) {
  const pg = await pgRun;
  log(`server tests on PostgreSQL: exit code ${pg.code}`);
  process.stdout.write(pg.output);
  vitestResults('vitest-postgres', pg.code);
}
stepDone(`vitest on PostgreSQL (${pgSeconds} s) + Playwright (${pwSeconds} s) side by side`);

/** Walks Playwright's JSON suites for tests whose outcome was unexpected. */
function collectPlaywrightFailures(suites, titles) {
  for (const suite of suites) {
    const inner = suite.file ? [suite.file] : [...titles, suite.title];
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        if (t.status === 'flaky') {
          const first = t.results?.[0]?.error?.message;
          flakyTests.push(`e2e: ${playwrightTitle(inner, spec.title)}: ${firstLine(first)}`);
        }
        if (t.status !== 'unexpected') continue;
        const error = t.results?.at(-1)?.error?.message;
        failedTests.push(`e2e: ${playwrightTitle(inner, spec.title)}: ${firstLine(error)}`);
      }
    }
    collectPlaywrightFailures(suite.suites ?? [], inner);
  }
}

log(`step times: ${stepTimes.join(', ')}`);
for (const line of flakyTests) log(`FLAKY (passed on its second run) ${line}`);
for (const line of failedTests) log(`FAILED ${line}`);
if (failedSteps.length) log(`failed: ${failedSteps.join(', ')}`);
process.stdout.write(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(totals.failed > 0 ? 1 : 0);
