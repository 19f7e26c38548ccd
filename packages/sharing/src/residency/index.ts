/**
 * Page-cache residency inputs (one parser per format, like mounts/), and their mapping onto
 * the instances of an analysis. Pure TypeScript, no I/O. Method and traps: docs/working-set.md.
 */
import { parseAccessList } from './access-list.js';
import { detectResidencyFormat } from './detect.js';
import { parseFincoreJson } from './fincore-json.js';
import { parseFincoreRaw } from './fincore-raw.js';
import { parsePcstatJson } from './pcstat-json.js';
import type { ResidencyData, ResidencyFormat } from './types.js';
import { parseVmtouch } from './vmtouch.js';
import { parseHostSnapshot } from './snapshot.js';

export * from './types.js';
export * from './limits.js';
export { ResidencyError, type ResidencyErrorCode } from './errors.js';
export { detectResidencyFormat } from './detect.js';
export { parseFincoreJson } from './fincore-json.js';
export { parseFincoreRaw, unescapeHex } from './fincore-raw.js';
export { parseVmtouch } from './vmtouch.js';
export { parsePcstatJson } from './pcstat-json.js';
export { parseAccessList } from './access-list.js';
export { HOST_SNAPSHOT_KIND, HOST_SNAPSHOT_VERSION, isHostSnapshotText } from '../host-snapshot-kind.js';
export { parseHostSnapshot, type HostSnapshot, type SnapshotMount } from './snapshot.js';
export {
  attributeResidency,
  findInstance,
  normaliseImagePath,
  ResidencyMappingError,
  type AttributedResidency,
  type ResidencySource,
} from './attribute.js';

/** The formats `--residency` reads, in the order help texts name them. */
export const RESIDENCY_FORMAT_NAMES =
  'fincore -J, fincore --raw (util-linux; -b for exact sizes), vmtouch -v, pcstat -json (with or without -pps), an access list (one absolute path per line), or a sharemap host snapshot';

const TEXT_PARSERS: Record<
  Exclude<ResidencyFormat, 'host-snapshot'>,
  (text: string, file?: string) => ResidencyData
> = {
  'fincore-json': parseFincoreJson,
  'fincore-raw': parseFincoreRaw,
  vmtouch: parseVmtouch,
  'pcstat-json': parsePcstatJson,
  'access-list': parseAccessList,
};

/** Parses residency text of any supported format (detected from the content unless given). */
export function parseResidency(
  text: string,
  opts: { file?: string; format?: ResidencyFormat } = {},
): ResidencyData {
  const file = opts.file ?? 'residency';
  const format = opts.format ?? detectResidencyFormat(text, file);
  if (format === 'host-snapshot') return parseHostSnapshot(text, file).residency;
  return TEXT_PARSERS[format](text, file);
}
