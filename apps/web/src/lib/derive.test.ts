/**
 * The web's selectors and URL state against a Report from the real engine on fixture oracles
 * (no server, no browser).
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '@sharemap/sharing';
import { inputOf, inst } from '../../../../packages/sharing/test/model-fixtures.js';
import { applyWhatIf } from './whatif';
import { overlapSets, queryRows, rowPath, sharingMatrix, directoryTree } from './derive';
import { DEFAULT_VIEW, formatQuery, parseQuery, parseRoute } from '../state/url';

const input = inputOf([
  inst('i1', 'base-v1.fp', 'D1'),
  inst('i2', 'base-v2.fp', 'D1'),
  inst('i3', 'app.fp', 'D2'),
]);
const report = analyze(input);

describe('selectors', () => {
  it('filters and sorts rows over the columnar table', () => {
    const all = queryRows(report, { q: '', status: '', inst: '', img: '', sort: '-saved' });
    expect(all.length).toBe(report.files.instance.length);
    const saving = queryRows(report, { q: '', status: 'saving', inst: '', img: '', sort: '-saved' });
    const f = report.files;
    const saved = [...saving].map((r) => f.pagesWithout[r]! - f.pagesWith[r]!);
    expect(saved.every((s) => s > 0)).toBe(true);
    expect(saved).toEqual([...saved].sort((a, b) => b - a));
    expect(saved.reduce((a, b) => a + b, 0) * report.options.pageSize).toBe(report.totals.bytesSaved);
    const q = queryRows(report, { q: 'LIBEXPAT', status: '', inst: 'i2', img: '', sort: 'path' });
    expect(q.length).toBeGreaterThan(0);
    for (const r of q) {
      expect(rowPath(report, r).toLowerCase()).toContain('libexpat');
      expect(report.instances[f.instance[r]!]!.id).toBe('i2');
    }
  });

  it('sharing matrix: symmetric, pairs only within a domain', () => {
    const { n, m } = sharingMatrix(report);
    expect(n).toBe(3);
    expect(m[0 * n + 1]).toBe(m[1 * n + 0]);
    expect(m[0 * n + 1]).toBeGreaterThan(0);
    expect(m[0 * n + 2]).toBe(0); // i3 is in another domain
  });

  it('overlap sets add up to the saved bytes', () => {
    const total = overlapSets(report).reduce((a, s) => a + s.saved, 0);
    expect(total).toBe(report.totals.bytesSaved);
  });

  it('directory tree adds up to the bytes without sharing', () => {
    const rows = queryRows(report, { q: '', status: '', inst: '', img: '', sort: '' });
    expect(directoryTree(report, rows, '').total).toBe(report.totals.bytesWithoutSharing);
  });

  it('a domain reassignment is what the model says', () => {
    const merged = analyze(applyWhatIf(input, { domains: { i3: 'D1' }, scenarios: [] }));
    expect(merged.totals.bytesSaved).toBeGreaterThan(report.totals.bytesSaved);
    expect(merged.instances.find((i) => i.id === 'i3')!.domain).toEqual({ label: 'D1' });
  });
});

describe('URL state', () => {
  it('round-trips every field', () => {
    const v = {
      ...DEFAULT_VIEW,
      view: 'files' as const,
      q: 'a b,c',
      status: 'shared' as const,
      sel: 12,
      dom: { i3: 'tenant:a,b', i1: 'D1' },
      scn: ['merge-domains'],
      gm: 'matrix' as const,
    };
    expect(parseQuery(formatQuery(v))).toEqual(v);
    expect(formatQuery(DEFAULT_VIEW)).toBe('');
  });
  it('routes', () => {
    expect(parseRoute('/')).toEqual({ page: 'start' });
    expect(parseRoute('/r/abc_-1')).toEqual({ page: 'report', id: 'abc_-1' });
    expect(parseRoute('/x/y')).toEqual({ page: 'not-found' });
  });
});
