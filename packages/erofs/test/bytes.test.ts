/** String helpers of the manifest validator against the TextEncoder they stand in for. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes, compareUtf8, utf8Length } from '../src/disk/bytes.js';

const enc = new TextEncoder();
const sign = (n: number) => Math.sign(n);
// Strings mixing ASCII, 2- and 3-byte characters, U+E000..U+FFFF, surrogate pairs and lone surrogates.
const unit = fc.constantFrom(
  0x41,
  0x7f,
  0x80,
  0x7ff,
  0x800,
  0xd7ff,
  0xd800,
  0xdbff,
  0xdc00,
  0xdfff,
  0xe000,
  0xfffd,
  0xffff,
);
const tricky = fc
  .array(fc.oneof(unit, fc.integer({ min: 0, max: 0xffff })), { maxLength: 12 })
  .map((us) => String.fromCharCode(...us));

describe('utf8Length / compareUtf8', () => {
  it('utf8Length equals the encoded length, lone surrogates included', () => {
    fc.assert(
      fc.property(tricky, (s) => utf8Length(s) === enc.encode(s).length),
      { numRuns: 5000 },
    );
    expect(utf8Length('a\u00e9\u20ac\u{1f600}')).toBe(1 + 2 + 3 + 4);
  });

  it('compareUtf8 orders as compareBytes on the encodings', () => {
    fc.assert(
      fc.property(
        tricky,
        tricky,
        (a, b) => sign(compareUtf8(a, b)) === sign(compareBytes(enc.encode(a), enc.encode(b))),
      ),
      { numRuns: 5000 },
    );
    // A difference right after a high surrogate: a lone one (U+FFFD) against a pair (U+10FC00).
    expect(sign(compareUtf8('\udbff\udbff', '\udbff\udc00'))).toBe(-1);
    // The case where UTF-16 order and UTF-8 order disagree: U+FFFD sorts after U+1F600 in UTF-16, before in UTF-8.
    expect(compareUtf8('\u{1f600}', '\ufffd')).toBeGreaterThan(0);
    expect('\u{1f600}' < '\ufffd').toBe(true);
  });
});
