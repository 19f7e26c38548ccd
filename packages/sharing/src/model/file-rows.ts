/**
 * Reading a file table that may be compact (version 2, `FileTable.rowsOf`,
 * docs/metrics.md#compact-file-table): a row of a lead instance stands for the lead and every
 * instance of its class. These helpers give the per-instance view's counts without building it.
 */
import type { FileStatus, FileTable, Report, SharedGroup } from '../report.js';

/**
 * Per instance: how many instances its rows stand for (1 + the instances it leads; 0 for an
 * instance whose rows are another's). null when every instance has rows of its own.
 */
export function rowCopies(files: Pick<FileTable, 'rowsOf'>, instanceCount: number): Int32Array | null {
  const rowsOf = files.rowsOf;
  if (!rowsOf) return null;
  const copies = new Int32Array(instanceCount);
  for (let i = 0; i < instanceCount; i++) {
    const lead = rowsOf[i] ?? i;
    copies[lead] = copies[lead]! + 1;
  }
  return copies;
}

/**
 * Per lead instance: the other instances its rows stand for, ascending (empty for the others).
 * null when every instance has rows of its own.
 */
export function copiesOf(files: Pick<FileTable, 'rowsOf'>, instanceCount: number): number[][] | null {
  const rowsOf = files.rowsOf;
  if (!rowsOf) return null;
  const out: number[][] = Array.from({ length: instanceCount }, () => []);
  for (let i = 0; i < instanceCount; i++) {
    const lead = rowsOf[i] ?? i;
    if (lead !== i) out[lead]!.push(i);
  }
  return out;
}

/** Members of a shared inode, counting every instance of a compact table. */
export function memberCount(g: Pick<SharedGroup, 'members' | 'memberCount'>): number {
  return g.memberCount ?? g.members.length;
}

/** Rejected candidates of a shared inode, counting every instance of a compact table. */
export function rejectedCount(g: Pick<SharedGroup, 'rejected' | 'rejectedCount'>): number {
  return g.rejectedCount ?? g.rejected.length;
}

/**
 * Per instance with rows: the instances its rows stand for, ascending, itself first (compact
 * table); null when every instance has rows of its own.
 */
export function rowClasses(files: Pick<FileTable, 'rowsOf'>, instanceCount: number): Int32Array[] | null {
  const copies = copiesOf(files, instanceCount);
  if (!copies) return null;
  return copies.map((others, i) =>
    files.rowsOf![i] === i ? Int32Array.from([i, ...others]) : new Int32Array(0),
  );
}

/** Visits each member instance of a shared inode (rows of a compact table stand for several). */
export function forEachMemberInstance(
  g: Pick<SharedGroup, 'members'>,
  rowInstance: readonly number[],
  classes: readonly Int32Array[] | null,
  visit: (instance: number, row: number) => void,
): void {
  for (const row of g.members) {
    const i = rowInstance[row]!;
    if (classes === null) visit(i, row);
    else for (const c of classes[i]!) visit(c, row);
  }
}

/**
 * The per-instance form (version 1) of a report with a compact file table: every instance gets
 * its rows back, groups list every member, and row lists (findings, trust model) name each
 * lead row's per-instance index (they keep naming the lead's rows, not its copies'). For
 * readers that only know per-instance rows (the web UI's file table, `renderStaticReport`);
 * its size is the per-instance table's. A report without `rowsOf` is returned as it is.
 */
export function expandFileTable(report: Report): Report {
  const f = report.files;
  const rowsOf = f.rowsOf;
  if (!rowsOf) return report;
  const nInst = report.instances.length;
  const nRows = f.instance.length;
  /** First row of each instance with rows, -1 for the others; its rows run to the next instance's. */
  const start = new Int32Array(nInst).fill(-1);
  const count = new Int32Array(nInst);
  for (let r = 0; r < nRows; r++) {
    const i = f.instance[r]!;
    if (start[i] === -1) start[i] = r;
    count[i]!++;
  }
  let total = 0;
  for (let i = 0; i < nInst; i++) total += count[rowsOf[i] ?? i]!;
  const out: FileTable = {
    instance: new Array<number>(total),
    file: new Array<number>(total),
    status: new Array<FileStatus>(total),
    group: new Array<number>(total),
    pagesWithout: new Array<number>(total),
    pagesWith: new Array<number>(total),
    size: new Array<number>(total),
    hardlinks: { row: [], primary: [] },
  };
  /** Hard-link pairs of each instance with rows, as offsets into its rows. */
  const links = new Map<number, [number, number][]>();
  f.hardlinks.row.forEach((row, k) => {
    const i = f.instance[row]!;
    const list = links.get(i) ?? [];
    list.push([row - start[i]!, f.hardlinks.primary[k]! - start[i]!]);
    links.set(i, list);
  });
  const newRow = new Int32Array(nRows);
  const groups: SharedGroup[] = report.groups.map(({ memberCount: _m, rejectedCount: _r, ...g }) => ({
    ...g,
    members: [],
    rejected: [],
  }));
  let pos = 0;
  for (let i = 0; i < nInst; i++) {
    const lead = rowsOf[i] ?? i;
    const base = pos;
    for (let r = start[lead]!, end = r + count[lead]!; r < end; r++, pos++) {
      let status = f.status[r]!;
      const member = status === 'shared' || status === 'shared-alone';
      if (lead === i) newRow[r] = pos;
      else if (status === 'shared-alone') status = 'shared';
      out.instance[pos] = i;
      out.file[pos] = f.file[r]!;
      out.status[pos] = status;
      out.group[pos] = f.group[r]!;
      out.pagesWithout[pos] = f.pagesWithout[r]!;
      out.pagesWith[pos] = lead !== i && member ? 0 : f.pagesWith[r]!;
      out.size[pos] = f.size[r]!;
      const g = f.group[r]!;
      if (g >= 0) (member ? groups[g]!.members : groups[g]!.rejected).push(pos);
    }
    for (const [row, primary] of links.get(lead) ?? []) {
      out.hardlinks.row.push(base + row);
      out.hardlinks.primary.push(base + primary);
    }
  }
  const mapRows = (rows: number[] | undefined): number[] | undefined => rows?.map((r) => newRow[r]!);
  const expanded: Report = {
    ...report,
    version: 1,
    files: out,
    groups,
    findings: report.findings.map((x) => (x.rows ? { ...x, rows: mapRows(x.rows)! } : x)),
  };
  const t = report.trust;
  if (t) {
    const statements = <S extends { rows?: number[] }>(list: S[]): S[] =>
      list.map((s) => (s.rows ? { ...s, rows: mapRows(s.rows)! } : s));
    expanded.trust = {
      ...t,
      domains: t.domains.map((d) => ({ ...d, statements: statements(d.statements) })),
      matrix: t.matrix.map((c) => ({ ...c, rows: mapRows(c.rows)! })),
      fingerprints: t.fingerprints.map((x) => ({ ...x, statements: statements(x.statements) })),
      lifetime: { ...t.lifetime, statements: statements(t.lifetime.statements) },
      boundaryBreaks: t.boundaryBreaks.map((b) => ({ ...b, rows: mapRows(b.rows)! })),
    };
  }
  return expanded;
}
