/**
 * The report summary: everything of a Report except the per-file parts (`files`, `groups`,
 * `paths`), plus the few figures the first screen derives from them. Small (kilobytes for a
 * report of millions of rows), so the web UI can show the headline before the file table loads.
 */
import { topGroups } from '@sharemap/sharing';
import type { AopsClass, Report, TopGroup } from '@sharemap/sharing';

export const SUMMARY_TOP_GROUPS = 10;

export interface ReportSummaryDoc extends Omit<Report, 'files' | 'groups' | 'paths' | 'measured'> {
  /** The measured working set without its per-row columns (docs/working-set.md). */
  measured?: Omit<NonNullable<Report['measured']>, 'pagesWithout' | 'pagesWith'>;
  /** Rows of the per-file table (`files.instance.length`). */
  fileRows: number;
  /** Shared inodes (`groups.length`). */
  groupCount: number;
  /** The shared inodes that save the most (at most 10), with "image:path" of their first member. */
  topGroups: TopGroup[];
  /** Per instance id: the aops classes of its rows that are members of a shared inode, sorted. */
  instanceAops: Record<string, AopsClass[]>;
}

/** The aops classes per instance id, from the shared inodes' members. */
export function instanceAopsOf(
  report: Pick<Report, 'instances' | 'files' | 'groups'>,
): Record<string, AopsClass[]> {
  const sets = new Map<number, Set<AopsClass>>();
  const inst = report.files.instance;
  for (const g of report.groups)
    for (const row of g.members) {
      const i = inst[row]!;
      let s = sets.get(i);
      if (!s) sets.set(i, (s = new Set()));
      s.add(g.aops);
    }
  const out: Record<string, AopsClass[]> = {};
  for (const [i, s] of [...sets].sort((a, b) => a[0] - b[0])) {
    const id = report.instances[i]?.id;
    if (id !== undefined) out[id] = [...s].sort();
  }
  return out;
}

/** The summary of a report (shares every value with `report`: no copies of large parts). */
export function reportSummary(report: Report): ReportSummaryDoc {
  const { files, groups, paths, measured, ...rest } = report;
  void paths;
  const summary: ReportSummaryDoc = {
    ...rest,
    fileRows: files.instance.length,
    groupCount: groups.length,
    topGroups: topGroups(report, SUMMARY_TOP_GROUPS),
    instanceAops: instanceAopsOf(report),
  };
  if (measured) {
    const { pagesWithout: _w, pagesWith: _h, ...totals } = measured;
    summary.measured = totals;
  }
  return summary;
}
