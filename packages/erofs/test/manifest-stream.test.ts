/**
 * ManifestStreamValidator (streamed uploads, apps/server/src/manifest-stream.ts) applies the
 * rules of parseManifest one record at a time without keeping the records.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../src/errors.js';
import { manifestHeader, ManifestStreamValidator, parseManifest, manifestToNdjson } from '../src/manifest.js';
import { scanImageFile } from '../src/node.js';

const DIR = join(import.meta.dirname, '../../../testdata/erofs');

describe('ManifestStreamValidator', () => {
  it('accepts what parseManifest accepts, with the same header and record values', async () => {
    for (const image of ['app.fp.img', 'base-v1.fp.img', 'edge-mini.fp-trusted.img']) {
      const m = await scanImageFile(join(DIR, image), { hash: true });
      const parsed = parseManifest([...manifestToNdjson(m)].join(''));
      const v = new ManifestStreamValidator();
      expect(v.header(JSON.parse(JSON.stringify(manifestHeader(m))), 1)).toEqual(manifestHeader(parsed));
      const records = m.files.map((f, i) => v.record(JSON.parse(JSON.stringify(f)), i + 2));
      expect(records).toEqual(parsed.files);
      expect(v.records).toBe(m.files.length);
      expect(v.end()).toEqual(manifestHeader(parsed));
    }
  });

  it('refuses what parseManifest refuses: order, duplicates, count, a record before the header', async () => {
    const m = await scanImageFile(join(DIR, 'app.fp.img'));
    const h = JSON.parse(JSON.stringify(manifestHeader(m))) as unknown;
    const rec = (i: number): unknown => JSON.parse(JSON.stringify(m.files[i]));
    const fresh = (): ManifestStreamValidator => {
      const v = new ManifestStreamValidator();
      v.header(h, 1);
      return v;
    };
    expect(() => new ManifestStreamValidator().record(rec(0), 1)).toThrow(/before the manifest header/);
    let v = fresh();
    v.record(rec(0), 2);
    v.record(rec(2), 3);
    expect(() => v.record(rec(1), 4)).toThrow(/not sorted/);
    v = fresh();
    v.record(rec(0), 2);
    expect(() => v.record(rec(0), 3)).toThrow(/duplicate path/);
    v = fresh();
    expect(() => v.record(rec(1), 2)).toThrow(/the first record must be "\/"/);
    v = fresh();
    v.record(rec(0), 2);
    expect(() => v.end()).toThrow(
      new ManifestError(`file_count is ${m.files.length} but 1 records follow`, 1, 'file_count'),
    );
    expect(() => new ManifestStreamValidator({ maxRecords: 2 }).header(h, 1)).toThrow(ManifestError);
    expect(() => fresh().header(h, 2)).toThrow(/a second manifest header/);
  });
});
