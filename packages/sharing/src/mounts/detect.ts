/** Guess the format of a mount-configuration input from its file name and content. */
import { MountConfigError } from './errors.js';
import { basename } from './text.js';
import type { MountFormat } from './types.js';

const MOUNTINFO_LINE = /^\d+ \d+ \d+:\d+ \S+ \S+ \S+(?: \S+)* - \S+ \S+ \S+$/;
const PROC_MOUNTS_LINE = /^\S+ \S+ \S+ (?:rw|ro)(?:,\S*)? \d+ \d+$/;

export function detectFormat(text: string, fileName?: string): MountFormat {
  const name = fileName ? basename(fileName) : '';
  if (name.endsWith('.mount')) return 'systemd-unit';
  const head = text.slice(0, 64 * 1024);
  const trimmed = head.trimStart();
  if (trimmed.startsWith('{')) {
    if (/"kind"\s*:\s*"sharemap-mount-plan"/.test(head)) return 'plan';
    if (/"loopdevices"\s*:/.test(head)) return 'losetup-json';
  }
  if (/^\[Mount\]\s*$/m.test(head)) return 'systemd-unit';
  const lines = head
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
  if (
    name === 'mountinfo' ||
    name.endsWith('.mountinfo') ||
    (lines.length > 0 && lines.slice(0, 20).every((l) => MOUNTINFO_LINE.test(l)))
  ) {
    return 'mountinfo';
  }
  if (
    name.endsWith('.sh') ||
    trimmed.startsWith('#!') ||
    /^[ \t]*(?:sudo[ \t]+)?(?:mount|losetup)[ \t]+-/m.test(head)
  )
    return 'mount-commands';
  if (name === 'mounts' || name === 'mtab' || name.endsWith('.mounts')) return 'proc-mounts';
  if (name === 'fstab' || name.endsWith('.fstab')) return 'fstab';
  if (lines.length > 0 && lines.slice(0, 20).every((l) => PROC_MOUNTS_LINE.test(l))) return 'proc-mounts';
  if (lines.some((l) => /^\s*[^#\s]+\s+\/\S*\s+\S+/.test(l))) return 'fstab';
  throw new MountConfigError(
    'unknown-format',
    'cannot tell the format of this input (mountinfo, /proc/mounts, fstab, .mount unit, shell script, losetup --json or sharemap plan)',
    name || 'input',
    1,
    1,
  );
}
