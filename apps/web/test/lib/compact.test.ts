/**
 * A compact file table (report version 2, docs/metrics.md#compact-file-table) through the web
 * UI's data layer: the same fleet analysed per instance and compact, each sent over the wire as
 * the server and the static page send it (summary + sharemap-files encoding) and joined as the
 * UI joins it, gives the same rows, row by row, in every selector the views read.
 */
import { describe, expect, it } from 'vitest';
import { assembleFiles, decodeFiles, encodeFiles, reportSummary } from '@sharemap/report-wire';
import { analyze, contentIdsByImage, type AnalysisInput, type Report } from '@sharemap/sharing';
import { classFleet, inputOf, inst } from '@sharemap/sharing/testing';
import { headOf, joinReport } from '../../src/lib/head';
import {
  categoryOf,
  directoryTree,
  overlapSets,
  queryRows,
  relatedRows,
  rowPath,
  rowView,
  sharingMatrix,
  STATUS_FILTERS,
} from '../../src/lib/derive';
import { crossDomainMatrix, pairFiles, sharingPairs } from '../../src/lib/pairs';

/** The report as the UI holds it: summary and file table over the wire, joined. */
function overTheWire(r: Report): Report {
  const head = JSON.parse(JSON.stringify(reportSummary(r))) as ReturnType<typeof reportSummary>;
  return joinReport(head, assembleFiles(decodeFiles(encodeFiles(r).slice().buffer)));
}

/** Everything the Files table, its filters and its CSV export show of a row. */
function rowFacts(r: Report, row: number): unknown[] {
  const v = rowView(r);
  return [
    r.instances[v.instance(row)]!.id,
    rowPath(r, row),
    v.status(row),
    v.size(row),
    v.pagesWithout(row),
    v.pagesWith(row),
    v.group(row),
    relatedRows(r, row),
  ];
}

/**
 * The treemap's category of each row. 'duplicate' comes from the unsharable-duplicate findings'
 * row lists, which a compact report fills per class (a private lead row stands for its copies:
 * model/findings/duplicates.ts), so for private rows the two forms can differ between
 * 'private' and 'duplicate' (docs/web.md); they are compared as one there.
 */
function categories(r: Report, n: number): string[] {
  const v = rowView(r);
  return Array.from({ length: n }, (_, row) => {
    const c = categoryOf(r, row);
    return c === 'duplicate' && v.status(row).startsWith('private-') ? 'private' : c;
  });
}

function compare(input: AnalysisInput): { compact: Report; full: Report } {
  const full = overTheWire(analyze(input));
  const compact = overTheWire(analyze({ ...input, fileTable: 'compact' }));
  expect(full.version).toBe(1);
  expect(compact.version).toBe(2);
  expect(compact.files.status.length).toBeLessThan(full.files.status.length);
  const n = rowView(full).count;
  expect(rowView(compact).count).toBe(n);
  const facts = (r: Report) => Array.from({ length: n }, (_, row) => rowFacts(r, row));
  expect(facts(compact)).toEqual(facts(full));
  expect(categories(compact, n)).toEqual(categories(full, n));
  // Every sort and filter of the Files view, and a search, for all and for one later instance.
  const later = full.instances[full.instances.length - 1]!.id;
  for (const sort of ['path', '-path', 'instance', 'status', '-size', '-cached', '-saved', 'saved'])
    for (const status of STATUS_FILTERS.map((s) => s.id))
      for (const [instId, q, img] of [
        ['', '', ''],
        [later, '', ''],
        ['', 'lib', full.images[0]!.id],
      ] as const) {
        const query = { q, status, inst: instId, img, sort };
        expect(Array.from(queryRows(compact, query)), JSON.stringify(query)).toEqual(
          Array.from(queryRows(full, query)),
        );
      }
  expect(sharingMatrix(compact)).toEqual(sharingMatrix(full));
  expect(sharingPairs(compact)).toEqual(sharingPairs(full));
  expect(overlapSets(compact)).toEqual(overlapSets(full));
  const all = queryRows(full, { q: '', status: '', inst: '', img: '', sort: 'path' });
  // The directory trees, with private and duplicate bytes together (see categories()).
  const tree = (r: Report, dir: string) =>
    JSON.stringify(directoryTree(r, all, dir, 3), (k, x: unknown) =>
      x instanceof Map
        ? Object.fromEntries(x)
        : k === 'bytes'
          ? {
              ...(x as object),
              private: 0,
              duplicate: (x as Record<string, number>).private! + (x as Record<string, number>).duplicate!,
            }
          : x,
    );
  for (const dir of ['', '/usr', '/lib/x86_64-linux-gnu']) expect(tree(compact, dir)).toBe(tree(full, dir));
  const ids = contentIdsByImage(input.images);
  expect(crossDomainMatrix(compact, ids)).toEqual(crossDomainMatrix(full, ids));
  for (let a = 0; a < full.instances.length; a += 3)
    for (let b = a + 1; b < full.instances.length; b += 5) {
      const [x, y] = [full.instances[a]!.id, full.instances[b]!.id];
      expect(pairFiles(compact, x, y, ids)).toEqual(pairFiles(full, x, y, ids));
    }
  // The summary (headline, instances, findings and their rows, top shared files, scenarios) is
  // the per-instance report's, apart from the version.
  const { version: _c, ...headC } = headOf(compact);
  const { version: _f, ...headF } = headOf(full);
  // Findings: the Findings view links to the first row. (The rest of a list can differ: lists
  // are capped in the engine's order, and the duplicate findings' lists, see categories().)
  const firstRows = (h: typeof headC) => {
    h.findings = h.findings.map((f) => (f.rows ? { ...f, rows: f.rows.slice(0, 1) } : f));
  };
  firstRows(headC);
  firstRows(headF);
  expect(headC).toEqual(headF);
  return { compact, full };
}

describe('a compact file table in the web UI data layer', () => {
  // 33 mounts: three per class. (From 44 on, the per-instance report's finding row lists reach
  // their cap, MAX_FINDING_ROWS, and the two forms name different rows: docs/web.md.)
  it('gives every selector the per-instance rows: 33 mounts of eleven kinds (three per class)', () => {
    const { compact, full } = compare(inputOf(classFleet(33)));
    expect(compact.files.status.length * 3).toBe(full.files.status.length);
    // A row of i23, the third mount of base-v2.fp in acme (a copy of i1's rows, never a first
    // member), reads as in the per-instance table: shared, holding no pages of its own.
    const v = rowView(compact);
    const i23 = compact.instances.findIndex((x) => x.id === 'i23');
    const rows = queryRows(compact, { q: '', status: 'shared', inst: 'i23', img: '', sort: 'path' });
    expect(compact.files.rowsOf![i23]).toBe(1);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(v.instance(row)).toBe(i23);
      expect(v.pagesWith(row)).toBe(0);
      expect(full.files.status[row]).toBe('shared');
    }
  }, 600_000);

  it('gives every selector the per-instance rows: unknown domains, a failed mount, several domains', () => {
    compare(
      inputOf([
        inst('a1', 'base-v1.fp', 'd1'),
        inst('b1', 'base-v2.fp', null),
        inst('a2', 'base-v1.fp', 'd1'),
        inst('c1', 'app.fp', 'd2'),
        inst('b2', 'base-v2.fp', null),
        inst('a3', 'base-v1.fp', 'd2'),
        inst('c2', 'app.fp', 'd2', { dax: 'always' }),
        inst('a4', 'base-v1.fp', 'd1'),
      ]),
    );
  }, 600_000);
});
