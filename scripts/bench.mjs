// `pnpm bench`: runs every benchmark in bench/*.bench.mjs (each a standalone Node script that
// prints one JSON object on its last stdout line), and writes bench/results/<name>.json plus
// bench/results/summary.json. Benchmarks compare against peer tools in the same run and report
// ratios; they never assert timings. `pnpm bench NAME...` runs only the named ones; options
// after the names (`pnpm bench server-soak --seconds 30`) are passed on to each benchmark.
// Exits with code 1 when any benchmark exits with another code than 0 (its error is its JSON result).
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { root, log, ensureInstalled, build } from './lib.mjs';

const argv = process.argv.slice(2);
const firstOption = argv.findIndex((a) => a.startsWith('--'));
const only = firstOption < 0 ? argv : argv.slice(0, firstOption);
const passOn = firstOption < 0 ? [] : argv.slice(firstOption);
const benchDir = path.join(root, 'bench');
const outDir = path.join(benchDir, 'results');
mkdirSync(outDir, { recursive: true });

ensureInstalled();
build();

const summary = { date: new Date().toISOString(), node: process.version, results: {} };
for (const file of readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .sort()) {
  const name = file.replace(/\.bench\.mjs$/, '');
  if (only.length && !only.includes(name)) continue;
  log(`bench ${name}`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(benchDir, file), ...passOn], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = (r.stdout ?? '').trim().split('\n');
  let result;
  try {
    result = JSON.parse(lines.at(-1) ?? '');
  } catch {
    result = { error: `no JSON result (exit ${r.status})`, output: lines.slice(-5) };
  }
  if (r.status !== 0) process.exitCode = 1;
  summary.results[name] = result;
  writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
log(`results in ${path.relative(root, outDir)}/`);
