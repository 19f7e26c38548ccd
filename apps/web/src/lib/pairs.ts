/**
 * Pairs of instances: what an edge of the sharing graph or a cell of the matrix stands for.
 * The files two instances share (members of one shared inode on both), the same content they
 * hold without sharing it because their domains differ (the key is fingerprint ++ domain id,
 * docs/sharing-rules.md#r4), and the list of sharing pairs (the graph's text fallback).
 * Content identity comes from the analysis input (`contentIdsByImage` of @sharemap/sharing,
 * computed in the analysis worker, state/content.ts).
 */
import type { FileRowView, Report } from '@sharemap/sharing';
import { instanceIndex, rowView, sharingMatrix } from './derive';

/** By image id, per file index: the engine's content id, -1 for none. */
export type ContentIds = Record<string, Int32Array>;

/** The domain an instance shares in, or null when it shares nothing (inode_share off, R2, R3). */
function sharingDomain(inst: Report['instances'][number]): string | null {
  if (!inst.inodeShare.effective) return null;
  // An unknown domain counts as a domain of its own, as the totals count it (R11).
  return inst.domain?.label ?? `?${inst.id}`;
}

/** Rows that could have shared had the domains been one: the key's candidates (R4). */
function candidate(v: FileRowView, row: number): boolean {
  const s = v.status(row);
  return (s === 'shared' || s === 'shared-alone') && v.pagesWithout(row) > 0;
}

function contentOf(r: Report, v: FileRowView, ids: ContentIds, row: number): number {
  const inst = r.instances[v.instance(row)]!;
  return ids[inst.imageId]?.[v.file(row)] ?? -1;
}

const crossCache = new WeakMap<Report, WeakMap<ContentIds, Float64Array>>();

/**
 * Instance x instance bytes of the same content held in two different domains (one copy's
 * pages, each content once per pair), 0 on the diagonal.
 */
export function crossDomainMatrix(r: Report, ids: ContentIds): Float64Array {
  let byIds = crossCache.get(r);
  if (!byIds) crossCache.set(r, (byIds = new WeakMap()));
  const hit = byIds.get(ids);
  if (hit) return hit;
  const n = r.instances.length;
  const m = new Float64Array(n * n);
  const ps = r.options.pageSize;
  const domains = r.instances.map(sharingDomain);
  // content -> instance -> pages (one copy per instance)
  const holders = new Map<number, Map<number, number>>();
  const f = rowView(r);
  for (let row = 0; row < f.count; row++) {
    if (!candidate(f, row)) continue;
    const c = contentOf(r, f, ids, row);
    if (c < 0) continue;
    let h = holders.get(c);
    if (!h) holders.set(c, (h = new Map()));
    const i = f.instance(row);
    h.set(i, Math.max(h.get(i) ?? 0, f.pagesWithout(row)));
  }
  for (const h of holders.values()) {
    if (h.size < 2) continue;
    const list = [...h];
    for (let x = 0; x < list.length; x++)
      for (let y = x + 1; y < list.length; y++) {
        const [a, pa] = list[x]!;
        const [b, pb] = list[y]!;
        if (domains[a] === domains[b]) continue;
        const bytes = Math.min(pa, pb) * ps;
        m[a * n + b]! += bytes;
        m[b * n + a]! += bytes;
      }
  }
  byIds.set(ids, m);
  return m;
}

export interface PairFiles {
  /** Rows of either instance that stand for the pair. */
  rows: Set<number>;
  /** Bytes the two share: each shared inode with members on both, once (the matrix's cell). */
  sharedBytes: number;
  /** Shared inodes with members on both. */
  sharedContents: number;
  /** Bytes of the same content held in their two domains without sharing; null without content ids. */
  crossBytes: number | null;
  crossContents: number;
}

/** The files behind the pair (instance ids `a`, `b`); null when either id is not an instance. */
export function pairFiles(r: Report, a: string, b: string, ids: ContentIds | null): PairFiles | null {
  const idx = instanceIndex(r);
  const ia = idx.get(a);
  const ib = idx.get(b);
  if (ia === undefined || ib === undefined || ia === ib) return null;
  const f = rowView(r);
  const ps = r.options.pageSize;
  const rows = new Set<number>();
  let sharedBytes = 0;
  let sharedContents = 0;
  for (const g of r.groups) {
    let onA = false;
    let onB = false;
    const members = f.members(g);
    for (const row of members) {
      if (f.instance(row) === ia) onA = true;
      else if (f.instance(row) === ib) onB = true;
    }
    if (!onA || !onB) continue;
    sharedBytes += g.pages * ps;
    sharedContents++;
    for (const row of members) if (f.instance(row) === ia || f.instance(row) === ib) rows.add(row);
  }
  let crossBytes: number | null = null;
  let crossContents = 0;
  const da = sharingDomain(r.instances[ia]!);
  const db = sharingDomain(r.instances[ib]!);
  if (ids) {
    crossBytes = 0;
    if (da !== null && db !== null && da !== db) {
      const onA = new Map<number, number[]>();
      for (let row = 0; row < f.count; row++) {
        if (f.instance(row) !== ia || !candidate(f, row)) continue;
        const c = contentOf(r, f, ids, row);
        if (c < 0) continue;
        const list = onA.get(c);
        if (list) list.push(row);
        else onA.set(c, [row]);
      }
      const seen = new Map<number, number>();
      for (let row = 0; row < f.count; row++) {
        if (f.instance(row) !== ib || !candidate(f, row)) continue;
        const c = contentOf(r, f, ids, row);
        const list = c < 0 ? undefined : onA.get(c);
        if (!list) continue;
        rows.add(row);
        for (const x of list) rows.add(x);
        const pa = Math.max(...list.map((x) => f.pagesWithout(x)));
        seen.set(c, Math.max(seen.get(c) ?? 0, Math.min(pa, f.pagesWithout(row))));
      }
      for (const p of seen.values()) crossBytes += p * ps;
      crossContents = seen.size;
    }
  }
  return { rows, sharedBytes, sharedContents, crossBytes, crossContents };
}

/** `pair=<a>,<b>` of the URL: two instance ids, each URI-encoded (so ',' survives), as `dom=` does. */
export function parsePair(s: string): [string, string] | null {
  const parts = s.split(',');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return null;
  try {
    return [decodeURIComponent(parts[0]), decodeURIComponent(parts[1])];
  } catch {
    return null;
  }
}

export function formatPair(a: string, b: string): string {
  return `${encodeURIComponent(a)},${encodeURIComponent(b)}`;
}

/** One pair of instances that shares page cache. */
export interface SharingPair {
  /** Instance indexes, a < b. */
  a: number;
  b: number;
  /** Bytes of page cache the two share (their cell of `sharingMatrix`). */
  bytes: number;
}

/**
 * The sharing graph as a list: pairs with shared bytes > 0, by bytes descending, then by
 * instance order. The graph's text fallback where its labels cannot be read (a phone) and for
 * screen readers (the drawing is one image).
 */
export function sharingPairs(r: Report): SharingPair[] {
  const { n, m } = sharingMatrix(r);
  const out: SharingPair[] = [];
  for (let a = 0; a < n; a++)
    for (let b = a + 1; b < n; b++) {
      const bytes = m[a * n + b]!;
      if (bytes > 0) out.push({ a, b, bytes });
    }
  return out.sort((x, y) => y.bytes - x.bytes || x.a - y.a || x.b - y.b);
}
