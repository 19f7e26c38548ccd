/**
 * Comparing two reports (e.g. a release against its baseline): files, identified by image
 * name + path, that stopped or started sharing, and where bytes were lost or gained.
 */
import type { Report, Totals } from '../report.js';

export interface FileDelta {
  image: string;
  path: string;
  /** Bytes this file saves (sum over its rows of without - with), before and after; 0 when absent. */
  savedBefore: number;
  savedAfter: number;
  /** Rows with status 'shared', before and after. */
  sharedBefore: number;
  sharedAfter: number;
}

export interface ReportDelta {
  totals: {
    base: Totals;
    next: Totals;
    /** next - base, per field. */
    delta: Totals;
  };
  /** Files shared (in some instance) in base, in no instance of next (absent files included). */
  stoppedSharing: FileDelta[];
  /** Files shared in next, in no instance of base. */
  startedSharing: FileDelta[];
  /** Sum of per-file decreases / increases of saved bytes (bytesGained - bytesLost = delta.bytesSaved). */
  bytesLost: number;
  bytesGained: number;
}

interface FileAgg {
  image: string;
  path: string;
  saved: number;
  shared: number;
}

function aggregate(report: Report): Map<string, FileAgg> {
  const out = new Map<string, FileAgg>();
  const { instance, file, status, pagesWith, pagesWithout } = report.files;
  const ps = report.options.pageSize;
  const imgName = new Map(report.images.map((x) => [x.id, x.name]));
  for (let r = 0; r < instance.length; r++) {
    const inst = report.instances[instance[r]!]!;
    const name = imgName.get(inst.imageId) ?? inst.imageId;
    const path = report.paths[inst.imageId]?.[file[r]!] ?? '';
    const key = `${name}\u0000${path}`;
    let a = out.get(key);
    if (!a) out.set(key, (a = { image: name, path, saved: 0, shared: 0 }));
    a.saved += (pagesWithout[r]! - pagesWith[r]!) * ps;
    if (status[r] === 'shared') a.shared++;
  }
  return out;
}

function subtract(a: Totals, b: Totals): Totals {
  return {
    pagesWithoutSharing: a.pagesWithoutSharing - b.pagesWithoutSharing,
    pagesWithSharing: a.pagesWithSharing - b.pagesWithSharing,
    bytesWithoutSharing: a.bytesWithoutSharing - b.bytesWithoutSharing,
    bytesWithSharing: a.bytesWithSharing - b.bytesWithSharing,
    bytesSaved: a.bytesSaved - b.bytesSaved,
    percentSaved: a.percentSaved - b.percentSaved,
  };
}

export function compareReports(base: Report, next: Report): ReportDelta {
  const a = aggregate(base);
  const b = aggregate(next);
  const stopped: FileDelta[] = [];
  const started: FileDelta[] = [];
  let lost = 0;
  let gained = 0;
  const keys = new Set([...a.keys(), ...b.keys()]);
  for (const k of keys) {
    const x = a.get(k);
    const y = b.get(k);
    const d: FileDelta = {
      image: (x ?? y)!.image,
      path: (x ?? y)!.path,
      savedBefore: x?.saved ?? 0,
      savedAfter: y?.saved ?? 0,
      sharedBefore: x?.shared ?? 0,
      sharedAfter: y?.shared ?? 0,
    };
    const diff = d.savedAfter - d.savedBefore;
    if (diff < 0) lost -= diff;
    else gained += diff;
    if (d.sharedBefore > 0 && d.sharedAfter === 0) stopped.push(d);
    if (d.sharedBefore === 0 && d.sharedAfter > 0) started.push(d);
  }
  const bySize = (p: FileDelta, q: FileDelta) =>
    Math.abs(q.savedAfter - q.savedBefore) - Math.abs(p.savedAfter - p.savedBefore) ||
    (p.image + p.path < q.image + q.path ? -1 : 1);
  stopped.sort(bySize);
  started.sort(bySize);
  return {
    totals: { base: base.totals, next: next.totals, delta: subtract(next.totals, base.totals) },
    stoppedSharing: stopped,
    startedSharing: started,
    bytesLost: lost,
    bytesGained: gained,
  };
}
