import { describe, expect, it } from 'vitest';
import { formatFingerprint } from '../../src/render/fingerprint.js';

const hexOf = (s: string) => Buffer.from(s, 'latin1').toString('hex');
const DIGEST = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

describe('formatFingerprint', () => {
  it('shows an mkfs sha256 fingerprint as the algorithm and the digest hex, not hex of "sha256:"', () => {
    const value = hexOf('sha256:') + DIGEST;
    expect(value.startsWith('7368613235363a')).toBe(true);
    expect(formatFingerprint(value)).toBe(`sha256:${DIGEST}`);
    expect(formatFingerprint(value.toUpperCase())).toBe(`sha256:${DIGEST}`);
  });
  it('shows a text value as its text', () => {
    expect(formatFingerprint(hexOf('serial-0042'))).toBe('serial-0042');
  });
  it('shows another algorithm with binary bytes as name:hex', () => {
    expect(formatFingerprint(hexOf('blake3:') + '00ff10')).toBe('blake3:00ff10');
  });
  it('shows other binary values as hex, and a non-hex string as given', () => {
    expect(formatFingerprint('00ff3a01')).toBe('hex:00ff3a01');
    expect(formatFingerprint('xyz')).toBe('xyz');
  });
});
