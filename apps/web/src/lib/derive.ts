/**
 * Derived data over a Report, computed once per report object (WeakMap memo) over the
 * columnar file table: flat typed arrays, no per-row objects, so 2M rows stay fast.
 */
import type { FileStatus, Report } from '@sharemap/sharing';
import type { StatusFilter } from '../state/url';

function memo<T>(fn: (r: Report) => T): (r: Report) => T {
  const cache = new WeakMap<Report, T>();
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

export const instanceIndex = memo((r) => new Map(r.instances.map((x, i) => [x.id, i])));
export const imageName = memo((r) => new Map(r.images.map((x) => [x.id, x.name])));

export function rowPath(r: Report, row: number): string {
  const inst = r.instances[r.files.instance[row]!]!;
  return r.paths[inst.imageId]?.[r.files.file[row]!] ?? '?';
}

/** Lower-cased paths per image (for search), computed once. */
const lowerPaths = memo((r) => {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(r.paths)) out[k] = v.map((p) => p.toLowerCase());
  return out;
});

function matchesStatus(r: Report, row: number, f: StatusFilter): boolean {
  if (!f) return true;
  const s = r.files.status[row]!;
  switch (f) {
    case 'private':
      return s.startsWith('private-');
    case 'saving':
      return r.files.pagesWith[row]! < r.files.pagesWithout[row]!;
    case 'cached':
      return r.files.pagesWithout[row]! > 0;
    case 'held':
      return r.files.pagesWith[row]! > 0;
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

/** Row indices matching the query, sorted. Typed array: 2M rows = 8 MB. */
export function queryRows(r: Report, query: RowQuery): Uint32Array {
  const f = r.files;
  const n = f.instance.length;
  const instIdx = query.inst ? (instanceIndex(r).get(query.inst) ?? -2) : -1;
  const q = query.q.trim().toLowerCase();
  const lp = q ? lowerPaths(r) : null;
  const imgOfInst = r.instances.map((x) => x.imageId);
  const out = new Uint32Array(n);
  let k = 0;
  for (let row = 0; row < n; row++) {
    const ii = f.instance[row]!;
    if (instIdx !== -1 && ii !== instIdx) continue;
    if (query.img && imgOfInst[ii] !== query.img) continue;
    if (query.status && !matchesStatus(r, row, query.status)) continue;
    if (lp && !lp[imgOfInst[ii]!]![f.file[row]!]!.includes(q)) continue;
    out[k++] = row;
  }
  const rows = out.subarray(0, k);
  const desc = query.sort.startsWith('-');
  const key = desc ? query.sort.slice(1) : query.sort;
  const dir = desc ? -1 : 1;
  let cmp: ((a: number, b: number) => number) | null = null;
  if (key === 'size') cmp = (a, b) => (f.size[a]! - f.size[b]!) * dir || a - b;
  else if (key === 'saved')
    cmp = (a, b) =>
      (f.pagesWithout[a]! - f.pagesWith[a]! - (f.pagesWithout[b]! - f.pagesWith[b]!)) * dir ||
      (f.size[a]! - f.size[b]!) * dir ||
      a - b;
  else if (key === 'cached') cmp = (a, b) => (f.pagesWith[a]! - f.pagesWith[b]!) * dir || a - b;
  else if (key === 'status')
    cmp = (a, b) => (f.status[a]! < f.status[b]! ? -dir : f.status[a]! > f.status[b]! ? dir : a - b);
  else if (key === 'instance') cmp = (a, b) => (f.instance[a]! - f.instance[b]!) * dir || a - b;
  else if (key === 'path') {
    const paths = r.paths;
    cmp = (a, b) => {
      const pa = paths[imgOfInst[f.instance[a]!]!]![f.file[a]!]!;
      const pb = paths[imgOfInst[f.instance[b]!]!]![f.file[b]!]!;
      return pa < pb ? -dir : pa > pb ? dir : a - b;
    };
  }
  if (cmp) rows.sort(cmp);
  else if (desc) rows.reverse();
  return rows;
}

/** Rows of the same content as `row`: its shared group's members and rejected rows. */
export function relatedRows(r: Report, row: number): number[] {
  const g = r.files.group[row]!;
  if (g < 0) return [row];
  const grp = r.groups[g]!;
  return [...grp.members, ...grp.rejected];
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
  const f = r.files;
  for (const g of r.groups) {
    const insts = [...new Set(g.members.map((row) => f.instance[row]!))];
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
}

/**
 * UpSet-style overlap across images: each shared group (one content) belongs to the exact set
 * of images that hold a row with it; sets aggregated by that combination.
 */
export const overlapSets = memo((r) => {
  const f = r.files;
  const ps = r.options.pageSize;
  const imgOrder = new Map(r.images.map((x, i) => [x.id, i]));
  const combos = new Map<string, OverlapSet>();
  for (const g of r.groups) {
    const imgs = new Set<string>();
    for (const row of g.members) imgs.add(r.instances[f.instance[row]!]!.imageId);
    for (const row of g.rejected) imgs.add(r.instances[f.instance[row]!]!.imageId);
    const list = [...imgs].sort((a, b) => imgOrder.get(a)! - imgOrder.get(b)!);
    const key = list.join('\u0000');
    let s = combos.get(key);
    if (!s) combos.set(key, (s = { images: list, count: 0, bytes: 0, saved: 0 }));
    s.count++;
    s.bytes += g.size;
    s.saved += (g.members.length - 1) * g.pages * ps;
  }
  return [...combos.values()].sort((a, b) => b.saved - a.saved || b.bytes - a.bytes);
});

/** Treemap categories. */
export type Category = 'shared' | 'private' | 'duplicate' | 'other';

/** Rows that duplicate content elsewhere but cannot share (findings + rejected group rows). */
export const duplicateRows = memo((r) => {
  const s = new Set<number>();
  for (const fd of r.findings)
    if (fd.code === 'unsharable-duplicate') for (const row of fd.rows ?? []) s.add(row);
  for (const g of r.groups) for (const row of g.rejected) s.add(row);
  return s;
});

export function categoryOf(r: Report, row: number): Category {
  const s = r.files.status[row]!;
  if (s === 'shared') return 'shared';
  if (duplicateRows(r).has(row)) return 'duplicate';
  if (s === 'private-not-regular' || s === 'hardlink' || s === 'not-mounted') return 'other';
  return 'private';
}

export interface DirNode {
  name: string;
  path: string;
  bytes: Record<Category, number>;
  total: number;
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
  const f = r.files;
  const ps = r.options.pageSize;
  const prefix = dir ? (dir.endsWith('/') ? dir : dir + '/') : '/';
  const root: DirNode = {
    name: dir || '/',
    path: dir,
    bytes: { shared: 0, private: 0, duplicate: 0, other: 0 },
    total: 0,
    files: 0,
    children: new Map(),
  };
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    const bytes = f.pagesWithout[row]! * ps;
    if (bytes <= 0) continue;
    const p = rowPath(r, row);
    if (!p.startsWith(prefix)) continue;
    const parts = p.slice(prefix.length).split('/');
    const cat = categoryOf(r, row);
    let node = root;
    node.bytes[cat] += bytes;
    node.total += bytes;
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
          files: 0,
          children: leaf ? null : new Map(),
          row: leaf ? row : undefined,
        };
        node.children!.set(name, child);
      }
      child.bytes[cat] += bytes;
      child.total += bytes;
      child.files++;
      node = child;
    }
  }
  return root;
}

export function dominantCategory(n: DirNode): Category {
  let best: Category = 'other';
  let v = -1;
  for (const c of ['shared', 'duplicate', 'private', 'other'] as Category[])
    if (n.bytes[c] > v) {
      v = n.bytes[c];
      best = c;
    }
  return best;
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

/** The aops classes of an instance's rows (via shared groups) or from its backing. */
export const instanceAops = memo((r) => {
  const out = new Map<number, Set<string>>();
  for (const g of r.groups)
    for (const row of [...g.members]) {
      const i = r.files.instance[row]!;
      let s = out.get(i);
      if (!s) out.set(i, (s = new Set()));
      s.add(g.aops);
    }
  return out;
});
