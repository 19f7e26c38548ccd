/**
 * The compact file table (docs/metrics.md#compact-file-table) on a fleet of many mounts of the
 * fixture images: its rows do not grow with the instance count, and its figures are those of
 * the per-instance table.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/model/engine.js';
import { buildTrustModel } from '../../src/trust/model.js';
import {
  crossImageInodeInstanceIds,
  expandFileTable,
  memberCount,
  rowCopies,
} from '../../src/model/file-rows.js';
import { groupColumnsOf } from '../../src/model/group-columns.js';
import { REPORT_VERSION, type Report } from '../../src/report.js';
import { classFleet as fleet, inputOf } from '../model-fixtures.js';
import { expectEqualRows, expectViewIsExpansion } from './row-view-check.js';

const figures = (r: Report) => ({
  totals: r.totals,
  orderBounds: r.orderBounds,
  perInstance: r.perInstance,
  perDomain: r.perDomain,
  perImage: r.perImage,
  cost: r.cost,
  groups: r.groups.length,
  members: r.groups.reduce((a, g) => a + memberCount(g), 0),
  findings: r.findings.map((f) => [f.code, f.bytes, f.rowCount, f.instanceIds?.length]),
});

describe('expectEqualRows (the deep comparison of the tables below)', () => {
  it("fails where toEqual fails and passes where it passes (an undefined property, toEqual's rule)", () => {
    expect(() => expectEqualRows([1, 2, 3], [1, 2, 4], 'row 2')).toThrow(/row 2/);
    expect(() => expectEqualRows({ a: [1] }, { a: [1], b: 2 })).toThrow();
    expectEqualRows({ a: [1, 2], b: undefined }, { a: [1, 2] });
    expect(() => expectEqualRows([0, 1], [-0, 1])).toThrow(); // toEqual tells +0 from -0 too
  });
});

describe('compact file table', () => {
  it('has as many file rows and group member entries for 1,100 instances as for 22', () => {
    const small = analyze({ ...inputOf(fleet(22)), fileTable: 'compact' });
    const large = analyze({ ...inputOf(fleet(1100)), fileTable: 'compact' });
    expect(small.version).toBe(REPORT_VERSION);
    expect(large.version).toBe(REPORT_VERSION);
    expect(large.instances).toHaveLength(1100);
    expect(large.files.status.length).toBe(small.files.status.length);
    // One lead per kind: the first 11 instances have rows, none of the other 1,089.
    expect(large.files.rowsOf!.filter((lead, i) => lead === i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rowCopies(large.files, 1100)!.slice(0, 11)).toEqual(new Int32Array(11).fill(100));
    expect(large.groups.map((g) => g.members.length)).toEqual(small.groups.map((g) => g.members.length));
    expect(large.groups.map(memberCount)).toEqual(small.groups.map((g) => memberCount(g) * 50));
    const perInstance = analyze(inputOf(fleet(1100)));
    expect(perInstance.files.status.length).toBe(small.files.status.length * 100);
    expect(JSON.stringify(large.files).length).toBeLessThan(JSON.stringify(perInstance.files).length / 50);
  }, 120_000);

  it('gives the per-instance table figures, for 11, 22 and 1,100 instances', () => {
    for (const n of [11, 22, 1100]) {
      const compact = analyze({ ...inputOf(fleet(n)), fileTable: 'compact' });
      const perInstance = analyze(inputOf(fleet(n)));
      expect(perInstance.version).toBe(1);
      expect(perInstance.files.rowsOf).toBeUndefined();
      expect(figures(compact)).toEqual(figures(perInstance));
      const expanded = expandFileTable(compact);
      expectEqualRows(expanded.files, perInstance.files);
      expectEqualRows(expanded.groups, perInstance.groups);
      // The per-instance rows read in place (the web UI's data layer) are the expanded ones.
      expectViewIsExpansion(compact);
      expectViewIsExpansion(perInstance);
    }
    // A figure to hold on to: the 11-instance fleet saves what its per-instance table says.
    const ten = analyze(inputOf(fleet(11)));
    expect(analyze({ ...inputOf(fleet(11)), fileTable: 'compact' }).totals.bytesSaved).toBe(
      ten.totals.bytesSaved,
    );
    expect(ten.totals.bytesSaved).toBeGreaterThan(0);
  }, 600_000);

  it("lists the trust model's cross-image inodes by class in version 2: 220 mounts name 11 leads", () => {
    const input = inputOf(fleet(220));
    const compact = analyze({ ...input, fileTable: 'compact' });
    const full = analyze(input);
    const tc = buildTrustModel(compact, input);
    const tf = buildTrustModel(full, input);
    const nodes = (t: typeof tc) => t.domains.flatMap((d) => d.crossImageInodes);
    expect(nodes(tc).length).toBeGreaterThan(0);
    expect(nodes(tc).length).toBe(nodes(tf).length);
    for (const [k, x] of nodes(tc).entries()) {
      const v1 = nodes(tf)[k]!;
      expect(x.instanceIds).toBeUndefined();
      expect(x.instanceClasses!.length).toBeLessThanOrEqual(11);
      expect(x.instanceCount).toBe(v1.instanceIds!.length);
      expect(crossImageInodeInstanceIds(compact, x)).toEqual(v1.instanceIds);
      // 20 mounts per class: the list names one of every 20 members.
      expect(x.instanceCount).toBe(x.instanceClasses!.length * 20);
    }
  }, 600_000);

  it("is the per-instance table when no instance repeats another's class, without per-row counts", () => {
    // fleet(11): one instance of each class. runCore sees it before its row pass and keeps no
    // counts of rows beside the counts of instances (they would be equal).
    const input = { ...inputOf(fleet(11)), createdAt: '2026-01-01T00:00:00.000Z' };
    const compact = analyze({ ...input, fileTable: 'compact' });
    const full = analyze(input);
    expect(compact.files.rowsOf).toBeUndefined();
    expect(compact.version).toBe(1);
    const columns = groupColumnsOf(compact);
    expect(columns.count).toBeGreaterThan(0);
    expect(columns.memberCount).toBeNull();
    expect(columns.rejectedCount).toBeNull();
    expect(JSON.stringify(compact)).toBe(JSON.stringify(full));
  }, 120_000);

  it('stays per instance under "auto" below the row threshold and with residency data', () => {
    expect(analyze({ ...inputOf(fleet(20)), fileTable: 'auto' }).files.rowsOf).toBeUndefined();
    const r = analyze({ ...inputOf(fleet(20)), fileTable: 'compact', residency: { instances: {} } });
    expect(r.files.rowsOf).toBeUndefined();
    expect(r.version).toBe(1);
  }, 120_000);
});
