/**
 * The report summary: everything of a Report except the per-file parts (`files`, `groups`,
 * `paths`), plus the few figures the first screen derives from them. Small (kilobytes for a
 * report of millions of rows), so the web UI can show the headline before the file table loads.
 */
import {
  AOPS_CLASSES,
  fileRowView,
  groupColumnsOf,
  mapReportRows,
  MAX_FINDING_ROWS,
  MAX_TRUST_ROWS,
  topGroups,
} from '@sharemap/sharing';
import type { AopsClass, FileRowView, Report, TopGroup } from '@sharemap/sharing';

export const SUMMARY_TOP_GROUPS = 10;

export interface ReportSummaryDoc extends Omit<Report, 'files' | 'groups' | 'paths' | 'measured'> {
  /** The measured working set without its per-row columns (docs/working-set.md). */
  measured?: Omit<NonNullable<Report['measured']>, 'pagesWithout' | 'pagesWith'>;
  /** Rows of the per-instance file table (`files.instance.length`; of a compact table, the rows it stands for). */
  fileRows: number;
  /** Shared inodes (`groups.length`). */
  groupCount: number;
  /** The shared inodes that save the most (at most 10), with "image:path" of their first member. */
  topGroups: TopGroup[];
  /** Per instance id: the aops classes of its rows that are members of a shared inode, sorted. */
  instanceAops: Record<string, AopsClass[]>;
}

/** The aops classes per instance id, from the shared inodes' members (every instance a compact table's row stands for). */
export function instanceAopsOf(
  report: Pick<Report, 'instances' | 'files' | 'groups'>,
): Record<string, AopsClass[]> {
  // Per instance with rows; a compact table's other instances take their lead's (its rows are theirs).
  const byRows = new Map<number, Set<AopsClass>>();
  const inst = report.files.instance;
  const groups = groupColumnsOf(report);
  const { memberStart, memberRows } = groups;
  for (let g = 0; g < groups.count; g++)
    for (let k = memberStart[g]!; k < memberStart[g + 1]!; k++) {
      const i = inst[memberRows[k]!]!;
      let s = byRows.get(i);
      if (!s) byRows.set(i, (s = new Set()));
      s.add(AOPS_CLASSES[groups.aops[g]!]!);
    }
  const rowsOf = report.files.rowsOf;
  const sets = new Map<number, Set<AopsClass>>();
  for (let i = 0; i < report.instances.length; i++) {
    const s = byRows.get(rowsOf?.[i] ?? i);
    if (s) sets.set(i, s);
  }
  const out: Record<string, AopsClass[]> = {};
  for (const [i, s] of [...sets].sort((a, b) => a[0] - b[0])) {
    const id = report.instances[i]?.id;
    if (id !== undefined) out[id] = [...s].sort();
  }
  return out;
}

/**
 * The top shared inodes, their member lists in per-instance rows (a compact table's lists name
 * lead rows, docs/metrics.md#compact-file-table): the web UI links to the first member's row of
 * the file table, which it numbers per instance.
 */
function perInstanceTopGroups(report: Report, view: FileRowView): TopGroup[] {
  const top = topGroups(report, SUMMARY_TOP_GROUPS);
  if (!view.compact) return top;
  return top.map(({ group: { memberCount: _m, rejectedCount: _r, ...g }, ...x }) => ({
    ...x,
    group: { ...g, members: view.members(g), rejected: view.rejected(g) },
  }));
}

/** The summary of a report (shares every value with `report`: no copies of large parts). */
export function reportSummary(report: Report): ReportSummaryDoc {
  // Every member but these, without reading `groups` (the engine's report keeps it as columns
  // until read: sharing's group-columns.ts), in the report's order.
  const rest: Record<string, unknown> = {};
  for (const k of Object.keys(report))
    if (k !== 'files' && k !== 'groups' && k !== 'paths' && k !== 'measured')
      rest[k] = report[k as keyof Report];
  const { files, measured } = report;
  const view = fileRowView(files, report.instances.length);
  const summary: ReportSummaryDoc = {
    ...(rest as Omit<Report, 'files' | 'groups' | 'paths' | 'measured'>),
    fileRows: view.count,
    groupCount: groupColumnsOf(report).count,
    topGroups: perInstanceTopGroups(report, view),
    instanceAops: instanceAopsOf(report),
  };
  // A compact table's finding and trust rows name lead rows, each standing for its copies too:
  // the summary names every copy's per-instance row, which is how the web UI numbers the file
  // table (docs/metrics.md#compact-file-table), capped as the lists are.
  if (view.compact)
    Object.assign(
      summary,
      mapReportRows(report, view.copies, { findings: MAX_FINDING_ROWS, trust: MAX_TRUST_ROWS }),
    );
  if (measured) {
    const { pagesWithout: _w, pagesWith: _h, ...totals } = measured;
    summary.measured = totals;
  }
  return summary;
}
