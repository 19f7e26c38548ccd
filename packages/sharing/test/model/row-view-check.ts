/**
 * Test support: what `fileRowView()` reads from a compact file table, row by row, is what the
 * per-instance table `expandFileTable()` builds holds (docs/metrics.md#compact-file-table).
 */
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import { explainFile } from '../../src/model/explain.js';
import { expandFileTable, fileRowView } from '../../src/model/file-rows.js';
import type { Report } from '../../src/report.js';

/**
 * `expect(actual, message).toEqual(expected)` for tables of hundreds of thousands of rows: Node's
 * strict deep equality first, which holds only where toEqual holds too (it is the stricter of
 * the two) and takes a second where toEqual took a minute on the 1,100-instance fleet's 615,500
 * rows; toEqual itself when it does not hold, so the verdict and the diff are toEqual's.
 */
export function expectEqualRows(actual: unknown, expected: unknown, message?: string): void {
  if (isDeepStrictEqual(actual, expected)) return;
  expect(actual, message).toEqual(expected);
}

/** Every column, group list, finding row and explanation of the view against the expanded table. */
export function expectViewIsExpansion(compact: Report): void {
  const expanded = expandFileTable(compact);
  const e = expanded.files;
  const view = fileRowView(compact.files, compact.instances.length);
  expect(view.count).toBe(e.instance.length);
  expect(view.compact).toBe(compact.files.rowsOf !== undefined);
  const names = ['instance', 'file', 'status', 'group', 'pagesWithout', 'pagesWith', 'size'] as const;
  const cols = Object.fromEntries(names.map((k) => [k, [] as unknown[]])) as Record<
    (typeof names)[number],
    unknown[]
  >;
  for (let v = 0; v < view.count; v++)
    for (const k of Object.keys(cols) as (keyof typeof cols)[]) cols[k].push(view[k](v));
  for (const k of Object.keys(cols) as (keyof typeof cols)[]) expectEqualRows(cols[k], e[k], k);
  // Backwards too (a sort reads rows out of order: the instance lookup must not depend on the last row).
  const back: number[] = [];
  for (let v = view.count - 1; v >= 0; v--) back.push(view.instance(v));
  expectEqualRows(back.reverse(), e.instance);
  expectEqualRows(
    compact.groups.map((g) => view.members(g)),
    expanded.groups.map((g) => g.members),
  );
  expectEqualRows(
    compact.groups.map((g) => view.rejected(g)),
    expanded.groups.map((g) => g.rejected),
  );
  const findingRows = (r: Report, map: (row: number) => number) => r.findings.map((f) => f.rows?.map(map));
  expectEqualRows(
    findingRows(compact, view.rowOf),
    findingRows(expanded, (row) => row),
  );
  const primary = new Map(e.hardlinks.row.map((row, k) => [row, e.hardlinks.primary[k]!]));
  const links: [number, number][] = [];
  const wantLinks: [number, number][] = [];
  const why: string[] = [];
  const wantWhy: string[] = [];
  for (let v = 0; v < view.count; v++) {
    links.push([v, view.hardlinkPrimary(v)]);
    wantLinks.push([v, primary.get(v) ?? -1]);
  }
  // Explanations of a sample of rows (every row of small tables).
  const step = Math.max(1, Math.floor(view.count / 5000));
  for (let v = 0; v < view.count; v += step) {
    why.push(explainFile(compact, view.source(v), view.instance(v)));
    wantWhy.push(explainFile(expanded, v));
  }
  expectEqualRows(links, wantLinks);
  expectEqualRows(why, wantWhy);
  // Each row of `files` stands for the rows of its copies, its own first.
  const sources: number[][] = [];
  const firsts: number[] = [];
  for (let r = 0; r < compact.files.instance.length; r++) {
    const copies = view.copies(r);
    firsts.push(copies[0]! - view.rowOf(r));
    if (copies.some((v) => view.source(v) !== r)) sources.push([r, ...copies]);
  }
  expect(firsts.every((d) => d === 0)).toBe(true);
  expect(sources).toEqual([]);
}
