/** Findings about mounts themselves: mount-failed (EINVAL) and inode-share-ineffective (R2, R3). */
import type { Finding } from '../../report.js';
import { bytesText, type FindingInput } from './common.js';

/** A mount the kernel refuses with EINVAL (input.ts resolveInstanceState): it holds no page cache. */
export function mountFailed({ instances }: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const inst of instances) {
    if (inst.mountError === undefined) continue;
    out.push({
      code: 'mount-failed',
      severity: 'error',
      message: `${inst.label}: ${inst.mountError}; the instance holds no page cache.`,
      instanceIds: [inst.id],
      imageIds: [inst.imageId],
    });
  }
  return out;
}

/** inode_share asked for on an image without the ishare compat bit (R3), or domain_id without
 * inode_share (R2). */
export function inodeShareIneffective({ instances, core, report, pageSize }: FindingInput): Finding[] {
  const out: Finding[] = [];
  instances.forEach((inst, i) => {
    const st = inst.inodeShare;
    if (inst.mountError !== undefined || st.effective) return;
    if (st.reason === 'no-ishare-compat') {
      const pages = core.imageOf[i]! >= 0 ? (report.perInstance[inst.id]?.pagesWithoutSharing ?? 0) : 0;
      out.push({
        code: 'inode-share-ineffective',
        severity: 'warning',
        message: `${inst.label}: inode_share requested, but ${st.message}; rebuild the image with mkfs.erofs --xattr-inode-digest to share its ${bytesText(pages * pageSize)}.`,
        bytes: pages * pageSize,
        instanceIds: [inst.id],
        imageIds: [inst.imageId],
      });
    } else if (st.reason === 'not-requested' && inst.domain !== null) {
      out.push({
        code: 'inode-share-ineffective',
        severity: 'info',
        message: `${inst.label}: domain_id without inode_share shares nothing (R2).`,
        instanceIds: [inst.id],
        imageIds: [inst.imageId],
      });
    }
  });
  return out;
}
