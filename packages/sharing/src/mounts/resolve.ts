/**
 * From parsed configurations to the engine's instances (InstanceInput, report.ts).
 *
 * - Image: explicit mapping (source -> image id), the entry's own `image` (plan), then the
 *   exact path, then the basename, each tried on the source and, for a loop device, on its
 *   backing file (losetup maps: /dev/loop0 -> app.fp.img).
 * - R9: mounts of one block device (same source device, or same major:minor) are one
 *   superblock and so one instance with several mount points; mountinfo entries with equal
 *   major:minor (bind mounts) too. File-backed mounts of one image file are separate
 *   instances (get_tree_nodev gives each its own superblock).
 * - Mounts that fail (EINVAL) or do not happen stay separate instances, marked as such.
 * - Overlay context: each active overlay's lowerdirs name the instances its container uses.
 * - inode_share: requested vs in effect as far as the configuration decides; the R3 check
 *   (image lacks ISHARE_XATTRS) is the engine's.
 */
import type { DomainLabel, InodeShareState, InstanceInput } from '../report.js';
import type { BackingFileAttributes } from '../trust/types.js';
import { MountConfigError } from './errors.js';
import { basename, trimTrailingSlashes } from './text.js';
import type { MountConfig, MountEntry, MountWarning, NotMounted } from './types.js';

/** InstanceInput plus what the configuration alone says (fields additive to InstanceInput). */
export interface ResolvedInstance extends InstanceInput {
  /** `inode_share` was asked for (or, for mountinfo, is shown). */
  inodeShareRequested: boolean;
  /** State as the configuration decides it; null when the image decides (R3, the engine's check). */
  inodeShareConfig: InodeShareState | null;
  /** false for mountinfo / /proc/mounts: the domain exists or not but is never shown (R11). */
  domainKnown: boolean;
  /** The kernel's message when the mount fails (EINVAL, R2). Such instances hold no page cache. */
  mountError?: string;
  notMounted?: NotMounted;
  /** major:minor when known (mountinfo). */
  device?: string;
  /** Every entry folded into this instance (R9), first first. */
  entries: MountEntry[];
}

export interface UnresolvedEntry {
  entry: MountEntry;
  reason: string;
}

export interface ResolveResult {
  instances: ResolvedInstance[];
  unresolved: UnresolvedEntry[];
  warnings: MountWarning[];
}

export interface ResolveOptions {
  /** Mount source (or loop backing file) -> image id. */
  mapping?: Record<string, string>;
}

const stripImg = (s: string): string => s.replace(/\.img$/, '');

function findImage(
  entry: MountEntry,
  loops: Record<string, string>,
  images: { id: string; name: string }[],
  mapping: Record<string, string>,
): { id: string } | { reason: string } {
  const ids = new Set(images.map((i) => i.id));
  const backFile = loops[entry.source];
  const candidates = backFile !== undefined ? [entry.source, backFile] : [entry.source];
  for (const c of candidates) {
    const m = mapping[c];
    if (m !== undefined)
      return ids.has(m) ? { id: m } : { reason: `mapping for ${c} names unknown image "${m}"` };
  }
  if (entry.image !== undefined)
    return ids.has(entry.image)
      ? { id: entry.image }
      : { reason: `image "${entry.image}" is not among the images` };
  for (const c of candidates) {
    const hit = images.find((i) => i.name === c || i.id === c);
    if (hit) return { id: hit.id };
  }
  for (const c of candidates) {
    const b = stripImg(basename(c));
    const hits = images.filter((i) => stripImg(basename(i.name)) === b || stripImg(i.id) === b);
    if (hits.length === 1) return { id: hits[0]!.id };
    if (hits.length > 1)
      return { reason: `${c} matches several images (${hits.map((h) => h.id).join(', ')}); give a mapping` };
  }
  if (/^\/dev\/loop\d+$/.test(entry.source) && backFile === undefined) {
    return {
      reason: `loop device ${entry.source} has no known backing file (add \`losetup --list --json\` output or a mapping)`,
    };
  }
  return { reason: `no image matches ${backFile ?? entry.source}` };
}

function configState(e: MountEntry): InodeShareState | null {
  if (e.mountError) {
    const reason =
      e.mountError.reason === 'no-domain' || e.mountError.reason === 'dax'
        ? e.mountError.reason
        : 'not-mounted';
    return { effective: false, reason, message: `mount fails with EINVAL: ${e.mountError.message}` };
  }
  if (e.notMounted === 'noauto')
    return { effective: false, reason: 'not-mounted', message: 'noauto: not mounted at boot' };
  if (e.notMounted === 'script-stopped')
    return {
      effective: false,
      reason: 'not-mounted',
      message: 'the script stops (set -e) before this mount runs',
    };
  if (!e.domainKnown) {
    // Kernel view (docs/format.md#show-options): inode_share is printed only while in effect.
    return e.options.inodeShare
      ? { effective: true }
      : {
          effective: false,
          reason: 'not-requested',
          message:
            'inode_share not shown: not requested, or turned off at mount time because the image lacks ISHARE_XATTRS (R3)',
        };
  }
  if (!e.options.inodeShare) {
    return {
      effective: false,
      reason: 'not-requested',
      message: e.options.domainIdGiven
        ? 'domain_id without inode_share shares nothing (R2)'
        : 'no inode_share option (R2)',
    };
  }
  return null;
}

const optionKey = (e: MountEntry): string =>
  JSON.stringify([
    e.options.inodeShare,
    e.domain?.label ?? null,
    e.options.dax,
    e.options.directio,
    e.options.cacheStrategy,
    e.options.devices,
    e.options.fsoffset,
  ]);

export function resolveInstances(
  configs: MountConfig[],
  images: { id: string; name: string }[],
  opts: ResolveOptions = {},
): ResolveResult {
  const mapping = opts.mapping ?? {};
  const loops: Record<string, string> = {};
  const loopDirectIo: Record<string, boolean> = {};
  const backingFiles: Record<string, BackingFileAttributes> = {};
  for (const c of configs) {
    Object.assign(loops, c.loopDevices);
    Object.assign(loopDirectIo, c.loopDirectIo);
    Object.assign(backingFiles, c.backingFiles);
  }
  const instances: ResolvedInstance[] = [];
  const unresolved: UnresolvedEntry[] = [];
  const warnings: MountWarning[] = [];
  const bySuperblock = new Map<string, ResolvedInstance>();

  for (const config of configs) {
    for (const entry of config.entries) {
      const img = findImage(entry, loops, images, mapping);
      if ('reason' in img) {
        unresolved.push({ entry, reason: img.reason });
        continue;
      }
      const live = !entry.mountError && !entry.notMounted;
      const keys: string[] = [];
      if (live) {
        if (entry.device !== null) keys.push(`dev:${entry.device}`);
        if (entry.backing === 'bdev' && entry.options.loop === false) keys.push(`src:${entry.source}`);
      }
      const existing = keys.map((k) => bySuperblock.get(k)).find((x) => x !== undefined);
      if (existing) {
        // R9: one block device is one superblock, so it holds one image. Two images on one
        // device mean the input contradicts itself; folding them would drop one image's bytes.
        if (existing.imageId !== img.id) {
          const first = existing.entries[0]!.origin;
          const dev = entry.device !== null ? `block device ${entry.device}` : `block device ${entry.source}`;
          throw new MountConfigError(
            'contradictory-mounts',
            `${entry.mountPoint} mounts ${dev} over image ${img.id}, but ${existing.label} ` +
              `(${first.file}:${first.line}:${first.column}) mounts the same device over image ${existing.imageId}; ` +
              `one block device holds one image (R9): fix the device numbers or the image mapping`,
            entry.origin.file,
            entry.origin.line,
            entry.origin.column,
          );
        }
        existing.mountPoints.push(entry.mountPoint);
        existing.entries.push(entry);
        for (const k of keys) bySuperblock.set(k, existing);
        if (optionKey(existing.entries[0]!) !== optionKey(entry)) {
          warnings.push({
            code: 'options-differ',
            message: `${entry.origin.file}:${entry.origin.line}:${entry.origin.column}: ${entry.mountPoint} mounts the same block device as ${existing.label} with other options; one superblock, the first mount's options apply (R9)`,
            origin: entry.origin,
          });
        }
        continue;
      }
      const o = entry.options;
      const domain: DomainLabel | null = entry.domain;
      const inst: ResolvedInstance = {
        id: `i${instances.length + 1}`,
        label: entry.mountPoint,
        imageId: img.id,
        mountPoints: [entry.mountPoint],
        source: entry.source,
        backing: entry.backing,
        domain,
        options: {
          inodeShare: o.inodeShare,
          dax: o.dax,
          directio: o.directio,
          cacheStrategy: o.cacheStrategy,
          devices: [...o.devices],
          fsoffset: o.fsoffset,
        },
        origin: entry.origin,
        inodeShareRequested: o.inodeShare,
        inodeShareConfig: configState(entry),
        domainKnown: entry.domainKnown,
        entries: [entry],
      };
      if (entry.mountError) inst.mountError = entry.mountError.message;
      if (entry.notMounted) inst.notMounted = entry.notMounted;
      if (entry.device !== null) inst.device = entry.device;
      // What a collector recorded of the file behind the mount (trust model, lifetime).
      const backFile =
        loops[entry.source] ??
        (entry.backing === 'file' || entry.options.loop !== false ? entry.source : undefined);
      const attributes = backFile !== undefined ? backingFiles[backFile] : undefined;
      if (attributes) inst.backingFile = { ...attributes };
      const dio = loopDirectIo[entry.source];
      if (dio !== undefined) inst.loopDirectIo = dio;
      instances.push(inst);
      for (const k of keys) bySuperblock.set(k, inst);
    }
  }

  // Overlay users: each lowerdir belongs to the instance with the longest matching mount point.
  const live = instances.filter((i) => !i.mountError && !i.notMounted);
  for (const config of configs) {
    for (const ctx of config.context) {
      if (!ctx.active) continue;
      for (const dir of ctx.lowerdirs) {
        let best: ResolvedInstance | undefined;
        let bestLen = -1;
        for (const inst of live) {
          for (const mp of inst.mountPoints) {
            const m = trimTrailingSlashes(mp);
            if ((dir === m || dir.startsWith(m + '/')) && m.length > bestLen) {
              best = inst;
              bestLen = m.length;
            }
          }
        }
        if (best) {
          best.users ??= [];
          if (!best.users.includes(ctx.user)) best.users.push(ctx.user);
        }
      }
    }
  }
  return { instances, unresolved, warnings };
}
