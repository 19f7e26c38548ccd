/**
 * action/dist is committed build output (a JavaScript action runs from the repository as
 * checked out, docs/ci.md#github-actions). This test builds it again from the sources, the
 * report template with vite (apps/web/vite.report.config.ts; the copy `pnpm build` left in
 * apps/web/dist when it is newer than every input) and the bundle with
 * scripts/build-action.mjs, into a temporary folder, and fails while the committed copy
 * differs: rebuild with `pnpm build && pnpm build:action` and commit action/dist.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sharemap-action-dist-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Files of `built` missing from `committed`, extra in it, or with other bytes (sorted names). */
function staleFiles(committed: string, built: string): string[] {
  const a = new Set(readdirSync(committed));
  const b = new Set(readdirSync(built));
  const names = [...new Set([...a, ...b])].sort();
  return names.filter(
    (n) =>
      !a.has(n) ||
      !b.has(n) ||
      !readFileSync(path.join(committed, n)).equals(readFileSync(path.join(built, n))),
  );
}

/** The environment of a build from a shell: without vitest's NODE_ENV=test (vite would build React's development code) and VITEST* variables. */
const buildEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => k !== 'NODE_ENV' && !k.startsWith('VITEST')),
);

function run(args: string[], cwd: string): void {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: buildEnv });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
}

/** The newest modification time under `p` (a file or a folder, walked), 0 when it is missing. */
function newest(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const f of readdirSync(p)) t = Math.max(t, newest(path.join(p, f)));
  return t;
}

/**
 * Everything the report template's build reads (apps/web/vite.report.config.ts: the page, the
 * web sources and, through the `source` condition, the packages' sources; the configs and the
 * lockfile).
 */
function templateInputs(): string[] {
  const web = path.join(root, 'apps/web');
  const packages = path.join(root, 'packages');
  return [
    ...['src', 'report-template.html', 'vite.report.config.ts', 'package.json', 'tsconfig.json'].map((f) =>
      path.join(web, f),
    ),
    ...readdirSync(packages).flatMap((p) => [
      path.join(packages, p, 'src'),
      path.join(packages, p, 'package.json'),
    ]),
    path.join(root, 'tsconfig.base.json'),
    path.join(root, 'pnpm-lock.yaml'),
  ];
}

/**
 * The template `pnpm build` left in apps/web/dist when it is newer than every input of its
 * build, else null. `npm test` builds just before the tests, so the test takes that copy (as
 * `pnpm build:action` does) instead of running the same vite build a second time; run alone
 * after a change to the sources without a build, it builds the template itself.
 */
function builtTemplate(): string | null {
  const built = path.join(root, 'apps/web/dist/report-template.html');
  if (!existsSync(built)) return null;
  const inputs = Math.max(...templateInputs().map(newest));
  return statSync(built).mtimeMs > inputs ? built : null;
}

describe('staleFiles', () => {
  const dir = (name: string, files: Record<string, string>) => {
    const d = path.join(tmp, name);
    mkdirSync(d);
    for (const [f, text] of Object.entries(files)) writeFileSync(path.join(d, f), text);
    return d;
  };
  it('finds a changed byte, a missing file and an extra file', () => {
    const committed = dir('committed', { 'index.js': 'a();', 'report-template.html': '<p>', 'old.js': '' });
    expect(
      staleFiles(committed, dir('same', { 'index.js': 'a();', 'report-template.html': '<p>', 'old.js': '' })),
    ).toEqual([]);
    expect(
      staleFiles(
        committed,
        dir('built', { 'index.js': 'b();', 'report-template.html': '<p>', 'new.js': '' }),
      ),
    ).toEqual(['index.js', 'new.js', 'old.js']);
  });
});

describe('action/dist', () => {
  it('is what the sources build', { timeout: 600_000 }, () => {
    const out = path.join(tmp, 'action');
    let template = builtTemplate();
    if (!template) {
      const web = path.join(tmp, 'web');
      const vite = path.join(
        path.dirname(createRequire(path.join(root, 'apps/web/package.json')).resolve('vite/package.json')),
        'bin/vite.js',
      );
      run(
        [
          vite,
          'build',
          '-c',
          'vite.report.config.ts',
          '--outDir',
          web,
          '--emptyOutDir',
          '--logLevel',
          'warn',
        ],
        path.join(root, 'apps/web'),
      );
      template = path.join(web, 'report-template.html');
    }
    run(['scripts/build-action.mjs', '--out', out, '--template', template], root);
    expect(
      staleFiles(path.join(root, 'action/dist'), out),
      'action/dist differs from what the sources build: run pnpm build && pnpm build:action and commit action/dist',
    ).toEqual([]);
  });
});
