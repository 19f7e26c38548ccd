/** The mount formats a user can pick instead of the detected one (packages/sharing MountFormat). */
import type { MountFormat } from '@sharemap/sharing';
import type { FormatChoice } from '../../state/start';

/** Typed by MountFormat: a new format fails the build until it is named here. */
export const MOUNT_FORMAT_LABELS: Record<MountFormat, string> = {
  mountinfo: 'mountinfo',
  'proc-mounts': '/proc/mounts',
  fstab: 'fstab',
  'systemd-unit': 'systemd .mount unit',
  'mount-commands': 'mount commands',
  'losetup-json': 'losetup --json',
  plan: 'sharemap plan (JSON)',
  'host-snapshot': 'sharemap collect snapshot',
};

/** "auto (detected: fstab)" plus every format: the user overrides a wrong detection here. */
export function FormatSelect(props: {
  label: string;
  detected: MountFormat | null;
  value: FormatChoice;
  disabled?: boolean;
  onChange(f: FormatChoice): void;
}) {
  return (
    <select
      aria-label={props.label}
      value={props.value}
      disabled={props.disabled}
      onChange={(e) => props.onChange(e.target.value as FormatChoice)}
    >
      <option value="auto">
        {props.detected ? `detected: ${MOUNT_FORMAT_LABELS[props.detected]}` : 'format: not detected'}
      </option>
      {(Object.keys(MOUNT_FORMAT_LABELS) as MountFormat[]).map((f) => (
        <option key={f} value={f}>
          {MOUNT_FORMAT_LABELS[f]}
        </option>
      ))}
    </select>
  );
}
