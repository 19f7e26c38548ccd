/**
 * cross-domain-key-collision (docs/format.md#sharing-key, R4, R12): a shared inode whose members are in several
 * domains, because fingerprint ++ domain id of one equals that of another. Grouped by the set
 * of domains; the message names labels and files, never domain ids or fingerprints (together
 * they would tell how one domain id ends).
 */
import type { Finding } from '../../report.js';
import { groupColumnsOf, groupMemberCount, groupMembers } from '../group-columns.js';
import { capped, list, unique, type FindingInput } from './common.js';

export function crossDomainKeyCollision(x: FindingInput): Finding[] {
  const { instances, domainLabelOf, files, report, pageSize } = x;
  if (!x.keysCollide) return [];
  const bySet = new Map<
    string,
    { domains: string[]; rows: number[]; count: number; pages: number; inst: Set<number> }
  >();
  const groups = groupColumnsOf(report);
  for (let g = 0; g < groups.count; g++) {
    const members = groupMembers(groups, g);
    const doms = unique(members.map((r) => domainLabelOf[files.instance[r]!]!)).sort();
    if (doms.length < 2) continue;
    const k = JSON.stringify(doms);
    let e = bySet.get(k);
    if (!e) bySet.set(k, (e = { domains: doms, rows: [], count: 0, pages: 0, inst: new Set() }));
    e.rows.push(...members);
    e.count += groupMemberCount(groups, g);
    e.pages += (groupMemberCount(groups, g) - 1) * groups.pages[g]!;
    for (const r of members) for (const i of x.instancesOfRow(r)) e.inst.add(i);
  }
  const out: Finding[] = [];
  for (const e of bySet.values()) {
    const inst = [...e.inst].sort((a, b) => a - b);
    out.push({
      code: 'cross-domain-key-collision',
      severity: 'error',
      message:
        `Domains ${list(e.domains, 10)} share page cache: the kernel's sharing key is the fingerprint followed by the domain id with nothing between (docs/format.md#sharing-key), ` +
        `and here the two make the same bytes for files of different domains, so ${e.count} file(s) read through one shared inode across the domain boundary ` +
        `(${list(e.rows.map(x.pathOf))}); whichever reads first supplies the pages in every one of these domains (R12). ` +
        `Use fingerprints of one fixed length (mkfs writes 39 bytes), or domain ids of which none ends with another.`,
      bytes: e.pages * pageSize,
      instanceIds: inst.map((i) => instances[i]!.id),
      imageIds: unique(inst.map((i) => instances[i]!.imageId)),
      domains: e.domains,
      ...capped(e.rows, e.count),
    });
  }
  return out;
}
