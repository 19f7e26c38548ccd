/**
 * The engine's shared inodes as columns (src/model/group-columns.ts): `report.groups` made from
 * them on first read, the columns dropped then, and the readers of columns (trust model, cost)
 * giving what they give on the objects of a report read back (groupColumnsFromObjects).
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/model/engine.js';
import { costOf } from '../../src/model/cost.js';
import {
  attachedGroupColumns,
  groupColumnsFromObjects,
  groupColumnsOf,
  groupObjects,
} from '../../src/model/group-columns.js';
import { buildTrustModel } from '../../src/trust/model.js';
import type { AnalysisInput } from '../../src/report.js';
import { classFleet, fleetInstances, inputOf } from '../model-fixtures.js';

const inputs: [string, () => AnalysisInput][] = [
  ['the fleet (per-instance table)', () => inputOf(fleetInstances())],
  [
    'a class fleet of 44 mounts (compact table)',
    () => ({ ...inputOf(classFleet(44)), fileTable: 'compact' }),
  ],
];

describe('group columns', () => {
  it.each(inputs)('make the groups of %s on first read, then stand aside', (_name, inputFor) => {
    const report = analyze(inputFor());
    const columns = attachedGroupColumns(report);
    expect(columns).not.toBeNull();
    expect(groupColumnsOf(report)).toBe(columns);
    const made = groupObjects(columns!);
    const groups = report.groups;
    expect(groups).toEqual(made);
    expect(report.groups).toBe(groups); // made once
    expect(attachedGroupColumns(report)).toBeNull();
    // Object.keys order kept: `groups` where the report literal put it.
    expect(Object.keys(report)).toEqual(Object.keys(analyze(inputFor())));
    // A copy reads the objects, not the columns.
    const other = analyze(inputFor());
    const copy = { ...other };
    expect(attachedGroupColumns(copy)).toBeNull();
    expect(copy.groups).toEqual(made);
    // Objects -> columns -> objects is the identity.
    expect(groupObjects(groupColumnsFromObjects(groups))).toEqual(groups);
  });

  it('cover what the objects carry: counts of a compact table, order dependence, rejected rows', () => {
    const fleet = analyze(inputOf(fleetInstances())).groups;
    const compact = analyze({ ...inputOf(classFleet(44)), fileTable: 'compact' }).groups;
    expect(compact.some((g) => g.memberCount !== undefined)).toBe(true);
    expect([...fleet, ...compact].some((g) => g.rejected.length > 0)).toBe(true);
    expect([...fleet, ...compact].some((g) => g.orderDependent === true)).toBe(true);
  });

  it.each(inputs)('give the trust model and cost of %s that its objects give', (_name, inputFor) => {
    const input = inputFor();
    const fromColumns = analyze(input);
    const trust = buildTrustModel(fromColumns, input);
    const cost = costOf(fromColumns);
    expect(attachedGroupColumns(fromColumns)).not.toBeNull(); // nothing above made objects
    const fromObjects = analyze(input);
    // A report whose groups are plain objects (as a decoded one), columns made from them.
    const plain = { ...fromObjects };
    expect(attachedGroupColumns(plain)).toBeNull();
    expect(trust).toEqual(buildTrustModel(plain, input));
    expect(cost).toEqual(costOf(plain));
    expect(cost).toEqual(fromObjects.cost);
  });
});
