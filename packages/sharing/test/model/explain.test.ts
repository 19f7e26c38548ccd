import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/model/engine.js';
import { explainFile } from '../../src/model/explain.js';
import { fleetInstances, inputOf, inst } from '../model-fixtures.js';

describe('explainFile', () => {
  it('names the rule and the domain for every status in the fleet', () => {
    const r = analyze(inputOf(fleetInstances()));
    const seen = new Set<string>();
    for (let row = 0; row < r.files.status.length; row++) {
      const s = r.files.status[row]!;
      if (seen.has(s)) continue;
      seen.add(s);
      const text = explainFile(r, row);
      expect(text.length).toBeGreaterThan(20);
      if (s.startsWith('private-')) expect(text).toMatch(/\(R\d+\)/);
    }
    expect([...seen].sort()).toEqual(
      [
        'hardlink',
        'not-mounted',
        'private-aops-mismatch',
        'private-no-inode-share',
        'private-not-regular',
        'shared',
        'shared-alone',
      ].sort(),
    );
    expect(() => explainFile(r, -1)).toThrow(RangeError);
  });

  it('says how many others share and with whom', () => {
    const r = analyze(
      inputOf([inst('a', 'base-v1.fp', 'D1'), inst('b', 'base-v2.fp', 'D1'), inst('c', 'app.fp', 'D1')]),
    );
    const i = r.instances.findIndex((x) => x.id === 'c');
    const f = r.paths['app.fp']!.findIndex((p) => p.endsWith('libz.so.1.2.13'));
    const row = r.files.instance.findIndex((x, k) => x === i && r.files.file[k] === f);
    expect(explainFile(r, row)).toMatch(
      /^shared with 2 others in domain D1: its pages are those of base-v1.fp.img:\/lib\/x86_64-linux-gnu\/libz.so.1.2.13/,
    );
  });
});
