/**
 * The self-contained HTML report (`sharemap analyze --html`, `GET /api/reports/:id?format=html`):
 * the web UI's static-report build (apps/web `report-template.html`, every script and style
 * inlined) filled with one report. The report travels as the web UI's two parts, each
 * gzip-compressed and base64-encoded in a `<script type="application/octet-stream">` element:
 *  - `#sharemap-summary`: the summary JSON (`reportSummary`);
 *  - `#sharemap-files`: the sharemap-files encoding of the per-file parts (`encodeFiles`).
 * The page decodes them with `DecompressionStream`: nothing is fetched, so it opens from
 * `file://` with no network. The columnar files part gzips far smaller than the report's JSON,
 * so the page stays under 1.5 times the size of the gzip JSON even for fleet-sized reports.
 */
import type { Report } from '@sharemap/sharing';
import { encodeFiles } from './files.js';
import { reportSummary } from './summary.js';

export const STATIC_SUMMARY_PART = 'summary';
export const STATIC_FILES_PART = 'files';
/** The attribute naming the part of a data element. */
export const STATIC_PART_ATTR = 'data-sharemap-part';
/**
 * Where the summary goes in the template: before the app's script (an async module), which
 * then shows the headline while the parser still reads the file table at the end of the body.
 */
export const STATIC_SUMMARY_MARK = '<!--sharemap:summary-->';
/** Base64 characters per data element: a multiple of 4, so chunks concatenate as text. */
export const STATIC_CHUNK_CHARS = 65536;
/** Marks the template (its `<meta name="sharemap-template">`): a page without it is not one. */
export const STATIC_TEMPLATE_META = '<meta name="sharemap-template" content="report" />';

/** Base64 of bytes, in chunks (no argument-count limits on large inputs). */
function base64(bytes: Uint8Array): string {
  const g = globalThis as unknown as { Buffer?: { from(b: Uint8Array): { toString(enc: string): string } } };
  if (g.Buffer) return g.Buffer.from(bytes).toString('base64');
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

function dataElements(part: string, bytes: Uint8Array): string {
  const text = base64(bytes);
  const out: string[] = [];
  for (let i = 0; i < text.length || i === 0; i += STATIC_CHUNK_CHARS)
    out.push(
      `<script type="application/octet-stream" ${STATIC_PART_ATTR}="${part}">${text.slice(i, i + STATIC_CHUNK_CHARS)}</script>\n`,
    );
  return out.join('');
}

function htmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export class StaticTemplateError extends Error {}

/** The two parts as the page embeds them: gzip bytes (as the server stores them). */
export interface StaticReportParts {
  /** gzip of the `reportSummary` JSON. */
  summaryGzip: Uint8Array;
  /** gzip of the `encodeFiles` bytes. */
  filesGzip: Uint8Array;
}

/**
 * The HTML page of `report` from the template. `gzip` compresses (Node's zlib in the CLI:
 * this package does no I/O); `title` becomes the page's initial title.
 */
export function renderStaticReport(
  template: string,
  report: Report,
  gzip: (data: Uint8Array) => Uint8Array,
  title: string,
): string {
  checkTemplate(template);
  const summaryGzip = gzip(new TextEncoder().encode(JSON.stringify(reportSummary(report))));
  return fillStaticTemplate(template, { summaryGzip, filesGzip: gzip(encodeFiles(report)) }, title);
}

function checkTemplate(template: string): void {
  if (!template.includes(STATIC_TEMPLATE_META))
    throw new StaticTemplateError('not a sharemap report template (its marker meta element is missing)');
  if (template.lastIndexOf('</body>') < 0)
    throw new StaticTemplateError('the report template has no </body>');
}

/** The page from already compressed parts (the server's stored blobs are exactly these). */
export function fillStaticTemplate(template: string, parts: StaticReportParts, title: string): string {
  checkTemplate(template);
  const end = template.lastIndexOf('</body>');
  const summary = dataElements(STATIC_SUMMARY_PART, parts.summaryGzip);
  const files = dataElements(STATIC_FILES_PART, parts.filesGzip);
  // Slices, not String.replace: the data must not be read as a replacement pattern.
  let head = template.slice(0, end);
  const mark = head.indexOf(STATIC_SUMMARY_MARK);
  head =
    mark < 0 ? head + summary : head.slice(0, mark) + summary + head.slice(mark + STATIC_SUMMARY_MARK.length);
  head = head.replace(/<title>[^<]*<\/title>/, () => `<title>${htmlText(title)}</title>`);
  return head + files + template.slice(end);
}

/** The compressed parts embedded in a static report page (null when it holds none). */
export function extractStaticParts(html: string): StaticReportParts | null {
  const text: Record<string, string[]> = { [STATIC_SUMMARY_PART]: [], [STATIC_FILES_PART]: [] };
  const re = new RegExp(
    `<script type="application/octet-stream" ${STATIC_PART_ATTR}="(${STATIC_SUMMARY_PART}|${STATIC_FILES_PART})">([A-Za-z0-9+/=]*)</script>`,
    'g',
  );
  for (const m of html.matchAll(re)) text[m[1]!]!.push(m[2]!);
  if (text[STATIC_SUMMARY_PART]!.length === 0 || text[STATIC_FILES_PART]!.length === 0) return null;
  return {
    summaryGzip: base64Bytes(text[STATIC_SUMMARY_PART]!.join('')),
    filesGzip: base64Bytes(text[STATIC_FILES_PART]!.join('')),
  };
}

/** Bytes of base64 text (the native decoder where the runtime has one). */
export function base64Bytes(text: string): Uint8Array {
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (native) return native(text);
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
