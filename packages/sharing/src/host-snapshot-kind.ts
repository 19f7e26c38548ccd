/**
 * What marks a `sharemap collect` host snapshot (docs/working-set.md), defined once for both of
 * its readers: the mount-configuration parser (mounts/host-snapshot.ts, its mount table) and the
 * residency parser (residency/snapshot.ts, its resident pages), their format detectors and the
 * CLI. A leaf module (it imports nothing from mounts/ or residency/), so neither of those
 * directories depends on the other for it.
 */
import { MAX_INPUT_BYTES } from './mounts/limits.js';

export const HOST_SNAPSHOT_KIND = 'sharemap-host-snapshot';
export const HOST_SNAPSHOT_VERSION = 1;

/** Characters looked at for the kind when a text is larger than any mount configuration. */
const SNAPSHOT_DETECT_HEAD_CHARS = 64 * 1024;

const KIND_MEMBER = new RegExp(`"kind"\\s*:\\s*"${HOST_SNAPSHOT_KIND}"`);

/**
 * Whether a text is a host snapshot: a JSON object naming the snapshot kind. JSON members come
 * in any order, so the whole text is searched up to the size a mount configuration may have
 * (mounts/limits.ts MAX_INPUT_BYTES); beyond that the head only (`collect` writes `kind` first).
 */
export function isHostSnapshotText(text: string): boolean {
  const head = text.slice(0, SNAPSHOT_DETECT_HEAD_CHARS);
  if (!head.trimStart().startsWith('{')) return false;
  return KIND_MEMBER.test(text.length <= MAX_INPUT_BYTES ? text : head);
}

/**
 * The header check both snapshot parsers make on the parsed JSON: an object of this kind and
 * version. `bad` throws the parser's own located error at a JSON pointer.
 */
export function checkHostSnapshotHeader(
  value: unknown,
  bad: (pointer: string, problem: string) => never,
): void {
  const v = value as Record<string, unknown> | null;
  if (!v || typeof v !== 'object' || Array.isArray(v) || v['kind'] !== HOST_SNAPSHOT_KIND)
    bad('', `not a host snapshot (no "kind": "${HOST_SNAPSHOT_KIND}")`);
  if (v!['version'] !== HOST_SNAPSHOT_VERSION)
    bad(
      '/version',
      `unsupported snapshot version ${JSON.stringify(v!['version'])} (this sharemap reads ${HOST_SNAPSHOT_VERSION})`,
    );
}
