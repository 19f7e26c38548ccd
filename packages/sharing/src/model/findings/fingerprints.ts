/** Fingerprint integrity (R12) and verifiability, per image. */
import type { Finding } from '../../report.js';
import { capped, countRows, imageExposure, list, type FindingInput } from './common.js';

/** Files whose fingerprint is a sha256 that does not match their content (R12). */
export function fingerprintMismatch(x: FindingInput): Finding[] {
  const { instances, files, pageSize } = x;
  const out: Finding[] = [];
  for (const img of x.prepared.images) {
    const { mismatched } = img;
    if (mismatched.length === 0) continue;
    const { sharingIdx, doms, others, rowsFor } = imageExposure(x, img);
    const rows = rowsFor(mismatched);
    const exposed = rows.filter((r) => files.status[r] === 'shared');
    const bytes = exposed.reduce((a, r) => a + files.pagesWithout[r]! * x.copiesOfRow(r), 0) * pageSize;
    const names = mismatched.map((f) => img.pathAt(f));
    const risk =
      doms.length === 0
        ? 'No mount of it shares, so nothing else is affected yet.'
        : others.length === 0
          ? `It shares in domain ${list(doms)} with no other image yet.`
          : `In domain ${list(doms)} whichever member reads first supplies the bytes for every other member: an integrity risk for ${list(others, 10)} (R12).`;
    out.push({
      code: 'fingerprint-mismatch',
      severity: 'error',
      message: `${img.entry.name}: ${mismatched.length} file(s) carry a fingerprint that does not match their content (${list(names)}). ${risk}`,
      bytes,
      instanceIds: sharingIdx.map((i) => instances[i]!.id),
      imageIds: [img.entry.id, ...others],
      domains: doms,
      ...capped(rows, countRows(x, rows)),
    });
  }
  return out;
}

/** Fingerprints that are not sha256 digests (e.g. serials): shared, but not checkable (R12). */
export function fingerprintUnverifiable(x: FindingInput): Finding[] {
  const { instances } = x;
  const out: Finding[] = [];
  for (const img of x.prepared.images) {
    const { unverifiable } = img;
    if (unverifiable.length === 0) continue;
    const { sharingIdx, doms, others, rowsFor } = imageExposure(x, img);
    const rows = rowsFor(unverifiable);
    const sharesWithOthers = others.length > 0;
    out.push({
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
      ...capped(rows, countRows(x, rows)),
    });
  }
  return out;
}
