/**
 * The kernel's sharing key is the fingerprint value's bytes followed by the domain id's bytes,
 * with nothing between them (erofs_ishare_fill_inode(), docs/format.md#sharing-key: `key = v ++
 * bytes(M.domain_id)`, R4). So fingerprint `ab` in domain `c` and fingerprint `a` in domain
 * `bc` are one key: the two files read through one shared inode although their domains
 * differ. The core keys on (fingerprint id, domain index); this module finds the pairs of such
 * keys whose concatenations are equal, so that the core can treat them as one key, exactly as
 * the kernel does.
 *
 * It needs the raw domain ids (`DomainSecrets`, held by the parser's redactor in memory only):
 * they are compared here and nothing but labels leaves the engine (R11). Domains without a
 * secret (labels written by users, unknown domains) cannot be compared and are left alone.
 *
 * fa ++ da == fb ++ db with |da| > |db| holds exactly when da = g ++ db (db is a proper suffix
 * of da) and fb = fa ++ g. So for every ordered pair of domains where one id ends with the
 * other, with g the rest, each fingerprint fa is looked up as fa ++ g: O(P * F) lookups for P
 * such pairs and F fingerprints, and nothing at all (one pass over the labels) when no domain id
 * ends with another, the usual case.
 */
import type { DomainSecrets } from '../report.js';
import type { Prepared } from './core.js';

function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

/**
 * key -> representative key (the smallest of the keys with the same bytes) for every key of
 * `fingerprint id * labels.length + domain index` whose bytes equal another key's; null when
 * there is none (or no secrets).
 */
export function keyAliases(
  prepared: Prepared,
  labels: readonly string[],
  secrets: DomainSecrets | undefined,
): Map<number, number> | null {
  if (secrets === undefined || labels.length < 2) return null;
  const nDomains = labels.length;
  const ids = labels.map((l) => {
    const raw = secrets.secretOf(l);
    return raw === undefined ? null : hexOf(raw);
  });
  // (longer domain, shorter domain, the longer one's leading bytes before the shorter one).
  const pairs: { long: number; short: number; gap: string }[] = [];
  for (let a = 0; a < nDomains; a++) {
    const ha = ids[a];
    if (ha === null || ha === undefined) continue;
    for (let b = 0; b < nDomains; b++) {
      const hb = ids[b];
      if (a === b || hb === null || hb === undefined) continue;
      if (ha.length > hb.length && ha.endsWith(hb))
        pairs.push({ long: a, short: b, gap: ha.slice(0, ha.length - hb.length) });
    }
  }
  if (pairs.length === 0) return null;

  // Fingerprints by value (bytes: hex compared case-insensitively), first id of each.
  const fpIndex = new Map<string, number>();
  prepared.fingerprints.forEach((f, id) => {
    const k = f.toLowerCase();
    if (!fpIndex.has(k)) fpIndex.set(k, id);
  });
  // Union-find over keys, the representative being the smallest key (deterministic).
  const parent = new Map<number, number>();
  const find = (k: number): number => {
    let r = k;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(k, r);
    return r;
  };
  for (const { long, short, gap } of pairs) {
    prepared.fingerprints.forEach((fa, idA) => {
      const idB = fpIndex.get(fa.toLowerCase() + gap);
      if (idB === undefined) return;
      const ra = find(idA * nDomains + long);
      const rb = find(idB * nDomains + short);
      if (ra === rb) return;
      const [lo, hi] = ra < rb ? [ra, rb] : [rb, ra];
      parent.set(lo, lo);
      parent.set(hi, lo);
    });
  }
  const alias = new Map<number, number>();
  for (const k of parent.keys()) {
    const r = find(k);
    if (r !== k) alias.set(k, r);
  }
  return alias.size > 0 ? alias : null;
}
