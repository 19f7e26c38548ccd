/**
 * Comparing two reports (e.g. a release against its baseline): files, identified by image
 * name + path, that stopped or started sharing, and where bytes were lost or gained.
 */
import { rowCopies } from './file-rows.js';
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
  /** Files shared in both whose saved bytes changed (with stopped and started: every file behind bytesLost/bytesGained). */
  changedSharing: FileDelta[];
  /** Sum of per-file decreases / increases of saved bytes (bytesGained - bytesLost = delta.bytesSaved). */
  bytesLost: number;
  bytesGained: number;
  /** Images (by name) added, removed or with changed figures. */
  images: EntityDelta[];
  /** Instances (by label) added, removed or with changed figures. */
  instances: EntityDelta[];
}
/** An image (by name) or instance (by label) in one report or both, with its figures in each. */
export interface EntityDelta {
  /** Image name, or instance label (usually the mount point). */
  name: string;
  change: 'added' | 'removed' | 'changed';
  /** Bytes without / with sharing in the base and next report (absent where it is not in that report). */
  before?: { bytesWithoutSharing: number; bytesWithSharing: number };
  after?: { bytesWithoutSharing: number; bytesWithSharing: number };
}

type Figures = { bytesWithoutSharing: number; bytesWithSharing: number };

/** Entities in either map by name: added, removed, or changed figures (unchanged ones left out), by name. */
function entityDeltas(a: Map<string, Figures>, b: Map<string, Figures>): EntityDelta[] {
  const out: EntityDelta[] = [];
  for (const name of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(name);
    const y = b.get(name);
    const pick = (t: Figures): Figures => ({
      bytesWithoutSharing: t.bytesWithoutSharing,
      bytesWithSharing: t.bytesWithSharing,
    });
    if (x && y) {
      if (x.bytesWithoutSharing === y.bytesWithoutSharing && x.bytesWithSharing === y.bytesWithSharing)
        continue;
      out.push({ name, change: 'changed', before: pick(x), after: pick(y) });
    } else if (y) out.push({ name, change: 'added', after: pick(y) });
    else out.push({ name, change: 'removed', before: pick(x!) });
  }
  return out;
}

/** Figures per image name (several images of one name add up). */
function byImageName(r: Pick<Report, 'images' | 'perImage'>): Map<string, Figures> {
  const out = new Map<string, Figures>();
  for (const img of r.images) add(out, img.name, r.perImage[img.id]);
  return out;
}

/** Figures per instance label (several instances of one label add up). */
function byInstanceLabel(r: Pick<Report, 'instances' | 'perInstance'>): Map<string, Figures> {
  const out = new Map<string, Figures>();
  for (const inst of r.instances) add(out, inst.label, r.perInstance[inst.id]);
  return out;
}

function add(m: Map<string, Figures>, name: string, t: Totals | undefined): void {
  const cur = m.get(name) ?? { bytesWithoutSharing: 0, bytesWithSharing: 0 };
  m.set(name, {
    bytesWithoutSharing: cur.bytesWithoutSharing + (t?.bytesWithoutSharing ?? 0),
    bytesWithSharing: cur.bytesWithSharing + (t?.bytesWithSharing ?? 0),
  });
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
  const copies = rowCopies(report.files, report.instances.length);
  for (let r = 0; r < instance.length; r++) {
    const inst = report.instances[instance[r]!]!;
    const name = imgName.get(inst.imageId) ?? inst.imageId;
    const path = report.paths[inst.imageId]?.[file[r]!] ?? '';
    const key = `${name}\u0000${path}`;
    let a = out.get(key);
    if (!a) out.set(key, (a = { image: name, path, saved: 0, shared: 0 }));
    a.saved += (pagesWithout[r]! - pagesWith[r]!) * ps;
    if (status[r] === 'shared') a.shared++;
    // A compact table's row also stands for its instance's copies (docs/metrics.md#compact-file-table):
    // never first members, so a member copy holds no pages and a private one its own.
    const n = (copies?.[instance[r]!] ?? 1) - 1;
    if (n > 0 && (status[r] === 'shared' || status[r] === 'shared-alone')) {
      a.saved += pagesWithout[r]! * ps * n;
      a.shared += n;
    }
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
  const changed: FileDelta[] = [];
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
    else if (d.sharedBefore === 0 && d.sharedAfter > 0) started.push(d);
    else if (diff !== 0) changed.push(d);
  }
  const bySize = (p: FileDelta, q: FileDelta) =>
    Math.abs(q.savedAfter - q.savedBefore) - Math.abs(p.savedAfter - p.savedBefore) ||
    (p.image + p.path < q.image + q.path ? -1 : 1);
  stopped.sort(bySize);
  started.sort(bySize);
  changed.sort(bySize);
  return {
    totals: { base: base.totals, next: next.totals, delta: subtract(next.totals, base.totals) },
    stoppedSharing: stopped,
    startedSharing: started,
    changedSharing: changed,
    bytesLost: lost,
    bytesGained: gained,
    images: entityDeltas(byImageName(base), byImageName(next)),
    instances: entityDeltas(byInstanceLabel(base), byInstanceLabel(next)),
  };
}
