/**
 * "Why (not) shared?" for one row of the file table: the rule that decided, and what would
 * change it. Works on the Report alone (what the web UI and server hold).
 */
import { memberCount, rejectedCount } from './file-rows.js';
import type { Report, ReportInstance } from '../report.js';

export interface FileRef {
  image: string;
  path: string;
  instance: string;
}

/** Image id, path and instance id of a row. */
export function describeRow(report: Report, row: number): FileRef {
  const inst = report.instances[report.files.instance[row]!]!;
  return {
    image: inst.imageId,
    path: report.paths[inst.imageId]?.[report.files.file[row]!] ?? '?',
    instance: inst.id,
  };
}

function where(report: Report, row: number): string {
  const inst = report.instances[report.files.instance[row]!]!;
  const img = report.images.find((x) => x.id === inst.imageId);
  return `${img?.name ?? inst.imageId}:${describeRow(report, row).path} on ${inst.label}`;
}

function domainOf(inst: ReportInstance): string {
  if (inst.domain) return `domain ${inst.domain.label}`;
  return 'its own (unknown) domain';
}

/**
 * One or two sentences: the fate of the file on its instance, the rule (R1-R12) that decided
 * it, and what would change it.
 * `asInstance`: the instance whose copy of `row` to explain, for a compact file table's row
 * that stands for several instances (default: the row's own instance).
 */
export function explainFile(report: Report, row: number, asInstance?: number): string {
  const f = report.files;
  if (row < 0 || row >= f.instance.length)
    throw new RangeError(`no row ${row} (the report has ${f.instance.length})`);
  // A compact table's row read for another instance of its class (docs/metrics.md#compact-file-table):
  // that instance is never a first member, so 'shared-alone' reads 'shared'.
  const copy = asInstance !== undefined && asInstance !== f.instance[row];
  const inst = report.instances[copy ? asInstance : f.instance[row]!]!;
  const status = copy && f.status[row] === 'shared-alone' ? 'shared' : f.status[row]!;
  const g = f.group[row]! >= 0 ? report.groups[f.group[row]!] : undefined;
  const size = f.size[row]!;
  switch (status) {
    case 'not-mounted':
      return inst.mountError !== undefined
        ? `not in memory: the mount fails (${inst.mountError}). Fix the mount options to mount it.`
        : `not in memory: ${inst.inodeShare.effective ? 'not mounted' : inst.inodeShare.message}. Mount it to include it.`;
    case 'private-not-regular':
      return 'never shared: only regular files share; directories, symlinks, devices, FIFOs and sockets never do (R1). Nothing would change that.';
    case 'hardlink': {
      const k = f.hardlinks.row.indexOf(row);
      const primary = k >= 0 ? f.hardlinks.primary[k]! : -1;
      const other = primary >= 0 ? describeRow(report, primary).path : 'another path';
      return `counted once: a hard link to ${other}, the same inode on this instance; its pages are counted there (R10).`;
    }
    case 'private-no-inode-share': {
      const st = inst.inodeShare;
      if (!st.effective && st.reason === 'no-ishare-compat') {
        return `private: the mount asks for inode_share, but the image lacks compat ISHARE_XATTRS, so the kernel silently turned it off (R3). Rebuild the image with mkfs.erofs --xattr-inode-digest.`;
      }
      return `private: the mount has no inode_share (${st.effective ? 'effective' : st.message}) (R2). Mount with inode_share,domain_id=... to share.`;
    }
    case 'private-no-fingerprint':
      return size === 0
        ? 'private: empty file, mkfs never gives empty files a fingerprint (R4); it holds no pages anyway.'
        : 'private: no usable fingerprint xattr (missing, empty, or longer than the block size) (R4). Rebuild the image with mkfs.erofs --xattr-inode-digest, or add fingerprints in a metadata-only image.';
    case 'private-size-mismatch': {
      const first = g ? g.members[0]! : -1;
      return `private: size ${size} differs from first member's ${g?.size ?? '?'} (${first >= 0 ? where(report, first) : '?'}) for the same fingerprint in ${domainOf(inst)} (R5). The kernel warns "i_size mismatch"; fix the fingerprints, or this file shares only if it is read first (order-dependent).`;
    }
    case 'private-aops-mismatch': {
      const first = g ? g.members[0]! : -1;
      const mine = g?.aops === 'compressed' ? 'not compressed' : 'of another class';
      return `private: aops class differs: the first member (${first >= 0 ? where(report, first) : '?'}) is ${g?.aops ?? '?'}, this file is ${mine} (R6). Use the same compression and the same kind of mount (file-backed or block device) for both images.`;
    }
    case 'shared': {
      if (!g) return `shared in ${domainOf(inst)}.`;
      const others = memberCount(g) - 1;
      const first = !copy && g.members[0] === row;
      const rejected =
        rejectedCount(g) > 0
          ? ` ${rejectedCount(g)} other candidate(s) with the same fingerprint stay private (size or aops mismatch).`
          : '';
      return first
        ? `shared with ${others} other${others === 1 ? '' : 's'} in ${domainOf(inst)}: this file was read first and holds the ${g.pages} shared page(s) (${g.aops}).${rejected}`
        : `shared with ${others} other${others === 1 ? '' : 's'} in ${domainOf(inst)}: its pages are those of ${where(report, g.members[0]!)} (first member).${rejected}`;
    }
    case 'shared-alone':
      return `eligible but alone: no other file with this fingerprint and aops class in ${domainOf(inst)}, so it saves nothing. Mount images with the same content in the same domain to share.`;
  }
}
