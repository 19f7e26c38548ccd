/** mixed-publishers: one domain should be one trusted publisher (R12, docs/trust.md). */
import type { Finding } from '../../report.js';
import { list, unique, type FindingInput } from './common.js';

export function mixedPublishers({ instances, prepared, instancesOfDomain }: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const [d, idx] of instancesOfDomain) {
    const byPublisher = new Map<string, Set<string>>();
    for (const i of idx) {
      const img = prepared.byId.get(instances[i]!.imageId);
      const pub = img?.entry.publisher;
      if (!img || pub === undefined) continue;
      const names = byPublisher.get(pub);
      if (names) names.add(img.entry.name);
      else byPublisher.set(pub, new Set([img.entry.name]));
    }
    if (byPublisher.size > 1) {
      out.push({
        code: 'mixed-publishers',
        severity: 'warning',
        message: `Domain ${d} mixes images of ${byPublisher.size} publishers (${[...byPublisher].map(([p, n]) => `${p}: ${list([...n])}`).join('; ')}); every image in a domain can supply data to the others (R12).`,
        instanceIds: idx.map((i) => instances[i]!.id),
        imageIds: unique(idx.map((i) => instances[i]!.imageId)),
        domains: [d],
      });
    }
  }
  return out;
}
