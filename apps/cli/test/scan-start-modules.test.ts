/**
 * What `sharemap scan` loads as it starts (src/archive-sniff.ts): an EROFS image is told from
 * an archive without loading the OCI reader, which only an archive needs. The built CLI runs in
 * a child Node process with a module hook (node:module register) that writes every module of
 * @sharemap/oci the process loads to stderr, so the test sees the real process's module graph.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fx, haveBuild, MAIN_JS, ROOT } from './helpers.js';

/** A module hook (runs on the loader thread): names each @sharemap/oci module on stderr. */
const HOOK = `
export async function load(url, context, next) {
  const m = /\\/packages\\/oci\\/dist\\/(.+)$/.exec(url);
  if (m) process.stderr.write('oci-module ' + m[1] + '\\n');
  return next(url, context);
}`;
const REGISTER = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));`;

/** Run `sharemap ARGS` in a child with the hook: its stdout and the OCI modules it loaded. */
function run(args: string[]): { status: number | null; stdout: string; oci: string[] } {
  const r = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, MAIN_JS, ...args],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const oci = [...r.stderr.matchAll(/^oci-module (.+)$/gm)].map((m) => m[1]!).sort();
  return { status: r.status, stdout: r.stdout, oci };
}

describe.skipIf(!haveBuild())('modules sharemap scan loads', () => {
  it('scans an EROFS image without loading the OCI reader, only its compression sniffing', () => {
    const r = run(['scan', fx('app.fp.img'), '--hash', '--ndjson']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toContain('"kind":"sharemap-manifest"');
    expect(r.oci).toContain('compress.js');
    expect(r.oci).not.toContain('index.js');
    expect(r.oci).not.toContain('archive.js');
    expect(r.oci).not.toContain('predict.js');
  }, 120_000);

  it('still loads the OCI reader for an archive, and scans it', () => {
    const r = run(['scan', join(ROOT, 'testdata/oci/image.flat.tar'), '--ndjson']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toContain('"kind":"sharemap-manifest"');
    expect(r.oci).toContain('index.js');
    expect(r.oci).toContain('predict.js');
  }, 120_000);
});
