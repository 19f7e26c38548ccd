/**
 * What the user changed on top of a stored report: domain assignments and applied scenarios.
 * Pure functions over AnalysisInput, shared by the analysis worker and the unit tests.
 */
import { scenarioById, withAssignedDomains } from '@sharemap/sharing';
import type { AnalysisInput } from '@sharemap/sharing';

export interface WhatIf {
  /** Instance id -> domain label (user assignment; replaces the instance's domain). */
  domains: Record<string, string>;
  /** Ids of standard scenarios applied in order (e.g. "merge-domains"). */
  scenarios: string[];
}

export const NO_WHATIF: WhatIf = { domains: {}, scenarios: [] };

export function isIdentity(w: WhatIf): boolean {
  return Object.keys(w.domains).length === 0 && w.scenarios.length === 0;
}

/** The input with the user's domain labels: a domain_id given, so inode_share can be effective. */
export function assignDomains(input: AnalysisInput, domains: Record<string, string>): AnalysisInput {
  if (Object.keys(domains).length === 0) return input;
  return withAssignedDomains(input, (inst) => (Object.hasOwn(domains, inst.id) ? domains[inst.id]! : null));
}

/**
 * The input with the user's what-if applied. A scenario id that names no scenario, or a
 * `working-set:<f>` outside (0, 1], throws (scenarioById): the recompute fails with that
 * message in the what-if bar instead of showing the stored figures as if it had applied.
 */
export function applyWhatIf(input: AnalysisInput, w: WhatIf): AnalysisInput {
  let out = assignDomains(input, w.domains);
  for (const id of w.scenarios) out = scenarioById(out, id).apply(out);
  return out;
}
