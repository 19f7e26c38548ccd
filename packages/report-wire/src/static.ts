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

/** Bytes per data element: STATIC_CHUNK_CHARS base64 characters encode this many bytes. */
const STATIC_CHUNK_BYTES = (STATIC_CHUNK_CHARS / 4) * 3;

function dataElement(part: string, base64Text: string): string {
  return `<script type="application/octet-stream" ${STATIC_PART_ATTR}="${part}">${base64Text}</script>\n`;
}

function dataElements(part: string, bytes: Uint8Array): string {
  const text = base64(bytes);
  const out: string[] = [];
  for (let i = 0; i < text.length || i === 0; i += STATIC_CHUNK_CHARS)
    out.push(dataElement(part, text.slice(i, i + STATIC_CHUNK_CHARS)));
  return out.join('');
}

/**
 * The data elements of one part from its bytes as they arrive, one element (64 KiB of text)
 * at a time: the same text as dataElements() of the whole part, in bounded memory.
 */
async function* streamDataElements(part: string, chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  let pending = new Uint8Array(STATIC_CHUNK_BYTES);
  let filled = 0;
  let emitted = false;
  for await (const chunk of chunks) {
    let at = 0;
    while (at < chunk.length) {
      const n = Math.min(STATIC_CHUNK_BYTES - filled, chunk.length - at);
      pending.set(chunk.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === STATIC_CHUNK_BYTES) {
        yield dataElement(part, base64(pending));
        emitted = true;
        pending = new Uint8Array(STATIC_CHUNK_BYTES);
        filled = 0;
      }
    }
  }
  // The last, shorter element; an empty part is one empty element (as dataElements gives).
  if (filled > 0 || !emitted) yield dataElement(part, base64(pending.subarray(0, filled)));
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
 * this package does no I/O); `title` becomes the page's initial title. A compact file table
 * (version 2, docs/metrics.md#compact-file-table) stays compact: the page grows with files and
 * instances, and the web UI reads its per-instance rows in place (`fileRowView()`).
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

/**
 * The template cut around the data: the page is `beforeSummary`, the summary's data elements,
 * `beforeFiles`, the files' data elements, `tail`. The title is set; the data is never part of
 * a replacement (slices, not String.replace: data must not be read as a replacement pattern).
 */
function templatePieces(
  template: string,
  title: string,
): { beforeSummary: string; beforeFiles: string; tail: string } {
  checkTemplate(template);
  const end = template.lastIndexOf('</body>');
  const withTitle = (text: string): string =>
    text.replace(/<title>[^<]*<\/title>/, () => `<title>${htmlText(title)}</title>`);
  const head = template.slice(0, end);
  const mark = head.indexOf(STATIC_SUMMARY_MARK);
  const tail = template.slice(end);
  if (mark < 0) return { beforeSummary: withTitle(head), beforeFiles: '', tail };
  // The title element precedes the mark (it is in <head>); it is replaced wherever it is.
  const before = head.slice(0, mark);
  const after = head.slice(mark + STATIC_SUMMARY_MARK.length);
  const titled = withTitle(before);
  return titled !== before
    ? { beforeSummary: titled, beforeFiles: after, tail }
    : { beforeSummary: before, beforeFiles: withTitle(after), tail };
}

/** The page from already compressed parts (the server's stored blobs are exactly these). */
export function fillStaticTemplate(template: string, parts: StaticReportParts, title: string): string {
  const { beforeSummary, beforeFiles, tail } = templatePieces(template, title);
  return (
    beforeSummary +
    dataElements(STATIC_SUMMARY_PART, parts.summaryGzip) +
    beforeFiles +
    dataElements(STATIC_FILES_PART, parts.filesGzip) +
    tail
  );
}

/** The compressed parts as streams of gzip bytes (the server reads its stored blobs so). */
export interface StaticReportPartStreams {
  summaryGzip: AsyncIterable<Uint8Array>;
  filesGzip: AsyncIterable<Uint8Array>;
}

/**
 * The page of fillStaticTemplate, text piece by text piece from the parts' bytes as they
 * arrive: neither the parts nor the page is ever whole in memory (the server streams it, so
 * a report of millions of rows renders in a small heap). Byte for byte fillStaticTemplate's page.
 */
export async function* streamStaticTemplate(
  template: string,
  parts: StaticReportPartStreams,
  title: string,
): AsyncGenerator<string> {
  const { beforeSummary, beforeFiles, tail } = templatePieces(template, title);
  yield beforeSummary;
  yield* streamDataElements(STATIC_SUMMARY_PART, parts.summaryGzip);
  yield beforeFiles;
  yield* streamDataElements(STATIC_FILES_PART, parts.filesGzip);
  yield tail;
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
