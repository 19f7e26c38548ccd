import { describe, expect, it } from 'vitest';
import { analyze } from '../model/engine.js';
import { compareReports } from '../model/compare.js';
import { formatBytes, formatInteger } from './bytes.js';
import { reportToCsv, CSV_COLUMNS } from './csv.js';
import { renderMarkdown } from './markdown.js';
import { renderText } from './text.js';
import { fleetInstances, inputOf, inst } from '../../test/model-fixtures.js';

describe('formatBytes', () => {
  it('uses binary units and gives exact bytes on request', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(7_602_176)).toBe('7.3 MiB');
    expect(formatBytes(7_602_176, { exact: true })).toBe('7.3 MiB (7,602,176 bytes)');
    expect(formatBytes(-655_360)).toBe('-640.0 KiB');
    expect(formatBytes(3 * 1024 ** 3, { decimals: 2 })).toBe('3.00 GiB');
    expect(formatInteger(17_666_048)).toBe('17,666,048');
  });
});

describe('renderers', () => {
  const report = analyze(inputOf(fleetInstances()));

  it('renderText: headline, instances, findings', () => {
    const text = renderText(report);
    expect(text.split('\n')[0]).toBe(
      '6 instances, 16.8 MiB of page cache without sharing, 14.1 MiB with, 2.8 MiB saved (16.5 %)',
    );
    expect(text).toContain('17,666,048');
    expect(text).toContain('read order: with sharing between');
    expect(text).toContain('[error] mount-failed');
    expect(text).not.toContain('acme-signed'.toUpperCase());
  });

  it('renderMarkdown: tables, link, delta', () => {
    const base = analyze(inputOf([inst('a', 'base-v1.fp', 'D1'), inst('b', 'base-v2.fp', 'D1')]));
    const next = analyze(inputOf([inst('a', 'base-v1.fp', 'D1'), inst('b', 'base-v2.fp', 'D2')]));
    const md = renderMarkdown(next, {
      url: 'https://sharemap.example/r/1',
      delta: compareReports(base, next),
    });
    expect(md).toContain('[Full report](https://sharemap.example/r/1)');
    expect(md).toContain('saved -640.0 KiB');
    expect(md).toContain('| stopped sharing | saved before |');
    expect(md).toContain('| D2 | 1 |');
    const fleetMd = renderMarkdown(report);
    expect(fleetMd).toContain('| top shared files |');
    expect(fleetMd).toContain('#### Findings');
  });

  it('reportToCsv: one row per instance x file, quoted, CRLF', () => {
    const small = analyze(inputOf([inst('a', 'edge-mini.b16k', 'D1')]));
    const csv = reportToCsv(small);
    expect(csv.endsWith('\r\n')).toBe(true);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(small.files.instance.length + 1);
    const withComma = small.paths['edge-mini.b16k']!.find((p) => /[",]/.test(p));
    if (withComma) expect(csv).toContain(`"${withComma.replace(/"/g, '""')}"`);
  });
});
