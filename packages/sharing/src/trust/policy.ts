/**
 * A reviewer's trust policy (`.sharemap.yml` `trust:`, docs/trust.md#policy) evaluated on a
 * trust model: one check per rule set, each naming the rule (`trust.<rule>`), what broke it and
 * the R-code it protects. The result is stored in the model so the sign-off is reproducible.
 */
import { MAX_TRUST_ROWS } from './types.js';
import type {
  FingerprintBinding,
  TrustImageFingerprints,
  TrustModel,
  TrustPolicy,
  TrustPolicyCheck,
  TrustPolicyResult,
  TrustPolicyRule,
} from './types.js';

/** Values of `trust.domains`. */
export const TRUST_DOMAIN_POLICIES = ['one-per-publisher', 'any'] as const;
/** The rules a policy may set, in evaluation order. */
export const TRUST_POLICY_RULES: readonly TrustPolicyRule[] = [
  'domains',
  'allowPublisherDefinedFingerprints',
  'requireVerified',
];
/** How many names a policy message lists before "and N more". */
const LISTED = 5;

function list(xs: readonly string[]): string {
  return xs.length > LISTED
    ? `${xs.slice(0, LISTED).join(', ')} and ${xs.length - LISTED} more`
    : xs.join(', ');
}

/** The rows behind the statements of the given bindings (capped like every trust row list). */
function rowsOf(
  images: readonly TrustImageFingerprints[],
  bindings: readonly FingerprintBinding[],
): { rows: number[]; rowCount: number } {
  const st = images.flatMap((f) =>
    f.statements.filter((s) => s.binding !== undefined && bindings.includes(s.binding)),
  );
  const rows = st.flatMap((s) => s.rows ?? []);
  return { rows: rows.slice(0, MAX_TRUST_ROWS), rowCount: st.reduce((a, s) => a + (s.rowCount ?? 0), 0) };
}

/**
 * Validates a policy value (parsed YAML/JSON). Returns the policy, or the key at fault and why.
 * Unknown keys are errors: a misspelt rule must not pass silently.
 */
export function checkTrustPolicy(
  v: unknown,
): { ok: true; policy: TrustPolicy } | { ok: false; key: string | null; error: string } {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    return {
      ok: false,
      key: null,
      error: `expected a mapping of trust rules (${TRUST_POLICY_RULES.join(', ')})`,
    };
  const policy: TrustPolicy = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'domains') {
      if (typeof x !== 'string' || !(TRUST_DOMAIN_POLICIES as readonly string[]).includes(x))
        return {
          ok: false,
          key: k,
          error: `expected one of ${TRUST_DOMAIN_POLICIES.join(', ')}, got ${JSON.stringify(x)}`,
        };
      policy.domains = x as TrustPolicy['domains'];
    } else if (k === 'allowPublisherDefinedFingerprints' || k === 'requireVerified') {
      if (typeof x !== 'boolean')
        return { ok: false, key: k, error: `expected true or false, got ${JSON.stringify(x)}` };
      policy[k] = x;
    } else {
      return {
        ok: false,
        key: k,
        error: `unknown trust rule "${k}" (known: ${TRUST_POLICY_RULES.join(', ')})`,
      };
    }
  }
  return { ok: true, policy };
}

/** Evaluates `policy` on `model`. Rules absent from the policy (or set to their permissive value) are not listed. */
export function evaluateTrustPolicy(model: TrustModel, policy: TrustPolicy): TrustPolicyResult {
  const checks: TrustPolicyCheck[] = [];
  const partyLabel = new Map(model.parties.map((p) => [p.key, p.label]));

  if (policy.domains === 'one-per-publisher') {
    const mixed = model.domains.filter((d) => !d.unknown && d.parties.length > 1);
    const anonymous = model.domains.filter(
      (d) => !d.unknown && d.images.length > 1 && d.images.some((i) => i.publisher === null),
    );
    const unknown = model.domains.filter((d) => d.unknown);
    const problems: string[] = [];
    for (const d of mixed)
      problems.push(
        `domain ${d.label} mixes ${d.parties.length} publishers (${d.parties.map((p) => partyLabel.get(p) ?? p).join(', ')})`,
      );
    for (const d of anonymous)
      if (!mixed.includes(d))
        problems.push(
          `domain ${d.label} holds images whose publisher is unknown (${d.images
            .filter((i) => i.publisher === null)
            .map((i) => i.name)
            .join(', ')})`,
        );
    if (unknown.length > 0)
      problems.push(
        `the domain of ${list(unknown.flatMap((d) => d.instances.map((i) => i.id)))} is unknown (R11): assign domains to check it`,
      );
    const bad = [...new Set([...mixed, ...anonymous, ...unknown])];
    checks.push({
      id: 'trust.domains',
      rule: 'domains',
      ruleRef: 'R12',
      ok: problems.length === 0,
      message:
        problems.length === 0
          ? `every domain holds images of one known publisher (${model.domains.length} domain(s))`
          : `one domain per publisher: ${problems.join('; ')}`,
      domains: bad.map((d) => d.label),
      imageIds: [...new Set(bad.flatMap((d) => d.images.map((i) => i.id)))],
    });
  }

  // Only images that share somewhere (a domain) matter: a private image affects no one.
  const sharing = model.fingerprints.filter((f) => f.domains.length > 0);
  if (policy.allowPublisherDefinedFingerprints === false) {
    const bad = sharing.filter((f) => f.counts['publisher-defined'] > 0);
    const rows = rowsOf(bad, ['publisher-defined']);
    const n = bad.reduce((a, f) => a + f.counts['publisher-defined'], 0);
    checks.push({
      id: 'trust.allowPublisherDefinedFingerprints',
      rule: 'allowPublisherDefinedFingerprints',
      ruleRef: 'R4, R12',
      ok: bad.length === 0,
      message:
        bad.length === 0
          ? `no sharing image carries publisher-defined fingerprints (${sharing.length} sharing image(s))`
          : `publisher-defined fingerprints are not allowed: ${n} file(s) in ${list(bad.map((f) => `${f.name} (${f.counts['publisher-defined']})`))}`,
      imageIds: bad.map((f) => f.imageId),
      ...rows,
    });
  }

  if (policy.requireVerified === true) {
    const unchecked = sharing.filter((f) => f.counts.unverifiable > 0);
    const mismatch = sharing.filter((f) => f.counts['verified-mismatch'] > 0);
    const problems: string[] = [];
    if (mismatch.length > 0)
      problems.push(
        `fingerprints that do not match the content in ${list(mismatch.map((f) => `${f.name} (${f.counts['verified-mismatch']})`))}`,
      );
    if (unchecked.length > 0)
      problems.push(
        `unverified sha256 fingerprints (scan with --hash) in ${list(unchecked.map((f) => `${f.name} (${f.counts.unverifiable})`))}`,
      );
    const bad = [...new Set([...mismatch, ...unchecked])];
    const rows = rowsOf(bad, ['verified-mismatch', 'unverifiable']);
    checks.push({
      id: 'trust.requireVerified',
      rule: 'requireVerified',
      ruleRef: 'R12',
      ok: problems.length === 0,
      message:
        problems.length === 0
          ? `every sha256 fingerprint of a sharing image was verified against its content (${sharing.length} sharing image(s))`
          : `fingerprints must be verified: ${problems.join('; ')}`,
      imageIds: bad.map((f) => f.imageId),
      ...rows,
    });
  }
  return { policy: { ...policy }, passed: checks.every((c) => c.ok), checks };
}

/** Evaluates `policy` and stores the result in `model.policy`; returns the result. */
export function applyTrustPolicy(model: TrustModel, policy: TrustPolicy): TrustPolicyResult {
  const result = evaluateTrustPolicy(model, policy);
  model.policy = result;
  return result;
}
