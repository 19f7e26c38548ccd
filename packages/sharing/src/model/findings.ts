/**
 * Findings: what a reviewer must know beyond the totals (R2, R3, R5, R6, R11, R12). One
 * detector per finding code (findings/*.ts), registered below with the rule it reports on
 * (docs/sharing-rules.md).
 * Every finding names instances, images and domains by id/label (never raw domain ids) and
 * lists at most MAX_FINDING_ROWS rows of the file table (`rowCount` has the full count).
 */
import type { Finding, FindingCode, Report } from '../report.js';
import type { AnalysisContext } from './analysis-context.js';
import { domainUnknown, orderDependent } from './findings/bounds.js';
import { findingInput, type FindingDetector } from './findings/common.js';
import { unsharableDuplicates } from './findings/duplicates.js';
import { fingerprintMismatch, fingerprintUnverifiable } from './findings/fingerprints.js';
import { crossDomainKeyCollision } from './findings/key-collisions.js';
import { inodeShareIneffective, mountFailed } from './findings/mounts.js';
import { mixedPublishers } from './findings/publishers.js';

export { MAX_FINDING_ROWS } from './findings/common.js';

/** Every finding code (the compiler checks that none is missing), the rule it reports on and
 * its detector; the order of the entries is the order of findings of equal severity. */
const DETECTORS: Record<FindingCode, Omit<FindingDetector, 'code'>> = {
  'mount-failed': { rule: 'R2 (the mount fails with EINVAL)', detect: mountFailed },
  'inode-share-ineffective': { rule: 'R2, R3', detect: inodeShareIneffective },
  'fingerprint-mismatch': { rule: 'R12', detect: fingerprintMismatch },
  'fingerprint-unverifiable': { rule: 'R12', detect: fingerprintUnverifiable },
  'mixed-publishers': { rule: 'R12 (one domain, one publisher)', detect: mixedPublishers },
  'unsharable-duplicate': { rule: 'R2-R6', detect: unsharableDuplicates },
  'cross-domain-key-collision': { rule: 'R4, R12', detect: crossDomainKeyCollision },
  'order-dependent': { rule: 'R5, R6', detect: orderDependent },
  'domain-unknown': { rule: 'R11', detect: domainUnknown },
};

export const FINDING_DETECTORS: readonly FindingDetector[] = Object.entries(DETECTORS).map(([code, d]) => ({
  code: code as FindingCode,
  ...d,
}));

/** Every finding code, in table order (what a CI gate's `failOn` accepts). */
export const FINDING_CODES: readonly FindingCode[] = FINDING_DETECTORS.map((d) => d.code);

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

/** The report's findings: every detector's, errors first, then warnings, then infos (each in
 * table order). */
export function computeFindings(ctx: AnalysisContext, report: Report): Finding[] {
  const input = findingInput(ctx, report);
  return FINDING_DETECTORS.flatMap((d) => d.detect(input))
    .map((f, k) => ({ f, k }))
    .sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.k - b.k)
    .map((x) => x.f);
}
