/** The static report page's data elements: chunked base64 that reads back to the same bytes. */
import { describe, expect, it } from 'vitest';
import {
  extractStaticParts,
  fillStaticTemplate,
  STATIC_CHUNK_CHARS,
  STATIC_SUMMARY_MARK,
  STATIC_TEMPLATE_META,
  StaticTemplateError,
} from '../src/index.js';

const TEMPLATE = `<html><head>${STATIC_TEMPLATE_META}<title>t</title></head><body><div id="root"></div></body></html>`;

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
}

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
});
