import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandSpec } from '../src/args.js';
import { analyzeSpec } from '../src/commands/analyze.js';
import { collectSpec } from '../src/commands/collect.js';
import { scanSpec } from '../src/commands/scan.js';
import { serveSpec } from '../src/commands/serve.js';
import { tokenSpec } from '../src/commands/token.js';
import { uploadSpec } from '../src/commands/upload.js';
import { FINDING_CODES } from '../src/config.js';
import { BufferOut } from '../src/io.js';
import { createProgress } from '../src/progress.js';
import { cli, ROOT } from './helpers.js';

const SPECS: CommandSpec[] = [scanSpec, analyzeSpec, uploadSpec, collectSpec, tokenSpec, serveSpec];
const docs = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8');

describe('help and docs', () => {
  it('sharemap --help lists every command and the exit codes', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const s of SPECS) expect(r.stdout.split('\n')).toContain(`  ${s.name.padEnd(9)}${s.summary}`);
    expect(r.stdout).toContain(
      'Exit codes: 0 pass, 1 a threshold failed, 2 bad input or usage, 3 server or network error.',
    );
    expect((await cli([])).code).toBe(2);
    expect((await cli(['help', 'scan'])).stdout).toMatch(/^Usage: sharemap scan IMAGE/);
  });

  for (const s of SPECS) {
    it(`sharemap ${s.name} --help shows every option; docs/cli.md documents them`, async () => {
      const r = await cli([s.name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith(`Usage: ${s.usage}\n`)).toBe(true);
      expect(docs).toContain(`## \`sharemap ${s.name === 'token' ? 'token create' : s.name}\``);
      for (const [name, o] of Object.entries(s.options)) {
        expect(r.stdout).toContain(`--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`);
        expect(docs, `docs/cli.md lacks --${name}`).toContain(`--${name}`);
      }
    });
  }

  it('docs/cli.md lists every finding code and every threshold key', () => {
    for (const c of FINDING_CODES) expect(docs).toContain(`\`${c}\``);
    for (const k of [
      'minSavedPercent',
      'minSavedBytes',
      'maxUnsharableDuplicateBytes',
      'maxUnfingerprintedFiles',
      'maxBytesLost',
      'maxFilesStoppedSharing',
      'failOn',
    ])
      expect(docs).toContain(k);
  });

  it('--version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'apps/cli/package.json'), 'utf8')) as { version: string };
    expect((await cli(['--version'])).stdout).toBe(`sharemap ${pkg.version}\n`);
    expect((await cli(['-V'])).stdout).toBe(`sharemap ${pkg.version}\n`);
  });
});

describe('progress', () => {
  it('plain lines when not a TTY (CI logs): start, each 10 %, done', () => {
    const out = new BufferOut();
    const p = createProgress(out);
    p.start('uploading a.img', 1000);
    for (let i = 1; i <= 1000; i += 7) p.update(i);
    p.update(1000);
    p.done('uploaded a.img');
    const lines = out.text.trimEnd().split('\n');
    expect(lines[0]).toBe('uploading a.img: 1000 B');
    expect(lines.slice(1, -1)).toEqual(
      [10, 20, 30, 40, 50, 60, 70, 80, 90].map((d) => `uploading a.img: ${d} %`),
    );
    expect(lines.at(-1)).toBe('uploaded a.img');
    expect(out.text).not.toContain('\r');
  });

  it('a redrawn bar on a TTY', () => {
    const out = new BufferOut();
    out.isTTY = true;
    const p = createProgress(out);
    p.start('uploading a.img', 2048);
    p.update(2048);
    p.done('uploaded a.img');
    expect(out.text).toContain('\r\x1b[2Kuploading a.img [');
    expect(out.text).toContain('100 % 2.0 KiB/2.0 KiB');
    expect(out.text.endsWith('\r\x1b[2Kuploaded a.img\n')).toBe(true);
  });

  it('quiet prints nothing', () => {
    const out = new BufferOut();
    const p = createProgress(out, { quiet: true });
    p.start('x', 1);
    p.note('y');
    p.done();
    expect(out.text).toBe('');
  });
});
