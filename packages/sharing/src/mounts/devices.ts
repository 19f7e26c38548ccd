/**
 * Device numbers (major:minor) as the kernel makes them: a dev_t has a 12-bit major and a
 * 20-bit minor (include/linux/kdev_t.h, MINORBITS = 20), and major 0 is the anonymous device a
 * file system without a block device gets (get_tree_nodev: file-backed EROFS mounts, R9).
 */

/** Largest major number of a dev_t (12 bits). */
export const MAX_DEVICE_MAJOR = (1 << 12) - 1;
/** Largest minor number of a dev_t (20 bits). */
export const MAX_DEVICE_MINOR = (1 << 20) - 1;

/** Why `major:minor` (already of the form digits:digits) cannot be a device number, or null. */
export function impossibleDeviceNumber(device: string): string | null {
  const [major, minor] = device.split(':').map(Number) as [number, number];
  if (major > MAX_DEVICE_MAJOR)
    return `major ${major} of ${device} is impossible (a dev_t major is at most ${MAX_DEVICE_MAJOR})`;
  if (minor > MAX_DEVICE_MINOR)
    return `minor ${minor} of ${device} is impossible (a dev_t minor is at most ${MAX_DEVICE_MINOR})`;
  return null;
}

/** Whether a device number is the anonymous kind (major 0) of a mount without a block device. */
export function isAnonymousDevice(device: string): boolean {
  return device.startsWith('0:');
}
