/**
 * Domain redaction (sharing-rules R11): the kernel treats `domain_id` as a secret (freed with
 * kfree_sensitive, never printed by erofs_show_options, docs/format.md#show-options). sharemap does the
 * same: a parser turns each raw string into a label ("D1", "D2", ... in order of first
 * appearance) at the point of reading, and only the label travels on.
 *
 * Equality is by the string: the redactor keeps a map from HMAC-SHA256(key, raw) to label,
 * never the raw string itself. A server with a persistent key can seed `known` with
 * fingerprint -> label pairs to keep labels consistent across uploads.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import type { DomainLabel } from '../report.js';
import type { DomainRedactor } from './types.js';

export interface DomainRedactorWithState extends DomainRedactor {
  /** fingerprint -> label, in order of assignment (no raw strings). */
  entries(): [string, string][];
}

export function createDomainRedactor(
  key?: Uint8Array,
  known?: Iterable<[fingerprint: string, label: string]>,
): DomainRedactorWithState {
  const k = key ? Uint8Array.from(key) : randomBytes(32);
  if (k.length === 0) throw new RangeError('domain redactor key must not be empty');
  const labels = new Map<string, string>();
  let next = 1;
  if (known) {
    for (const [fp, label] of known) {
      labels.set(fp, label);
      const m = /^D(\d+)$/.exec(label);
      if (m) next = Math.max(next, Number(m[1]) + 1);
    }
  }
  const fingerprintOf = (raw: string): string => bytesToHex(hmac(sha256, k, utf8ToBytes(raw)));
  // The raw bytes behind each label seen in this redactor's lifetime, in memory only: the
  // engine compares them for the kernel's key concatenation (docs/format.md#sharing-key). Never in entries().
  const secrets = new Map<string, Uint8Array>();
  return {
    fingerprintOf,
    labelFor(raw: string): DomainLabel {
      const fp = fingerprintOf(raw);
      let label = labels.get(fp);
      if (label === undefined) {
        label = `D${next++}`;
        labels.set(fp, label);
      }
      if (!secrets.has(label)) secrets.set(label, utf8ToBytes(raw));
      return { label, source: 'domain-id' };
    },
    secretOf: (label: string): Uint8Array | undefined => secrets.get(label),
    entries: () => [...labels.entries()],
  };
}
