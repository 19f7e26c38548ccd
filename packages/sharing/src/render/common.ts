/** Shared helpers of the text and markdown renderers. */
import { groupColumnsOf, groupMemberCount, groupObject } from '../model/group-columns.js';
import type { Report, ReportInstance, SharedGroup } from '../report.js';
import { isMounted } from '../model/input.js';
import { formatBytes, formatInteger, formatPercent } from './bytes.js';

/**
 * "6 instances, 16.8 MiB of page cache without sharing, 14.1 MiB with, 2.8 MiB saved (16.5 %)".
 * With unknown domains whose best and worst placements differ, the headline itself gives the
 * range, as the web UI's does ("6.6 MiB – 7.3 MiB with, 0 B – 640.0 KiB saved (0.0 % – 8.6 %),
 * depending on the unknown domains"): the totals alone are the worst case
 * (docs/sharing-rules.md#unknown-domain-bounds), which reads as a verdict.
 */
export function headline(report: Pick<Report, 'totals' | 'instances' | 'bounds'>): string {
  const t = report.totals;
  const mounted = report.instances.filter(isMounted).length;
  const head = `${mounted} instance${mounted === 1 ? '' : 's'}, ${formatBytes(t.bytesWithoutSharing)} of page cache without sharing, `;
  const b = report.bounds;
  if (b && b.best.bytesWithSharing !== b.worst.bytesWithSharing)
    return (
      head +
      `${formatBytes(b.best.bytesWithSharing)} – ${formatBytes(b.worst.bytesWithSharing)} with, ` +
      `${formatBytes(b.worst.bytesSaved)} – ${formatBytes(b.best.bytesSaved)} saved ` +
      `(${formatPercent(b.worst.percentSaved)} – ${formatPercent(b.best.percentSaved)}), depending on the unknown domains`
    );
  return (
    head +
    `${formatBytes(t.bytesWithSharing)} with, ${formatBytes(t.bytesSaved)} saved (${formatPercent(t.percentSaved)})`
  );
}

/** "5.2 MiB -> 4.9 MiB, 6.0 %": one measure, without and with sharing, and the saving. */
export function measurePair(t: Report['totals']): string {
  return `${formatBytes(t.bytesWithoutSharing)} -> ${formatBytes(t.bytesWithSharing)}, ${formatPercent(t.percentSaved)}`;
}

/**
 * The measured figures' upper bound, when coverage is partial and the report has it: "at most
 * 7.2 MiB -> 3.6 MiB, 50.0 % if the files without data were fully resident"
 * (docs/working-set.md "Coverage bounds"); null otherwise.
 */
export function measuredUpperText(
  m: Pick<NonNullable<Report['measured']>, 'upper' | 'coverage'> | undefined,
): string | null {
  if (!m?.upper || m.coverage.filesWithData >= m.coverage.files) return null;
  return `at most ${measurePair(m.upper)} if the files without data were fully resident`;
}

/**
 * Both measures on one line, when the report has a measured working set:
 * "static: 16.8 MiB -> 14.1 MiB, 16 %; measured: 5.2 MiB -> 4.9 MiB, 6 %", then the coverage
 * ("residency data for 4 of 476 files, 275 KiB of 6.4 MiB") and, when coverage is partial, the
 * upper bound (measuredUpperText). null without residency data.
 */
export function bothMeasures(report: {
  totals: Report['totals'];
  measured?: Pick<NonNullable<Report['measured']>, 'totals' | 'coverage' | 'upper'> | undefined;
}): string | null {
  const m = report.measured;
  if (!m) return null;
  const c = m.coverage;
  const upper = measuredUpperText(m);
  return (
    `static: ${measurePair(report.totals)}; measured: ${measurePair(m.totals)} ` +
    `(residency data for ${c.filesWithData} of ${c.files} files, ${formatBytes(c.bytesWithData)} of ${formatBytes(c.bytes)})` +
    (upper ? `; ${upper}` : '')
  );
}

export interface TopGroup {
  group: SharedGroup;
  /** Bytes this shared inode saves: (members - 1) * pages * pageSize. */
  saved: number;
  /** "image:path" of the first member. */
  file: string;
}

export function topGroups(report: Report, n: number): TopGroup[] {
  const ps = report.options.pageSize;
  const imageName = new Map(report.images.map((x) => [x.id, x.name]));
  // From the columns (group-columns.ts): objects only for the n listed.
  const groups = groupColumnsOf(report);
  const saved = new Float64Array(groups.count);
  for (let g = 0; g < groups.count; g++) saved[g] = (groupMemberCount(groups, g) - 1) * groups.pages[g]! * ps;
  return topSaving(saved, n).map((g) => {
    const group = groupObject(groups, g);
    const r = group.members[0]!;
    const inst = report.instances[report.files.instance[r]!]!;
    return {
      group,
      saved: saved[g]!,
      file: `${imageName.get(inst.imageId) ?? inst.imageId}:${report.paths[inst.imageId]?.[report.files.file[r]!] ?? '?'}`,
    };
  });
}

/**
 * The groups that save (`saved[g] > 0`) sorted by what they save, most first, ties in group
 * order (a stable sort), then the first n, as `slice(0, n)` takes them. For a positive whole n
 * they are kept sorted as the groups go by, a group entering only when it saves more than the
 * last kept: no sort of 500,000 groups for 10 of them.
 */
function topSaving(saved: Float64Array, n: number): number[] {
  if (!(Number.isInteger(n) && n > 0)) {
    const saving: number[] = [];
    for (let g = 0; g < saved.length; g++) if (saved[g]! > 0) saving.push(g);
    return saving.sort((a, b) => saved[b]! - saved[a]!).slice(0, n);
  }
  const top: number[] = [];
  for (let g = 0; g < saved.length; g++) {
    const s = saved[g]!;
    if (!(s > 0)) continue;
    if (top.length === n) {
      if (!(s > saved[top[n - 1]!]!)) continue;
      top.pop();
    }
    // After every kept group that saves as much (ties stay in group order).
    let at = top.length;
    while (at > 0 && s > saved[top[at - 1]!]!) at--;
    top.splice(at, 0, g);
  }
  return top;
}

/** Instances by id, per instances array (a lookup per instance line: 20,000 lines made a find() each quadratic). */
const instancesById = new WeakMap<readonly ReportInstance[], Map<string, ReportInstance>>();

export function instanceState(report: Pick<Report, 'instances'>, id: string): string {
  let byId = instancesById.get(report.instances);
  if (!byId) {
    instancesById.set(report.instances, (byId = new Map()));
    for (const i of report.instances) if (!byId.has(i.id)) byId.set(i.id, i); // the first, as find() gave
  }
  const inst = byId.get(id)!;
  if (inst.mountError !== undefined) return 'mount fails';
  if (inst.inodeShare.effective)
    return inst.inodeShare.domainUnknown ? 'sharing (domain unknown)' : 'sharing';
  return inst.inodeShare.reason;
}

/**
 * "with sharing between X and Y" for a range of bytesWithSharing, or "with sharing X" when both
 * ends are equal (a range must never read "between X and X"). Ends that differ but round to the
 * same binary unit are given in exact bytes.
 */
export function withSharingRange(min: number, max: number): string {
  const lo = Math.min(min, max);
  const hi = Math.max(min, max);
  if (lo === hi) return `with sharing ${formatBytes(lo)}`;
  const a = formatBytes(lo);
  const b = formatBytes(hi);
  return a === b
    ? `with sharing between ${formatInteger(lo)} and ${formatInteger(hi)} bytes`
    : `with sharing between ${a} and ${b}`;
}

/** One line saying which images are predicted from OCI images (docs/oci.md), or null when none is. */
export function predictedNote(report: Pick<Report, 'images'>): string | null {
  const p = report.images.filter((i) => i.predicted);
  if (p.length === 0) return null;
  const opts = [...new Set(p.map((i) => `${i.predicted!.tool} ${i.predicted!.options.join(' ')}`))].join(
    '; ',
  );
  return `PREDICTED: ${p.length} of ${report.images.length} image(s) are predicted from OCI images, as ${opts} would build them (${p.map((i) => i.name).join(', ')}).`;
}

/**
 * "host page cache: 28.0 MiB with sharing (14.1 MiB of image files + 13.9 MiB of backing-file
 * cache), 30.7 MiB without": the host total (model/cost.ts), or null for a report without it.
 */
export function hostTotalLine(report: Pick<Report, 'cost' | 'totals'>): string | null {
  const h = report.cost?.host;
  if (!h) return null;
  const parts = [`${formatBytes(report.totals.bytesWithSharing)} of image files`];
  if (h.backingFileBytes > 0) parts.push(`${formatBytes(h.backingFileBytes)} of backing-file cache`);
  if (h.unsharedBytes > h.backingFileBytes)
    parts.push(`${formatBytes(h.unsharedBytes - h.backingFileBytes)} of metadata`);
  return `host page cache: ${formatBytes(h.bytesWithSharing)} with sharing (${parts.join(' + ')}), ${formatBytes(h.bytesWithoutSharing)} without`;
}
