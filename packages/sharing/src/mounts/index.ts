/**
 * Mount-configuration parsers (one file per input format) and their resolution into the
 * sharing engine's instances. Pure TypeScript, no I/O: runs in Node and in browsers.
 */
import { createDomainRedactor } from './domains.js';
import { detectFormat } from './detect.js';
import { parseFstab } from './fstab.js';
import { parseHostSnapshotMounts } from './host-snapshot.js';
import { parseLosetupJson } from './losetup-json.js';
import { parseMountCommands } from './mount-commands.js';
import { parseMountinfo } from './mountinfo.js';
import { parsePlan } from './plan.js';
import { parseProcMounts } from './proc-mounts.js';
import { parseSystemdUnit } from './systemd-unit.js';
import type { MountConfig, MountFormat, ParseOptions } from './types.js';

export * from './types.js';
export * from './limits.js';
export { MountConfigError, type MountConfigErrorCode } from './errors.js';
export { createDomainRedactor, type DomainRedactorWithState } from './domains.js';
export {
  parseOptions,
  splitOptions,
  mountErrorFor,
  type ParsedOptions,
  type OptionContext,
} from './options.js';
export { parseMountinfo } from './mountinfo.js';
export { parseProcMounts } from './proc-mounts.js';
export { parseFstab } from './fstab.js';
export { parseSystemdUnit, parseSystemdUnits, unitNameToPath } from './systemd-unit.js';
export { parseMountCommands } from './mount-commands.js';
export { parseLosetupJson } from './losetup-json.js';
export { parseHostSnapshotMounts, snapshotMountConfigText, type SnapshotBacking } from './host-snapshot.js';
export { parsePlan, toPlan, PLAN_KIND, PLAN_VERSION, type MountPlan, type PlanMount } from './plan.js';
export { detectFormat } from './detect.js';
export { trimTrailing, trimTrailingSlashes } from './text.js';
export {
  resolveInstances,
  type ResolvedInstance,
  type ResolveResult,
  type ResolveOptions,
  type UnresolvedEntry,
} from './resolve.js';

const PARSERS: Record<MountFormat, (text: string, opts: ParseOptions) => MountConfig> = {
  mountinfo: parseMountinfo,
  'proc-mounts': parseProcMounts,
  fstab: parseFstab,
  'systemd-unit': parseSystemdUnit,
  'mount-commands': parseMountCommands,
  'losetup-json': parseLosetupJson,
  plan: parsePlan,
  'host-snapshot': parseHostSnapshotMounts,
};

/** Parse any supported input; the format is detected from `opts.file` and the content unless given. */
export function parseMountConfig(
  text: string,
  opts: ParseOptions & { format?: MountFormat } = {},
): MountConfig {
  const format = opts.format ?? detectFormat(text, opts.file);
  return PARSERS[format](text, { ...opts, domains: opts.domains ?? createDomainRedactor() });
}
