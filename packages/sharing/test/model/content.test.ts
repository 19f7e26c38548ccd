import { describe, expect, it } from 'vitest';
import { analyze, contentIdsByImage } from '../../src/index.js';
import { fleetInstances, image, inputOf } from '../model-fixtures.js';

describe('contentIdsByImage', () => {
  it('gives the files of app.fp and its lz4hc rebuild the same ids, path by path', () => {
    const ids = contentIdsByImage([image('app.fp'), image('app.fp.lz4hc')]);
    const a = image('app.fp').manifest.files;
    const b = image('app.fp.lz4hc').manifest.files;
    expect(a.map((f) => f.path)).toEqual(b.map((f) => f.path));
    let same = 0;
    for (let f = 0; f < a.length; f++) {
      expect(ids['app.fp.lz4hc']![f]).toBe(ids['app.fp']![f]);
      if (ids['app.fp']![f]! >= 0) same++;
    }
    // Every non-empty regular file has an identity, the rest none.
    expect(same).toBe(a.filter((f) => f.type === 'file' && f.size > 0).length);
    expect(same).toBeGreaterThan(0);
  });

  it('agrees with the engine: the members of one shared inode hold one content', () => {
    const input = inputOf(fleetInstances());
    const r = analyze(input);
    const ids = contentIdsByImage(input.images);
    const contentOf = (row: number) =>
      ids[r.instances[r.files.instance[row]!]!.imageId]![r.files.file[row]!]!;
    expect(r.groups.length).toBeGreaterThan(0);
    const seen = new Map<number, number>();
    r.groups.forEach((g, k) => {
      const c = contentOf(g.members[0]!);
      expect(c).toBeGreaterThanOrEqual(0);
      for (const row of g.members) expect(contentOf(row)).toBe(c);
      // One shared inode per (content, domain, aops): a content in two groups is in two keys.
      if (seen.has(c)) {
        const other = r.groups[seen.get(c)!]!;
        expect([other.domain, other.aops]).not.toEqual([g.domain, g.aops]);
      }
      seen.set(c, k);
    });
  });
});
