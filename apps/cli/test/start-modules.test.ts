/**
 * What each `sharemap` command loads before it works (docs/benchmarks.md#cli-start-modules-loaded-per-command-and-option-2026-12-07):
 * the global help and version load no command, `analyze` loads the YAML parser only for a
 * config file, the OCI reader only for an archive, the server client only for a baseline. The
 * built CLI runs in a child Node process with a module hook that names every module of the
 * workspace and of node_modules the process loads, so the test sees the real module graph.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fx, haveBuild, MAIN_JS, ROOT } from './helpers.js';

/** A module hook (runs on the loader thread): names each module loaded from ROOT on stderr. */
const HOOK = `
const root = ${JSON.stringify('file://' + ROOT + '/')};
export async function load(url, context, next) {
  if (url.startsWith(root)) process.stderr.write('loaded-module ' + url.slice(root.length) + '\\n');
  return next(url, context);
}`;
const REGISTER = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));`;

/** Run `sharemap ARGS` in `cwd` under the hook: exit status, stdout and the modules loaded. */
function run(args: string[], cwd: string): { status: number | null; stdout: string; modules: string[] } {
  const r = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, MAIN_JS, ...args],
    { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, SHAREMAP_LZ4_DECODER: '' } },
  );
  const modules = [...r.stderr.matchAll(/^loaded-module (.+)$/gm)].map((m) => m[1]!);
  return { status: r.status, stdout: r.stdout, modules };
}

const has = (modules: string[], re: RegExp): boolean => modules.some((m) => re.test(m));
const YAML = /node_modules\/.*\/yaml\//;
const OCI_READER = /^packages\/oci\/dist\/(index|archive|predict)\.js$/;
const CLIENT = /^apps\/cli\/dist\/client\.js$/;

describe.skipIf(!haveBuild())('modules each sharemap command loads', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sharemap-start-'));
    // Two small manifests, as a CI job hands analyze what its scans wrote.
    for (const [img, out] of [
      ['base-v1.fp.img', 'v1.ndjson'],
      ['base-v2.fp.img', 'v2.ndjson'],
    ] as const) {
      const r = spawnSync(process.execPath, [
        MAIN_JS,
        'scan',
        fx(img),
        '--ndjson',
        '--output',
        join(dir, out),
      ]);
      expect(r.status).toBe(0);
    }
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('--help and --version load no command and no package', () => {
    for (const args of [['--help'], ['--version']]) {
      const r = run(args, dir);
      expect(r.status).toBe(0);
      expect(r.modules.filter((m) => !m.startsWith('apps/cli/dist/'))).toEqual([]);
      expect(r.modules.filter((m) => /^apps\/cli\/dist\/commands\/(?!summaries\.js$)/.test(m))).toEqual([]);
    }
    const help = run(['--help'], dir);
    expect(help.stdout).toContain('  analyze  Compute which files share page cache');
  }, 120_000);

  it('analyze of manifests without a config file loads neither the YAML parser, the OCI reader nor the server client', () => {
    const r = run(['analyze', 'v1.ndjson', 'v2.ndjson', '--json-out', 'report.json', '--markdown'], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('### sharemap: page cache sharing');
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))).toMatchObject({
      kind: 'sharemap-report',
    });
    expect(has(r.modules, /^apps\/cli\/dist\/commands\/analyze\.js$/)).toBe(true);
    expect(has(r.modules, YAML)).toBe(false);
    expect(has(r.modules, OCI_READER)).toBe(false);
    expect(has(r.modules, CLIENT)).toBe(false);
  }, 120_000);

  it('loads the YAML parser for a config file and applies it, the server client for a baseline', () => {
    writeFileSync(join(dir, '.sharemap.yml'), 'thresholds:\n  minSavedPercent: 99\n');
    try {
      const r = run(['analyze', 'v1.ndjson', 'v2.ndjson', '--baseline', 'report.json'], dir);
      expect(r.status).toBe(1); // the config's threshold fails the gate
      expect(has(r.modules, YAML)).toBe(true);
      expect(has(r.modules, CLIENT)).toBe(true);
      expect(has(r.modules, OCI_READER)).toBe(false);
    } finally {
      rmSync(join(dir, '.sharemap.yml'));
    }
  }, 120_000);

  it('loads the OCI reader for an archive, and analyzes it', () => {
    const r = run(['analyze', join(ROOT, 'testdata/oci/image.flat.tar'), '--json'], dir);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveProperty('instances');
    expect(has(r.modules, OCI_READER)).toBe(true);
  }, 120_000);
});
