/**
 * `vmtouch -v`: per file, its path on one line, then a progress line whose last part is
 * `[bar] RESIDENT/TOTAL` (vmtouch redraws it with carriage returns; the last drawing is the
 * final count; the bar is scaled for large files, the numbers are exact). A blank line and a
 * summary (`Files:`, `Directories:`, `Resident Pages:`, `Elapsed:`) end the list. Empty files
 * get no entry. TOTAL is ceil(size / page size), so it is checked against the image later.
 */
import { ResidencyError } from './errors.js';
import { MAX_RESIDENT_PAGES } from './limits.js';
import { checkRecordCount, residencyLines } from './text.js';
import type { ResidencyData, ResidencyRecord } from './types.js';

/** The final drawing of a progress line: `[` bar `] R/T`. */
export const VMTOUCH_BAR = /\[[ oO]*\] (\d+)\/(\d+)$/;
const SUMMARY = /^\s*(?:Files|Directories|Resident Pages|Evicted Pages|Touched Pages|Locked Pages|Elapsed):/;

export function parseVmtouch(text: string, file = 'vmtouch.txt'): ResidencyData {
  const lines = residencyLines(text, file);
  checkRecordCount(Math.floor(lines.length / 2), file, lines.length);
  const records: ResidencyRecord[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break; // the summary follows
    const lineNo = i + 1;
    if (SUMMARY.test(line))
      throw new ResidencyError(
        'malformed-line',
        'summary without per-file lines: run vmtouch with -v',
        file,
        lineNo,
        1,
      );
    if (line.includes('\r') || VMTOUCH_BAR.test(line))
      throw new ResidencyError(
        'malformed-line',
        'progress line without a file name before it',
        file,
        lineNo,
        1,
      );
    const next = lines[i + 1];
    if (next === undefined)
      throw new ResidencyError(
        'malformed-line',
        `no progress line after "${line}"`,
        file,
        lineNo,
        line.length + 1,
      );
    const last = next.slice(next.lastIndexOf('\r') + 1);
    const m = VMTOUCH_BAR.exec(last);
    if (!m)
      throw new ResidencyError(
        'malformed-line',
        'expected a progress line "[OOO  ] RESIDENT/TOTAL"',
        file,
        lineNo + 1,
        next.length - last.length + 1,
      );
    const resident = Number(m[1]);
    const total = Number(m[2]);
    const column = next.length - m[0].length + m[0].indexOf('] ') + 3;
    if (resident > total || total > MAX_RESIDENT_PAGES)
      throw new ResidencyError(
        'malformed-line',
        `resident pages ${resident} exceed the file's ${total}`,
        file,
        lineNo + 1,
        column,
      );
    records.push({ path: line, residentPages: resident, origin: { file, line: lineNo, column: 1 } });
    i++;
  }
  for (i++; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() !== '' && !SUMMARY.test(line))
      throw new ResidencyError('malformed-line', 'unexpected line in the vmtouch summary', file, i + 1, 1);
  }
  return { format: 'vmtouch', file, records };
}
