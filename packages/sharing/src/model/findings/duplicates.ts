/**
 * unsharable-duplicate: identical content held in memory more than once, grouped by why the
 * copies cannot share (R2-R6, domains).
 */
import type { Finding } from '../../report.js';
import { contentIdOf } from '../core.js';
import { bytesText, capped, EXAMPLES, list, type FindingInput } from './common.js';

type Why = 'other-domain' | 'aops' | 'no-fingerprint' | 'different-fingerprint' | 'no-inode-share' | 'size';
const WHY_TEXT: Record<Why, string> = {
  'other-domain': 'they are in different domains',
  aops: 'their aops classes differ (compressed / block device / file-backed, R6)',
  'no-fingerprint': 'a copy has no usable fingerprint (R4)',
  'different-fingerprint': 'they carry different fingerprints (e.g. serials vs sha256)',
  'no-inode-share': 'a copy is on a mount without effective inode_share (R2, R3)',
  size: 'the first member fixed another size (R5)',
};

export function unsharableDuplicates(x: FindingInput): Finding[] {
  const { instances, core, prepared, domainLabelOf, files, pageSize } = x;
  const start = core.rowStart;
  const lost = new Map<Why, { pages: number; rows: number[]; count: number; inst: Set<number> }>();
  /** First row (in row order) that holds each content in memory, -1 before it is seen. */
  const firstRowOfContent = new Int32Array(prepared.contentCount).fill(-1);
  const whyOfStatus = (r: number): Why | null => {
    switch (files.status[r]) {
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
  /** Records `n` rows like row r (r itself, or its copies) on `insts`, duplicates of row ref. */
  const add = (why: Why, r: number, n: number, insts: number[], ref: number): void => {
    let e = lost.get(why);
    if (!e) lost.set(why, (e = { pages: 0, rows: [], count: 0, inst: new Set() }));
    e.pages += files.pagesWith[r]! * n;
    if (e.rows[e.rows.length - 1] !== r) e.rows.push(r);
    e.count += n;
    for (const i of insts) e.inst.add(i);
    e.inst.add(files.instance[ref]!);
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
      if (ref < 0) firstRowOfContent[c] = r;
      else add(classify(r, ref), r, 1, [i], ref);
      // A compact table's row also stands for the copies of its instance (`files.rowsOf`), each
      // a later duplicate of what this row holds when it stays private: a first member's copies
      // hold no pages (docs/metrics.md#compact-file-table).
      const copies = x.copiesOfRow(r) - 1;
      const why = whyOfStatus(r);
      if (copies > 0 && why !== null)
        add(why, r, copies, [...x.instancesOfRow(r)].slice(1), ref < 0 ? r : ref);
    }
  }
  const out: Finding[] = [];
  for (const [why, e] of lost) {
    out.push({
      code: 'unsharable-duplicate',
      severity: 'warning',
      message: `${e.count} file(s) duplicate content already in memory elsewhere but cannot share because ${WHY_TEXT[why]}: ${bytesText(e.pages * pageSize)} lost (e.g. ${list(e.rows.slice(0, EXAMPLES).map(x.pathOf))}${e.rows.length > EXAMPLES ? ', ...' : ''}).`,
      bytes: e.pages * pageSize,
      instanceIds: [...e.inst].sort((a, b) => a - b).map((i) => instances[i]!.id),
      ...capped(e.rows, e.count),
    });
  }
  return out;
}
