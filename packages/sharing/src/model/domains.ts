/**
 * Which domain each instance shares in (R2, R11). Labels are the domain identity: a parser
 * maps each raw domain_id to one label, so equal labels mean equal domain ids.
 *
 * Key ambiguity (docs/format.md#sharing-key): the kernel key is value ++ domain bytes without a separator, so
 * (value "ab", domain "c") equals (value "a", domain "bc"). The model keys on the pair
 * (fingerprint, label) and cannot reproduce that collision: it would need the raw domain
 * strings, which a report never holds (R11), and fingerprint values of different lengths
 * (mkfs always writes 39 bytes). Such a collision would make two domains share one file.
 */
import type { InstanceInput, ReportInstance } from '../report.js';
import type { DomainAssignment } from './core.js';

/** Per-domain row label of instances that hold page cache but do not share. */
export const NOT_SHARING_LABEL = '(not sharing)';
/** First character of the labels the engine gives unknown domains (never a label of an input). */
const UNKNOWN_LABEL_PREFIX = '?';
/** Label of an unknown-domain instance alone in its own domain (worst case): `?<id>`. */
export function unknownDomainLabel(instanceId: string): string {
  return `${UNKNOWN_LABEL_PREFIX}${instanceId}`;
}

/** Where an instance's domain label comes from, for messages: its origin, else its label. */
function describeSource(inst: InstanceInput): string {
  const o = inst.origin;
  const at = o
    ? `${o.file}${o.line !== undefined ? `:${o.line}` : ''}${o.column !== undefined ? `:${o.column}` : ''}`
    : null;
  return at ? `${inst.label} (${at})` : inst.label;
}

/**
 * Labels derived from secret domain_id values ("D1", ...) and labels written by users (a plan's
 * `domain`, a domain assignment) are two namespaces: the same string in both says nothing about
 * the domain ids being equal, and merging them would join two trust domains the kernel keeps
 * apart (docs/sharing-rules.md#domain-labels-three-namespaces-r11). So a label used both ways is refused, naming both sources. A
 * RangeError: the CLI exits 2 on it and the server answers 422 (bad-report-request).
 */
export function checkDomainLabelNamespaces(instances: readonly InstanceInput[]): void {
  const derived = new Map<string, InstanceInput>();
  const written = new Map<string, InstanceInput>();
  for (const inst of instances) {
    const d = inst.domain;
    if (d === null) continue;
    // The engine's own labels are a third namespace: `?<id>` for an unknown domain and the
    // per-domain row of instances that do not share. A written "?b" would otherwise join the
    // unknown domain of instance b.
    if (d.label.startsWith(UNKNOWN_LABEL_PREFIX) || d.label === NOT_SHARING_LABEL)
      throw new RangeError(
        `domain label "${d.label}" of ${describeSource(inst)} is reserved (labels starting with "${UNKNOWN_LABEL_PREFIX}" name unknown domains, ` +
          `"${NOT_SHARING_LABEL}" the instances that do not share): choose another label`,
      );
    const [mine, other] = d.source === 'domain-id' ? [derived, written] : [written, derived];
    if (!mine.has(d.label)) mine.set(d.label, inst);
    const clash = other.get(d.label);
    if (clash === undefined) continue;
    const [fromId, byHand] = d.source === 'domain-id' ? [inst, clash] : [clash, inst];
    throw new RangeError(
      `domain label "${d.label}" is both the label of a domain_id= value (${describeSource(fromId)}) ` +
        `and a label written by hand (${describeSource(byHand)}); a written label cannot name a secret ` +
        `domain_id (R11): rename the written label, or give that mount the domain_id= option instead`,
    );
  }
}

/**
 * The report's domains: known labels as given, and each unknown-domain instance (R11) alone in
 * a domain of its own, `?<id>` (it still shares files within its own image). The bounds over
 * the domains unknown instances could really be in are unknown-bounds.ts's.
 */
export function assignDomains(instances: readonly ReportInstance[]): DomainAssignment {
  const labels: string[] = [];
  const unknown: boolean[] = [];
  const index = new Map<string, number>();
  const domainOf = new Int32Array(instances.length).fill(-1);
  const intern = (label: string, isUnknown: boolean): number => {
    let d = index.get(label);
    if (d === undefined) {
      d = labels.length;
      labels.push(label);
      unknown.push(isUnknown);
      index.set(label, d);
    }
    return d;
  };
  instances.forEach((inst, i) => {
    if (!inst.inodeShare.effective) return;
    if (inst.domain !== null) domainOf[i] = intern(inst.domain.label, false);
    else domainOf[i] = intern(unknownDomainLabel(inst.id), true);
  });
  return { domainOf, labels, unknown };
}
