/**
 * The stored columnar form is read back in bulk (decodeManifestColumns builds ManifestColumns
 * from whole columns, ManifestColumns.fromColumns, and hands its strings to the StringTable
 * whole): for any records, what it gives back is what the record-by-record path
 * (ManifestColumns.fromRecords, push() per record) holds: the same records, the same typed
 * columns, the same absent columns; and a second manifest read into the same table finds the
 * first one's strings (StringTable.adoptColumn, then interned on first need).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeManifestColumns,
  encodeManifestColumns,
  ManifestColumnsStreamEncoder,
} from '../src/manifest-columns-codec.js';
import {
  FILE_TYPE_CODES,
  LAYOUT_CODES,
  ManifestColumns,
  TYPED_COLUMN_NAMES,
} from '../src/manifest-columns.js';
import { StringTable } from '../src/manifest-strings.js';
import type { FileRecord, ManifestHeader } from '../src/manifest-types.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const hex = (len: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: len, maxLength: len });
/** Path text: mostly ASCII (the byte path), sometimes not (the UTF-8 path), never a lone surrogate. */
const name = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.string({ unit: fc.constantFrom(...'abcxyz._-0189'), minLength: 1, maxLength: 12 }),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }) },
);

const record = fc.record({
  name,
  bigNid: fc.option(fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }), { freq: 8 }),
  nid: fc.integer({ min: 0, max: 2 ** 40 }),
  ino: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { freq: 6 }),
  type: fc.constantFrom(...FILE_TYPE_CODES),
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: u32,
  gid: u32,
  size: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  nlink: u32,
  mtime: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  mtime_nsec: fc.integer({ min: 0, max: 999_999_999 }),
  layout: fc.constantFrom(...LAYOUT_CODES),
  inode_size: fc.constantFrom(32 as const, 64 as const),
  xattr_isize: fc.integer({ min: 0, max: 65535 }),
  target: fc.option(name, { freq: 6 }),
  rdev: fc.option(fc.tuple(u32, u32), { freq: 6 }),
  xattrs: fc.option(fc.dictionary(fc.constantFrom('user.a', 'trusted.b', 'security.c'), hex(8)), { freq: 6 }),
  fingerprint: fc.option(
    fc.oneof(
      hex(64).map((h) => '7368613235363a' + h),
      name,
    ),
    { freq: 4 },
  ),
  // 'tail': the fingerprint's last 64 characters when it has them (version 3 stores it as a flag).
  sha256: fc.option(fc.oneof(hex(64), fc.constant('tail' as const)), { freq: 3 }),
});
type Drawn = typeof record extends fc.Arbitrary<infer T> ? T : never;

function shaOf(drawn: string, fingerprint: string | null): string {
  if (drawn !== 'tail') return drawn;
  return fingerprint !== null && fingerprint.length >= 64 ? fingerprint.slice(-64) : 'f'.repeat(64);
}

/** Records in path order (distinct paths), as a parser would hand them over. */
function recordsOf(drawn: Drawn[]): FileRecord[] {
  const seen = new Set<string>();
  const out: FileRecord[] = [];
  for (const d of drawn) {
    const path = `/${d.name}`;
    if (seen.has(path)) continue;
    seen.add(path);
    out.push({
      path,
      nid: d.bigNid !== null ? d.bigNid.toString() : d.nid,
      ...(d.ino !== null ? { ino: d.ino } : {}),
      type: d.type,
      mode: d.mode.toString(8).padStart(4, '0'),
      uid: d.uid,
      gid: d.gid,
      size: d.size,
      nlink: d.nlink,
      mtime: d.mtime,
      mtime_nsec: d.mtime_nsec,
      layout: d.layout,
      inode_size: d.inode_size,
      xattr_isize: d.xattr_isize,
      ...(d.target !== null ? { target: d.target } : {}),
      ...(d.rdev !== null ? { rdev: d.rdev } : {}),
      xattrs: d.xattrs ?? {},
      fingerprint: d.fingerprint,
      ...(d.sha256 !== null ? { sha256: shaOf(d.sha256, d.fingerprint) } : {}),
    });
  }
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

function expectSameColumns(bulk: ManifestColumns, byRecord: ManifestColumns): void {
  const n = byRecord.n;
  expect(bulk.n).toBe(n);
  expect(bulk.records()).toEqual(byRecord.records());
  for (const k of TYPED_COLUMN_NAMES)
    expect(Array.from(bulk[k].subarray(0, n)), k).toEqual(Array.from(byRecord[k].subarray(0, n)));
  expect(bulk.ino === null).toBe(byRecord.ino === null);
  if (bulk.ino) expect(Array.from(bulk.ino.subarray(0, n))).toEqual(Array.from(byRecord.ino!.subarray(0, n)));
  expect(bulk.paths).toEqual(byRecord.paths);
  expect(bulk.fingerprint).toEqual(byRecord.fingerprint);
  expect(bulk.sha256).toEqual(byRecord.sha256);
  for (let i = 0; i < n; i++) expect(bulk.inodeNumber(i)).toBe(byRecord.inodeNumber(i));
}

describe('bulk decode of the stored columnar form', () => {
  it('holds what the record-by-record path holds, for any records', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 60 }), (drawn) => {
        const files = recordsOf(drawn);
        const byRecord = ManifestColumns.fromRecords(files);
        const header = { kind: 'sharemap-manifest', file_count: files.length } as unknown as ManifestHeader;
        const pieces = encodeManifestColumns(header, byRecord);
        expect(pieces).not.toBeNull();
        const bytes = Buffer.concat(pieces!);
        expectSameColumns(decodeManifestColumns(bytes).cols, byRecord);
        // Into one table, twice: the first manifest's columns are adopted whole, the second's
        // strings are interned against them (the table then holds each distinct string once).
        const strings = new StringTable();
        expectSameColumns(decodeManifestColumns(bytes, strings).cols, byRecord);
        expectSameColumns(decodeManifestColumns(bytes, strings).cols, byRecord);
        const distinct = new Set<string>();
        for (const f of files) {
          distinct.add(f.path);
          if (f.fingerprint !== null) distinct.add(f.fingerprint);
          if (f.sha256 !== undefined) distinct.add(f.sha256);
        }
        expect(strings.size).toBe(distinct.size);
      }),
      { numRuns: 300 },
    );
  });

  /** The form ManifestColumnsStreamEncoder makes of `files`, its sections kept in memory. */
  function streamed(files: FileRecord[], header: ManifestHeader): Buffer | null {
    const sections = new Map<string, Uint8Array[]>();
    const enc = new ManifestColumnsStreamEncoder((name) => {
      const chunks: Uint8Array[] = [];
      sections.set(name, chunks);
      // The encoder reuses nothing it has handed over, but copy to be sure the test would see it.
      return { write: (b) => chunks.push(Uint8Array.from(b)) };
    });
    for (const f of files) enc.push(f);
    const made = enc.finish(header);
    if (!made) return null;
    return Buffer.concat([made.head, ...made.sections.flatMap((k) => sections.get(k)!)]);
  }

  it('is made record by record as the very bytes encodeManifestColumns makes', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 60 }), (drawn) => {
        const files = recordsOf(drawn);
        const header = { kind: 'sharemap-manifest', file_count: files.length } as unknown as ManifestHeader;
        const whole = Buffer.concat(encodeManifestColumns(header, ManifestColumns.fromRecords(files))!);
        expect(streamed(files, header)!.equals(whole)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('allocates no chunk for a section before its first value', () => {
    // 22 sections of 256 KiB each were allocated at creation: 40 encoders held 220 MiB.
    const before = process.memoryUsage().arrayBuffers;
    const held = Array.from(
      { length: 40 },
      () => new ManifestColumnsStreamEncoder(() => ({ write: () => undefined })),
    );
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(held).toHaveLength(40);
    expect(grown).toBeLessThan(16 * 1024 * 1024);
    // (What an encoder makes once used: the property test above, the same bytes as before.)
  });

  it('makes none of a manifest with a lone surrogate or a wrong file_count', () => {
    const files = recordsOf([]);
    const one: FileRecord = {
      path: '/a\ud800',
      nid: 1,
      type: 'file',
      mode: '0644',
      uid: 0,
      gid: 0,
      size: 0,
      nlink: 1,
      mtime: 0,
      mtime_nsec: 0,
      layout: 'flat_plain',
      inode_size: 32,
      xattr_isize: 0,
      xattrs: {},
      fingerprint: null,
    };
    const header = (n: number): ManifestHeader =>
      ({ kind: 'sharemap-manifest', file_count: n }) as unknown as ManifestHeader;
    expect(streamed([...files, one], header(1))).toBeNull();
    expect(streamed([{ ...one, path: '/a' }], header(2))).toBeNull();
    expect(streamed([{ ...one, path: '/a' }], header(1))).not.toBeNull();
  });
});
