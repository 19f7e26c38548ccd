/**
 * Which domain each instance shares in (R2, R11). Labels are the domain identity: a parser
 * maps each raw domain_id to one label, so equal labels mean equal domain ids.
 *
 * Key ambiguity (spec §8.4): the kernel key is value ++ domain bytes without a separator, so
 * (value "ab", domain "c") equals (value "a", domain "bc"). The model keys on the pair
 * (fingerprint, label) and cannot reproduce that collision: it would need the raw domain
 * strings, which a report never holds (R11), and fingerprint values of different lengths
 * (mkfs always writes 39 bytes). Such a collision would make two domains share one file.
 */
import type { ReportInstance } from '../report.js';
import type { DomainAssignment } from './core.js';

/** Per-domain row label of instances that hold page cache but do not share. */
export const NOT_SHARING_LABEL = '(not sharing)';
/** Label of the single domain holding every unknown-domain instance in the best case. */
export const UNKNOWN_MERGED_LABEL = '?';
/** Label of an unknown-domain instance alone in its own domain (worst case): `?<id>`. */
export function unknownDomainLabel(instanceId: string): string {
  return `?${instanceId}`;
}

/**
 * Unknown domains (R11): `worst` puts each unknown instance alone in a domain of its own
 * (it still shares files within its own image); `best` puts all of them in one domain
 * (sharing with each other, not with known domains).
 */
export function assignDomains(
  instances: readonly ReportInstance[],
  unknownCase: 'worst' | 'best',
): DomainAssignment {
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
    else
      domainOf[i] = intern(
        unknownCase === 'worst' ? unknownDomainLabel(inst.id) : UNKNOWN_MERGED_LABEL,
        true,
      );
  });
  return { domainOf, labels, unknown };
}
