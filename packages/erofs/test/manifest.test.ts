/** Manifest serialisation (NDJSON / JSON) and validation of untrusted manifest text. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Length } from '../src/disk/bytes.js';
import { ManifestError } from '../src/errors.js';
import { wasmSha256 } from '../src/hash.js';
import { openImage } from '../src/image.js';
import {
  manifestToJson,
  manifestToNdjson,
  NdjsonManifestParser,
  parseManifest,
  scanManifest,
  StringTable,
  validManifestPath,
} from '../src/manifest.js';
import type { Manifest } from '../src/manifest-types.js';
import { nodeSha256, scanImageFile } from '../src/node.js';
import { memorySource } from '../src/source/memory.js';

const DIR = join(import.meta.dirname, '../../../testdata/erofs');

const m: Manifest = await scanImageFile(join(DIR, 'edge-mini.fp-trusted.img'), {
  hash: true,
  imageSha256: true,
});
const nd = [...manifestToNdjson(m)].join('');

describe('serialisation', () => {
  it('NDJSON: header line then one record per line, each ending in \\n; round-trips', () => {
    const lines = nd.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.length - 1).toBe(m.files.length + 1);
    const header = JSON.parse(lines[0]!);
    expect(header).toMatchObject({
      kind: 'sharemap-manifest',
      version: 2,
      hashed: true,
      file_count: m.files.length,
    });
    expect(header.files).toBeUndefined();
    expect(header.image.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(parseManifest(nd)).toEqual(m);
  });

  it('a StringTable shared by several parses keeps one string per distinct path, fingerprint and sha256', () => {
    const strings = new StringTable();
    const a = parseManifest(nd, { strings });
    const distinct = new Set<string>();
    for (const f of m.files) {
      distinct.add(f.path);
      if (f.fingerprint !== null) distinct.add(f.fingerprint);
      if (f.sha256 !== undefined) distinct.add(f.sha256);
    }
    expect(strings.size).toBe(distinct.size);
    expect(a).toEqual(m);
    // A second manifest of the same image adds nothing; JSON form and NDJSON intern alike.
    expect(parseManifest(manifestToJson(m), { strings })).toEqual(m);
    expect(strings.size).toBe(distinct.size);
  });

  it('JSON form round-trips (compact and pretty)', () => {
    expect(parseManifest(manifestToJson(m))).toEqual(m);
    expect(parseManifest(manifestToJson(m, 2))).toEqual(m);
  });

  it('an oracle files array fits the record schema', () => {
    const o = JSON.parse(readFileSync(join(DIR, 'edge.expected.json'), 'utf8'));
    const doc = { ...JSON.parse(nd.split('\n')[0]!), file_count: o.files.length, files: o.files };
    expect(parseManifest(JSON.stringify(doc)).files.length).toBe(o.files.length);
  });

  it('browser hasher (hash-wasm) gives the same digests as node:crypto; progress is reported', async () => {
    const img = await openImage(memorySource(new Uint8Array(readFileSync(join(DIR, 'edge-mini.b512.img')))));
    const seen: number[] = [];
    const a = await scanManifest(img, {
      imageName: 'x.img',
      imageSize: 1,
      hash: true,
      hasher: wasmSha256,
      onProgress: (p) => seen.push(p.files),
      progressEvery: 10,
    });
    const b = await scanManifest(img, { imageName: 'x.img', imageSize: 1, hash: true, hasher: nodeSha256 });
    expect(a.files).toEqual(b.files);
    expect(seen.at(-1)).toBe(a.files.length);
    const o = JSON.parse(readFileSync(join(DIR, 'edge-mini.b512.expected.json'), 'utf8'));
    expect(a.files).toEqual(o.files);
  }, 120_000);
});

describe('parseManifest rejects bad input with the line number', () => {
  const lines = nd.trimEnd().split('\n');
  const header = JSON.parse(lines[0]!);
  const rec = (i: number) => JSON.parse(lines[i]!);
  const build = (h: unknown, recs: unknown[]) => [h, ...recs].map((x) => JSON.stringify(x)).join('\n') + '\n';
  const allRecs = lines.slice(1).map((l) => JSON.parse(l));
  const expectErr = (text: string, line: number, re: RegExp) => {
    let err: unknown;
    try {
      parseManifest(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as ManifestError).line).toBe(line);
    expect((err as Error).message).toMatch(re);
  };
  const withRec = (i: number, patch: (r: Record<string, unknown>) => void) => {
    const recs = allRecs.map((r) => structuredClone(r));
    patch(recs[i]);
    return build(header, recs);
  };

  it('header problems', () => {
    expectErr(build({ ...header, kind: 'x' }, allRecs), 1, /kind/);
    expectErr(build({ ...header, version: 3 }, allRecs), 1, /version 3 \(this reader understands 1 and 2\)/);
    expectErr(build({ ...header, file_count: 3 }, allRecs), 1, /file_count/);
    expectErr(build({ ...header, extra: 1 }, allRecs), 1, /unknown field/);
    expectErr(build({ ...header, image: { name: '../x', size: 1 } }, allRecs), 1, /image.name/);
    expectErr(
      build({ ...header, superblock: { ...header.superblock, uuid: 'nope' } }, allRecs),
      1,
      /superblock.uuid/,
    );
    expectErr(
      build({ ...header, superblock: { ...header.superblock, block_size: 3000 } }, allRecs),
      1,
      /block_size/,
    );
    expectErr('', 1, /empty/);
    expectErr('{"kind": ', 1, /invalid JSON/);
  });

  it('record field problems name the line and field', () => {
    expectErr(
      withRec(3, (r) => (r.mode = '999')),
      5,
      /field mode/,
    );
    expectErr(
      withRec(3, (r) => (r.uid = -1)),
      5,
      /field uid/,
    );
    expectErr(
      withRec(3, (r) => (r.uid = 2 ** 32)),
      5,
      /field uid/,
    );
    expectErr(
      withRec(3, (r) => (r.size = 1.5)),
      5,
      /field size/,
    );
    expectErr(
      withRec(3, (r) => (r.type = 'door')),
      5,
      /field type/,
    );
    expectErr(
      withRec(3, (r) => (r.layout = 'weird')),
      5,
      /field layout/,
    );
    expectErr(
      withRec(3, (r) => (r.inode_size = 48)),
      5,
      /inode_size/,
    );
    expectErr(
      withRec(3, (r) => (r.xattr_isize = 13)),
      5,
      /xattr_isize/,
    );
    expectErr(
      withRec(3, (r) => (r.mtime_nsec = 1e9)),
      5,
      /mtime_nsec/,
    );
    expectErr(
      withRec(3, (r) => (r.fingerprint = 'XYZ')),
      5,
      /fingerprint/,
    );
    expectErr(
      withRec(3, (r) => (r.xattrs = { 'user.a': 'abc' })),
      5,
      /xattrs/,
    );
    expectErr(
      withRec(3, (r) => (r.xattrs = [])),
      5,
      /xattrs/,
    );
    expectErr(
      withRec(3, (r) => (r.target = 'x')),
      5,
      /target/,
    );
    expectErr(
      withRec(3, (r) => (r.rdev = [1, 2])),
      5,
      /rdev/,
    );
    expectErr(
      withRec(3, (r) => (r.bogus = true)),
      5,
      /unknown field/,
    );
    const fileIdx = allRecs.findIndex((r) => r.type === 'file');
    expectErr(
      withRec(fileIdx, (r) => (r.sha256 = 'ab')),
      fileIdx + 2,
      /sha256/,
    );
    expectErr(
      withRec(fileIdx, (r) => delete r.sha256),
      fileIdx + 2,
      /sha256/,
    );
  });

  it('validManifestPath agrees with the rule written plainly (split into components)', () => {
    const plain = (p: string): boolean => {
      if (p === '/') return true;
      if (!p.startsWith('/') || p.endsWith('/') || p.includes('\0') || p.length > 4096) return false;
      return p
        .slice(1)
        .split('/')
        .every((c) => c !== '' && c !== '.' && c !== '..' && utf8Length(c) <= 255);
    };
    const part = fc.oneof(
      fc.constantFrom('/', '.', '..', '\0', 'a', '\u00e9', '\u20ac', '\u{1f600}', '\ud800'),
      fc.string({ maxLength: 3 }),
      fc.constantFrom('x'.repeat(255), '\u20ac'.repeat(85), '\u20ac'.repeat(86), 'y'.repeat(256)),
    );
    const path = fc.array(part, { maxLength: 8 }).map((ps) => ps.join(''));
    fc.assert(
      fc.property(
        fc.oneof(
          path,
          path.map((p) => '/' + p),
        ),
        (p) => validManifestPath(p) === plain(p),
      ),
      { numRuns: 20000 },
    );
    const long = '/' + 'a/'.repeat(2048).slice(0, -1); // 4096 characters: the limit
    expect(validManifestPath(long)).toBe(true);
    expect(validManifestPath(long + 'b')).toBe(false);
  });

  it('path syntax and ordering', () => {
    expectErr(
      withRec(3, (r) => (r.path = 'relative')),
      5,
      /path/,
    );
    expectErr(
      withRec(3, (r) => (r.path = '/a//b')),
      5,
      /path/,
    );
    expectErr(
      withRec(3, (r) => (r.path = '/a/../b')),
      5,
      /path/,
    );
    expectErr(
      withRec(3, (r) => (r.path = '/a/')),
      5,
      /path/,
    );
    expectErr(
      withRec(3, (r) => (r.path = '/a\u0000b')),
      5,
      /path/,
    );
    expectErr(
      withRec(3, (r) => (r.path = `/${'x'.repeat(256)}`)),
      5,
      /path/,
    );
    expectErr(
      withRec(3, (r) => (r.path = allRecs[2].path)),
      5,
      /sorted|duplicate/,
    );
    expectErr(build(header, [rec(2), ...allRecs.slice(1)]), 2, /first record/);
    expectErr(build(header, allRecs) + '\n{}', allRecs.length + 2, /empty line/);
  });

  it('the incremental NDJSON parser validates line by line and refuses early', () => {
    const p = new NdjsonManifestParser();
    for (const l of manifestToNdjson(m)) p.line(l);
    expect(p.end()).toEqual(m);
    const q = new NdjsonManifestParser();
    q.line(lines[0]!);
    expect(q.manifestHeader?.file_count).toBe(m.files.length);
    q.line(lines[1]!);
    expect(() => q.line('{"path":"/zzz"}')).toThrow(expect.objectContaining({ line: 3 }));
    const r = new NdjsonManifestParser();
    r.line(lines[0]!);
    expect(() => r.end()).toThrow(/file_count/);
  });

  it('limits on records and line length', () => {
    expect(() => parseManifest(nd, { maxRecords: 5 })).toThrow(ManifestError);
    expect(() => parseManifest(nd, { maxLineLength: 50 })).toThrow(/longer than 50/);
  });
});
