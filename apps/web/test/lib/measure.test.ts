/**
 * The measure choice (lib/measure.ts, docs/web.md "Measure"): a report with residency data, as
 * the UI gets it (summary + the decoded sharemap-files encoding), shown in measured bytes.
 * base-v1.fp on two mounts of one domain, 4 KiB pages: libcap (12 pages) 7 resident on m1 and
 * 5 on m2 (one shared inode: 7 with sharing), libexpat (43 pages) read whole on m1.
 */
import { describe, expect, it } from 'vitest';
import { assembleFiles, decodeFiles, encodeFiles, reportSummary } from '@sharemap/report-wire';
import { analyze } from '@sharemap/sharing';
import { inputOf, inst } from '@sharemap/sharing/testing';
import { joinReport } from '../../src/lib/head';
import { directoryTree, queryRows, rowPath, sharingMatrix } from '../../src/lib/derive';
import { hasMeasuredRows, measuredReport, reportIn } from '../../src/lib/measure';
import { DEFAULT_VIEW, formatQuery, parseQuery } from '../../src/state/url';

const LIBCAP = '/lib/x86_64-linux-gnu/libcap.so.2.66';
const EXPAT = '/lib/x86_64-linux-gnu/libexpat.so.1.8.10';
const P = 4096;

const report = analyze({
  ...inputOf([inst('m1', 'base-v1.fp', 'd'), inst('m2', 'base-v1.fp', 'd')]),
  residency: { instances: { m1: { [LIBCAP]: 7, [EXPAT]: 'all' }, m2: { [LIBCAP]: 5 } } },
});
const joined = joinReport(
  reportSummary(report),
  assembleFiles(decodeFiles(encodeFiles(report).slice().buffer)),
);

describe('measure', () => {
  it('the joined report carries the measured columns; static is the report itself', () => {
    expect(hasMeasuredRows(joined)).toBe(true);
    expect(Array.from(joined.measured!.pagesWithout)).toEqual(report.measured!.pagesWithout);
    expect(joined.measured!.totals).toEqual(report.measured!.totals);
    expect(reportIn(joined, 'static')).toBe(joined);
    // Computed once per report: every view gets the same object.
    expect(reportIn(joined, 'measured')).toBe(measuredReport(joined));
    // A report without residency data stays static whatever the URL says.
    const { measured, ...plain } = report;
    void measured;
    const noData = joinReport(
      reportSummary({ ...plain }),
      assembleFiles(decodeFiles(encodeFiles(plain).slice().buffer)),
    );
    expect(hasMeasuredRows(noData)).toBe(false);
    expect(reportIn(noData, 'measured')).toBe(noData);
  });

  it('the files table sorts and sums measured bytes', () => {
    const m = reportIn(joined, 'measured');
    const rows = queryRows(m, { q: '', status: '', inst: '', img: '', sort: '-saved' });
    // Only libcap saves under the measured working set: 5 pages on its second member.
    expect(rowPath(m, rows[0]!)).toBe(LIBCAP);
    expect((m.files.pagesWithout[rows[0]!]! - m.files.pagesWith[rows[0]!]!) * P).toBe(5 * P);
    const bySize = queryRows(m, { q: '', status: 'cached', inst: '', img: '', sort: '-cached' });
    expect([...bySize].map((r) => [rowPath(m, r), m.files.pagesWith[r]! * P])).toEqual([
      [EXPAT, 43 * P],
      [LIBCAP, 7 * P],
      [LIBCAP, 0], // m2's member: resident (5 pages), but its page cache is m1's with sharing
    ]);
    let without = 0;
    for (const r of rows) without += m.files.pagesWithout[r]!;
    expect(without * P).toBe(report.measured!.totals.bytesWithoutSharing);
    expect(without).toBe(7 + 5 + 43);
  });

  it('the treemap and the graph follow the measure', () => {
    const all = queryRows(joined, { q: '', status: '', inst: '', img: '', sort: '-saved' });
    const m = measuredReport(joined);
    expect(directoryTree(m, all, '', 2).total).toBe((7 + 5 + 43) * P);
    expect(directoryTree(joined, all, '', 2).total).toBe(report.totals.bytesWithoutSharing);
    // Edge m1-m2: the shared inodes' measured pages (libcap 7, libexpat 43), not their static pages.
    const sm = sharingMatrix(m);
    expect(sm.m[0 * 2 + 1]).toBe((7 + 43) * P);
    expect(sm.m[0]).toBe((7 + 43) * P);
    expect(sm.m[3]).toBe(5 * P);
    expect(sharingMatrix(joined).m[1]).toBe(report.totals.bytesWithSharing);
  });

  it('is a URL parameter: measure=measured, absent when static', () => {
    expect(parseQuery('').measure).toBe('static');
    expect(parseQuery('?measure=measured').measure).toBe('measured');
    expect(parseQuery('?measure=bogus').measure).toBe('static');
    expect(formatQuery({ ...DEFAULT_VIEW, view: 'files', measure: 'measured' })).toBe(
      '?view=files&measure=measured',
    );
    expect(formatQuery({ ...DEFAULT_VIEW, measure: 'static' })).toBe('');
  });
});
