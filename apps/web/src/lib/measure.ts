/**
 * The measure the files table, the treemap and the graph show (docs/web.md "Measure"): static
 * (every page of every file read: the report's own columns) or measured (the pages the residency
 * data found resident: `Report.measured`, docs/working-set.md). The measured figures are a report
 * of their own shape, derived once per report object and shared by every view, so the views'
 * derived data (sort orders, directory trees, the sharing matrix) is computed once per measure.
 */
import type { Report } from '@sharemap/sharing';
import type { Measure } from '../state/url';

/** Whether the report carries the measured per-row columns (residency data was analysed). */
export function hasMeasuredRows(r: Report): boolean {
  return (
    r.measured !== undefined && r.measured.pagesWithout !== undefined && r.measured.pagesWith !== undefined
  );
}

const views = new WeakMap<Report, Report>();

/**
 * The report with its measured figures in place of the static ones: per-row pages, each shared
 * inode's pages (its first member's measured `pagesWith`, where the measured accounting charges
 * them: model/residency.ts), totals and per-instance totals. Everything else is the report's own.
 */
export function measuredReport(r: Report): Report {
  let m = views.get(r);
  if (m) return m;
  const ms = r.measured!;
  const pw = ms.pagesWith;
  m = {
    ...r,
    totals: ms.totals,
    perInstance: ms.perInstance,
    files: { ...r.files, pagesWithout: ms.pagesWithout, pagesWith: pw },
    groups: r.groups.map((g) => ({ ...g, pages: g.members.length ? (pw[g.members[0]!] ?? 0) : 0 })),
  };
  views.set(r, m);
  return m;
}

/** The report in the chosen measure (static when the report has no measured columns). */
export function reportIn(r: Report, measure: Measure): Report {
  return measure === 'measured' && hasMeasuredRows(r) ? measuredReport(r) : r;
}
