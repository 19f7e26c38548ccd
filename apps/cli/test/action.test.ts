/**
 * The GitHub Action as the runner runs it: the committed bundle (action/dist/index.js, what
 * `uses:` executes) as a child process with the environment a runner sets (`INPUT_*`,
 * `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`, `RUNNER_TEMP`), the outputs read back in the
 * runner's file format, the exit code the gate's.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { headline, type Report } from '@sharemap/sharing';
import { ACTION_INPUTS, ACTION_OUTPUTS, outputRecord } from '../src/action.js';
import { fx, ROOT, tmp } from './helpers.js';

const BUNDLE = join(ROOT, 'action/dist/index.js');

/**
 * The runner's reading of `$GITHUB_OUTPUT` (and `$GITHUB_ENV`): `name=value` lines, or
 * `name<<DELIM`, value lines, `DELIM`.
 */
function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const value: string[] = [];
      let j = i + 1;
      for (; j < lines.length && lines[j] !== heredoc[2]; j++) value.push(lines[j]!);
      if (j === lines.length) throw new Error(`unterminated output ${heredoc[1]}`);
      out[heredoc[1]!] = value.join('\n');
      i = j;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`bad output line ${JSON.stringify(line)}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function runAction(inputs: Record<string, string>, extraEnv: Record<string, string> = {}) {
  const dir = tmp();
  for (const img of ['base-v1.fp.img', 'base-v2.fp.img', 'app.fp.img']) {
    copyFileSync(fx(img), join(dir, img));
  }
  const outputFile = join(dir, 'github-output');
  const summaryFile = join(dir, 'step-summary');
  // The runner creates both files empty before the step.
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: dir,
    ...extraEnv,
  };
  // The runner passes every input of action.yml, defaults included, as INPUT_<NAME>.
  for (const [name, def] of Object.entries(ACTION_INPUTS))
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = inputs[name] ?? def;
  const r = spawnSync(process.execPath, [BUNDLE], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
  return {
    dir,
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
  };
}

describe('GitHub Action (action.yml, action/dist/index.js)', () => {
  it('action.yml declares the inputs (with their defaults) and outputs the entry knows, node20, the bundle', () => {
    const yml = parseYaml(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: string; required?: boolean; description: string }>;
      outputs: Record<string, { description: string }>;
      runs: { using: string; main: string };
    };
    expect(yml.runs).toEqual({ using: 'node20', main: 'action/dist/index.js' });
    expect(Object.keys(yml.inputs).sort()).toEqual(Object.keys(ACTION_INPUTS).sort());
    for (const [name, def] of Object.entries(ACTION_INPUTS)) {
      expect(yml.inputs[name]!.description).toBeTruthy();
      if (name === 'images') expect(yml.inputs[name]!.required).toBe(true);
      else expect(yml.inputs[name]!.default, name).toBe(def);
    }
    expect(Object.keys(yml.outputs).sort()).toEqual([...ACTION_OUTPUTS].sort());
    expect(existsSync(join(ROOT, 'action/dist/report-template.html'))).toBe(true);
  });

  it('a failing gate: exit 1, outputs in the runner format, the job summary, an error annotation', () => {
    const r = runAction({ images: '*.img', args: '--min-saved-percent 99 --no-config' });
    expect(r.code).toBe(1);
    const report = JSON.parse(readFileSync(join(r.dir, 'sharemap-report.json'), 'utf8')) as Report;
    expect(report.images.map((i) => i.name)).toEqual(['app.fp.img', 'base-v1.fp.img', 'base-v2.fp.img']);
    expect(r.outputs['exit-code']).toBe('1');
    expect(r.outputs.passed).toBe('false');
    expect(r.outputs.headline).toBe(headline(report));
    expect(r.outputs['bytes-saved']).toBe(String(report.totals.bytesSaved));
    expect(r.outputs['percent-saved']).toBe(String(report.totals.percentSaved));
    expect(r.outputs['report-url']).toBeUndefined();
    // The multi-line summary survives the delimiter format exactly: it is the printed comment.
    const comment = readFileSync(join(r.dir, 'sharemap-comment.md'), 'utf8');
    expect(comment).toContain(`**${headline(report)}**`);
    expect(comment).toContain(':x: **Gate failed**: 1 of 1 checks failed');
    expect(r.outputs.summary).toBe(comment);
    expect(r.outputs.summary!.split('\n').length).toBeGreaterThan(10);
    for (const [name, file] of [
      ['markdown', 'sharemap-comment.md'],
      ['json', 'sharemap-report.json'],
      ['junit', 'sharemap-junit.xml'],
      ['html', 'sharemap-report.html'],
    ] as const) {
      expect(r.outputs[name]).toBe(join(r.dir, file));
      expect(existsSync(join(r.dir, file)), file).toBe(true);
    }
    expect(readFileSync(join(r.dir, 'sharemap-junit.xml'), 'utf8')).toContain('name="minSavedPercent"');
    expect(readFileSync(join(r.dir, 'sharemap-report.html'), 'utf8')).toContain(
      '<script type="application/octet-stream" data-sharemap-part="files">',
    );
    // The job summary: the comment, appended by the CLI. The annotation escapes % (workflow commands).
    expect(r.summary).toBe(comment + '\n');
    expect(r.stdout).toMatch(
      /\n::error::sharemap: gate failed: minSavedPercent \(saved [\d.]+ %25 of page cache < minimum 99\.0 %25\)\n$/,
    );
  });

  it('a passing gate: exit 0; empty file inputs write no such file', () => {
    const r = runAction({
      images: 'base-v1.fp.img\nbase-v2.fp.img',
      args: '--min-saved-percent 1 --no-config',
      junit: '',
      html: '',
      markdown: '',
      json: '',
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.outputs).toMatchObject({ 'exit-code': '0', passed: 'true' });
    expect(r.outputs.junit).toBeUndefined();
    expect(r.outputs.html).toBeUndefined();
    expect(r.outputs.markdown).toBeUndefined();
    expect(existsSync(join(r.dir, 'sharemap-junit.xml'))).toBe(false);
    expect(r.outputs.headline).toMatch(/^2 instances, /);
    expect(r.summary).toContain(':white_check_mark: **Gate passed** (1 check)');
  });

  it('bad inputs: exit 2 with an error annotation; a server error warns and passes by default', () => {
    let r = runAction({ images: 'build/*.erofs' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('::error::sharemap: input images: no file matches build/*.erofs\n');
    expect(r.outputs).toEqual({});
    r = runAction({ images: '*.img', command: 'scan' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('::error::sharemap: input command: expected analyze or upload, got "scan"\n');
    // Port 9 on the loopback (discard): nothing listens, the connection is refused.
    r = runAction({
      images: 'app.fp.img',
      command: 'upload',
      server: 'http://127.0.0.1:9',
      args: '--no-config',
    });
    expect(r.code).toBe(0);
    expect(r.outputs).toEqual({ 'exit-code': '3', passed: 'false' });
    expect(r.stdout).toMatch(
      /^::warning::sharemap: cannot reach the sharemap server at http:\/\/127\.0\.0\.1:9/m,
    );
    r = runAction({
      images: 'app.fp.img',
      command: 'upload',
      server: 'http://127.0.0.1:9',
      args: '--no-config',
      'server-error': 'fail',
    });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^::error::sharemap: cannot reach/m);
  }, 120_000);

  it('an output value never contains its delimiter', () => {
    const rec = outputRecord('x', 'a\nb');
    const [first, ...rest] = rec.trimEnd().split('\n');
    const delim = first!.slice('x<<'.length);
    expect(delim).toMatch(/^ghadelimiter_[0-9a-f-]{36}$/);
    expect(rest).toEqual(['a', 'b', delim]);
    expect(parseOutputFile(rec)).toEqual({ x: 'a\nb' });
  });
});
