/**
 * The URL is the state of the view: route (/, /r/<id>, /compare/<a>/<b>) plus every view,
 * filter and selection as query parameters, so a copied link reproduces what the sender saw.
 */
import type { FileStatus } from '@sharemap/sharing';

export type ViewId =
  'overview' | 'instances' | 'graph' | 'overlap' | 'files' | 'findings' | 'scenarios' | 'compare' | 'trust';

export const VIEWS: { id: ViewId; label: string }[] = [
  { id: 'overview', label: 'Overview' },
  { id: 'instances', label: 'Instances & domains' },
  { id: 'graph', label: 'Sharing graph' },
  { id: 'overlap', label: 'Overlap' },
  { id: 'files', label: 'Files' },
  { id: 'findings', label: 'Findings' },
  { id: 'scenarios', label: 'Scenarios' },
  { id: 'compare', label: 'Compare' },
  { id: 'trust', label: 'Trust' },
];

export type Route = { page: 'start' } | { page: 'report'; id: string } | { page: 'not-found' };

/** Status filter of the files table: a FileStatus, or a group of them. */
export type StatusFilter = '' | FileStatus | 'private' | 'saving' | 'cached' | 'held';

export interface ViewState {
  view: ViewId;
  /** Path search (substring, case-insensitive). */
  q: string;
  status: StatusFilter;
  /** Instance id filter ('' = all). */
  inst: string;
  /** Image id filter ('' = all). */
  img: string;
  /** Sort key with '-' for descending: 'size', '-size', 'path', 'saved', 'status', 'instance'. */
  sort: string;
  /** Selected file-table row, -1 none. */
  sel: number;
  /** Files sub-view: table or treemap. */
  fv: 'table' | 'treemap';
  /** Treemap directory ('' = root). */
  dir: string;
  /** Graph mode. */
  gm: 'force' | 'matrix';
  /** Domain reassignments: instance id -> label. */
  dom: Record<string, string>;
  /** Applied scenario ids. */
  scn: string[];
  /** Compare: baseline report id. */
  base: string;
  /** Files: only the rows of a trust matrix cell, "<supplier party>><reader party>" ('' = all; docs/trust.md). */
  tc: string;
  /** Bytes of the files table, treemap and graph: static (every page read) or measured (resident; docs/working-set.md). */
  measure: Measure;
  /** Files: only the rows two instances share or hold as the same content ("<a>,<b>", lib/pairs.ts; '' = all). */
  pair: string;
  /** Files: only the contents held by exactly these images (an Overlap column: image ids, ','-joined; '' = all). */
  ov: string;
  /** Treemap box sizes: bytes without sharing, or with sharing. */
  tms: 'without' | 'with';
}

export type Measure = 'static' | 'measured';

export const DEFAULT_VIEW: ViewState = {
  view: 'overview',
  q: '',
  status: '',
  inst: '',
  img: '',
  sort: '-saved',
  sel: -1,
  fv: 'table',
  dir: '',
  gm: 'force',
  dom: {},
  scn: [],
  base: '',
  tc: '',
  measure: 'static',
  pair: '',
  ov: '',
  tms: 'without',
};

const VIEW_IDS = new Set(VIEWS.map((v) => v.id));

export function parseRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '' || pathname === '/index.html') return { page: 'start' };
  const m = /^\/r\/([A-Za-z0-9_-]{1,64})\/?$/.exec(pathname);
  if (m) return { page: 'report', id: m[1]! };
  return { page: 'not-found' };
}

/** `dom=i4:D1,i5:tenant%20a` (labels URI-encoded so ',' and ':' survive). */
function parseDom(s: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!s) return out;
  for (const part of s.split(',')) {
    const k = part.indexOf(':');
    if (k <= 0) continue;
    try {
      out[decodeURIComponent(part.slice(0, k))] = decodeURIComponent(part.slice(k + 1));
    } catch {
      /* ignore a mangled pair */
    }
  }
  return out;
}

function formatDom(d: Record<string, string>): string {
  return Object.keys(d)
    .sort()
    .map((k) => `${encodeURIComponent(k)}:${encodeURIComponent(d[k]!)}`)
    .join(',');
}

export function parseQuery(search: string): ViewState {
  const p = new URLSearchParams(search);
  const view = p.get('view') as ViewId | null;
  const sel = Number(p.get('sel') ?? -1);
  return {
    view: view && VIEW_IDS.has(view) ? view : DEFAULT_VIEW.view,
    q: p.get('q') ?? '',
    status: (p.get('status') ?? '') as StatusFilter,
    inst: p.get('inst') ?? '',
    img: p.get('img') ?? '',
    sort: p.get('sort') ?? DEFAULT_VIEW.sort,
    sel: Number.isInteger(sel) && sel >= 0 ? sel : -1,
    fv: p.get('fv') === 'treemap' ? 'treemap' : 'table',
    dir: p.get('dir') ?? '',
    gm: p.get('gm') === 'matrix' ? 'matrix' : 'force',
    dom: parseDom(p.get('dom')),
    scn: (p.get('scn') ?? '').split(',').filter(Boolean),
    base: p.get('base') ?? '',
    tc: p.get('tc') ?? '',
    measure: p.get('measure') === 'measured' ? 'measured' : 'static',
    pair: p.get('pair') ?? '',
    ov: p.get('ov') ?? '',
    tms: p.get('tms') === 'with' ? 'with' : 'without',
  };
}

/** Only non-default values go into the URL, in a fixed order. */
export function formatQuery(v: ViewState): string {
  const p = new URLSearchParams();
  if (v.view !== DEFAULT_VIEW.view) p.set('view', v.view);
  if (v.q) p.set('q', v.q);
  if (v.status) p.set('status', v.status);
  if (v.inst) p.set('inst', v.inst);
  if (v.img) p.set('img', v.img);
  if (v.sort !== DEFAULT_VIEW.sort) p.set('sort', v.sort);
  if (v.sel >= 0) p.set('sel', String(v.sel));
  if (v.fv !== 'table') p.set('fv', v.fv);
  if (v.dir) p.set('dir', v.dir);
  if (v.gm !== 'force') p.set('gm', v.gm);
  const dom = formatDom(v.dom);
  if (dom) p.set('dom', dom);
  if (v.scn.length) p.set('scn', v.scn.join(','));
  if (v.base) p.set('base', v.base);
  if (v.tc) p.set('tc', v.tc);
  if (v.measure !== 'static') p.set('measure', v.measure);
  if (v.pair) p.set('pair', v.pair);
  if (v.ov) p.set('ov', v.ov);
  if (v.tms !== 'without') p.set('tms', v.tms);
  const s = p.toString();
  return s ? `?${s}` : '';
}
