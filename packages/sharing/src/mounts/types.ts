/**
 * The common output of every mount-configuration parser: plain JSON-serialisable data.
 * Raw `domain_id` strings never appear here, only `DomainLabel`s (sharing-rules R11).
 */
import type { Backing, DomainLabel, DomainSecrets, SourceLocation } from '../report.js';
import type { BackingFileAttributes } from '../trust/types.js';

export type MountFormat =
  | 'mountinfo' // /proc/self/mountinfo
  | 'proc-mounts' // /proc/mounts, /etc/mtab
  | 'fstab' // /etc/fstab
  | 'systemd-unit' // *.mount units
  | 'mount-commands' // shell script of mount/losetup commands
  | 'losetup-json' // losetup --list --json
  | 'plan' // sharemap's own JSON plan (docs/mount-plan.md)
  | 'host-snapshot'; // `sharemap collect` output: its mountinfo plus what it recorded of each mount's backing

/** A location with line and column always known (1-based). */
export interface Origin extends SourceLocation {
  line: number;
  column: number;
}

export interface MountWarning {
  code:
    | 'unknown-option' // option the EROFS kernel code does not know (kept in options.unknown)
    | 'obsolete-option' // e.g. fsid= (removed in Linux 7.2)
    | 'ignored-option' // accepted by the kernel but without effect here (e.g. directio on a block device)
    | 'duplicate-option'
    | 'options-differ' // second mount of one block device with other options: the first mount's win (R9)
    | 'unit-name-mismatch' // systemd: Where= does not match the unit file name
    | 'missing-type'
    | 'unsupported-shell' // shell construct not modelled (if/for/functions/command substitution)
    | 'unset-variable'
    | 'script-stopped' // set -e: a failing command ended the script
    | 'inode-share-off' // the configuration alone makes inode_share ineffective (R2)
    | 'mount-failed' // the kernel would refuse the mount (EINVAL)
    | 'loop-offset'; // a loop device with a non-zero offset
  message: string;
  origin: Origin;
}

export type DaxMode = 'always' | 'never';
export type CacheStrategy = 'disabled' | 'readahead' | 'readaround';

/** Mount options as the EROFS kernel code sees them (docs/format.md#ishare-mount, docs/format.md#show-options). */
export interface MountOptions {
  /** `inode_share` present (requested). */
  inodeShare: boolean;
  /** A `domain_id=` option was given (its value is only ever exposed as `MountEntry.domain`). */
  domainIdGiven: boolean;
  /** `dax` (legacy, = always), `dax=always`, `dax=never`; null when absent. */
  dax: DaxMode | null;
  /** `directio` (file-backed mounts only); `nodirectio` clears it. */
  directio: boolean;
  /** `cache_strategy=`; null when absent (kernel default `readaround`). */
  cacheStrategy: CacheStrategy | null;
  /** `device=` options in order (extra devices, docs/format.md#device-table). */
  devices: string[];
  /** `fsoffset=` in bytes; 0 when absent. */
  fsoffset: number;
  /** `user_xattr`/`nouser_xattr`; null when absent (kernel default on). */
  userXattr: boolean | null;
  /** `acl`/`noacl`; null when absent (kernel default on). */
  acl: boolean | null;
  /** `ro`/`rw`; null when absent. EROFS is always read-only whatever is asked. */
  readOnly: boolean | null;
  /** `noauto` (fstab, units): not mounted at boot. */
  noauto: boolean;
  /** `loop` / `loop=/dev/loopN` (mount(8)): the image file is attached through a loop device. */
  loop: boolean | string;
  /** `fsid=` (fscache, Linux <= 7.1; not a secret). */
  fsid: string | null;
  /** Generic VFS and mount(8)/systemd options kept verbatim (relatime, nosuid, x-systemd.*, ...). */
  generic: string[];
  /** Options neither EROFS nor the VFS knows, kept verbatim (values of names containing "domain" redacted). */
  unknown: string[];
}

export interface MountError {
  errno: 'EINVAL';
  /** Which check of docs/format.md#ishare-mount / R2 fails the mount. */
  reason: 'no-domain' | 'dax' | 'fsoffset-unaligned' | 'unknown-option' | 'empty-value' | 'bad-value';
  /** The kernel's message. */
  message: string;
}

export type NotMounted = 'noauto' | 'script-stopped';

export interface MountEntry {
  /** Source as written, unescaped (image path, /dev/loopN, UUID=..., ...). */
  source: string;
  mountPoint: string;
  fsType: 'erofs';
  options: MountOptions;
  backing: Backing;
  /** major:minor of the superblock's device, when the input shows it (mountinfo), for R9. */
  device: string | null;
  /** Redacted domain; null when absent or unknown (see `domainKnown`). */
  domain: DomainLabel | null;
  /** false when the format never shows domain_id (mountinfo, /proc/mounts, R11). */
  domainKnown: boolean;
  /** Set when the kernel would refuse the mount (EINVAL, R2). */
  mountError: MountError | null;
  notMounted: NotMounted | null;
  origin: Origin;
  /** Whether `inode_share` is in effect as far as the configuration alone decides:
   * true/false, or null when the image decides (R3, the engine's check). */
  inodeShareEffective: boolean | null;
  /** Image id named by the input itself (JSON plan), preferred by resolveInstances(). */
  image?: string;
}

/** A non-erofs line that tells something about erofs mounts: overlay users. */
export interface ContextEntry {
  kind: 'overlay';
  mountPoint: string;
  /** Container / user name derived from the mount point (`/run/containers/web-1/rootfs` -> `web-1`). */
  user: string;
  /** lowerdir layers in order (top first). */
  lowerdirs: string[];
  /** false when the mount never happens (script stopped, noauto). */
  active: boolean;
  origin: Origin;
}

/** A line about another file system, not otherwise used. */
export interface IgnoredEntry {
  fsType: string;
  mountPoint: string;
  origin: Origin;
}

export interface MountConfig {
  format: MountFormat;
  /** Input name (file name), as used in origins. */
  file: string;
  entries: MountEntry[];
  context: ContextEntry[];
  /** Loop device -> backing file (losetup). */
  loopDevices: Record<string, string>;
  /**
   * Loop device -> whether it uses direct I/O (losetup's DIO column, /sys/block/loopN/loop/dio).
   * Absent: unknown. Without direct I/O the backing file's own page cache holds the image bytes too.
   */
  loopDirectIo?: Record<string, boolean>;
  /**
   * Backing file path (a file-backed mount's source, or a loop device's backing file) -> its owner,
   * mode and immutable attribute as a host collector recorded them (docs/trust.md, lifetime).
   */
  backingFiles?: Record<string, BackingFileAttributes>;
  ignored: IgnoredEntry[];
  warnings: MountWarning[];
}

/** Maps raw domain_id strings to labels; see domains.ts. */
export interface DomainRedactor extends DomainSecrets {
  labelFor(raw: string): DomainLabel;
  /** Hex HMAC-SHA256 of the raw string under the redactor's key. */
  fingerprintOf(raw: string): string;
}

export interface ParseOptions {
  /** Input name for origins and messages; defaults to the format's usual name. */
  file?: string;
  /** Shared across every input of one analysis so equal domains get equal labels. Default: a fresh redactor. */
  domains?: DomainRedactor;
}
