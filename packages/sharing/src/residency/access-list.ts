/**
 * A plain access list: one absolute path per line, the files a workload opened or read (from
 * fatrace, strace -e trace=openat, a bpftrace script...). Blank lines and `#` comments are
 * skipped; a path listed twice counts once. There is no page count: a listed file counts as
 * fully read (every one of its pages), which makes the result the static bound restricted to
 * the files the workload touched.
 */
import { ResidencyError } from './errors.js';
import { checkRecordCount, residencyLines } from './text.js';
import type { ResidencyData, ResidencyRecord } from './types.js';

export function parseAccessList(text: string, file = 'access.list'): ResidencyData {
  const lines = residencyLines(text, file);
  checkRecordCount(lines.length, file, lines.length);
  const records: ResidencyRecord[] = [];
  const seen = new Set<string>();
  lines.forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const column = line.length - line.trimStart().length + 1;
    if (!trimmed.startsWith('/'))
      throw new ResidencyError(
        'malformed-line',
        `expected an absolute path, found "${trimmed}"`,
        file,
        i + 1,
        column,
      );
    if (line.includes('\0'))
      throw new ResidencyError('malformed-line', 'path contains a NUL byte', file, i + 1, column);
    if (seen.has(trimmed)) return;
    seen.add(trimmed);
    records.push({ path: trimmed, residentPages: 'all', origin: { file, line: i + 1, column } });
  });
  return { format: 'access-list', file, records };
}
