/** The static report page's data elements: chunked base64 that reads back to the same bytes. */
import { describe, expect, it } from 'vitest';
import { analyze, fileRowView } from '@sharemap/sharing';
import { gzipSync } from 'node:zlib';
import { classFleet, inputOf, inst, seededBytes as bytes } from '@sharemap/sharing/testing';
import {
  assembleFiles,
  decodeFiles,
  encodeFiles,
  extractStaticParts,
  fillStaticTemplate,
  renderStaticReport,
  reportSummary,
  STATIC_CHUNK_CHARS,
  STATIC_SUMMARY_MARK,
  STATIC_TEMPLATE_META,
  StaticTemplateError,
  streamStaticTemplate,
} from '../src/index.js';

const TEMPLATE = `<html><head>${STATIC_TEMPLATE_META}<title>t</title></head><body><div id="root"></div></body></html>`;

const identity = (b: Uint8Array): Uint8Array => b;
const filesOf = (html: string) => {
  const b = extractStaticParts(html)!.filesGzip;
  return decodeFiles(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
};
const summaryOf = (html: string): unknown =>
  JSON.parse(new TextDecoder().decode(extractStaticParts(html)!.summaryGzip));

describe('static report data', () => {
  it('splits a part into elements of STATIC_CHUNK_CHARS base64 characters and reads it back', () => {
    const files = bytes(200_000, 1); // 266,668 base64 characters: 4 full elements and a rest
    const summary = bytes(10, 2);
    const html = fillStaticTemplate(TEMPLATE, { summaryGzip: summary, filesGzip: files }, 'a <b> & c');
    const chunks = [...html.matchAll(/data-sharemap-part="files">([^<]*)</g)].map((m) => m[1]!.length);
    expect(chunks).toEqual([
      STATIC_CHUNK_CHARS,
      STATIC_CHUNK_CHARS,
      STATIC_CHUNK_CHARS,
      STATIC_CHUNK_CHARS,
      266_668 - 4 * STATIC_CHUNK_CHARS,
    ]);
    expect(html).toContain('<title>a &lt;b&gt; &amp; c</title>');
    const back = extractStaticParts(html)!;
    expect(Buffer.from(back.filesGzip).equals(Buffer.from(files))).toBe(true);
    expect(Buffer.from(back.summaryGzip).equals(Buffer.from(summary))).toBe(true);
    expect(extractStaticParts(TEMPLATE)).toBeNull();
  });

  it('puts the summary at its mark (before the app script) and the file table at the end', () => {
    const tpl = `<html><head>${STATIC_TEMPLATE_META}</head><body><div id="root"></div>${STATIC_SUMMARY_MARK}<script>app()</script></body></html>`;
    const html = fillStaticTemplate(tpl, { summaryGzip: bytes(3, 1), filesGzip: bytes(3, 2) }, 't');
    expect(html.replace(/>[A-Za-z0-9+/=]+</g, '>B64<')).toBe(
      `<html><head>${STATIC_TEMPLATE_META}</head><body><div id="root"></div>` +
        '<script type="application/octet-stream" data-sharemap-part="summary">B64</script>\n' +
        '<script>app()</script>' +
        '<script type="application/octet-stream" data-sharemap-part="files">B64</script>\n</body></html>',
    );
  });

  it('refuses a page that is not the template', () => {
    const parts = { summaryGzip: bytes(1, 1), filesGzip: bytes(1, 1) };
    expect(() => fillStaticTemplate('<html><body></body></html>', parts, 't')).toThrow(StaticTemplateError);
    expect(() => fillStaticTemplate(`<html>${STATIC_TEMPLATE_META}`, parts, 't')).toThrow(/has no <\/body>/);
  });

  /** The parts cut into chunks of `size` bytes, as a file stream delivers them. */
  async function* chunked(b: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
  }

  // The streamed page equals the whole one for every way the bytes arrive: empty parts, parts
  // ending on and around an element's boundary (49,152 bytes), one chunk or many uneven ones.
  const ELEMENT_BYTES = (STATIC_CHUNK_CHARS / 4) * 3;
  const MARKED = `<html><head>${STATIC_TEMPLATE_META}<title>x</title></head><body>${STATIC_SUMMARY_MARK}<script>app()</script></body></html>`;
  for (const [template, label] of [
    [TEMPLATE, 'no mark'],
    [MARKED, 'with the summary mark'],
  ] as const)
    for (const size of [0, 1, ELEMENT_BYTES - 1, ELEMENT_BYTES, ELEMENT_BYTES + 1, 3 * ELEMENT_BYTES + 17])
      for (const chunk of [1 << 20, 1000, ELEMENT_BYTES - 1])
        it(`streams the same page (${label}, ${size} bytes of files in chunks of ${chunk})`, async () => {
          const parts = { summaryGzip: bytes(Math.min(size, 5000), 3), filesGzip: bytes(size, 4) };
          let streamed = '';
          for await (const piece of streamStaticTemplate(
            template,
            { summaryGzip: chunked(parts.summaryGzip, chunk), filesGzip: chunked(parts.filesGzip, chunk) },
            'a <b>',
          ))
            streamed += piece;
          expect(streamed).toBe(fillStaticTemplate(template, parts, 'a <b>'));
        });

  it('refuses to stream a page that is not the template, before reading any part', async () => {
    let read = false;
    const part = (async function* () {
      read = true;
      yield bytes(1, 1);
    })();
    const pages = streamStaticTemplate(
      '<html><body></body></html>',
      { summaryGzip: part, filesGzip: part },
      't',
    );
    await expect(pages.next()).rejects.toThrow(StaticTemplateError);
    expect(read).toBe(false);
  });

  it('carries a compact file table (version 2) compact: rows of the leads, the per-instance rows read in place', () => {
    const fleet = [0, 1, 2].flatMap((k) => [
      inst(`a${k}`, 'base-v1.fp', 'd'),
      inst(`b${k}`, 'base-v2.fp', 'd'),
    ]);
    const perInstance = analyze(inputOf(fleet));
    const compact = analyze({ ...inputOf(fleet), fileTable: 'compact' });
    expect(compact.files.rowsOf).toEqual([0, 1, 0, 1, 0, 1]);
    const fromCompact = filesOf(renderStaticReport(TEMPLATE, compact, identity, 't'));
    expect(fromCompact.rows).toBe(compact.files.status.length);
    expect(fromCompact.rows * 3).toBe(perInstance.files.status.length);
    expect(Array.from(fromCompact.rowsOf!)).toEqual([0, 1, 0, 1, 0, 1]);
    // The page's rows, read per instance, are the per-instance report's.
    const parts = assembleFiles(fromCompact);
    const view = fileRowView(parts.files, compact.instances.length);
    const statuses = Array.from({ length: view.count }, (_, v) => view.status(v));
    const pagesWith = Array.from({ length: view.count }, (_, v) => view.pagesWith(v));
    expect(statuses).toEqual(perInstance.files.status);
    expect(pagesWith).toEqual(perInstance.files.pagesWith);
    expect(parts.groups.map((g) => view.members(g))).toEqual(perInstance.groups.map((g) => g.members));
    expect(summaryOf(renderStaticReport(TEMPLATE, compact, identity, 't'))).toMatchObject({
      version: 2,
      fileRows: perInstance.files.status.length,
      instanceAops: reportSummary(perInstance).instanceAops,
      topGroups: reportSummary(perInstance).topGroups,
      findings: reportSummary(perInstance).findings,
    });
  });

  it('keeps the page of a compact report growing with files and instances: 2,200 mounts cost little more than 220', () => {
    const gzip = (b: Uint8Array): Uint8Array => gzipSync(b);
    const page = (n: number) =>
      renderStaticReport(TEMPLATE, analyze({ ...inputOf(classFleet(n)), fileTable: 'compact' }), gzip, 't');
    const small = extractStaticParts(page(220))!;
    const large = extractStaticParts(page(2200))!;
    // The file table: the same rows for 10x the mounts (only rowsOf grows, a value per mount),
    // where the per-instance table has 10x the rows.
    expect(large.filesGzip.length - small.filesGzip.length).toBeLessThan(4 * 1980);
    const rawFiles = (n: number, fileTable: 'compact' | 'per-instance') =>
      encodeFiles(analyze({ ...inputOf(classFleet(n)), fileTable })).length;
    expect(rawFiles(2200, 'compact') * 50).toBeLessThan(rawFiles(2200, 'per-instance'));
    expect(rawFiles(2200, 'compact')).toBeLessThan(rawFiles(220, 'compact') + 8 * 1980);
    // The summary grows with the instances (their entries, totals, costs), about linearly.
    expect(large.summaryGzip.length).toBeLessThan(small.summaryGzip.length * 12);
  }, 600_000);
});
