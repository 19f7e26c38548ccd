/**
 * parseManifestBytes decodes NDJSON a piece at a time (cut at newlines), and ManifestBytesParser
 * takes the bytes themselves a piece at a time (a file read in chunks); both must give what
 * parseManifest gives on the whole decoded text: the same manifest, the same errors.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../src/errors.js';
import {
  ManifestBytesParser,
  manifestToJson,
  manifestToNdjson,
  parseManifest,
  parseManifestBytes,
  type ParseManifestOptions,
} from '../src/manifest.js';
import { scanImageFile } from '../src/node.js';

const DIR = join(import.meta.dirname, '../../../testdata/erofs');
const METABOX_IMAGE = 'mbox.metabox.fp.img';
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

/**
 * The bytes pushed `size` at a time through one scratch buffer that is overwritten after each
 * push (as a file reader reuses its buffer): the parser must keep copies of what it holds.
 */
function pushedInPieces(
  bytes: Uint8Array,
  size: number,
  decodeChunk?: number,
  opts: ParseManifestOptions = {},
): unknown {
  const p = new ManifestBytesParser(opts, decodeChunk);
  const scratch = new Uint8Array(size);
  for (let at = 0; at < bytes.length; at += size) {
    const piece = bytes.subarray(at, at + size);
    scratch.set(piece);
    p.push(scratch.subarray(0, piece.length));
    scratch.fill(0x7b); // a "{" everywhere: a kept reference to the scratch would read garbage
  }
  return p.end();
}

/**
 * parseManifestBytes at several decode sizes (1 byte, odd sizes, the default), and the bytes
 * pushed at several piece sizes, against parseManifest.
 */
function expectSameAsWhole(text: string, opts: ParseManifestOptions = {}): void {
  const whole = outcome(() => parseManifest(text, opts));
  for (const chunk of [1, 2, 3, 17, 100, 4096, undefined])
    expect(outcome(() => parseManifestBytes(enc(text), opts, chunk))).toStrictEqual(whole);
  // Pieces cut inside every kind of place (1 byte), at odd sizes, and larger than the text; with
  // the default decode size and a tiny one (lines that cannot take the byte fast path).
  for (const [piece, decode] of [[1], [2], [7], [64], [4096], [3, 5], [1000, 5], [1 << 20, 5]] as const) {
    expect(
      outcome(() => pushedInPieces(enc(text), piece, decode, opts)),
      `pieces of ${piece}`,
    ).toStrictEqual(whole);
  }
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

  it('reads records that never take the byte fast path (METABOX: ino, nids past 2^53) the same at any piece size', async () => {
    const mb = await scanImageFile(join(DIR, 'metabox', METABOX_IMAGE), { hash: true });
    const text = [...manifestToNdjson(mb)].join('');
    expect(text).toContain('"ino":');
    expectSameAsWhole(text);
  });

  it('refuses a line longer than maxLineLength, the first or a later one, however it is cut', () => {
    const lines = nd.split('\n');
    const longest = Math.max(...lines.map((l) => l.length));
    // A limit every line of the fixture meets, then one its longest record line exceeds.
    expectSameAsWhole(nd, { maxLineLength: longest });
    const r = outcome(() => parseManifest(nd, { maxLineLength: longest - 1 })) as { error?: string };
    expect(r.error).toMatch(/: line longer than \d+ characters$/);
    expectSameAsWhole(nd, { maxLineLength: longest - 1 });
    // The first line too long: the bytes are not NDJSON and are parsed whole, as parseManifest does.
    expectSameAsWhole(nd, { maxLineLength: lines[0]!.length - 1 });
    // A record line of a megabyte without a newline, pushed 1000 bytes at a time: refused.
    const huge = lines[0] + '\n{"path":"/' + 'a'.repeat(1 << 20);
    expectSameAsWhole(huge, { maxLineLength: 1000 });
  });
});
