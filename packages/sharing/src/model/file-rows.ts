/**
 * Reading a file table that may be compact (version 2, `FileTable.rowsOf`,
 * docs/metrics.md#compact-file-table): a row of a lead instance stands for the lead and every
 * instance of its class. These helpers give the per-instance view's counts without building it.
 */
import type { FileStatus, FileTable, Report, SharedGroup } from '../report.js';
import type { CrossImageInode } from '../trust/types.js';

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
  const { start, count } = instanceRows(f, nInst);
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
  const expanded: Report = {
    ...report,
    version: 1,
    files: out,
    groups,
    ...mapReportRows(report, (r) => newRow[r]!),
  };
  // The trust model's cross-image inodes list their member instances again (version 1's form).
  if (expanded.trust) {
    const t = expanded.trust;
    // In version 1's key order (a report's JSON is compared byte for byte).
    const listed = (x: CrossImageInode): CrossImageInode => ({
      group: x.group,
      file: x.file,
      supplierImageId: x.supplierImageId,
      readerImageIds: x.readerImageIds,
      instanceIds: crossImageInodeInstanceIds(report, x),
      bytes: x.bytes,
      ...(x.orderDependent ? { orderDependent: true } : {}),
    });
    expanded.trust = {
      ...t,
      domains: t.domains.map((d) => ({ ...d, crossImageInodes: d.crossImageInodes.map(listed) })),
    };
  }
  return expanded;
}

/**
 * The report's row lists (findings, the trust model's statements, matrix cells and boundary
 * breaks) with each row mapped by `map` to one or more rows (a compact table's rows to
 * per-instance rows: the lead's own copy, as `expandFileTable()` numbers it, or every copy),
 * ascending when a row maps to several, and at most `cap` of them (the lists' own caps,
 * MAX_FINDING_ROWS and MAX_TRUST_ROWS, when rows map to several).
 */
export function mapReportRows(
  report: Pick<Report, 'findings' | 'trust'>,
  map: (row: number, limit: number) => number | number[],
  cap: { findings: number; trust: number } = { findings: Infinity, trust: Infinity },
): Pick<Report, 'findings' | 'trust'> {
  let limit = cap.findings;
  const mapRows = (rows: number[]): number[] => {
    // Each row's rows come ascending: only the first `limit` of each can be among the kept.
    const out = rows.flatMap((r) => {
      const m = map(r, limit);
      return typeof m === 'number' || m.length <= limit ? m : m.slice(0, limit);
    });
    return out.length === rows.length ? out : out.sort((a, b) => a - b).slice(0, limit);
  };
  const out: Pick<Report, 'findings' | 'trust'> = {
    findings: report.findings.map((x) => (x.rows ? { ...x, rows: mapRows(x.rows) } : x)),
  };
  const t = report.trust;
  limit = cap.trust;
  if (t) {
    const statements = <S extends { rows?: number[] }>(list: S[]): S[] =>
      list.map((s) => (s.rows ? { ...s, rows: mapRows(s.rows) } : s));
    out.trust = {
      ...t,
      domains: t.domains.map((d) => ({ ...d, statements: statements(d.statements) })),
      matrix: t.matrix.map((c) => ({ ...c, rows: mapRows(c.rows) })),
      fingerprints: t.fingerprints.map((x) => ({ ...x, statements: statements(x.statements) })),
      lifetime: { ...t.lifetime, statements: statements(t.lifetime.statements) },
      boundaryBreaks: t.boundaryBreaks.map((b) => ({ ...b, rows: mapRows(b.rows) })),
    };
  }
  return out;
}

/**
 * The per-instance rows (version 1) of a file table, read in place: row `v` is the row
 * `expandFileTable()` would give that index, without building the per-instance table (a
 * compact table of 20,000 mounts of 20 images stands for 20M rows). For a table without
 * `rowsOf` every method reads the columns at `v` itself. Used by the web UI's data layer and by
 * the static report (docs/metrics.md#compact-file-table).
 */
export interface FileRowView {
  /** Rows of the per-instance table. */
  readonly count: number;
  /** Whether the table is compact (reads go through a lead's rows). */
  readonly compact: boolean;
  instance(v: number): number;
  /** The row of `files` that per-instance row `v` reads (its lead's row in a compact table). */
  source(v: number): number;
  file(v: number): number;
  status(v: number): FileStatus;
  group(v: number): number;
  pagesWithout(v: number): number;
  pagesWith(v: number): number;
  size(v: number): number;
  /** The per-instance row of row `r` of `files` on its own instance (what finding and trust rows name). */
  rowOf(r: number): number;
  /** The per-instance rows row `r` of `files` stands for, ascending (its instance's and its copies'), at most `limit`. */
  copies(r: number, limit?: number): number[];
  /** The per-instance rows of a shared inode's members (or rejected candidates), ascending. */
  members(g: Pick<SharedGroup, 'members'>): number[];
  rejected(g: Pick<SharedGroup, 'rejected'>): number[];
  /** The per-instance row of another path of the same inode (R10) for a hard-link row, or -1. */
  hardlinkPrimary(v: number): number;
}

/** The per-instance rows of `files` (see FileRowView); `instanceCount` = `report.instances.length`. */
export function fileRowView(files: FileTable, instanceCount: number): FileRowView {
  return files.rowsOf ? compactView(files, instanceCount) : plainView(files);
}

function plainView(f: FileTable): FileRowView {
  let primaryOf: Map<number, number> | null = null;
  return {
    count: f.instance.length,
    compact: false,
    instance: (v) => f.instance[v]!,
    source: (v) => v,
    file: (v) => f.file[v]!,
    status: (v) => f.status[v]!,
    group: (v) => f.group[v]!,
    pagesWithout: (v) => f.pagesWithout[v]!,
    pagesWith: (v) => f.pagesWith[v]!,
    size: (v) => f.size[v]!,
    rowOf: (r) => r,
    copies: (r) => [r],
    members: (g) => g.members,
    rejected: (g) => g.rejected,
    hardlinkPrimary(v) {
      primaryOf ??= hardlinkMap(f);
      return primaryOf.get(v) ?? -1;
    },
  };
}

function hardlinkMap(f: FileTable): Map<number, number> {
  const m = new Map<number, number>();
  for (let k = 0; k < f.hardlinks.row.length; k++) m.set(f.hardlinks.row[k]!, f.hardlinks.primary[k]!);
  return m;
}

/**
 * Per instance: its first row in `files` (-1 for an instance without rows) and how many rows it
 * has (they run on from the first: rows go instance by instance).
 */
function instanceRows(
  f: Pick<FileTable, 'instance'>,
  nInst: number,
): { start: Float64Array; count: Float64Array } {
  const start = new Float64Array(nInst).fill(-1);
  const count = new Float64Array(nInst);
  for (let r = 0; r < f.instance.length; r++) {
    const i = f.instance[r]!;
    if (start[i] === -1) start[i] = r;
    count[i]!++;
  }
  return { start, count };
}

function compactView(f: FileTable, nInst: number): FileRowView {
  const rowsOf = f.rowsOf!;
  const { start, count } = instanceRows(f, nInst);
  /** First per-instance row of each instance (expandFileTable's order), and the total at the end. */
  const vStart = new Float64Array(nInst + 1);
  const leadOf = new Int32Array(nInst);
  for (let i = 0; i < nInst; i++) {
    leadOf[i] = rowsOf[i] ?? i;
    vStart[i + 1] = vStart[i]! + count[leadOf[i]!]!;
  }
  const classes = rowClasses(f, nInst)!;
  // The instance of the last row looked up: loops over rows in order hit it (no search).
  let lastI = 0;
  const instanceOf = (v: number): number => {
    if (v >= vStart[lastI]! && v < vStart[lastI + 1]!) return lastI;
    let lo = 0;
    let hi = nInst - 1;
    // The last instance whose first row is <= v (instances without rows have empty ranges).
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (vStart[mid]! <= v) lo = mid;
      else hi = mid - 1;
    }
    return (lastI = lo);
  };
  const source = (v: number): number => {
    const i = instanceOf(v);
    return start[leadOf[i]!]! + v - vStart[i]!;
  };
  /** A copy: a row of an instance that reads its lead's rows (never a first member). */
  const isCopy = (v: number): boolean => {
    const i = instanceOf(v);
    return leadOf[i] !== i;
  };
  const copies = (r: number, limit = Infinity): number[] => {
    const lead = f.instance[r]!;
    const at = r - start[lead]!;
    const cls = classes[lead]!;
    const out = new Array<number>(Math.min(cls.length, limit));
    for (let k = 0; k < out.length; k++) out[k] = vStart[cls[k]!]! + at;
    return out;
  };
  const spread = (rows: readonly number[]): number[] => {
    const out: number[] = [];
    for (const r of rows) for (const v of copies(r)) out.push(v);
    return out.sort((a, b) => a - b);
  };
  let primaryOf: Map<number, number> | null = null;
  return {
    count: vStart[nInst]!,
    compact: true,
    instance: instanceOf,
    source,
    file: (v) => f.file[source(v)]!,
    status(v) {
      const s = f.status[source(v)]!;
      return s === 'shared-alone' && isCopy(v) ? 'shared' : s;
    },
    group: (v) => f.group[source(v)]!,
    pagesWithout: (v) => f.pagesWithout[source(v)]!,
    pagesWith(v) {
      const r = source(v);
      const s = f.status[r]!;
      return (s === 'shared' || s === 'shared-alone') && isCopy(v) ? 0 : f.pagesWith[r]!;
    },
    size: (v) => f.size[source(v)]!,
    rowOf: (r) => vStart[f.instance[r]!]! + r - start[f.instance[r]!]!,
    copies,
    members: (g) => spread(g.members),
    rejected: (g) => spread(g.rejected),
    hardlinkPrimary(v) {
      primaryOf ??= hardlinkMap(f);
      const p = primaryOf.get(source(v));
      if (p === undefined) return -1;
      const i = instanceOf(v);
      return vStart[i]! + p - start[leadOf[i]!]!;
    },
  };
}

/**
 * The member instance ids of a cross-image inode of the trust model, in the order version 1
 * lists them (`instanceIds`: input order), from either form: a compact table's report names the classes'
 * leads (`instanceClasses`), each standing for the instances whose `files.rowsOf` names it.
 */
export function crossImageInodeInstanceIds(
  report: Pick<Report, 'instances' | 'files'>,
  node: Pick<CrossImageInode, 'instanceIds' | 'instanceClasses'>,
): string[] {
  if (node.instanceIds) return node.instanceIds;
  const index = new Map(report.instances.map((x, i) => [x.id, i]));
  const classes = rowClasses(report.files, report.instances.length);
  const members: number[] = [];
  for (const lead of node.instanceClasses ?? []) {
    const i = index.get(lead);
    if (i === undefined) continue;
    if (classes === null) members.push(i);
    else for (const c of classes[i]!) members.push(c);
  }
  // Version 1 lists them in member order: rows, hence instances, ascending.
  return members.sort((a, b) => a - b).map((i) => report.instances[i]!.id);
}
