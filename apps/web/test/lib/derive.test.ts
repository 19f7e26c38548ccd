/**
 * The web's selectors and URL state against a Report from the real engine on fixture oracles
 * (no server, no browser).
 */
import { describe, expect, it } from 'vitest';
import { assembleFiles, decodeFiles, encodeFiles, reportSummary } from '@sharemap/report-wire';
import { analyze, explainFile, headline, type Report } from '@sharemap/sharing';
import { fleetInstances, inputOf, inst } from '@sharemap/sharing/testing';
import { headOf, headlineOf, joinReport } from '../../src/lib/head';
import { applyWhatIf } from '../../src/lib/whatif';
import { overlapSets, queryRows, rowPath, sharingMatrix, directoryTree } from '../../src/lib/derive';
import { DEFAULT_VIEW, formatQuery, parseQuery, parseRoute } from '../../src/state/url';

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
    expect(m[0 * n + 1]).toBe(655_360); // worked example base-v1.fp, base-v2.fp : acme
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
    // docs/sharing-rules.md worked examples: two images in one domain, then all three.
    expect([report.totals.bytesSaved, merged.totals.bytesSaved]).toEqual([655_360, 1_241_088]);
    expect(merged.instances.find((i) => i.id === 'i3')!.domain).toEqual({ label: 'D1' });
  });
});

/** The files table's order before the radix sort: one comparator per sort key. */
function comparatorOrder(r: Report, rows: Uint32Array, sort: string): number[] {
  const f = r.files;
  const desc = sort.startsWith('-');
  const key = desc ? sort.slice(1) : sort;
  const dir = desc ? -1 : 1;
  const path = (a: number) => rowPath(r, a);
  const cmp: Record<string, (a: number, b: number) => number> = {
    size: (a, b) => (f.size[a]! - f.size[b]!) * dir || a - b,
    saved: (a, b) =>
      (f.pagesWithout[a]! - f.pagesWith[a]! - (f.pagesWithout[b]! - f.pagesWith[b]!)) * dir ||
      (f.size[a]! - f.size[b]!) * dir ||
      a - b,
    cached: (a, b) => (f.pagesWith[a]! - f.pagesWith[b]!) * dir || a - b,
    status: (a, b) => (f.status[a]! < f.status[b]! ? -dir : f.status[a]! > f.status[b]! ? dir : a - b),
    instance: (a, b) => (f.instance[a]! - f.instance[b]!) * dir || a - b,
    path: (a, b) => (path(a) < path(b) ? -dir : path(a) > path(b) ? dir : a - b),
  };
  return [...rows].sort(cmp[key]!);
}

describe('files table over the server encoding', () => {
  // The stored report as the UI gets it: summary + the decoded sharemap-files columns.
  const fleet = analyze(inputOf(fleetInstances()));
  const parts = assembleFiles(decodeFiles(encodeFiles(fleet).slice().buffer));
  const joined = joinReport(reportSummary(fleet), parts);

  it('the joined report is the report, with typed-array columns', () => {
    expect(ArrayBuffer.isView(joined.files.size)).toBe(true);
    expect(joined.groups).toEqual(fleet.groups);
    expect(joined.paths).toEqual(fleet.paths);
    expect(headOf(joined)).toEqual(reportSummary(fleet));
    expect(headlineOf(headOf(joined))).toBe(headline(fleet));
  });

  for (const sort of [
    'size',
    '-size',
    'saved',
    '-saved',
    'cached',
    '-cached',
    'status',
    '-status',
    'instance',
    '-instance',
    'path',
    '-path',
    '',
  ])
    it(`sort ${sort || '(none)'}: the order of the comparator sort`, () => {
      const all = queryRows(fleet, { q: '', status: '', inst: '', img: '', sort: '' });
      const want = sort ? comparatorOrder(fleet, all, sort) : [...all];
      expect([...queryRows(fleet, { q: '', status: '', inst: '', img: '', sort })]).toEqual(want);
      expect([...queryRows(joined, { q: '', status: '', inst: '', img: '', sort })]).toEqual(want);
    });

  it('filters the same on the decoded columns', () => {
    for (const status of ['saving', 'private', 'held', 'shared'] as const) {
      const q = { q: 'lib', status, inst: '', img: '', sort: '-saved' };
      expect([...queryRows(joined, q)]).toEqual([...queryRows(fleet, q)]);
    }
    expect(sharingMatrix(joined)).toEqual(sharingMatrix(fleet));
    expect(overlapSets(joined)).toEqual(overlapSets(fleet));
    expect(explainFile(joined, 5)).toBe(explainFile(fleet, 5));
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
