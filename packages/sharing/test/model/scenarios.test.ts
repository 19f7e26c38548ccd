import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/model/engine.js';
import { compareReports } from '../../src/model/compare.js';
import { defaultInstances } from '../../src/model/input.js';
import {
  consistentCompression,
  mergeDomains,
  rebuildWithFingerprints,
  runScenarios,
  separateDomains,
  standardScenarios,
  withScenarios,
} from '../../src/model/scenarios.js';
import { fleetInstances, image, inputOf, inst } from '../model-fixtures.js';

describe('scenarios', () => {
  const fleet = inputOf(fleetInstances());

  it('merge-domains puts thirdparty with acme; separate-domains keeps only in-image sharing', () => {
    const merged = analyze(mergeDomains(fleet));
    expect(merged.domains.map((d) => d.label)).toEqual(['merged']);
    // 2,920,448: docs/sharing-rules.md worked example "mounts/fleet.fstab"; merged, app-thirdparty
    // shares with acme's images too.
    expect([analyze(fleet).totals.bytesSaved, merged.totals.bytesSaved]).toEqual([2_920_448, 3_088_384]);
    const sep = analyze(separateDomains(fleet));
    expect(sep.totals.bytesSaved).toBe(0); // no duplicate files within any fleet image
  });

  it('rebuild-with-fingerprints turns on edge.img and fixes serials', () => {
    const input = inputOf([
      inst('a', 'base-v1.fp.serial', 'D1'),
      inst('b', 'base-v2.fp', 'D1'),
      inst('e1', 'edge', 'D1'),
      inst('e2', 'edge', 'D1'),
    ]);
    const before = analyze(input);
    const after = analyze(rebuildWithFingerprints(input));
    expect(after.instances.every((i) => i.inodeShare.effective)).toBe(true);
    expect(after.perInstance['e2']!.bytesSaved).toBe(
      after.perInstance['e2']!.bytesWithoutSharing - 0 - after.perInstance['e2']!.bytesWithSharing,
    );
    // Before: serials never equal sha256 values and edge.img cannot share (worked examples, R3).
    expect([before.totals.bytesSaved, after.totals.bytesSaved]).toEqual([0, 4_833_280]);
    expect(after.findings.some((f) => f.code === 'fingerprint-unverifiable')).toBe(false);
  });

  it('consistent-compression removes R6 splits and the order dependence', () => {
    const input = inputOf([
      inst('a', 'base-v1.fp', 'D1'),
      inst('b', 'base-v1.fp.lz4hc', 'D1'),
      inst('c', 'base-v1.fp', 'D1', { backing: 'bdev' }),
    ]);
    const r = analyze(consistentCompression(input));
    expect(r.totals.bytesWithSharing).toBe(3_784_704);
    expect(r.orderBounds).toBeUndefined();
  });

  it('standard scenarios: one drop-image per image, deltas against the base', () => {
    const base = analyze(fleet);
    const list = standardScenarios(fleet);
    expect(list.filter((s) => s.id.startsWith('drop-image:'))).toHaveLength(fleet.images.length);
    const results = runScenarios(fleet, list, base);
    for (const s of results) expect(s.deltaBytesSaved).toBe(s.totals.bytesSaved - base.totals.bytesSaved);
    const drop = results.find((s) => s.id === 'drop-image:app.fp.lz4hc')!;
    expect(drop.totals.bytesWithoutSharing).toBe(
      base.totals.bytesWithoutSharing - base.perImage['app.fp.lz4hc']!.bytesWithoutSharing,
    );
    const ws = results.find((s) => s.id === 'working-set:0.5')!;
    expect(ws.totals.bytesWithoutSharing).toBeLessThan(base.totals.bytesWithoutSharing);
    expect(ws.totals.bytesWithoutSharing).toBeGreaterThanOrEqual(base.totals.bytesWithoutSharing / 2);
    expect(withScenarios(base, fleet).scenarios).toHaveLength(list.length);
  });

  it('defaultInstances: every image once, file-backed, one domain "default"', () => {
    const images = [image('base-v1.fp'), image('base-v2.fp')];
    const instances = defaultInstances(images.map((x) => x.image));
    expect(instances.map((i) => [i.id, i.imageId, i.domain?.label, i.backing, i.options.inodeShare])).toEqual(
      [
        ['i1', 'base-v1.fp', 'default', 'file', true],
        ['i2', 'base-v2.fp', 'default', 'file', true],
      ],
    );
    expect(analyze({ images, instances }).totals.bytesWithSharing).toBe(6_946_816);
  });
});

describe('compareReports', () => {
  it('lists files that stopped sharing and the bytes lost', () => {
    const base = analyze(inputOf([inst('a', 'base-v1.fp', 'D1'), inst('b', 'base-v2.fp', 'D1')]));
    const next = analyze(inputOf([inst('a', 'base-v1.fp', 'D1'), inst('b', 'base-v2.fp', 'D2')]));
    const d = compareReports(base, next);
    expect(d.totals.delta.bytesSaved).toBe(-(7_602_176 - 6_946_816));
    expect(d.bytesLost).toBe(7_602_176 - 6_946_816);
    expect(d.bytesGained).toBe(0);
    expect(d.startedSharing).toEqual([]);
    expect(d.stoppedSharing.length).toBeGreaterThan(0);
    expect(
      d.stoppedSharing.some((f) => f.image === 'base-v2.fp.img' && f.savedBefore > 0 && f.savedAfter === 0),
    ).toBe(true);
    const back = compareReports(next, base);
    expect(back.bytesGained).toBe(d.bytesLost);
    expect(back.startedSharing.length).toBe(d.stoppedSharing.length);
  });
});
