/**
 * Findings: what a reviewer must know beyond the totals (R2, R3, R5, R6, R11, R12).
 * Every finding names instances, images and domains by id/label (never raw domain ids)
 * and lists at most MAX_FINDING_ROWS rows of the file table (`rowCount` has the full count).
 */
import type { Finding, Report } from '../report.js';
import { contentIdOf } from './core.js';
import type { AnalysisContext } from './engine.js';
import { isMounted } from './input.js';
import { formatBytes } from '../render/bytes.js';

/** Bytes in a finding's message: with units, and exact ("3.6 MiB (3,784,704 bytes)"). */
const bytesText = (n: number) => formatBytes(n, { exact: true });

export const MAX_FINDING_ROWS = 1000;
/** How many example paths a message quotes. */
const EXAMPLES = 3;

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

function capped(rows: number[]): { rows: number[]; rowCount: number } {
  return {
    rows: rows.length > MAX_FINDING_ROWS ? rows.slice(0, MAX_FINDING_ROWS) : rows,
    rowCount: rows.length,
  };
}

function list(items: readonly string[], max = EXAMPLES): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

function unique<T>(xs: Iterable<T>): T[] {
  return [...new Set(xs)];
}

export function computeFindings(ctx: AnalysisContext, report: Report): Finding[] {
  const { instances, core, prepared, domainLabelOf, pageSize } = ctx;
  const files = core.files;
  const findings: Finding[] = [];
  const pathOf = (r: number): string =>
    prepared.images[core.imageOf[files.instance[r]!]!]!.paths[files.file[r]!]!;
  const start = core.rowStart;
  // Instances that share, per domain label.
  const instancesOfDomain = new Map<string, number[]>();
  domainLabelOf.forEach((d, i) => {
    if (d === null) return;
    const list = instancesOfDomain.get(d);
    if (list) list.push(i);
    else instancesOfDomain.set(d, [i]);
  });

  // mount-failed / inode-share-ineffective (R2, R3).
  instances.forEach((inst, i) => {
    const st = inst.inodeShare;
    if (inst.mountError !== undefined) {
      findings.push({
        code: 'mount-failed',
        severity: 'error',
        message: `${inst.label}: ${inst.mountError}; the instance holds no page cache.`,
        instanceIds: [inst.id],
        imageIds: [inst.imageId],
      });
    } else if (!st.effective && st.reason === 'no-ishare-compat') {
      const ii = core.imageOf[i]!;
      const pages = ii >= 0 ? (report.perInstance[inst.id]?.pagesWithoutSharing ?? 0) : 0;
      findings.push({
        code: 'inode-share-ineffective',
        severity: 'warning',
        message: `${inst.label}: inode_share requested, but ${st.message}; rebuild the image with mkfs.erofs --xattr-inode-digest to share its ${bytesText(pages * pageSize)}.`,
        bytes: pages * pageSize,
        instanceIds: [inst.id],
        imageIds: [inst.imageId],
      });
    } else if (!st.effective && st.reason === 'not-requested' && inst.domain !== null) {
      findings.push({
        code: 'inode-share-ineffective',
        severity: 'info',
        message: `${inst.label}: domain_id without inode_share shares nothing (R2).`,
        instanceIds: [inst.id],
        imageIds: [inst.imageId],
      });
    }
  });

  // Fingerprint integrity (R12) and verifiability, per image.
  for (const img of prepared.images) {
    const { mismatched, unverifiable } = img;
    const instIdx = instances
      .map((_, i) => i)
      .filter((i) => core.imageOf[i] === img.index && isMounted(instances[i]!));
    const sharingIdx = instIdx.filter((i) => domainLabelOf[i] !== null);
    const doms = unique(sharingIdx.map((i) => domainLabelOf[i]!));
    const others = unique(
      doms
        .flatMap((d) => (instancesOfDomain.get(d) ?? []).map((i) => instances[i]!.imageId))
        .filter((id) => id !== img.entry.id),
    );
    const rowsFor = (fileIdx: number[]): number[] => {
      const set = new Set(fileIdx);
      const rows: number[] = [];
      for (const i of instIdx)
        for (let r = start[i]!; r < start[i + 1]!; r++) if (set.has(files.file[r]!)) rows.push(r);
      return rows;
    };
    if (mismatched.length > 0) {
      const rows = rowsFor(mismatched);
      const exposed = rows.filter((r) => files.status[r] === 'shared');
      const bytes = exposed.reduce((a, r) => a + files.pagesWithout[r]!, 0) * pageSize;
      const names = mismatched.map((f) => img.paths[f]!);
      const risk =
        doms.length === 0
          ? 'No mount of it shares, so nothing else is affected yet.'
          : others.length === 0
            ? `It shares in domain ${list(doms)} with no other image yet.`
            : `In domain ${list(doms)} whichever member reads first supplies the bytes for every other member: an integrity risk for ${list(others, 10)} (R12).`;
      findings.push({
        code: 'fingerprint-mismatch',
        severity: 'error',
        message: `${img.entry.name}: ${mismatched.length} file(s) carry a fingerprint that does not match their content (${list(names)}). ${risk}`,
        bytes,
        instanceIds: sharingIdx.map((i) => instances[i]!.id),
        imageIds: [img.entry.id, ...others],
        domains: doms,
        ...capped(rows),
      });
    }
    if (unverifiable.length > 0) {
      const rows = rowsFor(unverifiable);
      const sharesWithOthers = others.length > 0;
      findings.push({
        code: 'fingerprint-unverifiable',
        severity: sharesWithOthers ? 'warning' : 'info',
        message:
          `${img.entry.name}: ${unverifiable.length} fingerprint(s) are not sha256 digests (e.g. publisher serials); ` +
          `the kernel shares them like any others but they cannot be checked against the content` +
          (sharesWithOthers
            ? `, and they are trusted by ${list(others, 10)} in domain ${list(doms)} (R12).`
            : '.'),
        instanceIds: sharingIdx.map((i) => instances[i]!.id),
        imageIds: [img.entry.id],
        domains: doms,
        ...capped(rows),
      });
    }
  }

  // Mixed publishers in one domain (8.9: one domain = one trusted publisher).
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
      findings.push({
        code: 'mixed-publishers',
        severity: 'warning',
        message: `Domain ${d} mixes images of ${byPublisher.size} publishers (${[...byPublisher].map(([p, n]) => `${p}: ${list([...n])}`).join('; ')}); every image in a domain can supply data to the others (R12).`,
        instanceIds: idx.map((i) => instances[i]!.id),
        imageIds: unique(idx.map((i) => instances[i]!.imageId)),
        domains: [d],
      });
    }
  }

  // Unsharable duplicates: identical content held more than once.
  type Why = 'other-domain' | 'aops' | 'no-fingerprint' | 'different-fingerprint' | 'no-inode-share' | 'size';
  const whyText: Record<Why, string> = {
    'other-domain': 'they are in different domains',
    aops: 'their aops classes differ (compressed / block device / file-backed, R6)',
    'no-fingerprint': 'a copy has no usable fingerprint (R4)',
    'different-fingerprint': 'they carry different fingerprints (e.g. serials vs sha256)',
    'no-inode-share': 'a copy is on a mount without effective inode_share (R2, R3)',
    size: 'the first member fixed another size (R5)',
  };
  const lost = new Map<Why, { pages: number; rows: number[]; inst: Set<number> }>();
  /** First row (in row order) that holds each content in memory, -1 before it is seen. */
  const firstRowOfContent = new Int32Array(prepared.contentCount).fill(-1);
  const whyOfStatus = (x: number): Why | null => {
    switch (files.status[x]) {
      case 'private-no-inode-share':
        return 'no-inode-share';
      case 'private-no-fingerprint':
        return 'no-fingerprint';
      case 'private-aops-mismatch':
        return 'aops';
      case 'private-size-mismatch':
        return 'size';
      default:
        return null;
    }
  };
  const classify = (r: number, ref: number): Why => {
    const why = whyOfStatus(r) ?? whyOfStatus(ref);
    if (why !== null) return why;
    if (domainLabelOf[files.instance[r]!] !== domainLabelOf[files.instance[ref]!]) return 'other-domain';
    return 'different-fingerprint';
  };
  for (let i = 0; i < instances.length; i++) {
    const ii = core.imageOf[i]!;
    if (ii < 0) continue;
    const img = prepared.images[ii]!;
    for (let r = start[i]!; r < start[i + 1]!; r++) {
      if (files.pagesWith[r] === 0) continue;
      const c = contentIdOf(prepared, img, files.file[r]!);
      if (c < 0) continue;
      const ref = firstRowOfContent[c]!;
      if (ref < 0) {
        firstRowOfContent[c] = r;
        continue;
      }
      const why = classify(r, ref);
      let e = lost.get(why);
      if (!e) lost.set(why, (e = { pages: 0, rows: [], inst: new Set() }));
      e.pages += files.pagesWith[r]!;
      e.rows.push(r);
      e.inst.add(i);
      e.inst.add(files.instance[ref]!);
    }
  }
  for (const [why, e] of lost) {
    findings.push({
      code: 'unsharable-duplicate',
      severity: 'warning',
      message: `${e.rows.length} file(s) duplicate content already in memory elsewhere but cannot share because ${whyText[why]}: ${bytesText(e.pages * pageSize)} lost (e.g. ${list(e.rows.slice(0, EXAMPLES).map(pathOf))}${e.rows.length > EXAMPLES ? ', ...' : ''}).`,
      bytes: e.pages * pageSize,
      instanceIds: [...e.inst].sort((a, b) => a - b).map((i) => instances[i]!.id),
      ...capped(e.rows),
    });
  }

  // Cross-domain key collisions (docs/format.md#sharing-key, R4, R12): a shared inode whose members are in
  // several domains, because fingerprint ++ domain id of one equals that of another. Grouped by
  // the set of domains; the message names labels and files, never domain ids or fingerprints
  // (together they would tell how one domain id ends).
  if (ctx.keysCollide) {
    const bySet = new Map<string, { domains: string[]; rows: number[]; pages: number; inst: Set<number> }>();
    for (const g of report.groups) {
      const doms = unique(g.members.map((r) => domainLabelOf[files.instance[r]!]!)).sort();
      if (doms.length < 2) continue;
      const k = JSON.stringify(doms);
      let e = bySet.get(k);
      if (!e) bySet.set(k, (e = { domains: doms, rows: [], pages: 0, inst: new Set() }));
      e.rows.push(...g.members);
      e.pages += (g.members.length - 1) * g.pages;
      for (const r of g.members) e.inst.add(files.instance[r]!);
    }
    for (const e of bySet.values()) {
      const inst = [...e.inst].sort((a, b) => a - b);
      findings.push({
        code: 'cross-domain-key-collision',
        severity: 'error',
        message:
          `Domains ${list(e.domains, 10)} share page cache: the kernel's sharing key is the fingerprint followed by the domain id with nothing between (docs/format.md#sharing-key), ` +
          `and here the two make the same bytes for files of different domains, so ${e.rows.length} file(s) read through one shared inode across the domain boundary ` +
          `(${list(e.rows.map(pathOf))}); whichever reads first supplies the pages in every one of these domains (R12). ` +
          `Use fingerprints of one fixed length (mkfs writes 39 bytes), or domain ids of which none ends with another.`,
        bytes: e.pages * pageSize,
        instanceIds: inst.map((i) => instances[i]!.id),
        imageIds: unique(inst.map((i) => instances[i]!.imageId)),
        domains: e.domains,
        ...capped(e.rows),
      });
    }
  }

  // Order dependence (R5, R6).
  if (report.orderBounds) {
    const { best, worst } = report.orderBounds;
    findings.push({
      code: 'order-dependent',
      severity: 'warning',
      message:
        `${core.orderDependentKeys} shared key(s) have candidates of different sizes or aops classes: the first file read fixes them (R5, R6), ` +
        `so memory with sharing is between ${bytesText(best.bytesWithSharing)} and ${bytesText(worst.bytesWithSharing)}; ` +
        `the figures use instances in input order and files in path order (${bytesText(report.totals.bytesWithSharing)}).`,
      range: { min: best.bytesWithSharing, max: worst.bytesWithSharing },
      bytes: worst.bytesWithSharing - best.bytesWithSharing,
      ...capped(core.orderRows),
    });
  }

  // Unknown domains (R11).
  if (report.bounds && ctx.unknownBounds) {
    const ub = ctx.unknownBounds;
    const unknownIds = instances
      .filter((inst) => inst.inodeShare.effective && inst.inodeShare.domainUnknown)
      .map((x) => x.id);
    const { best, worst } = report.bounds;
    const placement = (p: number[]): string => {
      const k = ub.knownLabels.length;
      const parts = ub.unknownIdx.map((i, u) => {
        const x = p[u]!;
        return `${instances[i]!.id} ${x < k ? `in ${ub.knownLabels[x]!}` : `in new domain ${x - k + 1}`}`;
      });
      return parts.join(', ');
    };
    const range =
      best.bytesWithSharing === worst.bytesWithSharing
        ? `whatever their domains and the read order, ${bytesText(best.bytesWithSharing)} with sharing`
        : `depending on their domains and the read order, between ${bytesText(best.bytesWithSharing)} (${placement(ub.best)}, luckiest order) ` +
          `and ${bytesText(worst.bytesWithSharing)} (${placement(ub.worst)}, unluckiest order)` +
          (ub.exhaustive ? '' : ` among the ${ub.evaluations} placements tried (too many to try all)`);
    findings.push({
      code: 'domain-unknown',
      severity: 'info',
      message:
        `${unknownIds.length} instance(s) share with an unknown domain (the kernel never prints domain_id, R11): ` +
        `the figures assume each is alone in its own domain (${bytesText(report.totals.bytesWithSharing)} with sharing); ` +
        `${range}. Assign domains to get one figure.`,
      instanceIds: unknownIds,
      ...(best.bytesWithSharing !== worst.bytesWithSharing
        ? { range: { min: best.bytesWithSharing, max: worst.bytesWithSharing } }
        : {}),
    });
  }

  return findings
    .map((f, k) => ({ f, k }))
    .sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.k - b.k)
    .map((x) => x.f);
}
