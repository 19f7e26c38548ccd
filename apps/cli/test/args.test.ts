/**
 * Argument parsing (src/args.ts): an option value that starts with "-" (a server's report id is
 * random base64url, so one in 64 does) is taken as the value, not refused as ambiguous, unless
 * it names an option of the command.
 */
import { describe, expect, it } from 'vitest';
import { joinDashValues, parseCommandArgs, str, type CommandSpec } from '../src/args.js';
import { uploadSpec } from '../src/commands/upload.js';
import { cli, fx } from './helpers.js';

const spec: CommandSpec = {
  name: 'demo',
  summary: '',
  usage: 'sharemap demo X',
  options: {
    baseline: { type: 'string', description: '' },
    output: { type: 'string', short: 'o', description: '' },
    json: { type: 'boolean', description: '' },
    quiet: { type: 'boolean', short: 'q', description: '' },
  },
  positionals: { min: 0, name: 'X' },
};

describe('option values that start with "-"', () => {
  it('--baseline -ID and -o -FILE are values; --name=VALUE forms pass unchanged', () => {
    const id = '-Yk3Hq0b9Zq2c1x7Wv5s_A'; // 22 characters of base64url, as the server makes them
    const a = parseCommandArgs(spec, ['img', '--baseline', id, '-o', '-out.json', '--json']);
    expect(str(a, 'baseline')).toBe(id);
    expect(str(a, 'output')).toBe('-out.json');
    expect(a.values.json).toBe(true);
    expect(a.positionals).toEqual(['img']);
    expect(str(parseCommandArgs(spec, [`--baseline=${id}`]), 'baseline')).toBe(id);
    expect(
      joinDashValues(['--baseline', id, '-o', '-x'], {
        baseline: { type: 'string' },
        output: { type: 'string', short: 'o' },
      }),
    ).toEqual([`--baseline=${id}`, '-o-x']);
  });

  it('a value that names an option of the command is still refused (the value was forgotten)', () => {
    for (const argv of [
      ['--baseline', '--json'],
      ['--baseline', '--output=x'],
      ['--baseline', '-q'],
      ['-o', '-q'],
    ])
      expect(() => parseCommandArgs(spec, argv), argv.join(' ')).toThrow(/argument is ambiguous/);
    // after the -- terminator nothing is joined: "-x" is a positional
    const a = parseCommandArgs(spec, ['--', '--baseline', '-x']);
    expect(a.positionals).toEqual(['--baseline', '-x']);
    expect(str(a, 'baseline')).toBeUndefined();
  });

  it('upload: a negative threshold reaches the option\'s own check instead of "ambiguous"', async () => {
    expect(
      str(parseCommandArgs(uploadSpec, ['a.img', '--baseline', '-AbC', '--server', 'http://x']), 'baseline'),
    ).toBe('-AbC');
    const r = await cli(['analyze', fx('app.fp.img'), '--min-saved-percent', '-5']);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/ambiguous/);
    expect(r.stderr).toMatch(/--min-saved-percent/);
  });
});
