/** Which residency format a text is, from its content (the file name is only for the error). */
import { isHostSnapshotText } from '../host-snapshot-kind.js';
import { ResidencyError } from './errors.js';
import type { ResidencyFormat } from './types.js';
import { VMTOUCH_BAR } from './vmtouch.js';

const FINCORE_HEADER = /^[A-Z_-]+(?: [A-Z_-]+)*$/;

export function detectResidencyFormat(text: string, file = 'input'): ResidencyFormat {
  const head = text.slice(0, 64 * 1024);
  const trimmed = head.trimStart();
  if (isHostSnapshotText(text)) return 'host-snapshot';
  if (/^\{\s*"fincore"\s*:/.test(trimmed)) return 'fincore-json';
  if (
    trimmed.startsWith('[') &&
    (/^\[\s*(?:\]|\{\s*"filename"\s*:)/.test(trimmed) || /^\[\s*\{/.test(trimmed))
  )
    return 'pcstat-json';
  const lines = head.split('\n').map((l) => l.replace(/\r$/, ''));
  const first = lines.find((l) => l.trim() !== '' && !l.trimStart().startsWith('#')) ?? '';
  const header = lines[0] ?? '';
  if (FINCORE_HEADER.test(header) && /(?:^| )PAGES(?: |$)/.test(header) && /(?:^| )FILE(?: |$)/.test(header))
    return 'fincore-raw';
  if (lines.slice(0, 4).some((l) => VMTOUCH_BAR.test(l.slice(l.lastIndexOf('\r') + 1)))) return 'vmtouch';
  // fincore --raw -n: "RES PAGES SIZE FILE" values without the header.
  if (/^\S+ \d+ \S+ \S+$/.test(first) && !first.startsWith('/')) return 'fincore-raw';
  if (first.startsWith('/')) return 'access-list';
  throw new ResidencyError(
    'unknown-format',
    'cannot tell the residency format (fincore -J, fincore --raw, vmtouch -v, pcstat -json, an access list of absolute paths, or a sharemap host snapshot)',
    file,
    1,
    1,
  );
}
