/**
 * parseManifestBytes decodes NDJSON a piece at a time (cut at newlines) and must give what
 * parseManifest gives on the whole decoded text: the same manifest, the same errors.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../src/errors.js';
import { manifestToJson, manifestToNdjson, parseManifest, parseManifestBytes } from '../src/manifest.js';
import { scanImageFile } from '../src/node.js';

const DIR = join(import.meta.dirname, '../../../testdata/erofs');
const m = await scanImageFile(join(DIR, 'edge-mini.fp-trusted.img'), { hash: true });
const nd = [...manifestToNdjson(m)].join('');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The result or the error (message, line, field) of a parse. */
function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    return { error: e.message, line: e.line, field: e.field };
  }
}

/** parseManifestBytes at several piece sizes (1 byte, odd sizes, the default) against parseManifest. */
function expectSameAsWhole(text: string): void {
  const whole = outcome(() => parseManifest(text));
  for (const chunk of [1, 2, 3, 17, 100, 4096, undefined])
    expect(outcome(() => parseManifestBytes(enc(text), {}, chunk))).toStrictEqual(whole);
}

describe('parseManifestBytes', () => {
  it('reads a real manifest with multi-byte UTF-8 paths like parseManifest, at any piece size', () => {
    // The fixture's edge cases include names outside ASCII, so pieces are cut next to multi-byte characters.
    expect(enc(nd).length).toBeGreaterThan(nd.length);
    expect(parseManifestBytes(enc(nd), {}, 5)).toStrictEqual(m);
    expectSameAsWhole(nd);
  });

  it('takes what parseManifest takes around the lines: BOM, leading blank lines, CRLF, no final newline, JSON form', () => {
    expectSameAsWhole('\uFEFF' + nd);
    expectSameAsWhole('\n \t\r\n' + nd);
    expectSameAsWhole(nd.replaceAll('\n', '\r\n'));
    expectSameAsWhole(nd.slice(0, -1));
    expectSameAsWhole(nd + '\n'); // one empty line at the end is allowed
    expectSameAsWhole(manifestToJson(m));
    expectSameAsWhole(manifestToJson(m, 2));
    expectSameAsWhole('\u00a0' + nd); // non-ASCII whitespace: decoded whole, as parseManifest trims it
  });

  it('refuses what parseManifest refuses, naming the same line and field', () => {
    const lines = nd.split('\n');
    const bad = [
      nd + '\n\n{}', // an empty line inside
      lines.slice(0, 3).join('\n') + '\n{"path":', // invalid JSON on line 4
      lines.slice(0, 2).concat(lines[3]!, lines[2]!).join('\n'), // out of order
      nd.replace('"type":"file"', '"type":"nope"'),
      nd.replace(/"file_count":\d+/, '"file_count":1'),
      lines[0] + '\n\uFEFF' + lines.slice(1).join('\n'), // a BOM inside stays a character: invalid JSON
      '',
      '   \n',
      'not json',
    ];
    for (const text of bad) {
      const r = outcome(() => parseManifest(text)) as { error?: string };
      expect(r.error).toBeTypeOf('string');
      expectSameAsWhole(text);
    }
  });
});
