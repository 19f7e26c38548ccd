import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config-file.js';
import { loadConfig } from '../src/config.js';
import { parseSize } from '../src/units.js';
import { tmp } from './helpers.js';

const err = (text: string): string => {
  try {
    parseConfig(text, '.sharemap.yml');
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('.sharemap.yml', () => {
  it('parses every documented key', () => {
    const c = parseConfig(
      [
        'version: 1',
        'server: https://sharemap.example.com/',
        'pageSize: 16KiB',
        'workingSet: 50%',
        'mounts: [deploy/fstab]',
        'publishers: { app.erofs: acme }',
        'mapping: { /var/lib/images/app.img: app.erofs }',
        'thresholds:',
        '  minSavedPercent: 20',
        '  minSavedBytes: 64MiB',
        '  maxUnsharableDuplicateBytes: "10 MB"',
        '  maxUnfingerprintedFiles: 0',
        '  maxBytesLost: 1048576',
        '  maxFilesStoppedSharing: 5',
        '  failOn: [fingerprint-mismatch, mixed-publishers, inode-share-ineffective]',
      ].join('\n'),
      '/repo/.sharemap.yml',
    );
    expect(c.server).toBe('https://sharemap.example.com');
    expect(c.pageSize).toBe(16384);
    expect(c.workingSet).toBe(0.5);
    expect(c.mounts).toEqual(['/repo/deploy/fstab']);
    expect(c.publishers).toEqual({ 'app.erofs': 'acme' });
    expect(c.mapping).toEqual({ '/var/lib/images/app.img': 'app.erofs' });
    expect(c.thresholds).toEqual({
      minSavedPercent: 20,
      minSavedBytes: 64 * 1024 * 1024,
      maxUnsharableDuplicateBytes: 10_000_000,
      maxUnfingerprintedFiles: 0,
      maxBytesLost: 1048576,
      maxFilesStoppedSharing: 5,
      failOn: ['fingerprint-mismatch', 'mixed-publishers', 'inode-share-ineffective'],
    });
  });

  it('an empty file is an empty config', () => {
    expect(parseConfig('', 'x.yml').thresholds).toEqual({});
    expect(parseConfig('# nothing\n', 'x.yml').mounts).toEqual([]);
  });

  it('errors name the file, line, column and key path', () => {
    expect(err('thresholds:\n  minSavedPercent: lots\n')).toBe(
      '.sharemap.yml:2:20: thresholds.minSavedPercent: expected a number between 0 and 100, got "lots"',
    );
    expect(err('thresholds:\n  minSavedPercent: 120\n')).toMatch(
      /^\.sharemap\.yml:2:20: thresholds\.minSavedPercent: expected a number between 0 and 100, got 120$/,
    );
    expect(err('thresholds:\n  failOn:\n    - fingerprint-mismatch\n    - oops\n')).toMatch(
      /^\.sharemap\.yml:4:7: thresholds\.failOn\.1: unknown finding code "oops" \(known: mount-failed, inode-share-ineffective, fingerprint-mismatch, fingerprint-unverifiable, mixed-publishers, unsharable-duplicate, cross-domain-key-collision, order-dependent, domain-unknown\)$/,
    );
    expect(err('thresholds:\n  minSavedPercnt: 5\n')).toMatch(
      /^\.sharemap\.yml:2:3: unknown key "thresholds\.minSavedPercnt" \(did you mean "minSavedPercent"\?\)$/,
    );
    expect(err('treshold: 1\n')).toMatch(/^\.sharemap\.yml:1:1: unknown key "treshold"/);
    expect(err('pageSize: 3000\n')).toMatch(
      /^\.sharemap\.yml:1:11: pageSize: expected a power of two from 512 to 65536, got 3000$/,
    );
    expect(err('workingSet: 0\n')).toMatch(/workingSet: expected a number greater than 0 and at most 1/);
    expect(err('server: ftp://x\n')).toMatch(/server: expected an http\(s\) URL/);
    expect(err('version: 2\n')).toMatch(/version: expected 1/);
    expect(err('thresholds:\n  maxUnsharableDuplicateBytes: 10 parsecs\n')).toMatch(
      /^\.sharemap\.yml:2:32: thresholds\.maxUnsharableDuplicateBytes: expected a size in bytes/,
    );
    expect(err('thresholds: [1]\n')).toMatch(/thresholds: expected a mapping of thresholds/);
    expect(err('- a\n- b\n')).toMatch(
      /^\.sharemap\.yml:1:1: expected a mapping of settings at the top level$/,
    );
    expect(err('a: [\n')).toMatch(/^\.sharemap\.yml:\d+:\d+: invalid YAML: /);
    expect(err('server: a\nserver: b\n')).toMatch(/invalid YAML: .*unique/i);
  });

  it('loadConfig finds .sharemap.yml, honours --config and --no-config, resolves mounts next to the file', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'ci'));
    writeFileSync(join(dir, '.sharemap.yml'), 'thresholds:\n  minSavedPercent: 10\n');
    writeFileSync(join(dir, 'ci', 'gate.yml'), 'mounts: [../deploy/fstab]\n');
    expect((await loadConfig(dir, undefined, false)).thresholds.minSavedPercent).toBe(10);
    expect((await loadConfig(dir, undefined, true)).thresholds).toEqual({});
    expect((await loadConfig(dir, 'ci/gate.yml', false)).mounts).toEqual([join(dir, 'deploy/fstab')]);
    await expect(loadConfig(dir, 'nope.yml', false)).rejects.toThrow(/config file nope\.yml not found/);
    expect((await loadConfig(tmp(), undefined, false)).file).toBeNull();
  });

  it('sizes', () => {
    expect(parseSize('4096')).toBe(4096);
    expect(parseSize('1.5 GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('10M')).toBe(10 * 1024 ** 2);
    expect(parseSize('10MB')).toBe(10_000_000);
    expect(parseSize('-1')).toBeNull();
    expect(parseSize('ten')).toBeNull();
  });
});
