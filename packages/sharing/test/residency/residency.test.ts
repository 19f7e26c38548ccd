import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  detectResidencyFormat,
  parseAccessList,
  parseFincoreJson,
  parseFincoreRaw,
  parsePcstatJson,
  parseResidency,
  parseVmtouch,
  ResidencyError,
} from '../../src/residency/index.js';
import type { ResidencyData } from '../../src/residency/index.js';

const dir = new URL('../../../../testdata/residency/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');
const T = '/tmp/smr-tree';
/** The recorded tree (README there): path -> resident pages. */
const RECORDED: [string, number][] = [
  [`${T}/bin/tool`, 0],
  [`${T}/etc/os-release`, 1],
  [`${T}/lib/libx.so`, 10],
  [`${T}/share/doc/big.txt`, 5],
  [`${T}/share/doc/name with space.txt`, 0],
  [`${T}/share/empty`, 0],
];
const SIZES = [12288, 300, 40000, 200000, 5000, 0];
const pairs = (d: ResidencyData): [string, number | 'all'][] =>
  d.records.map((r) => [r.path, r.residentPages]);

/** Throws `fn` and returns the ResidencyError's location and code. */
function errorOf(fn: () => unknown): { code: string; at: string; problem: string } {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ResidencyError)) throw e;
    return { code: e.code, at: `${e.file}:${e.line}:${e.column}`, problem: e.problem };
  }
  throw new Error('expected a ResidencyError');
}

describe('recorded fincore -J', () => {
  it('human sizes: resident pages per file, no size, no page size', () => {
    const d = parseFincoreJson(read('tree.fincore.json'), 'tree.fincore.json');
    expect(d.format).toBe('fincore-json');
    expect(pairs(d)).toEqual(RECORDED);
    expect(d.records.every((r) => r.size === undefined)).toBe(true);
    expect(d.pageSize).toBeUndefined();
    expect(d.records[1]!.origin).toEqual({ file: 'tree.fincore.json', line: 12, column: 18 });
  });
  it('-b: exact sizes and the page size from res / pages', () => {
    const d = parseFincoreJson(read('tree.fincore-bytes.json'), 'b.json');
    expect(pairs(d)).toEqual(RECORDED);
    expect(d.records.map((r) => r.size)).toEqual(SIZES);
    expect(d.pageSize).toBe(4096);
  });
});

describe('recorded fincore --raw', () => {
  it('unescapes \\x20 in paths and reads PAGES', () => {
    const d = parseFincoreRaw(read('tree.fincore.raw'), 'tree.fincore.raw');
    expect(pairs(d)).toEqual(RECORDED);
    expect(d.records[4]!.origin).toEqual({ file: 'tree.fincore.raw', line: 6, column: 11 });
    expect(d.pageSize).toBeUndefined();
  });
  it('-b: sizes and page size', () => {
    const d = parseFincoreRaw(read('tree.fincore-bytes.raw'));
    expect(pairs(d)).toEqual(RECORDED);
    expect(d.records.map((r) => r.size)).toEqual(SIZES);
    expect(d.pageSize).toBe(4096);
  });
  it('-n (no header) reads the default columns', () => {
    const noHeader = read('tree.fincore.raw').split('\n').slice(1).join('\n');
    expect(detectResidencyFormat(noHeader)).toBe('fincore-raw');
    expect(pairs(parseFincoreRaw(noHeader))).toEqual(RECORDED);
  });
});

describe('recorded vmtouch -v', () => {
  it('reads the last drawing of each progress line; the empty file has no entry', () => {
    const text = read('tree.vmtouch.txt');
    expect(text).toContain('\r');
    const d = parseVmtouch(text, 'tree.vmtouch.txt');
    const got = new Map(pairs(d));
    expect(got).toEqual(new Map(RECORDED.filter(([p]) => !p.endsWith('/empty'))));
    // The summary's own count agrees: "Resident Pages: 16/65".
    expect(d.records.reduce((a, r) => a + (r.residentPages as number), 0)).toBe(16);
  });
});

describe('pcstat -json (hand-made in its format)', () => {
  it('without -pps', () => {
    const d = parsePcstatJson(read('tree.pcstat.json'));
    expect(pairs(d)).toEqual(RECORDED.slice(0, 4));
    expect(d.records.map((r) => r.size)).toEqual(SIZES.slice(0, 4));
  });
  it('with -pps the per-page flags agree with "cached"', () => {
    expect(pairs(parsePcstatJson(read('tree.pcstat-pps.json')))).toEqual(RECORDED.slice(0, 4));
  });
});

describe('access lists', () => {
  it('skips comments and blank lines, counts a repeated path once, every page', () => {
    const d = parseAccessList(read('tree.access.list'));
    expect(pairs(d)).toEqual([
      [`${T}/lib/libx.so`, 'all'],
      [`${T}/etc/os-release`, 'all'],
      [`${T}/share/doc/big.txt`, 'all'],
    ]);
  });
});

describe('format detection from content', () => {
  it.each([
    ['tree.fincore.json', 'fincore-json'],
    ['tree.fincore-bytes.json', 'fincore-json'],
    ['tree.fincore.raw', 'fincore-raw'],
    ['tree.fincore-bytes.raw', 'fincore-raw'],
    ['tree.vmtouch.txt', 'vmtouch'],
    ['tree.pcstat.json', 'pcstat-json'],
    ['tree.pcstat-pps.json', 'pcstat-json'],
    ['tree.access.list', 'access-list'],
  ])('%s is %s', (name, format) => {
    expect(detectResidencyFormat(read(name))).toBe(format);
    expect(parseResidency(read(name), { file: name }).format).toBe(format);
  });
  it('an unknown text fails at 1:1', () => {
    expect(errorOf(() => parseResidency('hello world\n', { file: 'x.txt' }))).toMatchObject({
      code: 'unknown-format',
      at: 'x.txt:1:1',
    });
  });
});

describe('bad lines (hand-made)', () => {
  it('fincore --raw: a non-numeric PAGES, a missing field', () => {
    expect(
      errorOf(() => parseFincoreRaw('RES PAGES SIZE FILE\n4K 1 300B /a\n4K x 300B /b\n', 'f.raw')),
    ).toEqual({
      code: 'malformed-line',
      at: 'f.raw:3:4',
      problem: 'PAGES must be a whole number of pages, found "x"',
    });
    expect(errorOf(() => parseFincoreRaw('RES PAGES SIZE FILE\n4K 1 /a\n', 'f.raw')).at).toBe('f.raw:2:1');
  });
  it('fincore --raw -b: RES that is not PAGES times a page size', () => {
    expect(errorOf(() => parseFincoreRaw('RES PAGES SIZE FILE\n4000 1 300 /a\n', 'f.raw'))).toMatchObject({
      at: 'f.raw:2:1',
    });
  });
  it('fincore -J: pages of the wrong type, located at the value', () => {
    const text =
      '{\n   "fincore": [\n      {"res": "4K", "pages": "1", "size": "300B", "file": "/a"}\n   ]\n}\n';
    expect(errorOf(() => parseFincoreJson(text, 'f.json'))).toEqual({
      code: 'bad-record',
      at: 'f.json:3:30',
      problem: '"pages" must be a whole number of resident pages',
    });
    expect(errorOf(() => parseFincoreJson('{"fincore": [', 'f.json'))).toMatchObject({
      code: 'bad-json',
      at: 'f.json:1:14',
    });
  });
  it('vmtouch: a progress line with more resident pages than the file has', () => {
    expect(errorOf(() => parseVmtouch('/a\n\r[OO] 3/2\r[OO] 3/2\n', 'v.txt'))).toMatchObject({
      code: 'malformed-line',
      at: 'v.txt:2:16',
    });
    expect(errorOf(() => parseVmtouch('/a\n/b\n', 'v.txt')).at).toBe('v.txt:2:1');
    expect(errorOf(() => parseVmtouch('           Files: 6\n', 'v.txt')).problem).toContain(
      'run vmtouch with -v',
    );
  });
  it('pcstat -pps: per-page flags that disagree with "cached"', () => {
    const text = '[{"filename":"/a","size":8192,"pages":2,"cached":2,"status":[true,false]}]';
    expect(errorOf(() => parsePcstatJson(text, 'p.json'))).toEqual({
      code: 'bad-record',
      at: 'p.json:1:61',
      problem: '"status" marks 1 pages cached, "cached" says 2',
    });
  });
  it('access list: a relative path', () => {
    expect(errorOf(() => parseAccessList('/a\n  usr/lib/x\n', 'a.list'))).toMatchObject({
      code: 'malformed-line',
      at: 'a.list:2:3',
    });
  });
});
