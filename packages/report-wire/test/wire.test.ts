/**
 * The report's wire formats on real engine reports (fixture oracles, the fleet of
 * testdata/mounts/fleet.fstab) and on hand-made edge cases: the files encoding decodes to
 * exactly the report's files, groups and paths; the summary is the report without them.
 */
import { describe, expect, it } from 'vitest';
import { bigReport } from './big-report.js';
import { analyze, topGroups, type Report } from '@sharemap/sharing';
import { classFleet, fleetInstances, inputOf, inst } from '@sharemap/sharing/testing';
import {
  assembleFiles,
  decodeFiles,
  encodeFiles,
  FilesFormatError,
  reportSummary,
  transferables,
  type FilesHeader,
} from '../src/index.js';

const fleet = analyze(inputOf(fleetInstances()));

/** Typed arrays -> plain arrays, so parts compare with toEqual against the engine's. */
function plain<T>(v: T): T {
  return JSON.parse(
    JSON.stringify(v, (_k, x: unknown) => (ArrayBuffer.isView(x) ? Array.from(x as Uint8Array) : x)),
  ) as T;
}

function roundTrip(parts: Pick<Report, 'files' | 'groups' | 'paths'>) {
  const bytes = encodeFiles(parts);
  // A copy into a fresh ArrayBuffer, as fetch() gives it.
  const buf = bytes.slice().buffer;
  return { bytes, out: assembleFiles(decodeFiles(buf)) };
}

function header(bytes: Uint8Array): FilesHeader {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as FilesHeader;
}

describe('files encoding', () => {
  it('round-trips the fleet report exactly', () => {
    expect(fleet.files.instance.length).toBeGreaterThan(100);
    expect(fleet.groups.length).toBeGreaterThan(5);
    const { out } = roundTrip(fleet);
    expect(plain(out.files)).toEqual(fleet.files);
    expect(out.groups).toEqual(fleet.groups);
    expect(out.paths).toEqual(fleet.paths);
    expect(Object.keys(out.paths)).toEqual(Object.keys(fleet.paths));
    // Numeric columns are typed arrays, read by index like the engine's arrays.
    expect(ArrayBuffer.isView(out.files.instance)).toBe(true);
    expect(out.files.status.every((s) => typeof s === 'string')).toBe(true);
  });

  it('is compact: narrow columns, the file column as deltas, each path once', () => {
    const { bytes } = roundTrip(fleet);
    const h = header(bytes);
    const s = new Map(h.sections.map((x) => [x.name, x]));
    expect(s.get('files.instance')!.type).toBe('u8');
    expect(s.get('files.status')!.type).toBe('u8');
    expect(s.get('files.file')!.delta).toBe(true);
    expect(s.get('files.group')!.delta).toBe(true);
    expect(s.get('paths.index')!.delta).toBe(true);
    const distinct = new Set(Object.values(fleet.paths).flat()).size;
    expect(h.strings).toBe(distinct);
    expect(h.strings).toBeLessThan(Object.values(fleet.paths).flat().length);
    for (const x of h.sections) expect(x.offset % 8).toBe(0);
    expect(bytes.length).toBeLessThan(
      JSON.stringify({ f: fleet.files, g: fleet.groups, p: fleet.paths }).length / 2,
    );
  });

  it('keeps values that need more than 32 bits, negatives, fractions and non-hex fingerprints', () => {
    const parts: Pick<Report, 'files' | 'groups' | 'paths'> = {
      files: {
        instance: [0, 1, 1, 0],
        file: [3, 0, 1, 2],
        status: ['shared', 'shared', 'hardlink', 'private-not-regular'],
        group: [0, 0, -1, -1],
        pagesWithout: [2 ** 40, 1, 0, 0],
        pagesWith: [0.5, 1, 0, 0],
        size: [2 ** 52, 4096, 4096, 0],
        hardlinks: { row: [2], primary: [1] },
      },
      groups: [
        {
          fingerprint: 'not hex: serial 7',
          domain: 'D1',
          aops: 'block',
          size: 4096,
          pages: 1,
          members: [0, 1],
          rejected: [],
          orderDependent: true,
        },
      ],
      paths: { a: ['/x', '/y', '/z/ü', '/snow ☃'], b: ['/x', '/y'] },
    };
    const { bytes, out } = roundTrip(parts);
    expect(header(bytes).fingerprints).toBe('list');
    expect(plain(out.files)).toEqual(parts.files);
    expect(out.groups).toEqual(parts.groups);
    expect(out.paths).toEqual(parts.paths);
  });

  it('keeps orderDependent false apart from absent, and an empty report', () => {
    const g = {
      fingerprint: 'ab01',
      domain: 'D',
      aops: 'compressed' as const,
      size: 1,
      pages: 1,
      members: [0],
      rejected: [1],
    };
    const parts: Pick<Report, 'files' | 'groups' | 'paths'> = {
      files: {
        instance: [0, 0],
        file: [0, 1],
        status: ['shared-alone', 'private-size-mismatch'],
        group: [0, 1],
        pagesWithout: [1, 1],
        pagesWith: [1, 1],
        size: [1, 2],
        hardlinks: { row: [], primary: [] },
      },
      groups: [g, { ...g, fingerprint: '', orderDependent: false }],
      paths: { a: ['/a', '/b'] },
    };
    const { out } = roundTrip(parts);
    expect(out.groups).toEqual(parts.groups);
    expect('orderDependent' in out.groups[0]!).toBe(false);
    expect(out.groups[1]!.orderDependent).toBe(false);
    const empty = roundTrip({
      files: {
        instance: [],
        file: [],
        status: [],
        group: [],
        pagesWithout: [],
        pagesWith: [],
        size: [],
        hardlinks: { row: [], primary: [] },
      },
      groups: [],
      paths: {},
    }).out;
    expect(plain(empty.files)).toEqual({
      instance: [],
      file: [],
      status: [],
      group: [],
      pagesWithout: [],
      pagesWith: [],
      size: [],
      hardlinks: { row: [], primary: [] },
    });
    expect(empty.groups).toEqual([]);
    expect(empty.paths).toEqual({});
  });

  it('lists every typed array buffer once for transfer', () => {
    const cols = decodeFiles(encodeFiles(fleet).slice().buffer);
    const list = transferables(cols);
    expect(new Set(list).size).toBe(list.length);
    expect(list.length).toBeGreaterThan(0);
  });

  it('refuses other bytes', () => {
    expect(() => decodeFiles(new TextEncoder().encode('{"kind":"sharemap-report"}').buffer)).toThrow(
      FilesFormatError,
    );
    const bytes = encodeFiles(fleet);
    expect(() => decodeFiles(bytes.slice(0, bytes.length - 64).buffer)).toThrow(/bad section|truncated/);
  });
});

/** Two mounts of base-v1.fp in one domain with residency data (libcap on both, expat on one). */
const measuredReport = analyze({
  ...inputOf([inst('m1', 'base-v1.fp', 'd'), inst('m2', 'base-v1.fp', 'd')]),
  residency: {
    instances: {
      m1: { '/lib/x86_64-linux-gnu/libcap.so.2.66': 7, '/lib/x86_64-linux-gnu/libexpat.so.1.8.10': 'all' },
      m2: { '/lib/x86_64-linux-gnu/libcap.so.2.66': 5 },
    },
  },
});

describe('files encoding: the measured columns (optional sections)', () => {
  it('round-trips the measured per-row pages of a report with residency data', () => {
    const m = measuredReport.measured!;
    // libcap (12 pages) 7 + 5 resident, counted once with sharing (7); libexpat 43 pages.
    expect(m.totals).toMatchObject({ pagesWithoutSharing: 7 + 5 + 43, pagesWithSharing: 7 + 43 });
    const bytes = encodeFiles(measuredReport);
    const names = header(bytes).sections.map((x) => x.name);
    expect(names).toContain('measured.pagesWithout');
    expect(names).toContain('measured.pagesWith');
    const out = assembleFiles(decodeFiles(bytes.slice().buffer));
    expect(plain(out.measuredRows)).toEqual({ pagesWithout: m.pagesWithout, pagesWith: m.pagesWith });
    expect(plain(out.files)).toEqual(measuredReport.files);
    expect(out.groups).toEqual(measuredReport.groups);
    const cols = decodeFiles(bytes.slice().buffer);
    const list = transferables(cols);
    expect(list).toContain(cols.measured!.pagesWithout.buffer);
    expect(list).toContain(cols.measured!.pagesWith.buffer);
  });

  it('reads encodings without them (reports without residency data, encodings made before them)', () => {
    const { measured, ...noMeasured } = measuredReport;
    void measured;
    const bytes = encodeFiles(noMeasured);
    expect(header(bytes).sections.some((x) => x.name.startsWith('measured.'))).toBe(false);
    const out = assembleFiles(decodeFiles(bytes.slice().buffer));
    expect('measuredRows' in out).toBe(false);
    expect(plain(out.files)).toEqual(measuredReport.files);
    // With them, every other section is stored as without them (only the offsets move past the
    // longer header): a decoder that does not know them reads the same columns.
    const same = ({ offset, ...x }: FilesHeader['sections'][number]) => (void offset, x);
    const withM = header(encodeFiles(measuredReport)).sections.filter((x) => !x.name.startsWith('measured.'));
    expect(withM.map(same)).toEqual(header(bytes).sections.map(same));
  });

  it('refuses one measured column without the other, and columns of the wrong length', () => {
    const bytes = encodeFiles(measuredReport);
    // Rename a section in the header (same length: the layout stays).
    const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
    const text = new TextDecoder().decode(bytes.subarray(12, 12 + len));
    const renamed = new TextEncoder().encode(text.replace('"measured.pagesWith"', '"measured.pagesWitX"'));
    const one = bytes.slice();
    one.set(renamed, 12);
    expect(() => decodeFiles(one.buffer)).toThrow(/measured\.pagesWith is missing/);
    const rows = measuredReport.files.instance.length;
    expect(() =>
      encodeFiles({ ...measuredReport, measured: { ...measuredReport.measured!, pagesWith: [1] } }),
    ).toThrow(`measured columns: ${rows}/1 values, not ${rows}`);
  });
});

/** 44 mounts of the eleven kinds of `classFleet`: four instances per class (docs/metrics.md#compact-file-table). */
const compactReport = analyze({ ...inputOf(classFleet(44)), fileTable: 'compact' });

describe('files encoding: a compact file table (optional sections)', () => {
  it("round-trips rowsOf and the groups' instance counts exactly", () => {
    expect(compactReport.version).toBe(2);
    expect(compactReport.groups.some((g) => g.memberCount !== undefined)).toBe(true);
    const { bytes, out } = roundTrip(compactReport);
    const names = header(bytes).sections.map((x) => x.name);
    expect(names).toEqual(
      expect.arrayContaining(['files.rowsOf', 'groups.memberCount', 'groups.rejectedCount']),
    );
    expect(plain(out.files)).toEqual(compactReport.files);
    expect(out.groups).toEqual(compactReport.groups);
    const cols = decodeFiles(bytes.slice().buffer);
    expect(transferables(cols)).toContain(cols.rowsOf!.buffer);
    // A per-instance table has none of them.
    expect(header(encodeFiles(fleet)).sections.some((x) => /rowsOf|Count$/.test(x.name))).toBe(false);
  });

  it('refuses rowsOf naming a later instance', () => {
    const rowsOf = [...compactReport.files.rowsOf!];
    rowsOf[0] = 5;
    const bad = encodeFiles({ ...compactReport, files: { ...compactReport.files, rowsOf } });
    expect(() => decodeFiles(bad.slice().buffer)).toThrow(
      /files\.rowsOf: an instance reads the rows of a later one/,
    );
  });
});

describe('summary', () => {
  it('topGroups: the n that save most, ties in group order, as a sort of every saving group gave', () => {
    const report = bigReport(20_000, 2);
    const ps = report.options.pageSize;
    const saved = report.groups.map((g) => ((g.memberCount ?? g.members.length) - 1) * g.pages * ps);
    const order = saved
      .map((_, g) => g)
      .filter((g) => saved[g]! > 0)
      .sort((a, b) => saved[b]! - saved[a]!);
    expect(new Set(order.map((g) => saved[g])).size).toBeLessThan(order.length); // ties to keep in order
    for (const n of [1, 3, 10, 57, 2_000, order.length + 5, 0, -2, 2.5]) {
      const top = topGroups(report, n);
      expect(top.map((t) => t.saved)).toEqual(order.slice(0, n).map((g) => saved[g]));
      expect(top.map((t) => t.group)).toEqual(order.slice(0, n).map((g) => report.groups[g]));
    }
  }, 120_000);

  it('is the report without files, groups and paths, plus the first screen figures', () => {
    const s = reportSummary(fleet);
    expect('files' in s || 'groups' in s || 'paths' in s).toBe(false);
    const { files, groups, paths, ...rest } = fleet;
    void paths;
    expect(s).toMatchObject(rest);
    expect(s.fileRows).toBe(files.instance.length);
    expect(s.groupCount).toBe(groups.length);
    expect(s.topGroups).toEqual(topGroups(fleet, 10));
    expect(s.topGroups.length).toBeGreaterThan(0);
    // Every instance with a shared row has its aops classes.
    const withGroups = new Set(
      groups.flatMap((g) => g.members.map((r) => fleet.instances[files.instance[r]!]!.id)),
    );
    expect(Object.keys(s.instanceAops).sort()).toEqual([...withGroups].sort());
    expect(JSON.stringify(s).length).toBeLessThan(JSON.stringify(fleet).length);
  });
});
