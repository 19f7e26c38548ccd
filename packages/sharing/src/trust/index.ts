export * from './types.js';
export {
  ATTACKER_NEEDS,
  TrustIndex,
  buildTrustModel,
  forEachCrossImageRead,
  partyKeyOf,
  sharesPages,
  trustCellRows,
  withTrust,
} from './model.js';
export {
  TRUST_DOMAIN_POLICIES,
  TRUST_POLICY_RULES,
  applyTrustPolicy,
  checkTrustPolicy,
  evaluateTrustPolicy,
} from './policy.js';
export { partyLabels, renderTrustMarkdown, renderTrustText, trustBytes } from './render.js';
