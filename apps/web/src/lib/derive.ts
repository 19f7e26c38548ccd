/**
 * Derived data over a Report, computed once per report object (WeakMap memo) over the
 * columnar file table: flat typed arrays, no per-row objects, so 2M rows stay fast.
 *
 * Rows are per-instance rows, read through `rowView(r)` (`fileRowView()` of @sharemap/sharing):
 * a compact file table (report version 2, docs/metrics.md#compact-file-table) is read in place,
 * its row v being the row the per-instance table would have at v, so every view shows what it
 * shows for the per-instance report. The report's finding and trust rows name per-instance rows
 * too: the summary maps them (`reportSummary()` of @sharemap/report-wire).
 */
import { fileRowView, memberCount, type FileRowView, type FileStatus, type Report } from '@sharemap/sharing';
import type { StatusFilter } from '../state/url';
import { sortRows, stringRanks } from './sort';

function memo<T, R extends object = Report>(fn: (r: R) => T): (r: R) => T {
  const cache = new WeakMap<R, T>();
  return (r) => {
    let v = cache.get(r);
    if (v === undefined) cache.set(r, (v = fn(r)));
    return v;
  };
}

export const STATUS_LABEL: Record<FileStatus, string> = {
  shared: 'shared',
  'shared-alone': 'shareable, alone',
  'private-not-regular': 'not a regular file',
  'private-no-inode-share': 'no inode_share',
  'private-no-fingerprint': 'no fingerprint',
  'private-size-mismatch': 'size mismatch',
  'private-aops-mismatch': 'aops mismatch',
  hardlink: 'hard link',
  'not-mounted': 'not mounted',
};

export const STATUS_FILTERS: { id: StatusFilter; label: string }[] = [
  { id: '', label: 'all rows' },
  { id: 'cached', label: 'in page cache (without sharing)' },
  { id: 'held', label: 'in page cache (with sharing)' },
  { id: 'saving', label: 'saving memory' },
  { id: 'shared', label: 'shared' },
  { id: 'private', label: 'private (any reason)' },
  ...(Object.keys(STATUS_LABEL) as FileStatus[])
    .filter((s) => s !== 'shared')
    .map((s) => ({ id: s as StatusFilter, label: STATUS_LABEL[s] })),
];

/** The per-instance rows of the report's file table (read in place when it is compact). */
export const rowView = memo((r: Pick<Report, 'files' | 'instances'>): FileRowView =>
  fileRowView(r.files, r.instances.length),
);

export const instanceIndex = memo((r) => new Map(r.instances.map((x, i) => [x.id, i])));
export const imageName = memo((r: Pick<Report, 'images'>) => new Map(r.images.map((x) => [x.id, x.name])));

export function rowPath(r: Report, row: number): string {
  const v = rowView(r);
  const inst = r.instances[v.instance(row)]!;
  return r.paths[inst.imageId]?.[v.file(row)] ?? '?';
}

/** Lower-cased paths per image (for search), computed once. */
const lowerPaths = memo((r) => {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(r.paths)) out[k] = v.map((p) => p.toLowerCase());
  return out;
});

function matchesStatus(v: FileRowView, row: number, f: StatusFilter): boolean {
  if (!f) return true;
  const s = v.status(row);
  switch (f) {
    case 'private':
      return s.startsWith('private-');
    case 'saving':
      return v.pagesWith(row) < v.pagesWithout(row);
    case 'cached':
      return v.pagesWithout(row) > 0;
    case 'held':
      return v.pagesWith(row) > 0;
    default:
      return s === f;
  }
}

export interface RowQuery {
  q: string;
  status: StatusFilter;
  inst: string;
  img: string;
  sort: string;
}

/** The numeric columns a sort by a numeric key reads. */
export type NumericColumns = Pick<Report['files'], 'instance' | 'size' | 'pagesWith' | 'pagesWithout'>;

/** The per-row values a sort by a numeric key reads. */
export type NumericRows = Pick<FileRowView, 'instance' | 'size' | 'pagesWith' | 'pagesWithout'>;

/** Numeric columns read row by row (the files worker sorts its decoded columns so). */
export function columnRows(f: NumericColumns): NumericRows {
  return {
    instance: (a) => f.instance[a]!,
    size: (a) => f.size[a]!,
    pagesWith: (a) => f.pagesWith[a]!,
    pagesWithout: (a) => f.pagesWithout[a]!,
  };
}

/**
 * The keys of a sort by a numeric column, most significant first (ties: row order), or null for
 * keys that need more of the report (status, path) and no key.
 */
export function numericSortKeys(f: NumericRows, key: string): ((row: number) => number)[] | null {
  switch (key) {
    case 'size':
      return [(a) => f.size(a)];
    case 'saved':
      return [(a) => f.pagesWithout(a) - f.pagesWith(a), (a) => f.size(a)];
    case 'cached':
      return [(a) => f.pagesWith(a)];
    case 'instance':
      return [(a) => f.instance(a)];
    default:
      return null;
  }
}

/** Every row in the order of `sort` (a radix sort, lib/sort.ts: stable, ties in row order). */
function sortAll(r: Report, sort: string): Uint32Array {
  const f = rowView(r);
  const n = f.count;
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const desc = sort.startsWith('-');
  const key = desc ? sort.slice(1) : sort;
  const numeric = numericSortKeys(f, key);
  if (numeric) return sortRows(all, numeric, desc);
  if (key === 'status') {
    const rank = new Map<string, number>(
      Object.keys(STATUS_LABEL)
        .sort()
        .map((x, i) => [x, i]),
    );
    return sortRows(all, [(a) => rank.get(f.status(a)) ?? rank.size], desc);
  }
  if (key === 'path') {
    const ranks = pathRanks(r);
    const imgOfInst = r.instances.map((x) => x.imageId);
    return sortRows(all, [(a) => ranks[imgOfInst[f.instance(a)]!]![f.file(a)]!], desc);
  }
  return desc ? all.reverse() : all;
}

const orders = new WeakMap<Report, Map<string, Uint32Array>>();

/** Every row in the order of `sort`, computed once per report and sort. */
export function rowOrder(r: Report, sort: string): Uint32Array {
  let m = orders.get(r);
  if (!m) orders.set(r, (m = new Map()));
  let o = m.get(sort);
  if (!o) m.set(sort, (o = sortAll(r, sort)));
  return o;
}

/** Give `rowOrder(r, sort)` (computed elsewhere: the files worker sorts by the default key). */
export function seedRowOrder(r: Report, sort: string, order: Uint32Array): void {
  let m = orders.get(r);
  if (!m) orders.set(r, (m = new Map()));
  m.set(sort, order);
}

/**
 * Row indices matching the query, sorted: the rows of `rowOrder` that pass the filters (each
 * sort is done once; a filter change is one pass over the rows). Typed array: 2M rows = 8 MB.
 */
export function queryRows(r: Report, query: RowQuery): Uint32Array {
  const order = rowOrder(r, query.sort);
  if (!query.q.trim() && !query.status && !query.inst && !query.img) return order;
  const f = rowView(r);
  const instIdx = query.inst ? (instanceIndex(r).get(query.inst) ?? -2) : -1;
  const q = query.q.trim().toLowerCase();
  const lp = q ? lowerPaths(r) : null;
  const imgOfInst = r.instances.map((x) => x.imageId);
  const out = new Uint32Array(order.length);
  let k = 0;
  for (let i = 0; i < order.length; i++) {
    const row = order[i]!;
    const ii = f.instance(row);
    if (instIdx !== -1 && ii !== instIdx) continue;
    if (query.img && imgOfInst[ii] !== query.img) continue;
    if (query.status && !matchesStatus(f, row, query.status)) continue;
    if (lp && !lp[imgOfInst[ii]!]![f.file(row)]!.includes(q)) continue;
    out[k++] = row;
  }
  return out.slice(0, k);
}

/** Rank of every path of every image in code-unit order (for sorting rows by path). */
const pathRanks = memo((r) => {
  const ids = Object.keys(r.paths);
  const all: string[] = [];
  for (const id of ids) for (const p of r.paths[id]!) all.push(p);
  const ranks = stringRanks(all);
  const out: Record<string, Uint32Array> = {};
  let at = 0;
  for (const id of ids) {
    const n = r.paths[id]!.length;
    out[id] = ranks.subarray(at, at + n);
    at += n;
  }
  return out;
});

/** Rows of the same content as `row`: its shared group's members and rejected rows. */
export function relatedRows(r: Report, row: number): number[] {
  const v = rowView(r);
  const g = v.group(row);
  if (g < 0) return [row];
  const grp = r.groups[g]!;
  return [...v.members(grp), ...v.rejected(grp)];
}

/**
 * Instance x instance matrix: bytes of page cache two instances share (for each shared inode,
 * its pages count for every pair of instances holding a member). Diagonal: the instance's
 * cached bytes without sharing.
 */
export const sharingMatrix = memo((r) => {
  const n = r.instances.length;
  const m = new Float64Array(n * n);
  const ps = r.options.pageSize;
  const f = rowView(r);
  for (const g of r.groups) {
    const insts = [...new Set(f.members(g).map((row) => f.instance(row)))];
    const bytes = g.pages * ps;
    for (let a = 0; a < insts.length; a++)
      for (let b = a + 1; b < insts.length; b++) {
        m[insts[a]! * n + insts[b]!]! += bytes;
        m[insts[b]! * n + insts[a]!]! += bytes;
      }
  }
  for (let i = 0; i < n; i++) m[i * n + i] = r.perInstance[r.instances[i]!.id]?.bytesWithoutSharing ?? 0;
  return { n, m };
});

export interface OverlapSet {
  /** Image ids in the combination (sorted by image order). */
  images: string[];
  /** Distinct contents (shared inodes and rejected duplicates) found in exactly these images. */
  count: number;
  /** Bytes of one copy of each such content. */
  bytes: number;
  /** Bytes saved by sharing those contents. */
  saved: number;
  /** The shared inodes (indices into `groups`) of these contents: what the column stands for. */
  groups: number[];
}

/**
 * UpSet-style overlap across images: each shared group (one content) belongs to the exact set
 * of images that hold a row with it; sets aggregated by that combination.
 */
export const overlapSets = memo((r) => {
  // A compact table's lead rows suffice: every instance a row stands for mounts the lead's image.
  const f = r.files;
  const ps = r.options.pageSize;
  const imgOrder = new Map(r.images.map((x, i) => [x.id, i]));
  const combos = new Map<string, OverlapSet>();
  r.groups.forEach((g, gi) => {
    const imgs = new Set<string>();
    for (const row of g.members) imgs.add(r.instances[f.instance[row]!]!.imageId);
    for (const row of g.rejected) imgs.add(r.instances[f.instance[row]!]!.imageId);
    const list = [...imgs].sort((a, b) => imgOrder.get(a)! - imgOrder.get(b)!);
    const key = list.join('\u0000');
    let s = combos.get(key);
    if (!s) combos.set(key, (s = { images: list, count: 0, bytes: 0, saved: 0, groups: [] }));
    s.count++;
    s.bytes += g.size;
    s.saved += (memberCount(g) - 1) * g.pages * ps;
    s.groups.push(gi);
  });
  return [...combos.values()].sort((a, b) => b.saved - a.saved || b.bytes - a.bytes);
});

/** The overlap set of exactly these images (`ov=` of the URL: image ids, ','-joined), or undefined. */
export function overlapSetOf(r: Report, ov: string): OverlapSet | undefined {
  const want = ov.split(',').filter(Boolean);
  return overlapSets(r).find(
    (s) => s.images.length === want.length && want.every((id) => s.images.includes(id)),
  );
}

/** Treemap categories. */
export type Category = 'shared' | 'private' | 'duplicate' | 'other';

/** Rows that duplicate content elsewhere but cannot share (findings + rejected group rows). */
export const duplicateRows = memo((r) => {
  const s = new Set<number>();
  for (const fd of r.findings)
    if (fd.code === 'unsharable-duplicate') for (const row of fd.rows ?? []) s.add(row);
  const v = rowView(r);
  for (const g of r.groups) for (const row of v.rejected(g)) s.add(row);
  return s;
});

export function categoryOf(r: Report, row: number): Category {
  const s = rowView(r).status(row);
  if (s === 'shared') return 'shared';
  if (duplicateRows(r).has(row)) return 'duplicate';
  if (s === 'private-not-regular' || s === 'hardlink' || s === 'not-mounted') return 'other';
  return 'private';
}

export interface DirNode {
  name: string;
  path: string;
  /** Bytes without sharing, by category. */
  bytes: Record<Category, number>;
  /** Bytes without sharing. */
  total: number;
  /** Bytes with sharing (the pages the rows hold: 0 for later members of a shared inode). */
  withTotal: number;
  files: number;
  children: Map<string, DirNode> | null;
  /** A file leaf: one representative row. */
  row?: number;
}

/**
 * Directory tree of cached bytes (without sharing) under `dir`, `depth` levels deep, for the
 * rows of `rows` (already filtered). Leaves deeper than `depth` are folded into their directory.
 */
export function directoryTree(r: Report, rows: ArrayLike<number>, dir: string, depth = 2): DirNode {
  const f = rowView(r);
  const ps = r.options.pageSize;
  const prefix = dir ? (dir.endsWith('/') ? dir : dir + '/') : '/';
  const root: DirNode = {
    name: dir || '/',
    path: dir,
    bytes: { shared: 0, private: 0, duplicate: 0, other: 0 },
    total: 0,
    withTotal: 0,
    files: 0,
    children: new Map(),
  };
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    const bytes = f.pagesWithout(row) * ps;
    if (bytes <= 0) continue;
    const withBytes = f.pagesWith(row) * ps;
    const p = rowPath(r, row);
    if (!p.startsWith(prefix)) continue;
    const parts = p.slice(prefix.length).split('/');
    const cat = categoryOf(r, row);
    let node = root;
    node.bytes[cat] += bytes;
    node.total += bytes;
    node.withTotal += withBytes;
    node.files++;
    let path = prefix.slice(0, -1);
    for (let d = 0; d < Math.min(depth, parts.length); d++) {
      const name = parts[d]!;
      path = `${path}/${name}`;
      const leaf = d === parts.length - 1;
      let child = node.children!.get(name);
      if (!child) {
        child = {
          name,
          path,
          bytes: { shared: 0, private: 0, duplicate: 0, other: 0 },
          total: 0,
          withTotal: 0,
          files: 0,
          children: leaf ? null : new Map(),
          row: leaf ? row : undefined,
        };
        node.children!.set(name, child);
      }
      child.bytes[cat] += bytes;
      child.total += bytes;
      child.withTotal += withBytes;
      child.files++;
      node = child;
    }
  }
  return root;
}

/** The proportion (0..1) of a box's bytes without sharing that are in shared files (the treemap's colour). */
export function sharedProportion(n: DirNode): number {
  return n.total > 0 ? n.bytes.shared / n.total : 0;
}

/** Instance status line: "sharing in D1", or the reason inode_share is off. */
export function instanceState(inst: Report['instances'][number]): { ok: boolean; text: string } {
  if (inst.mountError !== undefined) return { ok: false, text: `mount fails: ${inst.mountError}` };
  const s = inst.inodeShare;
  if (s.effective)
    return {
      ok: true,
      text: s.domainUnknown
        ? 'inode_share on, domain unknown (assign one)'
        : `inode_share on, domain ${inst.domain?.label ?? '?'}`,
    };
  return { ok: false, text: `${s.reason}: ${s.message}` };
}
