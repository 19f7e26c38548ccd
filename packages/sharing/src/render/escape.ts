/**
 * Untrusted strings (paths and names from images, manifests and uploads) in the three text
 * outputs: CSV cells (spreadsheet formula injection), Markdown (HTML, links, tables in
 * pull-request comments) and terminals (escape sequences).
 */

/** Line end of every CSV sharemap writes (RFC 4180). */
export const CSV_LINE_END = '\r\n';

/** A first character that makes a spreadsheet evaluate a cell (OWASP "CSV injection"). */
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r']);

/**
 * One CSV cell. Numbers are written as they are; a string that starts with `=`, `+`, `-`,
 * `@`, tab or CR gets a leading `'` so spreadsheets show it as text instead of running it,
 * and a string holding `"`, `,`, CR or LF is quoted (RFC 4180, inner quotes doubled).
 */
export function csvCell(v: string | number): string {
  if (typeof v === 'number') return String(v);
  const s = v.length > 0 && FORMULA_START.has(v[0]!) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One CSV record with its line end. */
export function csvLine(cells: readonly (string | number)[]): string {
  return cells.map(csvCell).join(',') + CSV_LINE_END;
}

/** A whole CSV document: the header, then the rows. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  let out = csvLine(header);
  for (const r of rows) out += csvLine(r);
  return out;
}

/**
 * Text for a Markdown paragraph or table cell. Every ASCII punctuation character is
 * backslash-escaped (CommonMark: any ASCII punctuation may be), so nothing in the string can
 * open HTML, a link, an image, emphasis or code, and `\|` keeps a pipe inside its table cell
 * (GFM tables). `:` and `@` escaped also split the `scheme://` and `user@host` forms GFM would
 * turn into links by themselves; `www.` gets its dot escaped for the same reason. Line breaks
 * (CR, LF, CRLF, and the Unicode line separators) become spaces: a row must stay one line.
 * Other control characters are shown as terminalText shows them (Markdown is printed to
 * terminals too: `sharemap analyze --markdown`).
 */
export function markdownText(s: string): string {
  return terminalText(s.replace(/\r\n?|[\n\u2028\u2029]/g, ' '))
    .replace(/[!-,:-@[-`{-~]/g, '\\$&')
    .replace(/(www)\./gi, '$1\\.');
}

/**
 * Text for a terminal: C0 controls (ESC, BEL, CR, ...), DEL and C1 controls (U+0080-U+009F,
 * e.g. the one-character CSI U+009B) and the Unicode bidirectional overrides are shown as
 * `\xNN` / `\u{NNNN}` instead of being sent, so a path cannot move the cursor, retitle the
 * window, clear the screen or reorder what is shown.
 */
export function terminalText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
  });
}
