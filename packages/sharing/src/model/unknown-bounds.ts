/**
 * Bounds for instances whose domain is unknown (R11: mountinfo and /proc/mounts never show
 * domain_id). Each such instance is in some domain: one of the known domains of the analysis,
 * or a domain no other known instance is in, alone or with other unknown instances. The bounds
 * are over those placements and over read orders (R5, R6):
 *
 * - best: the most saving reachable: the placement whose luckiest read order (the core's
 *   orderBestWith) holds the fewest pages;
 * - worst: the least: the placement whose unluckiest read order (orderWorstWith) holds the most.
 *
 * A placement gives each unknown instance, in instance-id order, either a known domain or an
 * unknown group, groups numbered in order of first use (restricted growth strings, so that the
 * same partition is not tried twice). With U unknown and K known domains there are at most
 * (K + U)^U placements (each instance picks a known domain or one of at most U groups; for K = 0
 * the Bell number B(U)); each is evaluated by one run of the core, O(rows). When every placement fits in MAX_PLACEMENTS and MAX_BOUND_ROW_WORK
 * row-evaluations, all are tried and the bounds are exact. Otherwise the candidates are: each
 * alone, all together, all in each known domain, and then single moves (one instance to another
 * domain or group) from the best and the worst so far while the budget lasts (a local search);
 * the bounds are then placements that are really reachable, but another placement could go
 * further, and `exhaustive` says so. Merging can lose savings when classes mix (R6: a compressed
 * first member rejects plain files), which is why "all in one domain" is not simply the best.
 */
import type { AnalysisOptions, DomainSecrets, ReportInstance } from '../report.js';
import type { CoreResult, DomainAssignment, Prepared } from './core.js';
import { runCore } from './core.js';
import { keyAliases } from './key-collisions.js';

/** Most placements tried exhaustively. */
export const MAX_PLACEMENTS = 256;
/** Most (instance, file) rows processed by all bound runs together (each run reads every row). */
export const MAX_BOUND_ROW_WORK = 20_000_000;

export interface UnknownBounds {
  /** Fewest pages with sharing reachable, and the placement that reaches it. */
  bestWith: number;
  best: Placement;
  /** Most pages with sharing reachable, and the placement. */
  worstWith: number;
  worst: Placement;
  /** True when every placement was tried (the bounds are exact). */
  exhaustive: boolean;
  evaluations: number;
}

/**
 * For each unknown instance (by index into the unknown list): a known domain index
 * (0 .. K - 1), or K + g for unknown group g.
 */
export type Placement = number[];

export function unknownDomainBounds(
  prepared: Prepared,
  instances: readonly ReportInstance[],
  /** The report's assignment: known domains plus each unknown instance alone. */
  base: DomainAssignment,
  options: AnalysisOptions,
  rows: number,
  secrets: DomainSecrets | undefined,
): UnknownBounds & { unknownIdx: number[]; knownLabels: string[] } {
  const knownLabels = base.labels.filter((_, d) => !base.unknown[d]);
  const knownIndex = new Map(knownLabels.map((l, k) => [l, k]));
  const K = knownLabels.length;
  const unknownIdx: number[] = [];
  instances.forEach((inst, i) => {
    if (base.domainOf[i]! >= 0 && base.unknown[base.domainOf[i]!]) unknownIdx.push(i);
  });
  // Instance-id order: the bounds must not depend on the order instances are given in.
  unknownIdx.sort((a, b) =>
    instances[a]!.id < instances[b]!.id ? -1 : instances[a]!.id > instances[b]!.id ? 1 : 0,
  );
  const U = unknownIdx.length;

  const evaluate = (p: Placement): CoreResult => {
    const groups = p.reduce((m, x) => Math.max(m, x - K + 1), 0);
    const labels = [...knownLabels, ...Array.from({ length: groups }, (_, g) => `?${g + 1}`)];
    const unknown = labels.map((_, d) => d >= K);
    const domainOf = new Int32Array(instances.length).fill(-1);
    instances.forEach((_, i) => {
      const d = base.domainOf[i]!;
      if (d >= 0 && !base.unknown[d]) domainOf[i] = knownIndex.get(base.labels[d]!)!;
    });
    unknownIdx.forEach((i, u) => (domainOf[i] = p[u]!));
    const assignment: DomainAssignment = { domainOf, labels, unknown };
    assignment.keyAlias = keyAliases(prepared, labels, secrets);
    return runCore(prepared, instances, assignment, options);
  };

  const maxRuns = Math.max(0, Math.floor(MAX_BOUND_ROW_WORK / Math.max(1, rows)));
  let evaluations = 0;
  let bestWith = Infinity;
  let worstWith = -Infinity;
  let best: Placement = [];
  let worst: Placement = [];
  const seen = new Set<string>();
  const tryPlacement = (p: Placement): void => {
    const key = p.join(',');
    if (seen.has(key)) return;
    seen.add(key);
    const core = evaluate(p);
    evaluations++;
    if (core.orderBestWith < bestWith) {
      bestWith = core.orderBestWith;
      best = [...p];
    }
    if (core.orderWorstWith > worstWith) {
      worstWith = core.orderWorstWith;
      worst = [...p];
    }
  };

  // Count the placements, stopping once over the budget.
  const budget = Math.min(MAX_PLACEMENTS, maxRuns);
  let count = 0;
  const countFrom = (u: number, groups: number): void => {
    if (count > budget) return;
    if (u === U) {
      count++;
      return;
    }
    for (let x = 0; x < K + groups + 1 && count <= budget; x++)
      countFrom(u + 1, x === K + groups ? groups + 1 : groups);
  };
  countFrom(0, 0);

  if (count <= budget) {
    const p: Placement = new Array<number>(U).fill(0);
    const walk = (u: number, groups: number): void => {
      if (u === U) {
        tryPlacement(p);
        return;
      }
      for (let x = 0; x < K + groups + 1; x++) {
        p[u] = x;
        walk(u + 1, x === K + groups ? groups + 1 : groups);
      }
    };
    walk(0, 0);
    return { bestWith, best, worstWith, worst, exhaustive: true, evaluations, unknownIdx, knownLabels };
  }

  // Too many: the natural candidates, then single moves while the budget lasts.
  const runsLeft = (): boolean => evaluations < Math.max(1, maxRuns);
  tryPlacement(unknownIdx.map((_, u) => K + u)); // each alone (the report's figures)
  if (runsLeft()) tryPlacement(unknownIdx.map(() => K)); // all together, in a domain of their own
  for (let k = 0; k < K && runsLeft(); k++) tryPlacement(unknownIdx.map(() => k)); // all in known domain k
  let improved = true;
  while (improved && runsLeft()) {
    improved = false;
    for (const target of ['best', 'worst'] as const) {
      const from = target === 'best' ? best : worst;
      const groups = from.reduce((m, x) => Math.max(m, x - K + 1), 0);
      for (let u = 0; u < U && runsLeft(); u++) {
        for (let x = 0; x < K + groups + 1 && runsLeft(); x++) {
          if (x === from[u]) continue;
          const before = target === 'best' ? bestWith : worstWith;
          const p = [...from];
          p[u] = x;
          tryPlacement(p);
          if ((target === 'best' ? bestWith : worstWith) !== before) improved = true;
        }
      }
    }
  }
  return { bestWith, best, worstWith, worst, exhaustive: false, evaluations, unknownIdx, knownLabels };
}
