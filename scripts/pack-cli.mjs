#!/usr/bin/env node
/**
 * `pnpm pack:cli [--out DIR]`: the CLI as one npm package, `sharemap-<version>.tgz` (docs/ci.md).
 *
 * - dist/main.js: one esbuild bundle of apps/cli (scan, analyze, upload, the renderers; the
 *   workspace packages and yaml, fflate, fzstd, hash-wasm inlined): no native dependency.
 * - dist/digest-worker.js: the thread `scan --hash` reads and hashes file content on.
 * - dist/manifest-read-worker.js: the thread `analyze` reads large manifest inputs on.
 * - dist/scan-split-worker.js: the second thread of `scan --ndjson` of a large image.
 * - dist/report-template.html: the static HTML report template (apps/web, `--html`).
 * - dist/server.js + dist/worker.js + dist/web/: the server for `sharemap serve` and
 *   `token create`, loaded only by them. Its native SQLite binding, better-sqlite3, is an
 *   optional peer dependency: npm does not install it (no compile, no download), `serve` says
 *   how to add it.
 *
 * The package is staged in a temporary directory (package.json written here: files, licence,
 * engines, bin), packed with `npm pack`, and the staging removed. Needs the built web UI
 * (apps/web/dist, `pnpm build`); builds it when its report template is missing.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, serverBeside } from './bundle.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outIdx = process.argv.indexOf('--out');
const outDir = resolve(outIdx > 0 ? process.argv[outIdx + 1] : root);
const cliPkg = JSON.parse(readFileSync(join(root, 'apps/cli/package.json'), 'utf8'));
const serverPkg = JSON.parse(readFileSync(join(root, 'apps/server/package.json'), 'utf8'));
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const webDist = join(root, 'apps/web/dist');

if (!existsSync(join(webDist, 'report-template.html')) || !existsSync(join(webDist, 'index.html'))) {
  console.error('pack:cli: building the web UI (apps/web/dist)');
  execFileSync('pnpm', ['--filter', '@sharemap/web', 'run', 'build'], { cwd: root, stdio: 'inherit' });
}

const stage = mkdtempSync(join(tmpdir(), 'sharemap-pack-'));
try {
  const dist = join(stage, 'dist');
  mkdirSync(dist);
  // The CLI: the server is the separate bundle next to it, imported only by serve/token.
  await bundle({
    entryPoints: [join(root, 'apps/cli/src/main.ts')],
    outfile: join(dist, 'main.js'),
    plugins: [serverBeside],
  });
  // The content digest thread of `scan --hash` (docs/reader.md#content-digests-on-worker-threads),
  // which the bundled reader starts as ./digest-worker.js beside main.js.
  await bundle({
    entryPoints: { 'digest-worker': join(root, 'packages/erofs/src/node/digest-worker.ts') },
    outdir: dist,
  });
  // The thread `analyze` reads large manifest inputs on (docs/cli.md#manifest-threads), which
  // the bundled CLI starts as ./manifest-read-worker.js beside main.js.
  await bundle({
    entryPoints: { 'manifest-read-worker': join(root, 'apps/cli/src/manifest-read-worker.ts') },
    outdir: dist,
  });
  // The second thread of `scan --ndjson|--json` of a large image (docs/cli.md#metadata-scan-on-two-threads),
  // which the bundled CLI starts as ./scan-split-worker.js beside main.js.
  await bundle({
    entryPoints: { 'scan-split-worker': join(root, 'apps/cli/src/scan-split-worker.ts') },
    outdir: dist,
  });
  // The server and its scan/analysis worker (loaded as ./worker.js beside the pool's module).
  await bundle({
    entryPoints: {
      server: join(root, 'apps/server/src/index.ts'),
      worker: join(root, 'apps/server/src/scan/worker.ts'),
    },
    outdir: dist,
    external: ['better-sqlite3'],
  });
  cpSync(join(webDist, 'report-template.html'), join(dist, 'report-template.html'));
  // The web UI for `serve`: its page and assets only (not the template's build leftovers).
  cpSync(join(webDist, 'index.html'), join(dist, 'web/index.html'));
  cpSync(join(webDist, 'assets'), join(dist, 'web/assets'), { recursive: true });

  const pkg = {
    name: 'sharemap',
    version: cliPkg.version,
    description:
      'Which files of EROFS images share page cache under Linux inode_share, and how much memory that saves: scan, analyze, CI gate, HTML report.',
    license: cliPkg.license,
    type: 'module',
    bin: { sharemap: 'dist/main.js' },
    files: ['dist', 'README.md'],
    engines: { node: rootPkg.engines.node },
    keywords: ['erofs', 'page-cache', 'inode_share', 'ci'],
    peerDependencies: { 'better-sqlite3': serverPkg.dependencies['better-sqlite3'] },
    peerDependenciesMeta: { 'better-sqlite3': { optional: true } },
  };
  writeFileSync(join(stage, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  writeFileSync(
    join(stage, 'README.md'),
    [
      '# sharemap',
      '',
      'Which files of EROFS images share page cache under Linux 7.0 `inode_share`, and how much memory that saves.',
      '',
      '```',
      'sharemap scan image.erofs',
      'sharemap analyze build/*.erofs --mounts deploy/fstab --markdown --junit gate.xml --html report.html',
      'sharemap upload build/*.erofs --server https://sharemap.example.com --baseline main',
      '```',
      '',
      '`sharemap serve` (the server and web UI) needs the optional native module better-sqlite3:',
      '`npm install -g better-sqlite3@12` next to sharemap.',
      '',
    ].join('\n'),
  );
  mkdirSync(outDir, { recursive: true });
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], {
    cwd: stage,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  const [info] = JSON.parse(out);
  console.log(join(outDir, info.filename));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
