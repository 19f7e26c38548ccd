/** Turning (source, mount point, options) into a MountEntry: backing, errors, inode_share state. */
import type { Backing, DomainLabel } from '../report.js';
import { isAnonymousDevice } from './devices.js';
import { mountErrorFor, parseOptions } from './options.js';
import { basename, isBlockDeviceSource, unescapeOctal, type Field } from './text.js';
import { MountConfigError } from './errors.js';
import { MAX_ENTRIES } from './limits.js';
import type {
  ContextEntry,
  DomainRedactor,
  MountConfig,
  MountEntry,
  MountWarning,
  NotMounted,
  Origin,
} from './types.js';

export interface EntryInput {
  source: string;
  mountPoint: string;
  /** Option string and the column where it starts on `origin.line`. */
  optionsText: string;
  optionsColumn: number;
  /** Line of the option string when it differs from `origin.line` (systemd units). */
  optionsLine?: number;
  origin: Origin;
  domains: DomainRedactor;
  /**
   * 'kernel': the text is the kernel's own view of a live mount (mountinfo, /proc/mounts):
   * no mount errors, inode_share printed = in effect, domain never shown (R11).
   * 'config': a request (fstab, unit, script, plan): the docs/format.md#ishare-mount checks apply.
   */
  view: 'kernel' | 'config';
  /** major:minor when known (mountinfo). */
  device?: string | null;
  /** undefined: decided by `noauto`; null: mounted whatever the options say. */
  notMounted?: NotMounted | null;
  backing?: Backing;
  /** A domain label given directly (JSON plan `domain`): counts as a domain_id. */
  assignedDomain?: DomainLabel;
  /** The domain exists but is not known (JSON plan `domainUnknown`, e.g. a plan made from mountinfo). */
  domainUnknown?: boolean;
  /** Image id given by the input (JSON plan `image`). */
  image?: string;
}

export function buildEntry(input: EntryInput): { entry: MountEntry; warnings: MountWarning[] } {
  const { origin } = input;
  const parsed = parseOptions(input.optionsText, {
    file: origin.file,
    line: input.optionsLine ?? origin.line,
    column: input.optionsColumn,
    domains: input.domains,
    // A request the kernel refuses fails that mount only (docs/sharing-rules.md#r2).
    badValues: input.view === 'config' ? 'fail-mount' : 'throw',
  });
  // A plan's `domain` is a label written by a user: never one a domain_id= value was given.
  if (input.assignedDomain) parsed.domain = { label: input.assignedDomain.label };
  const o = parsed.options;
  if (input.assignedDomain || input.domainUnknown) o.domainIdGiven = true;
  const warnings = parsed.warnings;
  const at = `${origin.file}:${origin.line}:${origin.column}`;
  const device = input.device ?? null;

  let backing: Backing;
  if (input.backing) backing = input.backing;
  else if (device !== null)
    backing = isAnonymousDevice(device) ? 'file' : 'bdev'; // anonymous dev (major 0) = get_tree_nodev, file-backed
  else if (o.loop !== false)
    backing = 'bdev'; // mount(8) -o loop attaches a fresh loop device
  else backing = isBlockDeviceSource(input.source) ? 'bdev' : 'file';

  if (o.directio && backing === 'bdev') {
    warnings.push({
      code: 'ignored-option',
      message: `${at}: directio only affects file-backed mounts; ignored on a block device`,
      origin,
    });
  }

  const notMounted =
    input.notMounted !== undefined ? input.notMounted : input.view === 'config' && o.noauto ? 'noauto' : null;
  const mountError = input.view === 'config' ? mountErrorFor(parsed) : null;

  let inodeShareEffective: boolean | null;
  if (input.view === 'kernel')
    inodeShareEffective = o.inodeShare; // printed only while still in effect (docs/format.md#show-options)
  else if (!o.inodeShare || mountError || notMounted) inodeShareEffective = false;
  else inodeShareEffective = null; // R3: the image decides

  if (input.view === 'config' && o.domainIdGiven && !o.inodeShare) {
    warnings.push({
      code: 'inode-share-off',
      message: `${at}: domain_id without inode_share shares nothing (R2)`,
      origin,
    });
  }
  if (mountError) {
    warnings.push({
      code: 'mount-failed',
      message: `${at}: mount of ${input.mountPoint} fails with EINVAL: ${mountError.message}`,
      origin,
    });
  }

  const entry: MountEntry = {
    source: input.source,
    mountPoint: input.mountPoint,
    fsType: 'erofs',
    options: o,
    backing,
    device,
    domain: input.view === 'kernel' || input.domainUnknown ? null : parsed.domain,
    domainKnown: input.view !== 'kernel' && !input.domainUnknown,
    mountError,
    notMounted,
    origin,
    inodeShareEffective,
  };
  if (input.image !== undefined) entry.image = input.image;
  return { entry, warnings };
}

/**
 * The lower layers of an overlay option string: `lowerdir=` (`:`-separated, `\:` escapes a
 * colon, `::` before data-only layers), and the per-layer `lowerdir+=` and `datadir+=` (Linux
 * 6.8+; a data-only layer holds the file data the layers above redirect to, so the container
 * reads its pages too). Documentation/filesystems/overlayfs.rst, "Data-only lower layers".
 */
export function overlayLowerdirs(optionsText: string): string[] {
  const out: string[] = [];
  for (const opt of optionsText.split(',')) {
    if (!opt.startsWith('lowerdir=') && !opt.startsWith('lowerdir+=') && !opt.startsWith('datadir+='))
      continue;
    const v = opt.slice(opt.indexOf('=') + 1);
    let cur = '';
    for (let i = 0; i < v.length; i++) {
      const c = v[i]!;
      if (c === '\\' && i + 1 < v.length) cur += v[++i];
      else if (c === ':') {
        if (cur) out.push(cur);
        cur = '';
      } else cur += c;
    }
    if (cur) out.push(cur);
  }
  return out;
}

/** Container name from an overlay mount point: `/run/containers/web-1/rootfs` -> `web-1`. */
export function userFromMountPoint(mp: string): string {
  const parts = mp.split('/').filter(Boolean);
  const last = parts[parts.length - 1] ?? mp;
  if ((last === 'rootfs' || last === 'merged' || last === 'root') && parts.length >= 2)
    return parts[parts.length - 2]!;
  return basename(mp) || mp;
}

export function overlayContext(
  mountPoint: string,
  optionsText: string,
  origin: Origin,
  active = true,
): ContextEntry {
  return {
    kind: 'overlay',
    mountPoint,
    user: userFromMountPoint(mountPoint),
    lowerdirs: overlayLowerdirs(optionsText),
    active,
    origin,
  };
}

/**
 * A line of a mount table that is not an erofs mount: an overlay mount is kept as context (its
 * lowerdirs tell which containers use which erofs instance); any other file system is listed as
 * ignored, so the user sees that the line was read.
 */
export function recordOtherMount(
  config: MountConfig,
  line: { file: string; line: number },
  fsType: Field,
  mountPoint: Field & { path: string },
  optionsText: string,
  active = true,
): void {
  if (fsType.text === 'overlay') {
    config.context.push(
      overlayContext(mountPoint.path, optionsText, { ...line, column: mountPoint.column }, active),
    );
  } else {
    config.ignored.push({
      fsType: unescapeOctal(fsType.text),
      mountPoint: mountPoint.path,
      origin: { ...line, column: fsType.column },
    });
  }
}

export function emptyConfig(format: MountConfig['format'], file: string): MountConfig {
  return { format, file, entries: [], context: [], loopDevices: {}, ignored: [], warnings: [] };
}

export function checkEntryCount(config: MountConfig, origin: Origin): void {
  if (config.entries.length + config.context.length + config.ignored.length >= MAX_ENTRIES) {
    throw new MountConfigError(
      'too-large',
      `more than ${MAX_ENTRIES} mount entries`,
      origin.file,
      origin.line,
      origin.column,
    );
  }
}
