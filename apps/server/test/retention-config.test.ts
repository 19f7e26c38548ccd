/** Retention settings (src/gc/retention.ts): defaults, the environment, refusals, the docs. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { DEFAULT_RETENTION, resolveRetention } from '../src/gc/retention.js';
import { repo } from './helpers.js';

const DAY_MS = 86_400_000;
const VARIABLES = [
  'SHAREMAP_REPORT_TTL_DAYS',
  'SHAREMAP_UPLOAD_TTL_DAYS',
  'SHAREMAP_GC_INTERVAL_MINUTES',
  'SHAREMAP_GC_GRACE_MINUTES',
];

describe('retention settings', () => {
  it('keep everything by default, with an hourly collection and a one-hour grace period', () => {
    expect(loadConfig({}, []).retention).toEqual({
      reportTtlMs: null,
      uploadTtlMs: null,
      gcIntervalMs: 3_600_000,
      gcGraceMs: 3_600_000,
    });
    expect(DEFAULT_RETENTION).toEqual(loadConfig({}, []).retention);
  });

  it('read days and minutes from the environment; 0 keeps for ever or turns the collection off', () => {
    expect(
      loadConfig(
        {
          SHAREMAP_REPORT_TTL_DAYS: '30',
          SHAREMAP_UPLOAD_TTL_DAYS: '7',
          SHAREMAP_GC_INTERVAL_MINUTES: '0',
          SHAREMAP_GC_GRACE_MINUTES: '90',
        },
        [],
      ).retention,
    ).toEqual({ reportTtlMs: 30 * DAY_MS, uploadTtlMs: 7 * DAY_MS, gcIntervalMs: 0, gcGraceMs: 5_400_000 });
    expect(resolveRetention({ SHAREMAP_REPORT_TTL_DAYS: '0', SHAREMAP_UPLOAD_TTL_DAYS: '' })).toEqual(
      DEFAULT_RETENTION,
    );
  });

  it('refuse values out of range with a message naming the variable', () => {
    for (const [name, value] of [
      ['SHAREMAP_REPORT_TTL_DAYS', '-1'],
      ['SHAREMAP_UPLOAD_TTL_DAYS', '1.5'],
      ['SHAREMAP_GC_INTERVAL_MINUTES', '99999999'],
      ['SHAREMAP_GC_GRACE_MINUTES', '0'],
      ['SHAREMAP_GC_GRACE_MINUTES', 'an hour'],
    ] as const)
      expect(() => loadConfig({ [name]: value }, [])).toThrow(
        new RangeError(
          `${name}: expected an integer from ${name === 'SHAREMAP_GC_GRACE_MINUTES' ? 1 : 0} to ${
            {
              SHAREMAP_REPORT_TTL_DAYS: 36500,
              SHAREMAP_UPLOAD_TTL_DAYS: 36500,
              SHAREMAP_GC_INTERVAL_MINUTES: 35000,
              SHAREMAP_GC_GRACE_MINUTES: 525600,
            }[name]
          }, got ${JSON.stringify(value)}`,
        ),
      );
  });

  it('are each in the configuration table of docs/server.md', () => {
    const doc = readFileSync(path.join(repo, 'docs/server.md'), 'utf8');
    for (const v of VARIABLES) expect(doc, v).toMatch(new RegExp(`^\\|\\s*\\|\\s*\`${v}\``, 'm'));
  });
});
