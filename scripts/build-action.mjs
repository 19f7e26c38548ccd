#!/usr/bin/env node
/**
 * `pnpm build:action [--out DIR] [--template FILE]`: the GitHub Action's bundle (action.yml ->
 * action/dist/index.js), from apps/cli/src/action-main.ts, with the HTML report template beside
 * it (by default the one `pnpm build` leaves in apps/web/dist). The bundle is committed (a
 * JavaScript action runs from the repository as checked out): rebuild it when the CLI, the
 * sharing model or the web report changes; scripts/test/action-dist.test.ts fails while the
 * committed copy differs from what the sources build. `serve` is not part of the action.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outIdx = process.argv.indexOf('--out');
const out = resolve(outIdx > 0 ? process.argv[outIdx + 1] : join(root, 'action/dist'));
const templateIdx = process.argv.indexOf('--template');
const template =
  templateIdx > 0 ? resolve(process.argv[templateIdx + 1]) : join(root, 'apps/web/dist/report-template.html');
if (!existsSync(template)) {
  console.error(`build:action: ${template} is missing: run pnpm build first`);
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
