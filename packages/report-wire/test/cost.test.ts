/** The summary carries the report's cost (host total, fair shares, containers: sharing's model/cost.ts) as is. */
import { describe, expect, it } from 'vitest';
import { analyze } from '@sharemap/sharing';
import { fleetInstances, inputOf } from '@sharemap/sharing/testing';
import { reportSummary } from '../src/summary.js';

describe('summary: cost', () => {
  it('is the report cost, through JSON, with the worked fleet.fstab figure for fair shares', () => {
    const users = ['web', 'api'];
    const report = analyze(
      inputOf(fleetInstances().map((i, k) => (k < 3 ? { ...i, users: users.slice(0, k === 2 ? 2 : 1) } : i))),
    );
    const summary = JSON.parse(JSON.stringify(reportSummary(report))) as ReturnType<typeof reportSummary>;
    expect(summary.cost).toEqual(report.cost);
    // fleet.fstab: 14,745,600 bytes with sharing (docs/sharing-rules.md), split by fair share.
    const fair = Object.values(summary.cost!.perInstance).reduce((a, c) => a + c.fairBytes, 0);
    expect(fair).toBe(14_745_600);
    expect(summary.cost!.containers.map((c) => c.name)).toEqual(['api', 'web']);
  });
});
