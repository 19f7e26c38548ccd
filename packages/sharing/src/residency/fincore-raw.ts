/**
 * util-linux `fincore --raw`: a header line naming the columns (default `RES PAGES SIZE FILE`;
 * others with `-o`, e.g. `--cachestat`'s), then one line per file, fields separated by one
 * space. libsmartcols' raw mode escapes spaces and unsafe bytes in a field as `\xHH`, so a path
 * with spaces is still one field. Without `-b` RES and SIZE are rounded ("19.5K"); PAGES (the
 * resident pages) is always exact. `-n` (no header) is read as the default columns.
 */
import { ResidencyError } from './errors.js';
import { MAX_RESIDENT_PAGES } from './limits.js';
import { checkRecordCount, residencyLines } from './text.js';
import type { ResidencyData, ResidencyRecord } from './types.js';

/** Default columns of fincore (util-linux 2.38 to 2.41). */
const DEFAULT_COLUMNS = ['RES', 'PAGES', 'SIZE', 'FILE'];
/** A header line: upper-case column names only, PAGES and FILE among them. */
const HEADER = /^[A-Z_-]+(?: [A-Z_-]+)*$/;

/** Undo libsmartcols' `\xHH` escaping (bytes, decoded as UTF-8). */
export function unescapeHex(s: string): string {
  if (!s.includes('\\x')) return s;
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < s.length;) {
    if (s[i] === '\\' && s[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      bytes.push(parseInt(s.slice(i + 2, i + 4), 16));
      i += 4;
    } else {
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      for (const b of enc.encode(ch)) bytes.push(b);
      i += ch.length;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

export function parseFincoreRaw(text: string, file = 'fincore.raw'): ResidencyData {
  const lines = residencyLines(text, file);
  let columns = DEFAULT_COLUMNS;
  let first = 0;
  if (lines.length > 0 && HEADER.test(lines[0]!)) {
    columns = lines[0]!.split(' ');
    first = 1;
  }
  const pagesCol = columns.indexOf('PAGES');
  const fileCol = columns.indexOf('FILE');
  const resCol = columns.indexOf('RES');
  const sizeCol = columns.indexOf('SIZE');
  if (pagesCol < 0 || fileCol < 0)
    throw new ResidencyError(
      'malformed-line',
      'fincore header must name the PAGES and FILE columns',
      file,
      1,
      1,
    );
  checkRecordCount(lines.length - first, file, lines.length);
  const records: ResidencyRecord[] = [];
  let pageSize: number | undefined;
  for (let i = first; i < lines.length; i++) {
    const line = lines[i]!;
    const lineNo = i + 1;
    if (line.trim() === '') continue;
    // Single spaces separate fields (raw mode); columns of each field for errors.
    const parts: { text: string; column: number }[] = [];
    let col = 1;
    for (const t of line.split(' ')) {
      parts.push({ text: t, column: col });
      col += t.length + 1;
    }
    if (parts.length !== columns.length)
      throw new ResidencyError(
        'malformed-line',
        `expected ${columns.length} fields (${columns.join(' ')}), found ${parts.length}`,
        file,
        lineNo,
        1,
      );
    const p = parts[pagesCol]!;
    if (!/^\d+$/.test(p.text) || Number(p.text) > MAX_RESIDENT_PAGES)
      throw new ResidencyError(
        'malformed-line',
        `PAGES must be a whole number of pages, found "${p.text}"`,
        file,
        lineNo,
        p.column,
      );
    const pages = Number(p.text);
    const f = parts[fileCol]!;
    const path = unescapeHex(f.text);
    if (path === '') throw new ResidencyError('malformed-line', 'FILE is empty', file, lineNo, f.column);
    const r: ResidencyRecord = {
      path,
      residentPages: pages,
      origin: { file, line: lineNo, column: f.column },
    };
    // -b: RES and SIZE are byte counts.
    const s = sizeCol >= 0 ? parts[sizeCol]! : null;
    if (s && /^\d+$/.test(s.text)) r.size = Number(s.text);
    const res = resCol >= 0 ? parts[resCol]! : null;
    if (res && /^\d+$/.test(res.text) && pages > 0) {
      const ps = Number(res.text) / pages;
      if (!Number.isInteger(ps) || ps < 512 || (ps & (ps - 1)) !== 0)
        throw new ResidencyError(
          'malformed-line',
          `RES (${res.text}) is not PAGES (${pages}) times a page size`,
          file,
          lineNo,
          res.column,
        );
      if (pageSize !== undefined && ps !== pageSize)
        throw new ResidencyError(
          'malformed-line',
          `page size ${ps} differs from ${pageSize} of an earlier line`,
          file,
          lineNo,
          res.column,
        );
      pageSize = ps;
    }
    records.push(r);
  }
  const out: ResidencyData = { format: 'fincore-raw', file, records };
  if (pageSize !== undefined) out.pageSize = pageSize;
  return out;
}
