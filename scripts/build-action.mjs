#!/usr/bin/env node
/**
 * `pnpm build:action [--out DIR]`: the GitHub Action's bundle (action.yml -> action/dist/index.js),
 * from apps/cli/src/action-main.ts, with the HTML report template beside it. The bundle is
 * committed (a JavaScript action runs from the repository as checked out): rebuild it when the
 * CLI changes. `serve` is not part of the action.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outIdx = process.argv.indexOf('--out');
const out = resolve(outIdx > 0 ? process.argv[outIdx + 1] : join(root, 'action/dist'));
const template = join(root, 'apps/web/dist/report-template.html');
if (!existsSync(template)) {
  console.error('build:action: apps/web/dist/report-template.html is missing: run pnpm build first');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
await bundle({
  entryPoints: [join(root, 'apps/cli/src/action-main.ts')],
  outfile: join(out, 'index.js'),
  // The action never serves: the server (and its native module) stay out.
  external: ['@sharemap/server'],
  minify: true,
});
copyFileSync(template, join(out, 'report-template.html'));
console.log(join(out, 'index.js'));
