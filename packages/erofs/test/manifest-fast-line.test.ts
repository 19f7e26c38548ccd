/**
 * The NDJSON fast path (manifest-fast-line.ts) takes exactly the record lines it can read with
 * the general parser's values, and leaves every other line to it: each field of a canonical
 * line is set to the edges the fast path must accept or refuse (non-ASCII and escaped paths,
 * numbers at 2^53, -0, exponents, duplicate, extra and reordered keys, ...), and the whole
 * manifest read from bytes (fast path) must give the columns, records and errors of the
 * general parser reading the text (JSON.parse, validateRecordInto).
 */
import { describe, expect, it } from 'vitest';
import { newValidatedRecord } from '../src/manifest-columns.js';
import { fastRecordLine } from '../src/manifest-fast-line.js';
import { manifestColumns, parseManifest, parseManifestBytes, StringTable } from '../src/manifest.js';
import type { Manifest } from '../src/manifest-types.js';
import { manifestForTransfer, manifestFromTransfer, ManifestStringsHandover } from '../src/node.js';
import { ndjsonHeaderLine } from './ndjson-header.js';
import { parseOutcome } from './parse-outcome.js';

/** The NDJSON header line of a manifest of `fileCount` records. */
const header = (hashed: boolean, fileCount = 2): string => ndjsonHeaderLine(fileCount, hashed, 2);

const SHA = 'ab'.repeat(32);
/** The fields of a canonical record line, as raw JSON text, in the order sharemap writes them. */
type Fields = [string, string][];
const canonical = (hashed: boolean): Fields => [
  ['path', '"/a"'],
  ['nid', '100'],
  ['type', '"file"'],
  ['mode', '"0644"'],
  ['uid', '0'],
  ['gid', '0'],
  ['size', '5'],
  ['nlink', '1'],
  ['mtime', '1700000000'],
  ['mtime_nsec', '0'],
  ['layout', '"flat_plain"'],
  ['inode_size', '32'],
  ['xattr_isize', '0'],
  ['xattrs', '{}'],
  ['fingerprint', '"00ff"'],
  ...(hashed ? ([['sha256', `"${SHA}"`]] as Fields) : []),
];
const lineOf = (fields: Fields): string => '{' + fields.map(([k, v]) => `"${k}":${v}`).join(',') + '}';
const withField = (fields: Fields, key: string, raw: string): Fields =>
  fields.map(([k, v]) => [k, k === key ? raw : v]);

const ROOT =
  '{"path":"/","nid":36,"type":"dir","mode":"0755","uid":0,"gid":0,"size":4096,"nlink":2,"mtime":0,"mtime_nsec":0,"layout":"flat_inline","inode_size":32,"xattr_isize":0,"xattrs":{},"fingerprint":null}';

/**
 * The manifest read from bytes as a manifest thread reads it: no StringTable, every record's
 * strings handed to a ManifestStringsHandover (the fast path copies its line's bytes), then
 * taken over into a table as the main thread does (manifestFromTransfer).
 */
function readHandedOver(bytes: Uint8Array): Manifest {
  const handover = new ManifestStringsHandover();
  const m = parseManifestBytes(bytes, { columnar: true, handOver: handover });
  const { message, transfer } = handover.used
    ? manifestForTransfer(m, handover.strings())
    : manifestForTransfer(m);
  return manifestFromTransfer(structuredClone(message, { transfer }), new StringTable());
}

/** Whether the fast path takes `line` (a record of a manifest hashed or not). */
function fastTakes(line: string, hashed: boolean): boolean {
  const b = new TextEncoder().encode(line);
  return fastRecordLine(b, 0, b.length, { hashed }, undefined, 0, newValidatedRecord());
}

/**
 * Reads `[header, root, line]` from bytes (columnar, with a StringTable: the fast path) and as
 * text through the general record parser; both outcomes must be equal. Returns whether it was valid.
 */
function sameAsGeneral(line: string, hashed: boolean, eol = '\n'): boolean {
  const text = [header(hashed), ROOT, line].join(eol) + eol;
  const want = parseOutcome(() => parseManifest(text));
  const bytes = new TextEncoder().encode(text);
  expect(
    parseOutcome(() => parseManifestBytes(bytes, { columnar: true, strings: new StringTable() })),
  ).toStrictEqual(want);
  expect(parseOutcome(() => parseManifestBytes(bytes))).toStrictEqual(want);
  expect(parseOutcome(() => readHandedOver(bytes))).toStrictEqual(want);
  return (want as { ok: boolean }).ok;
}

describe('the NDJSON fast path', () => {
  // [name, fields, fast path takes it, the general parser accepts it]
  const cases = (hashed: boolean): [string, string, boolean, boolean][] => {
    const c = canonical(hashed);
    const set = (key: string, raw: string) => lineOf(withField(c, key, raw));
    return [
      ['canonical', lineOf(c), true, true],
      ['fingerprint null', set('fingerprint', 'null'), true, true],
      ['fingerprint empty', set('fingerprint', '""'), true, true],
      ['nid 0', set('nid', '0'), true, true],
      ['15-digit size', set('size', '999999999999999'), true, true],
      ['negative mtime', set('mtime', '-5'), true, true],
      ['uid 2^32-1', set('uid', '4294967295'), true, true],
      ['mtime_nsec max', set('mtime_nsec', '999999999'), true, true],
      ['mode 7777', set('mode', '"7777"'), true, true],
      ['inode_size 64', set('inode_size', '64'), true, true],
      ['xattr_isize 16', set('xattr_isize', '16'), true, true],
      ['layout chunk_based', set('layout', '"chunk_based"'), true, true],
      ['layout compressed_full', set('layout', '"compressed_full"'), true, true],
      ['punctuation path', set('path', '"/a b~!#$%&()*+,-.:;<=>?@[]^_`{|}"'), true, true],
      ['255-byte component', set('path', `"/${'a'.repeat(255)}"`), true, true],
      ['nested path', set('path', '"/a/b/c.d"'), true, true],
      // left to the general parser, which accepts them
      ['non-ASCII path', set('path', '"/é"'), false, true],
      ['escaped path', set('path', '"/a\\u0062"'), false, true],
      ['escaped slash', set('path', '"/a\\/b"'), false, true],
      ['escaped quote', set('path', '"/a\\"b"'), false, true],
      ['nid 2^53-1', set('nid', '9007199254740991'), false, true],
      ['16-digit size', set('size', '1000000000000000'), false, true],
      ['exponent', set('size', '1e3'), false, true],
      ['upper-case exponent', set('size', '1E3'), false, true],
      ['fraction .0', set('size', '1000.0'), false, true],
      ['-0 mtime', set('mtime', '-0'), false, true],
      ['duplicate key', lineOf([...c.slice(0, 5), ['uid', '7'], ...c.slice(5)]), false, true],
      ['reordered keys', lineOf([c[1]!, c[0]!, ...c.slice(2)]), false, true],
      ['whitespace', lineOf(c).replace('"uid":', '"uid": '), false, true],
      ['trailing space', lineOf(c) + ' ', false, true],
      ['listed xattrs', set('xattrs', '{"user.a":"00"}'), false, true],
      ['fifo', set('type', '"fifo"'), !hashed, !hashed],
      // refused by both
      ['nid 2^53', set('nid', '9007199254740992'), false, false],
      ['size 2^53', set('size', '9007199254740992'), false, false],
      ['uid 2^32', set('uid', '4294967296'), false, false],
      ['negative size', set('size', '-1'), false, false],
      ['leading zero', set('size', '01'), false, false],
      ['mtime_nsec 10^9', set('mtime_nsec', '1000000000'), false, false],
      ['mode 0800', set('mode', '"0800"'), false, false],
      ['short mode', set('mode', '"644"'), false, false],
      ['inode_size 48', set('inode_size', '48'), false, false],
      ['xattr_isize 13', set('xattr_isize', '13'), false, false],
      ['xattr_isize 8', set('xattr_isize', '8'), false, false],
      ['type door', set('type', '"door"'), false, false],
      ['symlink without target', set('type', '"symlink"'), false, false],
      ['layout unknown', set('layout', '"flat"'), false, false],
      ['upper-case fingerprint', set('fingerprint', '"00FF"'), false, false],
      ['odd fingerprint', set('fingerprint', '"0ff"'), false, false],
      ['extra key', lineOf([...c, ['bogus', '1']]), false, false],
      ['missing key', lineOf(c.filter(([k]) => k !== 'gid')), false, false],
      ['trailing slash', set('path', '"/a/"'), false, false],
      ['empty component', set('path', '"/a//b"'), false, false],
      ['dot component', set('path', '"/./a"'), false, false],
      ['dot-dot path', set('path', '"/.."'), false, false],
      ['relative path', set('path', '"a"'), false, false],
      ['256-byte component', set('path', `"/${'a'.repeat(256)}"`), false, false],
      ['4097-character path', set('path', `"/${'a/'.repeat(2047)}aa"`), false, false],
      ['control character', set('path', '"/a\tb"'), false, false],
      ['text after the object', lineOf(c) + 'x', false, false],
      [
        hashed ? 'missing sha256' : 'sha256 unhashed',
        hashed ? lineOf(c.filter(([k]) => k !== 'sha256')) : lineOf([...c, ['sha256', `"${SHA}"`]]),
        false,
        false,
      ],
      ['short sha256', hashed ? set('sha256', `"${'ab'.repeat(31)}"`) : set('nid', '-1'), false, false],
    ];
  };

  for (const hashed of [false, true]) {
    it(`takes canonical lines and leaves every other to the general parser (hashed: ${hashed})`, () => {
      for (const [name, line, fast, valid] of cases(hashed)) {
        expect([name, fastTakes(line, hashed)]).toStrictEqual([name, fast]);
        expect([name, sameAsGeneral(line, hashed)]).toStrictEqual([name, valid]);
      }
    });
  }

  it("reads CRLF lines, and the columns of fast lines equal the general parser's", () => {
    const line = lineOf(canonical(true));
    expect(sameAsGeneral(line, true, '\r\n')).toBe(true);
    const text = [header(true), ROOT, line].join('\n') + '\n';
    const strings = new StringTable();
    const m = parseManifestBytes(new TextEncoder().encode(text), { columnar: true, strings });
    const cols = manifestColumns(m)!;
    expect(cols.n).toBe(2);
    expect(cols.paths).toStrictEqual(['/', '/a']);
    expect(cols.fingerprint).toStrictEqual([null, '00ff']);
    expect(cols.sha256).toStrictEqual([undefined, SHA]);
    expect([cols.nid[1], cols.size[1], cols.mtime[1], cols.mode[1], cols.inodeSize[1]]).toStrictEqual([
      100, 5, 1700000000, 0o644, 32,
    ]);
    // interned: a second manifest gives the very strings of the first
    const again = manifestColumns(
      parseManifestBytes(new TextEncoder().encode(text), { columnar: true, strings }),
    )!;
    expect(again.paths[1]).toBe(cols.paths[1]);
    expect(again.sha256![1]).toBe(cols.sha256![1]);
    expect(m.files).toStrictEqual(parseManifest(text).files);
  });

  it('names the line of an error after fast lines', () => {
    const c = canonical(false);
    const good = (p: string) => lineOf(withField(c, 'path', `"${p}"`));
    const text = [header(false, 4), ROOT, good('/a'), good('/c'), good('/b')].join('\n');
    const bytes = new TextEncoder().encode(text);
    const got = parseOutcome(() => parseManifestBytes(bytes, { columnar: true, strings: new StringTable() }));
    expect(got).toStrictEqual(parseOutcome(() => parseManifest(text)));
    expect(got).toMatchObject({ ok: false, line: 5, field: 'path' });
  });

  it('checks the order of handed-over paths as bytes, across fast and general lines', () => {
    const c = canonical(false);
    const good = (p: string) => lineOf(withField(c, 'path', JSON.stringify(p)));
    const manifest = (lines: string[]) => [header(false, lines.length), ...lines].join('\n') + '\n';
    const cases: [string, string[], boolean][] = [
      ['sorted, fast lines', [ROOT, good('/a'), good('/a/b'), good('/ab'), good('/b')], true],
      ['a prefix after the longer path', [ROOT, good('/ab'), good('/a')], false],
      ['a duplicate', [ROOT, good('/a'), good('/a')], false],
      ['a fast line after a general one it sorts after', [ROOT, good('/a\u00e9'), good('/b')], true],
      // "é" is 0xc3 0xa9 in UTF-8, after "f" (0x66): the fast "/f" must not follow "/é"
      ['a fast line after a general one it sorts before', [ROOT, good('/\u00e9'), good('/f')], false],
      ['a general line after a fast one', [ROOT, good('/f'), good('/\u00e9')], true],
      // an escaped path (general parser) equal to the fast line after it: a duplicate
      ['an escaped duplicate', [ROOT, lineOf(withField(c, 'path', '"/a\\u0062"')), good('/ab')], false],
      ['the first record not "/"', [good('/a'), ROOT], false],
    ];
    for (const [name, lines, valid] of cases) {
      const text = manifest(lines);
      const want = parseOutcome(() => parseManifest(text));
      expect([name, (want as { ok: boolean }).ok]).toStrictEqual([name, valid]);
      expect([name, parseOutcome(() => readHandedOver(new TextEncoder().encode(text)))]).toStrictEqual([
        name,
        want,
      ]);
    }
  });
});
