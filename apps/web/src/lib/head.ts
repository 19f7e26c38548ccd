/**
 * The report's head: everything but the per-file parts (the server's `/summary`), which the
 * first screen needs. The stored report's head comes from the server before its file table;
 * a live report (recomputed in the browser) has its head derived once.
 */
import { reportSummary, type FilesParts, type ReportSummaryDoc } from '@sharemap/report-wire';
import { headline } from '@sharemap/sharing';
import type { Report } from '@sharemap/sharing';

export type ReportHead = ReportSummaryDoc;

/** Per-file parts of a report (`GET /api/reports/:id/files`, decoded), with the measured per-row columns if any. */
export type ReportFiles = FilesParts;

const heads = new WeakMap<Report, ReportHead>();

/** The head of a full report (computed once per report object). */
export function headOf(r: Report): ReportHead {
  let h = heads.get(r);
  if (!h) heads.set(r, (h = reportSummary(r)));
  return h;
}

/** The full report from its head and its per-file parts; its head is the given one. */
export function joinReport(head: ReportHead, parts: ReportFiles): Report {
  // The head's measured working set lacks its per-row columns: they come with the files (an
  // encoding without them, from before they were encoded, leaves the report without `measured`;
  // the head keeps its totals for the headline).
  const { fileRows, groupCount, topGroups, instanceAops, measured, ...rest } = head;
  void fileRows;
  void groupCount;
  void topGroups;
  void instanceAops;
  const { measuredRows, ...files } = parts;
  const r: Report = { ...rest, ...files };
  if (measured && measuredRows) r.measured = { ...measured, ...measuredRows };
  heads.set(r, head);
  return r;
}

/** "N instances, X of page cache without sharing, ..." (headline() reads only totals and instances). */
export function headlineOf(h: ReportHead): string {
  return headline(h as unknown as Report);
}
