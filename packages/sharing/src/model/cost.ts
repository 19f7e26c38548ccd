/**
 * What memory costs (docs/metrics.md "Cost"): the host total, fair shares and containers.
 * An accounting step over the engine's result, no sharing rule of its own:
 *
 *  - host total: the image file data in page cache (`totals`) plus every never-shared cache line
 *    (`unsharedCaches`, R8: the backing file's page cache of file-backed mounts without
 *    `directio`, and metadata lines where the engine models them). That is what the host's page
 *    cache really holds for these mounts.
 *  - fair share (proportional share, like PSS in smem): a shared inode's bytes are divided among
 *    its members, so no instance's cost depends on which member was read first. Shares are
 *    whole bytes: each member gets floor(B / m), and the remainder (B mod m bytes, fewer than m)
 *    goes one byte each to the first members in member order (`splitExact`). Shares of a group
 *    therefore add up exactly to its bytes, and per-instance fair shares to
 *    `totals.bytesWithSharing`.
 *  - containers: an overlay mount over instances (`InstanceInput.users`, from the overlay's
 *    lowerdirs, mounts/resolve.ts). An instance used by n containers has its fair share (and
 *    its host cost) split n ways by the same rule, in `users` order.
 *  - measured fair share (`measured`, with residency data): the same division on the measured
 *    working set (model/residency.ts): a shared inode's measured pages (its first member's
 *    `measured.pagesWith`) divided among its members; shares add up to
 *    `measured.totals.bytesWithSharing` (docs/working-set.md "Fair share").
 */
import type { ContainerCost, InstanceCost, MeasuredCost, Report, ReportCost } from '../report.js';
import { rowClasses } from './file-rows.js';
import { groupColumnsOf, groupMemberCount, type SharedGroupColumns } from './group-columns.js';

/** Share k (0-based) of `total` whole bytes split into `parts` parts: floor, remainder to the first parts. */
export function splitExact(total: number, parts: number, k: number): number {
  const q = Math.floor(total / parts);
  return q + (k < total - q * parts ? 1 : 0);
}

export type CostInput = Pick<
  Report,
  'instances' | 'perInstance' | 'files' | 'groups' | 'unsharedCaches' | 'totals' | 'options'
> &
  Partial<Pick<Report, 'measured'>>;

/**
 * Fair shares per instance (by index): start from the first-member view (`firstMemberBytes`)
 * and move each shared inode's bytes (`groupBytes` of group g) from its first member's instance
 * to all its members.
 */
function fairShares(
  report: CostInput,
  groups: SharedGroupColumns,
  firstMemberBytes: (id: string) => number,
  groupBytes: (g: number) => number,
): number[] {
  const rowInstance = report.files.instance;
  const fair = report.instances.map((inst) => firstMemberBytes(inst.id));
  const classes = rowClasses(report.files, report.instances.length);
  const { memberStart, memberRows } = groups;
  /**
   * Compact table: the whole-share bytes (q) each row's instances get, summed by the row's
   * instance and given to its class once at the end, instead of to every instance of the class
   * for every group (20,000 instances in classes of hundreds: ~100M additions). The shares are
   * whole bytes below 2^53, so the sums are exact in any order.
   */
  const perRow = classes !== null ? new Float64Array(report.instances.length) : null;
  for (let g = 0; g < groups.count; g++) {
    const m = groupMemberCount(groups, g);
    if (m < 2) continue;
    const bytes = groupBytes(g);
    const from = memberStart[g]!;
    const to = memberStart[g + 1]!;
    fair[rowInstance[memberRows[from]!]!]! -= bytes;
    if (classes === null) {
      for (let k = 0; k < m; k++) fair[rowInstance[memberRows[from + k]!]!]! += splitExact(bytes, m, k);
      continue;
    }
    // Compact table: member k in instance order (the per-instance table's member order) gets
    // splitExact(bytes, m, k), i.e. q, plus 1 for the `extra` lowest instance indices.
    const q = Math.floor(bytes / m);
    const extra = bytes - q * m;
    for (let k = from; k < to; k++) {
      const r = rowInstance[memberRows[k]!]!;
      perRow![r] = perRow![r]! + q;
    }
    if (extra > 0) {
      // Members below instance t - 1 get 1 each; instance t - 1 (several members of one image
      // may be in one instance) gets the rest of `extra`.
      const lists: Int32Array[] = [];
      for (let k = from; k < to; k++) lists.push(classes[rowInstance[memberRows[k]!]!]!);
      const t = lowestInstancesBound(lists, extra);
      let given = 0;
      for (const list of lists)
        for (const i of list) {
          if (i >= t - 1) break; // ascending
          fair[i]! += 1;
          given++;
        }
      fair[t - 1]! += extra - given;
    }
  }
  if (classes !== null)
    for (let r = 0; r < perRow!.length; r++) {
      const q = perRow![r]!;
      if (q !== 0) for (const i of classes[r]!) fair[i]! += q;
    }
  return fair;
}

/**
 * The smallest instance index t such that at least `count` entries of the ascending `lists`
 * are below t (an instance counts once per list it is in: one per member row): a binary
 * search on t, counting each list's part below it by another.
 */
function lowestInstancesBound(lists: readonly Int32Array[], count: number): number {
  const below = (t: number): number => {
    let n = 0;
    for (const list of lists) {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (list[mid]! < t) lo = mid + 1;
        else hi = mid;
      }
      n += lo;
    }
    return n;
  };
  let lo = 0;
  let hi = 0;
  for (const list of lists) if (list.length > 0) hi = Math.max(hi, list[list.length - 1]! + 1);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (below(mid) < count) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function costOf(report: CostInput): ReportCost {
  const ps = report.options.pageSize;
  const groups = groupColumnsOf(report);
  const fair = fairShares(
    report,
    groups,
    (id) => report.perInstance[id]?.bytesWithSharing ?? 0,
    (g) => groups.pages[g]! * ps,
  );

  const unsharedOf = new Map<string, number>();
  let unsharedBytes = 0;
  let backingFileBytes = 0;
  for (const line of report.unsharedCaches) {
    unsharedOf.set(line.instanceId, (unsharedOf.get(line.instanceId) ?? 0) + line.bytes);
    unsharedBytes += line.bytes;
    if (line.kind === 'backing-file') backingFileBytes += line.bytes;
  }

  const perInstance: Record<string, InstanceCost> = {};
  report.instances.forEach((inst, i) => {
    const u = unsharedOf.get(inst.id) ?? 0;
    perInstance[inst.id] = { fairBytes: fair[i]!, unsharedBytes: u, hostBytes: fair[i]! + u };
  });

  const containers = containersOf(report, groups, perInstance);
  const cost: ReportCost = {
    host: {
      bytesWithoutSharing: report.totals.bytesWithoutSharing + unsharedBytes,
      bytesWithSharing: report.totals.bytesWithSharing + unsharedBytes,
      unsharedBytes,
      backingFileBytes,
    },
    perInstance,
    containers,
  };
  if (report.measured) cost.measured = measuredCostOf(report, groups, report.measured, containers);
  return cost;
}

/** The fair shares of the measured working set, per instance and per container (`containers`' order). */
function measuredCostOf(
  report: CostInput,
  groups: SharedGroupColumns,
  measured: NonNullable<Report['measured']>,
  containers: readonly ContainerCost[],
): MeasuredCost {
  const ps = report.options.pageSize;
  const fair = fairShares(
    report,
    groups,
    (id) => measured.perInstance[id]?.bytesWithSharing ?? 0,
    (g) => (measured.pagesWith[groups.memberRows[groups.memberStart[g]!]!] ?? 0) * ps,
  );
  const perInstance: MeasuredCost['perInstance'] = {};
  report.instances.forEach((inst, i) => {
    perInstance[inst.id] = { fairBytes: fair[i]! };
  });
  const byName = new Map(containers.map((c, k) => [c.name, k]));
  const containerFair = new Array<number>(containers.length).fill(0);
  report.instances.forEach((inst, i) => {
    const users = inst.users ?? [];
    users.forEach((name, k) => {
      const c = byName.get(name);
      if (c !== undefined) containerFair[c]! += splitExact(fair[i]!, users.length, k);
    });
  });
  return {
    perInstance,
    containers: containers.map((c, k) => ({ name: c.name, fairBytes: containerFair[k]! })),
  };
}

/** Containers by name (sorted), with their memory alone and their fair share of the host's. */
function containersOf(
  report: CostInput,
  groups: SharedGroupColumns,
  perInstance: Record<string, InstanceCost>,
): ContainerCost[] {
  const ps = report.options.pageSize;
  const names = new Map<string, number>();
  const containers: ContainerCost[] = [];
  /** Container indices of each instance, in its `users` order. */
  const usersOf: number[][] = report.instances.map((inst) =>
    (inst.users ?? []).map((name) => {
      let c = names.get(name);
      if (c === undefined) {
        names.set(name, (c = containers.length));
        containers.push({
          name,
          instanceIds: [],
          bytesWithoutSharing: 0,
          bytesWithSharing: 0,
          fairBytes: 0,
          hostBytes: 0,
        });
      }
      return c;
    }),
  );
  if (containers.length === 0) return [];
  report.instances.forEach((inst, i) => {
    const users = usersOf[i]!;
    const own = report.perInstance[inst.id]?.bytesWithoutSharing ?? 0;
    const cost = perInstance[inst.id]!;
    users.forEach((c, k) => {
      const box = containers[c]!;
      box.instanceIds.push(inst.id);
      box.bytesWithoutSharing += own;
      box.fairBytes += splitExact(cost.fairBytes, users.length, k);
      box.hostBytes += splitExact(cost.hostBytes, users.length, k);
    });
  });
  // With sharing, as the container alone would hold it: its instances' data with each shared
  // inode it reaches counted once (k members in the container save (k - 1) copies).
  for (const c of containers) c.bytesWithSharing = c.bytesWithoutSharing;
  const count = new Array<number>(containers.length).fill(0);
  const touched: number[] = [];
  const classes = rowClasses(report.files, report.instances.length);
  const rowInstance = report.files.instance;
  const { memberStart, memberRows } = groups;
  for (let g = 0; g < groups.count; g++) {
    if (groupMemberCount(groups, g) < 2) continue;
    for (let k = memberStart[g]!; k < memberStart[g + 1]!; k++) {
      const i = rowInstance[memberRows[k]!]!;
      for (const mi of classes === null ? [i] : classes[i]!)
        for (const c of usersOf[mi]!) {
          if (count[c] === 0) touched.push(c);
          count[c]!++;
        }
    }
    for (const c of touched) {
      containers[c]!.bytesWithSharing -= (count[c]! - 1) * groups.pages[g]! * ps;
      count[c] = 0;
    }
    touched.length = 0;
  }
  return containers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
