/**
 * The engine's report keeps its shared inodes as columns until `groups` is read
 * (sharing's group-columns.ts): the files part and the summary written from them are those
 * written from the objects, and writing them makes no objects.
 */
import { describe, expect, it } from 'vitest';
import { analyze, attachedGroupColumns, withTrust, type AnalysisInput } from '@sharemap/sharing';
import { classFleet, fleetInstances, inputOf } from '@sharemap/sharing/testing';
import { decodeFiles, encodeFiles, reportSummary, assembleFiles } from '../src/index.js';

const inputs: [string, () => AnalysisInput][] = [
  ['the fleet', () => inputOf(fleetInstances())],
  ['a compact class fleet', () => ({ ...inputOf(classFleet(44)), fileTable: 'compact' })],
];

describe('report parts from group columns', () => {
  it.each(inputs)('of %s equal those of the objects', (_name, inputFor) => {
    const input = inputFor();
    const fromColumns = withTrust(analyze(input), input);
    const summary = JSON.stringify(reportSummary(fromColumns));
    const files = encodeFiles(fromColumns);
    expect(attachedGroupColumns(fromColumns)).not.toBeNull(); // no objects made above
    const fromObjects = withTrust(analyze(input), input);
    expect(fromObjects.groups.length).toBeGreaterThan(0);
    expect(attachedGroupColumns(fromObjects)).toBeNull(); // read as objects
    expect(summary).toBe(JSON.stringify(reportSummary(fromObjects)));
    expect(Buffer.from(files).equals(Buffer.from(encodeFiles(fromObjects)))).toBe(true);
    expect(assembleFiles(decodeFiles(files.slice().buffer)).groups).toEqual(fromObjects.groups);
  });

  it('keep an orderDependent: false of a decoded report through the files part', () => {
    const report = analyze(inputOf(fleetInstances()));
    const groups = report.groups.map((g, k) => (k === 0 ? { ...g, orderDependent: false } : g));
    const out = assembleFiles(decodeFiles(encodeFiles({ ...report, groups }).slice().buffer));
    expect(out.groups[0]!.orderDependent).toBe(false);
    expect(out.groups).toEqual(groups);
  });
});
