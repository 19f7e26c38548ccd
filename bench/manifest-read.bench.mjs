// Reading 1M-record manifests into columns (the reading phase of `scale-analyze`), in process:
// the two NDJSON manifests of `scale-analyze` one after the other with one StringTable (as
// `sharemap analyze` reads them), then the two Parquet ones. Times are wall per phase; the JSON
// result carries the load average (the 2-core VM is shared: figures are noisy) and each parse's
// CPU time. SHAREMAP_EROFS_DIST=DIR reads with another build of packages/erofs (e.g. main's).
//
// Inputs: $TMPDIR/sharemap-scale-analyze/big-{a,b}.{ndjson,parquet}, built by
// `pnpm bench scale-analyze` (this bench does not build them). Options: --only ndjson|parquet.
// Needs a build (`pnpm build`). Run: `pnpm bench manifest-read`.
import { readFileSync, existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
const dist = process.env.SHAREMAP_EROFS_DIST ?? path.resolve(import.meta.dirname, '../packages/erofs/dist');
const { parseManifestBytes, StringTable, manifestColumns } = await import(path.join(dist, 'index.js'));
const { parseParquetManifest } = await import(path.join(dist, 'manifest-parquet.js'));

const dir = path.join(process.env.SHAREMAP_BENCH_DIR ?? tmpdir(), 'sharemap-scale-analyze');
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg >= 0 ? process.argv[onlyArg + 1] : undefined;
const load = [loadavg()[0]];
const cases = {};

async function readPair(form, parse) {
  const files = ['big-a', 'big-b'].map((b) => path.join(dir, `${b}.${form}`));
  if (!files.every(existsSync))
    return { error: `missing inputs in ${dir}: run pnpm bench scale-analyze first` };
  const strings = new StringTable();
  const out = { files: [] };
  const t0 = performance.now();
  for (const f of files) {
    const bytes = readFileSync(f);
    const t = performance.now();
    const cpu = process.cpuUsage();
    const m = await parse(bytes, { strings, columnar: true });
    const used = process.cpuUsage(cpu);
    out.files.push({
      file: path.basename(f),
      records: manifestColumns(m).n,
      parseS: +((performance.now() - t) / 1000).toFixed(3),
      // CPU time (user + system): less inflated by the machine's load than wall time
      cpuS: +((used.user + used.system) / 1e6).toFixed(3),
    });
  }
  out.totalS = +((performance.now() - t0) / 1000).toFixed(3);
  out.heapMB = Math.round(process.memoryUsage().heapUsed / 1e6);
  return out;
}

if (!only || only === 'ndjson') cases.ndjson = await readPair('ndjson', (b, o) => parseManifestBytes(b, o));
globalThis.gc?.();
if (!only || only === 'parquet')
  cases.parquet = await readPair('parquet', (b, o) => parseParquetManifest(b, o));
load.push(loadavg()[0]);
console.log(JSON.stringify({ name: 'manifest-read', loadavg: load.map((x) => +x.toFixed(2)), cases }));
