/** The sharing graph as a list (lib/pairs.ts) on reports from the real engine over fixture oracles. */
import { describe, expect, it } from 'vitest';
import { analyze } from '@sharemap/sharing';
import { inputOf, inst } from '@sharemap/sharing/testing';
import { sharingPairs } from '../../src/lib/pairs';

describe('sharingPairs', () => {
  it('lists each pair that shares once, most bytes first (docs/sharing-rules.md worked examples)', () => {
    // i1, i2, i4 in one domain: base-v1.fp and base-v2.fp share 655,360 bytes; two copies of
    // base-v1.fp share all of base-v1.fp's pages. i3 is alone in D2 and shares with nobody.
    const r = analyze(
      inputOf([
        inst('i1', 'base-v1.fp', 'D1'),
        inst('i2', 'base-v2.fp', 'D1'),
        inst('i3', 'app.fp', 'D2'),
        inst('i4', 'base-v1.fp', 'D1'),
      ]),
    );
    const pairs = sharingPairs(r);
    const named = pairs.map((p) => [r.instances[p.a]!.id, r.instances[p.b]!.id, p.bytes]);
    expect(named.map(([a, b]) => `${a}-${b}`)).toEqual(['i1-i4', 'i1-i2', 'i2-i4']);
    expect(named[1]![2]).toBe(655_360);
    expect(named[2]![2]).toBe(655_360);
    expect(named[0]![2]).toBe(r.perInstance.i1!.bytesWithoutSharing);
  });

  it('is empty when no two instances share', () => {
    const r = analyze(inputOf([inst('i1', 'base-v1.fp', 'D1'), inst('i2', 'base-v2.fp', 'D2')]));
    expect(sharingPairs(r)).toEqual([]);
  });
});
