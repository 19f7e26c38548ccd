/** Test helpers: run the CLI in-process with captured output, or as a child process. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { run } from '../src/cli.js';
import { BufferOut } from '../src/io.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIX = join(ROOT, 'testdata/erofs');
export const MOUNTS = join(ROOT, 'testdata/mounts');
export const fx = (name: string): string => join(FIX, name);
/** The images testdata/mounts/fleet.fstab mounts, in its order. */
export const FLEET_IMAGES = [
  'base-v1.fp.img',
  'base-v2.fp.img',
  'app.fp.img',
  'base-v1.fp.lz4hc.img',
  'app.fp.lz4hc.img',
  'edge.img',
  'base-v2.fp.lz4hc.img',
] as const;
export const MAIN_JS = join(ROOT, 'apps/cli/dist/main.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; tty?: boolean } = {},
): Promise<RunResult> {
  const stdout = new BufferOut();
  const stderr = new BufferOut();
  if (opts.tty) stderr.isTTY = true;
  const code = await run(args, { stdout, stderr, env: { ...(opts.env ?? {}) }, cwd: opts.cwd ?? tmp() });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The built CLI as a child process (skipped by callers when apps/cli/dist is missing). */
export function cliProcess(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): RunResult {
  const r = spawnSync(process.execPath, [MAIN_JS, ...args], {
    cwd: opts.cwd ?? tmp(),
    env: { PATH: process.env.PATH ?? '', ...(opts.env ?? {}) },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Like cliProcess, without blocking the event loop (for tests that run a server in-process). */
export function cliProcessAsync(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN_JS, ...args], {
      cwd: opts.cwd ?? tmp(),
      env: { PATH: process.env.PATH ?? '', ...(opts.env ?? {}) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export const haveBuild = (): boolean => existsSync(MAIN_JS);

const tmpDirs: string[] = [];
/** Removes the folders tmp() made so far. */
export function removeTmpDirs(): void {
  for (const dir of tmpDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
// Registered in the root suite of the first test file of a process that imports these helpers,
// so the folders tmp() made are gone when the file ends, whatever its tests did. Files that
// share a process (the `cli-shared` project, vitest.config.ts) import this module once: its
// set-up file, tmp-dirs-setup.ts, registers the same for each file.
afterAll(removeTmpDirs);

/** A fresh temporary folder, removed after the test file. */
export function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sharemap-cli-'));
  tmpDirs.push(dir);
  return dir;
}

/** stderr is exactly one line (the error convention). */
export function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1)
    throw new Error(`expected one stderr line, got ${lines.length}: ${JSON.stringify(stderr)}`);
  return lines[0]!;
}
