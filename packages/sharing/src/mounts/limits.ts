/**
 * Bounds on mount-configuration input. Every parser checks them before doing work, so a
 * hostile upload cannot make the browser or the server spin or allocate without limit.
 */

/** Largest input accepted, in UTF-8 bytes. A /proc/self/mountinfo of a busy container host
 * (10,000 mounts of ~250 bytes) is about 2.5 MiB; 8 MiB leaves room without inviting abuse. */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;

/** Largest number of lines in one input (fstab, mountinfo, script, unit, JSON plan). */
export const MAX_LINES = 100_000;

/** Longest line of a line-based format (fstab, mountinfo, /proc/mounts, units, scripts). The
 * kernel caps a path at PATH_MAX (4096) and mount data at one page (4096 bytes); octal escaping
 * (`\040`) can quadruple a path, so 64 KiB is generous. JSON inputs (plan, losetup) are not
 * line-based and have no line limit: a compact one-line plan of 600 mounts passes 64 KiB, and
 * MAX_INPUT_BYTES, MAX_JSON_DEPTH and MAX_ENTRIES bound them. */
export const MAX_LINE_LENGTH = 64 * 1024;

/** Largest number of mount entries in one configuration (erofs and context lines together). */
export const MAX_ENTRIES = 20_000;

/** Largest number of comma-separated options on one mount. The kernel's option page
 * (4096 bytes) cannot hold more than ~2048 one-letter options. */
export const MAX_OPTIONS_PER_MOUNT = 2_048;

/** Largest number of `device=` options on one mount. The EROFS device table counts extra
 * devices in a le16 (`extra_devices`, docs/format.md#device-table). */
export const MAX_DEVICES_PER_MOUNT = 65_535;

/** Shell scripts: largest number of distinct variables, and the longest value a `$VAR`
 * expansion may produce (guards against `A=$A$A` doubling). */
export const MAX_SHELL_VARIABLES = 1_000;
export const MAX_SHELL_WORD_LENGTH = 64 * 1024;

/** JSON inputs (plan, losetup): deepest nesting accepted. */
export const MAX_JSON_DEPTH = 32;

/** systemd: largest number of unit files in one configuration. */
export const MAX_UNIT_FILES = 10_000;
