/**
 * The shared inodes of a report as columns (docs/benchmarks.md#analyze-groups-shared-inodes-as-columns-2026-12-07):
 * what the engine fills, and what the trust model, the cost step and `--json` read. Two
 * 1M-record manifests make ~900,000 shared inodes; as `SharedGroup` objects (an object and a
 * members array each) they were the largest item of the report's heap and of the engine's
 * allocation, while every reader inside the analysis walks them by index anyway.
 *
 * `Report.groups` keeps its type (an array of `SharedGroup`): on the engine's report it is an
 * accessor that makes the objects from the columns at its first read (`attachGroupColumns`), so
 * readers of objects (web, server renderers, tests) see what they always saw, and a report
 * nobody reads that way (the CLI's `--json`) never makes them. Once made, the objects are the
 * report's groups and the columns are dropped (a reader may change an object).
 */
import type { AopsClass, Report, SharedGroup } from '../report.js';

/** aops class codes (R6): an index into this list. */
export const AOPS_CLASSES: readonly AopsClass[] = ['compressed', 'block', 'file-backed'];

/** Shared inodes by index g (the order of `Report.groups`). */
export interface SharedGroupColumns {
  readonly count: number;
  /** `fingerprints[fingerprint[g]]`: hex of the fingerprint value. */
  readonly fingerprint: Int32Array;
  readonly fingerprints: readonly string[];
  /**
   * True when every value of `fingerprints` is lower-case hex (what validated manifests carry:
   * the engine's fingerprint check saw each once), so its JSON is its characters between quotes
   * and a writer may copy it without looking at each character; absent or false: unknown.
   */
  readonly plainFingerprints?: boolean;
  /** `domainLabels[domain[g]]`: the domain's label. */
  readonly domain: Int32Array;
  readonly domainLabels: readonly string[];
  /** `AOPS_CLASSES[aops[g]]`. */
  readonly aops: Uint8Array;
  /** i_size fixed by the first member (R5). */
  readonly size: Float64Array;
  readonly pages: Float64Array;
  /** Members of g are memberRows[memberStart[g] .. memberStart[g + 1] - 1] (first member first). */
  readonly memberStart: Int32Array;
  readonly memberRows: Int32Array;
  /** Rejected candidates likewise. */
  readonly rejectedStart: Int32Array;
  readonly rejectedRows: Int32Array;
  /**
   * Compact file table: members and rejected candidates counting each instance a row stands
   * for (`SharedGroup.memberCount`/`rejectedCount`, present in an object only where they differ
   * from the row counts); null: the row counts.
   */
  readonly memberCount: Int32Array | null;
  readonly rejectedCount: Int32Array | null;
  /**
   * `SharedGroup.orderDependent`: 1 where it is true (the key is order-dependent), 0 where it is
   * absent; 2 where it is false (never from the engine, but a decoded report may say so).
   */
  readonly orderDependent: Uint8Array;
}

/** Members of group g counting every instance of a compact table (file-rows.memberCount). */
export function groupMemberCount(c: SharedGroupColumns, g: number): number {
  return c.memberCount !== null ? c.memberCount[g]! : c.memberStart[g + 1]! - c.memberStart[g]!;
}

/** Rejected candidates of group g counting every instance of a compact table. */
export function groupRejectedCount(c: SharedGroupColumns, g: number): number {
  return c.rejectedCount !== null ? c.rejectedCount[g]! : c.rejectedStart[g + 1]! - c.rejectedStart[g]!;
}

/** Member rows of group g, first member first (a fresh array). */
export function groupMembers(c: SharedGroupColumns, g: number): number[] {
  return rowsOf(c.memberRows, c.memberStart[g]!, c.memberStart[g + 1]!);
}

/** Group g as the object `Report.groups` holds. */
export function groupObject(c: SharedGroupColumns, g: number): SharedGroup {
  const group: SharedGroup = {
    fingerprint: c.fingerprints[c.fingerprint[g]!]!,
    domain: c.domainLabels[c.domain[g]!]!,
    aops: AOPS_CLASSES[c.aops[g]!]!,
    size: c.size[g]!,
    pages: c.pages[g]!,
    members: rowsOf(c.memberRows, c.memberStart[g]!, c.memberStart[g + 1]!),
    rejected: rowsOf(c.rejectedRows, c.rejectedStart[g]!, c.rejectedStart[g + 1]!),
  };
  if (c.memberCount !== null && c.memberCount[g] !== group.members.length)
    group.memberCount = c.memberCount[g]!;
  if (c.rejectedCount !== null && c.rejectedCount[g] !== group.rejected.length)
    group.rejectedCount = c.rejectedCount[g]!;
  const orderDependent = c.orderDependent[g];
  if (orderDependent !== 0) group.orderDependent = orderDependent === 1;
  return group;
}

/** Every group as objects, in order. */
export function groupObjects(c: SharedGroupColumns): SharedGroup[] {
  const out = new Array<SharedGroup>(c.count);
  for (let g = 0; g < c.count; g++) out[g] = groupObject(c, g);
  return out;
}

/** Where the engine's report keeps its columns until `groups` is read as objects. */
const GROUP_COLUMNS: unique symbol = Symbol('sharemap.groupColumns');

type WithColumns = { [GROUP_COLUMNS]?: SharedGroupColumns };

/**
 * Gives `report` the groups of `columns`: `report.groups` becomes an accessor that makes the
 * objects at its first read (then a plain property holding them), and until then
 * `groupColumnsOf(report)` answers with `columns` without making any.
 */
export function attachGroupColumns(report: Report, columns: SharedGroupColumns): void {
  const settle = (groups: SharedGroup[]): void => {
    delete (report as WithColumns)[GROUP_COLUMNS];
    Object.defineProperty(report, 'groups', {
      value: groups,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  };
  // Not enumerable: a copy of the report (`{ ...report }`) reads `groups` and has no columns.
  Object.defineProperty(report, GROUP_COLUMNS, { value: columns, configurable: true, enumerable: false });
  Object.defineProperty(report, 'groups', {
    get(): SharedGroup[] {
      const groups = groupObjects(columns);
      settle(groups);
      return groups;
    },
    set: settle,
    enumerable: true,
    configurable: true,
  });
}

/**
 * The report's groups as columns while no reader has asked for objects (the engine's report,
 * attachGroupColumns), else null: a writer (the CLI's `--json`) can write them from here.
 */
export function attachedGroupColumns(report: object): SharedGroupColumns | null {
  return (report as WithColumns)[GROUP_COLUMNS] ?? null;
}

/** The report's groups as columns: attached ones, else made from `report.groups` (a decoded report). */
export function groupColumnsOf(report: Pick<Report, 'groups'>): SharedGroupColumns {
  return attachedGroupColumns(report) ?? groupColumnsFromObjects(report.groups);
}

/** Columns of groups given as objects. */
export function groupColumnsFromObjects(groups: readonly SharedGroup[]): SharedGroupColumns {
  const count = groups.length;
  // One fingerprint entry per group (no Map of ~1M strings: equal ones need not share an id).
  const fingerprints = new Array<string>(count);
  const domainIds = new Map<string, number>();
  const domainLabels: string[] = [];
  const idOf = (ids: Map<string, number>, list: string[], s: string): number => {
    let id = ids.get(s);
    if (id === undefined) {
      ids.set(s, (id = list.length));
      list.push(s);
    }
    return id;
  };
  const fingerprint = new Int32Array(count);
  const domain = new Int32Array(count);
  const aops = new Uint8Array(count);
  const size = new Float64Array(count);
  const pages = new Float64Array(count);
  const memberStart = new Int32Array(count + 1);
  const rejectedStart = new Int32Array(count + 1);
  let counted = false;
  for (let g = 0; g < count; g++) {
    const x = groups[g]!;
    memberStart[g + 1] = memberStart[g]! + x.members.length;
    rejectedStart[g + 1] = rejectedStart[g]! + x.rejected.length;
    if (x.memberCount !== undefined || x.rejectedCount !== undefined) counted = true;
  }
  const memberRows = new Int32Array(memberStart[count]!);
  const rejectedRows = new Int32Array(rejectedStart[count]!);
  const memberCount = counted ? new Int32Array(count) : null;
  const rejectedCount = counted ? new Int32Array(count) : null;
  const orderDependent = new Uint8Array(count);
  for (let g = 0; g < count; g++) {
    const x = groups[g]!;
    fingerprint[g] = g;
    fingerprints[g] = x.fingerprint;
    domain[g] = idOf(domainIds, domainLabels, x.domain);
    aops[g] = AOPS_CLASSES.indexOf(x.aops);
    size[g] = x.size;
    pages[g] = x.pages;
    memberRows.set(x.members, memberStart[g]!);
    rejectedRows.set(x.rejected, rejectedStart[g]!);
    if (memberCount !== null) memberCount[g] = x.memberCount ?? x.members.length;
    if (rejectedCount !== null) rejectedCount[g] = x.rejectedCount ?? x.rejected.length;
    if (x.orderDependent !== undefined) orderDependent[g] = x.orderDependent ? 1 : 2;
  }
  return {
    count,
    fingerprint,
    fingerprints,
    domain,
    domainLabels,
    aops,
    size,
    pages,
    memberStart,
    memberRows,
    rejectedStart,
    rejectedRows,
    memberCount,
    rejectedCount,
    orderDependent,
  };
}

/**
 * The empty row list, shared: most groups reject no row, and ~1M empty arrays cost ~30 MB
 * (report-wire's decoder shares one the same way). Frozen: nothing may add to it.
 */
const NO_ROWS = Object.freeze([]) as unknown as number[];

/** xs[start .. end - 1] as a plain array. */
function rowsOf(xs: Int32Array, start: number, end: number): number[] {
  if (end === start) return NO_ROWS;
  // Most groups have two members: a literal is one allocation of a packed array.
  if (end - start === 2) return [xs[start]!, xs[start + 1]!];
  const out = new Array<number>(end - start);
  for (let k = start; k < end; k++) out[k - start] = xs[k]!;
  return out;
}
