/** Findings that turn one figure into a range: order-dependent (R5, R6), domain-unknown (R11). */
import type { Finding } from '../../report.js';
import { MAX_ORDER_ROWS } from '../core.js';
import { bytesText, capped, countRows, type FindingInput } from './common.js';

/** Shared keys whose candidates differ in size or aops class: the first read fixes them (R5, R6). */
export function orderDependent(x: FindingInput): Finding[] {
  const { report, core } = x;
  if (!report.orderBounds) return [];
  const { best, worst } = report.orderBounds;
  return [
    {
      code: 'order-dependent',
      severity: 'warning',
      message:
        `${core.orderDependentKeys} shared key(s) have candidates of different sizes or aops classes: the first file read fixes them (R5, R6), ` +
        `so memory with sharing is between ${bytesText(best.bytesWithSharing)} and ${bytesText(worst.bytesWithSharing)}; ` +
        `the figures use instances in input order and files in path order (${bytesText(report.totals.bytesWithSharing)}).`,
      range: { min: best.bytesWithSharing, max: worst.bytesWithSharing },
      bytes: worst.bytesWithSharing - best.bytesWithSharing,
      // The per-instance count stops at the core's cap: so does a compact table's.
      ...capped(core.orderRows, Math.min(MAX_ORDER_ROWS, countRows(x, core.orderRows))),
    },
  ];
}

/** Instances that share in a domain the input does not name (R11): the figures are bounds. */
export function domainUnknown({ report, instances, unknownBounds: ub }: FindingInput): Finding[] {
  if (!report.bounds || !ub) return [];
  const unknownIds = instances
    .filter((inst) => inst.inodeShare.effective && inst.inodeShare.domainUnknown)
    .map((x) => x.id);
  const { best, worst } = report.bounds;
  const placement = (p: number[]): string => {
    const k = ub.knownLabels.length;
    const parts = ub.unknownIdx.map((i, u) => {
      const x = p[u]!;
      return `${instances[i]!.id} ${x < k ? `in ${ub.knownLabels[x]!}` : `in new domain ${x - k + 1}`}`;
    });
    return parts.join(', ');
  };
  const range =
    best.bytesWithSharing === worst.bytesWithSharing
      ? `whatever their domains and the read order, ${bytesText(best.bytesWithSharing)} with sharing`
      : `depending on their domains and the read order, between ${bytesText(best.bytesWithSharing)} (${placement(ub.best)}, luckiest order) ` +
        `and ${bytesText(worst.bytesWithSharing)} (${placement(ub.worst)}, unluckiest order)` +
        (ub.exhaustive ? '' : ` among the ${ub.evaluations} placements tried (too many to try all)`);
  return [
    {
      code: 'domain-unknown',
      severity: 'info',
      message:
        `${unknownIds.length} instance(s) share with an unknown domain (the kernel never prints domain_id, R11): ` +
        `the figures assume each is alone in its own domain (${bytesText(report.totals.bytesWithSharing)} with sharing); ` +
        `${range}. Assign domains to get one figure.`,
      instanceIds: unknownIds,
      ...(best.bytesWithSharing !== worst.bytesWithSharing
        ? { range: { min: best.bytesWithSharing, max: worst.bytesWithSharing } }
        : {}),
    },
  ];
}
