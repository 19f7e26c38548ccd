// Helpers shared by the repo's entry scripts (start, test, bench, fuzz). Node built-ins only:
// these run on a fresh clone before any dependency is installed.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function log(msg) {
  process.stdout.write(`[sharemap] ${msg}\n`);
}

/** Runs a command with inherited stdio from the repo root; returns its exit code. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: 'inherit',
    ...opts,
    env: { ...process.env, ...opts.env },
  });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

/**
 * Like `run` without blocking: for a step that runs beside another whose output is being read
 * (a blocked event loop would leave that one's pipe full and stall it); resolves with the exit code.
 */
export function runAsync(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: root,
      stdio: 'inherit',
      ...opts,
      env: { ...process.env, ...opts.env },
    });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

export function runOrExit(cmd, args, opts) {
  const code = run(cmd, args, opts);
  if (code !== 0) {
    process.stderr.write(`[sharemap] '${cmd} ${args.join(' ')}' failed with exit code ${code}\n`);
    process.exit(code);
  }
}

/** The pnpm to use: a pnpm 10 on PATH, else `npx -y pnpm@10` (no global state needed). */
export function pnpmCommand() {
  try {
    const v = execFileSync('pnpm', ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (v.startsWith('10.')) return ['pnpm', []];
  } catch {
    /* not installed */
  }
  return ['npx', ['-y', 'pnpm@10']];
}

export function pnpm(args, opts) {
  const [cmd, pre] = pnpmCommand();
  return run(cmd, [...pre, ...args], opts);
}

/** `pnpm` without blocking (`runAsync`). */
export function pnpmAsync(args, opts) {
  const [cmd, pre] = pnpmCommand();
  return runAsync(cmd, [...pre, ...args], opts);
}

/**
 * Runs pnpm without blocking, its stdout and stderr kept together in one buffer (for steps that
 * run side by side and print their output one after the other); resolves with the exit code.
 */
export function pnpmCaptured(args) {
  const [cmd, pre] = pnpmCommand();
  return new Promise((resolve) => {
    const child = spawn(cmd, [...pre, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    child.on('error', (err) => resolve({ code: 1, output: `${err.message}\n` }));
    child.on('close', (code) => resolve({ code: code ?? 1, output: Buffer.concat(chunks).toString() }));
  });
}

export function pnpmOrExit(args, opts) {
  const [cmd, pre] = pnpmCommand();
  runOrExit(cmd, [...pre, ...args], opts);
}

/** Installs dependencies when node_modules is missing or older than the lockfile. */
export function ensureInstalled() {
  const marker = path.join(root, 'node_modules', '.modules.yaml');
  const lock = path.join(root, 'pnpm-lock.yaml');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing dependencies (pnpm install --frozen-lockfile)...');
  pnpmOrExit(['install', '--frozen-lockfile'], { env: { PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' } });
}

/** Builds every package (`pnpm build`), or only the named workspace packages and their dependencies. */
export function build(packages = []) {
  log(`building${packages.length ? ` ${packages.join(', ')}` : ''}...`);
  if (!packages.length) pnpmOrExit(['-s', 'build']);
  else pnpmOrExit(['-s', ...packages.flatMap((p) => ['--filter', `${p}...`]), 'run', 'build']);
}

/**
 * PostgreSQL's binaries for a private cluster (apps/server/test/pg-cluster.mjs: the newest
 * /usr/lib/postgresql/N/bin, or SHAREMAP_PG_BIN) are there.
 */
export function havePostgres() {
  if (process.env.SHAREMAP_PG_BIN) return existsSync(path.join(process.env.SHAREMAP_PG_BIN, 'initdb'));
  const base = '/usr/lib/postgresql';
  return existsSync(base) && readdirSync(base).some((v) => existsSync(path.join(base, v, 'bin', 'initdb')));
}

/**
 * Installs Debian's postgresql when it is missing and we are root (as for chromium), for
 * `forWhat` (the server's PostgreSQL tests, the replicas benchmark); otherwise says on stderr
 * that `forWhat` fails until it is installed (never skipped). Returns whether it is there.
 */
export function ensurePostgres(forWhat) {
  if (havePostgres()) return true;
  if (process.getuid?.() === 0) {
    log(`installing Debian's postgresql for ${forWhat} (apt-get)...`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', 'postgresql'], { stdio: 'inherit', env });
    if (havePostgres()) return true;
  }
  process.stderr.write(
    "[sharemap] PostgreSQL not found: install Debian's postgresql (sudo apt-get install -y postgresql) " +
      `or set SHAREMAP_PG_BIN; ${forWhat} fail until then.\n`,
  );
  return false;
}
