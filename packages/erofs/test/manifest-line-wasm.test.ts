/**
 * The WebAssembly line scan (wasm/ndjson-line.wat, src/manifest-line-wasm.ts) takes exactly the
 * lines fastRecordLine() takes, with the same numbers, enumerations, string spans and string
 * hashes, and finds every line's end: compared line by line on canonical lines, on every edge
 * case of manifest-fast-line.test.ts's kind, and on random and randomly damaged lines, in
 * windows of one line and of more lines than one call of the scan or one window holds. The
 * readers that use it (the CLI's paths kept as bytes, a manifest thread's handover) are compared
 * with the general parser on whole manifests.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without declarations
import { WASM_MODULES, wasmModuleText } from '../scripts/build-wasm.mjs';
import { FILE_TYPE_CODES, LAYOUT_CODES, newValidatedRecord } from '../src/manifest-columns.js';
import { fastLineSpans, fastRecordLine, type AsciiInterner } from '../src/manifest-fast-line.js';
import { forEachScannedLine, LINE_SCAN_WINDOW, lineScanAvailable } from '../src/manifest-line-wasm.js';
import { parseManifest, parseManifestBytes, StringTable } from '../src/manifest.js';
import { manifestForTransfer, manifestFromTransfer, ManifestStringsHandover } from '../src/node.js';
import { ndjsonHeaderLine } from './ndjson-header.js';
import { parseOutcome } from './parse-outcome.js';
import { seededRandom } from './seeded-random.js';

const SHA = 'ab'.repeat(32);

/** A record line as sharemap writes it, each field drawn from values at and around its edges. */
function randomLine(r: () => number, hashed: boolean): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  // mostly a value the fast path takes, else one at or past an edge of what it takes
  const edge = (good: string, edges: readonly string[]): string => (r() < 0.92 ? good : pick(edges));
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
  const small = () => String(Math.floor(r() * 1e6));
  const ints = [
    '0',
    '1',
    '4294967295',
    '4294967296',
    '999999999',
    '1000000000',
    '999999999999999',
    '1000000000000000',
    '01',
    '1.0',
    '1e3',
    '1E3',
    '-1',
    '9007199254740992',
    '1' + digits(Math.floor(r() * 16)),
  ];
  const component = () =>
    r() < 0.9
      ? 'pkg' + digits(1 + Math.floor(r() * 5))
      : pick(['.', '..', '...', 'x'.repeat(255), 'x'.repeat(256), 'a b', '~!#', 'a\\b', '\u00e9']);
  const path = edge('/' + Array.from({ length: 1 + Math.floor(r() * 4) }, component).join('/'), [
    '/',
    '/a/',
    '//a',
    'a',
    '/a\tb',
  ]);
  const hex = (n: number) =>
    Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(r() * 16)]).join('');
  const type = edge(pick(['file', 'file', 'file', 'dir']), [...FILE_TYPE_CODES, 'door', 'File']);
  const fields: [string, string][] = [
    ['path', JSON.stringify(path)],
    ['nid', edge(small(), ints)],
    ['type', JSON.stringify(type)],
    ['mode', JSON.stringify(edge(pick(['0644', '0755', '7777']), ['0800', '644', '06444', '064a']))],
    ['uid', edge(pick(['0', '1000']), ints)],
    ['gid', edge(pick(['0', '1000']), ints)],
    ['size', edge(small(), ints)],
    ['nlink', edge('1', ints)],
    ['mtime', edge(pick(['1700000000', '-5']), [...ints, '-0', '-', '--1'])],
    ['mtime_nsec', edge(pick(['0', '999999999']), ints)],
    ['layout', JSON.stringify(edge(pick(LAYOUT_CODES), ['flat', 'chunk_based ', '']))],
    ['inode_size', edge(pick(['32', '64']), ['48', '0', '032', ...ints])],
    ['xattr_isize', edge(pick(['0', '12', '16', '262148']), ['13', '8', '262152', '4', ...ints])],
    ['xattrs', edge('{}', ['{"user.a":"00"}', '{ }'])],
    [
      'fingerprint',
      edge(pick(['null', '""', `"${hex(2 * Math.floor(r() * 40))}"`]), [
        `"${hex(77)}"`,
        '"00FF"',
        'nul',
        '"0g"',
      ]),
    ],
  ];
  if (hashed ? type === 'file' || r() < 0.03 : r() < 0.03)
    fields.push(['sha256', edge(`"${hex(64)}"`, [`"${hex(62)}"`, `"${hex(66)}"`, `"${SHA.toUpperCase()}"`])]);
  return '{' + fields.map(([k, v]) => `"${k}":${v}`).join(',') + '}';
}

/** `line` with a few bytes replaced, removed, inserted or repeated (hostile variations). */
function damaged(r: () => number, line: string): string {
  const alphabet = [
    '"',
    '\\',
    ',',
    ':',
    '}',
    '{',
    '-',
    '.',
    'e',
    'E',
    '/',
    '0',
    '9',
    'a',
    'F',
    ' ',
    '\t',
    '\r',
    '\u0080',
    '\u00e9',
    '\u007f',
    '\u001f',
    'null',
  ];
  let s = line;
  for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
    const at = Math.floor(r() * (s.length + 1));
    const c = alphabet[Math.floor(r() * alphabet.length)]!;
    const op = Math.floor(r() * 4);
    if (op === 0) s = s.slice(0, at) + c + s.slice(at + 1);
    else if (op === 1) s = s.slice(0, at) + s.slice(at + 1);
    else if (op === 2) s = s.slice(0, at) + c + s.slice(at);
    else s = s.slice(0, at) + s.slice(at, at + 8) + s.slice(at);
  }
  return s;
}

/** What fastRecordLine makes of the line b[start, end): null when it leaves it, else its values. */
function fastOf(b: Uint8Array, start: number, end: number, hashed: boolean): unknown {
  const out = newValidatedRecord();
  const spans: Record<string, number> = {};
  const interner: AsciiInterner = {
    internAtAscii(slot, bytes, s, e, hash, make) {
      const field = slot % 3 === 1 ? 'fp' : 'sha';
      spans[`${field}Start`] = s;
      spans[`${field}End`] = e;
      spans[`${field}Hash`] = hash;
      return make(bytes, s, e);
    },
  };
  if (!fastRecordLine(b, start, end, { hashed }, interner, 0, out, true, true)) return null;
  return {
    nid: out.nid,
    type: out.type,
    mode: out.mode,
    uid: out.uid,
    gid: out.gid,
    size: out.size,
    nlink: out.nlink,
    mtime: out.mtime,
    nsec: out.mtime_nsec,
    layout: out.layout,
    inodeSize: out.inode_size,
    xattrIsize: out.xattr_isize,
    pathStart: fastLineSpans.pathStart,
    pathEnd: fastLineSpans.pathEnd,
    fpStart: spans.fpStart ?? -1,
    fpEnd: spans.fpEnd ?? -1,
    fpHash: spans.fpHash ?? 0,
    shaStart: spans.shaStart ?? -1,
    shaHash: spans.shaHash ?? 0,
  };
}

/**
 * Every line of `lines` joined by "\n" (with `lead` bytes before them, outside the range given),
 * scanned; each line's end and outcome must be fastRecordLine's. Returns how many it took.
 */
function sameAsFastPath(lines: string[], hashed: boolean, lead = 0): number {
  const text = ' '.repeat(lead) + lines.join('\n');
  const b = Buffer.from(text, 'utf8');
  const seen: unknown[] = [];
  const ok = forEachScannedLine(b, lead, b.length, hashed, (l) => {
    if (!l.taken) {
      seen.push({ start: l.start, end: l.end, taken: null });
      return;
    }
    seen.push({
      start: l.start,
      end: l.end,
      taken: {
        nid: l.nid,
        type: FILE_TYPE_CODES[l.type],
        mode: l.mode.toString(8).padStart(4, '0'),
        uid: l.uid,
        gid: l.gid,
        size: l.size,
        nlink: l.nlink,
        mtime: l.mtime,
        nsec: l.nsec,
        layout: LAYOUT_CODES[l.layout],
        inodeSize: l.inodeSize,
        xattrIsize: l.xattrIsize,
        pathStart: l.pathStart,
        pathEnd: l.pathEnd,
        fpStart: l.fpStart,
        fpEnd: l.fpEnd,
        fpHash: l.fpStart < 0 ? 0 : l.fpHash,
        shaStart: l.shaStart,
        shaHash: l.shaStart < 0 ? 0 : l.shaHash,
      },
    });
  });
  expect(ok).toBe(true);
  const want: unknown[] = [];
  let start = lead;
  for (const line of lines) {
    const end = start + Buffer.byteLength(line, 'utf8');
    want.push({ start, end, taken: fastOf(b, start, end, hashed) });
    start = end + 1;
  }
  expect(seen.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect([i, lines[i], seen[i]]).toStrictEqual([i, lines[i], want[i]]);
  return want.filter((w) => (w as { taken: unknown }).taken !== null).length;
}

const CANONICAL =
  '{"path":"/usr/lib/a.so","nid":101,"type":"file","mode":"0644","uid":0,"gid":0,"size":1,"nlink":1,"mtime":1700000000,"mtime_nsec":0,"layout":"compressed_compact","inode_size":32,"xattr_isize":0,"xattrs":{},"fingerprint":"7368613235363a00"}';

describe('the WebAssembly line scan', () => {
  it('is available under Node', () => {
    expect(lineScanAvailable()).toBe(true);
  });

  it('takes the lines fastRecordLine takes, with its values, on random and damaged lines', () => {
    const r = seededRandom(0x5eed);
    for (const hashed of [false, true]) {
      const lines: string[] = [];
      for (let i = 0; i < 6000; i++) {
        const line = randomLine(r, hashed);
        lines.push(r() < 0.4 ? damaged(r, line) : line);
        if (r() < 0.01) lines.push('');
      }
      const taken = sameAsFastPath(lines, hashed, 3);
      // the comparison means something only when both outcomes are common
      expect(taken).toBeGreaterThan(300);
      expect(taken).toBeLessThan(lines.length - 300);
    }
  });

  it('finds the ends of lines it refuses, empty lines, CRLF and a last line without "\\n"', () => {
    sameAsFastPath([CANONICAL, '', CANONICAL + '\r', CANONICAL, '{', '', ''], false);
    sameAsFastPath([''], false);
    sameAsFastPath([CANONICAL], false);
    sameAsFastPath([CANONICAL + ' ', CANONICAL.replace('"size":1', '"size":1,'), CANONICAL + '}'], false);
    // a line that stops where the range does, with a "}" in the byte after the range
    const b = Buffer.from(CANONICAL.slice(0, -1) + '\n}');
    const ends: [number, boolean][] = [];
    forEachScannedLine(b, 0, CANONICAL.length - 1, false, (l) => ends.push([l.end, l.taken]));
    expect(ends).toStrictEqual([[CANONICAL.length - 1, false]]);
  });

  it('reads more lines than one call of the scan and one window hold, and a line longer than the window', () => {
    const r = seededRandom(7);
    const lines: string[] = [];
    for (let bytes = 0; bytes < LINE_SCAN_WINDOW + (1 << 20);) {
      const line = r() < 0.002 ? damaged(r, CANONICAL) : CANONICAL.replace('101', String(lines.length));
      lines.push(line);
      bytes += line.length + 1;
    }
    expect(sameAsFastPath(lines, false)).toBeGreaterThan(20_000);
    const long = '{"path":"/' + 'a'.repeat(LINE_SCAN_WINDOW + 10) + '"}';
    expect(sameAsFastPath([CANONICAL, long, CANONICAL], false)).toBe(2);
  });
});

describe('the readers that scan lines in WebAssembly', () => {
  it('read whole manifests as the general parser does: paths as bytes, and handed over', () => {
    const r = seededRandom(11);
    for (let round = 0; round < 60; round++) {
      const hashed = r() < 0.5;
      const records = new Map<string, string>();
      records.set('/', randomLine(r, hashed).replace(/"path":"[^"]*"/, '"path":"/"'));
      for (let i = 0, n = 1 + Math.floor(r() * 40); i < n; i++) {
        const line = randomLine(r, hashed).replace(
          /"path":"[^"]*"/,
          `"path":"/p${String(i).padStart(3, '0')}"`,
        );
        records.set(`/p${String(i).padStart(3, '0')}`, line);
      }
      let lines = [...records.values()];
      // a few damaged, out of order, or an empty line: errors must name the same line
      if (r() < 0.3) lines = lines.map((l) => (r() < 0.05 ? damaged(r, l) : l));
      if (r() < 0.1) lines.reverse();
      if (r() < 0.1) lines.splice(Math.floor(r() * lines.length), 0, '');
      const text = [ndjsonHeaderLine(records.size, hashed), ...lines].join(r() < 0.2 ? '\r\n' : '\n') + '\n';
      const want = parseOutcome(() => parseManifest(text));
      const bytes = new TextEncoder().encode(text);
      const strings = new StringTable();
      expect([
        round,
        parseOutcome(() => parseManifestBytes(bytes, { columnar: true, strings, pathBytes: true })),
      ]).toStrictEqual([round, want]);
      expect([
        round,
        parseOutcome(() => parseManifestBytes(bytes, { columnar: true, pathBytes: true })),
      ]).toStrictEqual([round, want]);
      const handover = new ManifestStringsHandover();
      expect([
        round,
        parseOutcome(() => {
          const m = parseManifestBytes(bytes, { columnar: true, handOver: handover });
          const { message, transfer } = handover.used
            ? manifestForTransfer(m, handover.strings())
            : manifestForTransfer(m);
          return manifestFromTransfer(structuredClone(message, { transfer }), new StringTable());
        }),
      ]).toStrictEqual([round, want]);
    }
  });
});

describe('the committed WebAssembly bytes', () => {
  it('are what wasm/ndjson-line.wat assembles to (node scripts/build-wasm.mjs)', async () => {
    const { wat, bytes } = WASM_MODULES['ndjson-line'];
    const rebuilt: string = await wasmModuleText('ndjson-line', readFileSync(wat, 'utf8'));
    expect(readFileSync(bytes, 'utf8')).toBe(rebuilt);
  });
});
