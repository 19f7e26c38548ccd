/** Guess the format of a mount-configuration input from its file name and content. */
import { isHostSnapshotText } from '../host-snapshot-kind.js';
import { MountConfigError } from './errors.js';
import { basename } from './text.js';
import type { MountFormat } from './types.js';
import { MAX_INPUT_BYTES } from './limits.js';

/** Characters of a line-based input looked at to tell its format. */
const DETECT_HEAD_CHARS = 64 * 1024;

const MOUNTINFO_LINE = /^\d+ \d+ \d+:\d+ \S+ \S+ \S+(?: \S+)* - \S+ \S+ \S+$/;
const PROC_MOUNTS_LINE = /^\S+ \S+ \S+ (?:rw|ro)(?:,\S*)? \d+ \d+$/;

/**
 * Options the kernel never prints in /proc/mounts or mountinfo: `domain_id` (erofs_show_options()
 * omits it, docs/format.md#show-options / R11) and mount(8)'s user-space options (fstab's `defaults`, `noauto`,
 * `nofail`, `x-*`, ...), which never reach the kernel. A line carrying one was written by a
 * person (fstab, a plan pasted as text), so the kernel formats are ruled out: reading it as
 * /proc/mounts would drop the options (the domain becomes unknown).
 */
const CONFIG_ONLY_OPTION =
  /^(?:domain_id(?:=.*)?|defaults|auto|noauto|nofail|user|users|nouser|owner|group|_netdev|comment=.*|x-.*|loop(?:=.*)?)$/;

/**
 * Whether some line's option field has a CONFIG_ONLY_OPTION: the 4th field (fstab, /proc/mounts),
 * or mountinfo's per-mount options (6th) and super options (last).
 */
function hasConfigOnlyOption(lines: string[]): boolean {
  return lines.some((l) => {
    if (/^\s*#/.test(l)) return false;
    const f = l.trim().split(/\s+/);
    return [f[3], f[5], f.length > 6 ? f[f.length - 1] : undefined].some(
      (field) => field !== undefined && field.split(',').some((o) => CONFIG_ONLY_OPTION.test(o)),
    );
  });
}

export function detectFormat(text: string, fileName?: string): MountFormat {
  const name = fileName ? basename(fileName) : '';
  if (name.endsWith('.mount')) return 'systemd-unit';
  const head = text.slice(0, DETECT_HEAD_CHARS);
  const trimmed = head.trimStart();
  if (trimmed.startsWith('{')) {
    // JSON keys come in any order: a compact plan may name its kind after 600 mounts. Look at
    // the whole input (up to the size every parser accepts), not the head only.
    const json = text.length <= MAX_INPUT_BYTES ? text : head;
    if (/"kind"\s*:\s*"sharemap-mount-plan"/.test(json)) return 'plan';
    if (isHostSnapshotText(text)) return 'host-snapshot';
    if (/"loopdevices"\s*:/.test(json)) return 'losetup-json';
  }
  if (/^\[Mount\]\s*$/m.test(head)) return 'systemd-unit';
  const lines = head
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
  // When a text reads as a kernel format and as fstab, the fstab reading keeps the options the
  // kernel would not have printed: a line with one of them decides for fstab.
  const configOnly = hasConfigOnlyOption(lines);
  if (
    name === 'mountinfo' ||
    name.endsWith('.mountinfo') ||
    (!configOnly && lines.length > 0 && lines.slice(0, 20).every((l) => MOUNTINFO_LINE.test(l)))
  ) {
    return 'mountinfo';
  }
  if (
    name.endsWith('.sh') ||
    trimmed.startsWith('#!') ||
    /^[ \t]*(?:sudo[ \t]+)?(?:mount|losetup)[ \t]+-/m.test(head)
  )
    return 'mount-commands';
  if (!configOnly && (name === 'mounts' || name === 'mtab' || name.endsWith('.mounts'))) return 'proc-mounts';
  if (name === 'fstab' || name.endsWith('.fstab')) return 'fstab';
  if (!configOnly && lines.length > 0 && lines.slice(0, 20).every((l) => PROC_MOUNTS_LINE.test(l)))
    return 'proc-mounts';
  if (lines.some((l) => /^\s*[^#\s]+\s+\/\S*\s+\S+/.test(l))) return 'fstab';
  throw new MountConfigError(
    'unknown-format',
    'cannot tell the format of this input (mountinfo, /proc/mounts, fstab, .mount unit, shell script, losetup --json or sharemap plan)',
    name || 'input',
    1,
    1,
  );
}
