/**
 * The measured working set (model/residency.ts): exact figures on the base-v1.fp fixture
 * (238 regular files, 3,374,094 bytes; every file fingerprinted), 4 KiB pages.
 */
import { describe, expect, it } from 'vitest';
import type { ResidencyInput } from '../../src/report.js';
import { analyze } from '../../src/model/engine.js';
import { inputOf, inst } from '../model-fixtures.js';

const LIBCAP = '/lib/x86_64-linux-gnu/libcap.so.2.66'; // 47128 bytes = 12 pages
const EXPAT = '/lib/x86_64-linux-gnu/libexpat.so.1.8.10'; // 174184 bytes = 43 pages
const OPENSSL_CNF = '/etc/ssl/openssl.cnf'; // 12332 bytes = 4 pages
const P = 4096;

/** Two mounts of base-v1.fp in one domain (or with inode_share off), with the given residency. */
function run(residency: ResidencyInput, share = true) {
  const o = { inodeShare: share };
  return analyze({
    ...inputOf([inst('m1', 'base-v1.fp', 'd', o), inst('m2', 'base-v1.fp', 'd', o)]),
    residency,
  });
}

describe('measured working set', () => {
  it('the double-count trap: a shared inode both instances report resident counts once; sharing off, twice', () => {
    // Under inode_share both members read one page cache, so both report its 7 pages.
    const residency: ResidencyInput = { instances: { m1: { [LIBCAP]: 7 }, m2: { [LIBCAP]: 7 } } };
    const on = run(residency).measured!;
    expect(on.totals).toEqual({
      pagesWithoutSharing: 14,
      pagesWithSharing: 7,
      bytesWithoutSharing: 14 * P,
      bytesWithSharing: 7 * P,
      bytesSaved: 7 * P,
      percentSaved: 50,
    });
    // Charged to the first member's instance, like the static pagesWith.
    expect(on.perInstance['m1']).toMatchObject({ pagesWithoutSharing: 7, pagesWithSharing: 7 });
    expect(on.perInstance['m2']).toMatchObject({ pagesWithoutSharing: 7, pagesWithSharing: 0 });
    const off = run(residency, false).measured!;
    expect(off.totals).toMatchObject({ pagesWithoutSharing: 14, pagesWithSharing: 14, bytesSaved: 0 });
  });

  it('clamps to the file, counts unknown files as not resident, reports coverage; the static totals stay', () => {
    const residency: ResidencyInput = {
      instances: {
        m1: { [LIBCAP]: 7, [OPENSSL_CNF]: 2, '/no/such/file': 3 },
        // 100 resident pages of a 43-page file: a tool's larger page size or a changed file; clamped.
        m2: { [LIBCAP]: 7, [EXPAT]: 100 },
        ghost: { [LIBCAP]: 1 },
      },
      sources: ['host.snapshot.json.gz'],
    };
    const report = run(residency);
    const m = report.measured!;
    // without: 7 + 2 + 7 + 43 = 59; with: libcap once (7), openssl.cnf's shared inode 2 (m2 has
    // no data for it: the largest member count), expat 43 = 52.
    expect(m.totals).toMatchObject({ pagesWithoutSharing: 59, pagesWithSharing: 52, bytesSaved: 7 * P });
    expect(m.coverage).toEqual({
      files: 2 * 238,
      bytes: 2 * 3374094,
      filesWithData: 4,
      bytesWithData: 47128 + 12332 + 47128 + 174184,
      // '/no/such/file' and the unknown instance's entry.
      unmatchedEntries: 2,
    });
    expect(m.sources).toEqual(['host.snapshot.json.gz']);
    // The upper bound: the 472 files without data fully resident. Static 2 x 924 pages -> 924;
    // covered rows 12 + 4 + 12 + 43 static pages, 7 + 2 + 7 + 43 measured: 1848 - 71 + 59.
    // With sharing libcap's shared inode is 7 pages instead of 12; openssl.cnf's is m2's 4
    // (no data: fully resident), expat's 43 either way: 924 - 5.
    expect(m.upper).toMatchObject({ pagesWithoutSharing: 1836, pagesWithSharing: 919, bytesSaved: 917 * P });
    expect(m.pagesWithout.reduce((a, b) => a + b, 0)).toBe(59);
    expect(m.pagesWith.reduce((a, b) => a + b, 0)).toBe(52);
    // The static bound is today's figure, unchanged by residency.
    const plain = analyze(inputOf([inst('m1', 'base-v1.fp', 'd'), inst('m2', 'base-v1.fp', 'd')]));
    expect(report.totals).toEqual(plain.totals);
    expect(plain.measured).toBeUndefined();
  });

  it('coverage bounds: no data at all, the upper bound is the static bound; full coverage, the measured figure', () => {
    const none = run({ instances: {} });
    expect(none.measured!.totals).toMatchObject({ pagesWithoutSharing: 0, pagesWithSharing: 0 });
    expect(none.measured!.upper).toEqual(none.totals);
    expect(none.totals).toMatchObject({ pagesWithoutSharing: 1848, pagesWithSharing: 924 });
    // edge-mini.fp-trusted alone, every file an access-list entry ("all") but /b4097 (2 pages),
    // which has 1 resident page: the bounds meet.
    const report = analyze({
      ...inputOf([inst('m1', 'edge-mini.fp-trusted', 'd')]),
      residency: { instances: {} },
    });
    const paths = report.paths[report.instances[0]!.imageId]!;
    const data: Record<string, number | 'all'> = {};
    report.files.file.forEach((f, row) => {
      if (report.files.size[row]! > 0) data[paths[f]!] = 'all';
    });
    data['/b4097'] = 1;
    const full = analyze({
      ...inputOf([inst('m1', 'edge-mini.fp-trusted', 'd')]),
      residency: { instances: { m1: data } },
    }).measured!;
    expect(full.coverage.filesWithData).toBe(full.coverage.files);
    expect(full.upper).toEqual(full.totals);
    expect(full.totals.pagesWithoutSharing).toBe(report.totals.pagesWithoutSharing - 1);
  });

  it('an access-list entry ("all") counts every page of the file', () => {
    const m = run({ instances: { m1: { [EXPAT]: 'all' } } }).measured!;
    expect(m.totals).toMatchObject({ pagesWithoutSharing: 43, pagesWithSharing: 43 });
  });
});

describe('renderers show both measures', () => {
  it('text and markdown: "static: A -> B, P; measured: C -> D, Q" with coverage', async () => {
    const { renderText, renderMarkdown } = await import('../../src/render/index.js');
    const report = run({ instances: { m1: { [LIBCAP]: 7 }, m2: { [LIBCAP]: 7 } } });
    // Static: 238 files in whole pages (924 pages = 3.6 MiB) per instance, shared once in one domain.
    expect(report.totals).toMatchObject({ pagesWithoutSharing: 2 * 924, pagesWithSharing: 924 });
    // Upper bound: 1848 - 2 x 12 + 2 x 7 = 1838 pages without sharing, 924 - 12 + 7 = 919 with.
    expect(report.measured!.upper).toMatchObject({ pagesWithoutSharing: 1838, pagesWithSharing: 919 });
    const line =
      'static: 7.2 MiB -> 3.6 MiB, 50.0 %; measured: 56.0 KiB -> 28.0 KiB, 50.0 % (residency data for 2 of 476 files, 92.0 KiB of 6.4 MiB); ' +
      'at most 7.2 MiB -> 3.6 MiB, 50.0 % if the files without data were fully resident';
    expect(renderText(report).split('\n')[1]).toBe(`  ${line}`);
    expect(renderMarkdown(report)).toContain(`\n\n${line}\n`);
  });

  it('hard links: any path of the inode gives its residency to the one row holding its pages (R10)', () => {
    // edge-mini.fp-trusted: /hl_c_toplevel, /links/hl_a and /links/hl_b are one inode of 1900
    // bytes (1 page); /hl_c_toplevel, first in path order, holds its pages.
    const both = [inst('m1', 'edge-mini.fp-trusted', 'd'), inst('m2', 'edge-mini.fp-trusted', 'd')];
    const report = analyze({
      ...inputOf(both),
      residency: { instances: { m1: { '/links/hl_b': 1 }, m2: { '/links/hl_a': 1, '/links/hl_b': 1 } } },
    });
    const m = report.measured!;
    // One inode, one set of pages: m2's two paths count once; with sharing the inode once.
    expect(m.totals).toMatchObject({ pagesWithoutSharing: 2, pagesWithSharing: 1, bytesSaved: P });
    expect(m.perInstance['m1']).toMatchObject({ pagesWithoutSharing: 1, pagesWithSharing: 1 });
    expect(m.perInstance['m2']).toMatchObject({ pagesWithoutSharing: 1, pagesWithSharing: 0 });
    expect(m.coverage).toMatchObject({ filesWithData: 2, bytesWithData: 2 * 1900, unmatchedEntries: 0 });
    const f = report.files;
    const rowOf = (instance: number, path: string) =>
      [...f.instance.keys()].find(
        (r) =>
          f.instance[r] === instance &&
          report.paths[report.instances[instance]!.imageId]![f.file[r]!] === path,
      )!;
    for (const i of [0, 1]) {
      expect(f.status[rowOf(i, '/links/hl_b')]).toBe('hardlink');
      expect(m.pagesWithout[rowOf(i, '/hl_c_toplevel')]).toBe(1);
      expect(m.pagesWithout[rowOf(i, '/links/hl_a')]).toBe(0);
      expect(m.pagesWithout[rowOf(i, '/links/hl_b')]).toBe(0);
    }
    // Without the link rule the data of /links/* would have matched nothing.
    const plain = analyze({ ...inputOf(both), residency: { instances: { m1: { '/hl_c_toplevel': 1 } } } });
    expect(plain.measured!.totals).toMatchObject({ pagesWithoutSharing: 1, pagesWithSharing: 1 });
  });
});
