/**
 * What-ifs: unknown domains placed (merge-unknown, domain-per-publisher),
 * the backing-file cache removed (directio, loop-directio), any working-set fraction by id,
 * and compareReports' image- and instance-level differences. Figures: the worked figures of
 * docs/sharing-rules.md.
 */
import { describe, expect, it } from 'vitest';
import { image, inputOf, inst } from '../model-fixtures.js';
import { compareReports } from '../../src/model/compare.js';
import { analyze } from '../../src/model/engine.js';
import { runScenarios, scenarioById, standardScenarios } from '../../src/model/scenarios.js';

describe('unknown-domain scenarios', () => {
  const unknown = inputOf([inst('m1', 'base-v1.fp', null), inst('m2', 'base-v2.fp', null)]);

  it('merge-unknown puts both in one domain: the "base-v1.fp : acme, base-v2.fp : acme" figures', () => {
    expect(analyze(unknown).totals.bytesWithSharing).toBe(7_602_176); // each alone (worst case)
    const r = analyze(scenarioById(unknown, 'merge-unknown').apply(unknown));
    expect(r.totals.bytesWithoutSharing).toBe(7_602_176);
    expect(r.totals.bytesWithSharing).toBe(6_946_816);
    expect(r.bounds).toBeUndefined();
    expect(r.instances.map((i) => i.domain?.label)).toEqual(['unknown-merged', 'unknown-merged']);
  });

  it('domain-per-publisher follows the images publishers', () => {
    const same = { ...unknown, images: [image('base-v1.fp', 'acme'), image('base-v2.fp', 'acme')] };
    expect(analyze(scenarioById(same, 'domain-per-publisher').apply(same)).totals.bytesWithSharing).toBe(
      6_946_816,
    );
    const two = { ...unknown, images: [image('base-v1.fp', 'acme'), image('base-v2.fp', 'other')] };
    const r = analyze(scenarioById(two, 'domain-per-publisher').apply(two));
    expect(r.instances.map((i) => i.domain?.label)).toEqual(['publisher:acme', 'publisher:other']);
    expect(r.totals.bytesWithSharing).toBe(7_602_176);
    // Without publishers, one domain for the images that have none.
    const none = analyze(scenarioById(unknown, 'domain-per-publisher').apply(unknown));
    expect(none.totals.bytesWithSharing).toBe(6_946_816);
  });

  it('are offered only when some domain is unknown; known domains stay', () => {
    const ids = (i: Parameters<typeof standardScenarios>[0]) => standardScenarios(i).map((s) => s.id);
    expect(ids(unknown)).toContain('merge-unknown');
    const known = inputOf([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v2.fp', 'other')]);
    expect(ids(known)).not.toContain('merge-unknown');
    const mixed = inputOf([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v2.fp', null)]);
    const r = analyze(scenarioById(mixed, 'merge-unknown').apply(mixed));
    expect(r.instances.map((i) => i.domain?.label)).toEqual(['acme', 'unknown-merged']);
    expect(r.totals.bytesWithSharing).toBe(7_602_176);
  });
});

describe('backing-file cache scenarios', () => {
  it('report the host total they reach and its change', () => {
    const input = inputOf([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v2.fp', 'acme')]);
    const results = runScenarios(input);
    const dio = results.find((s) => s.id === 'directio')!;
    expect(dio.deltaBytesSaved).toBe(0);
    expect(dio.hostBytesWithSharing).toBe(6_946_816);
    expect(dio.deltaHostBytes).toBe(-(3_538_944 + 3_571_712));
    expect(results.find((s) => s.id === 'loop-directio')!.hostBytesWithSharing).toBe(6_946_816);
    // Nothing to remove when every mount already uses directio.
    const direct = inputOf([inst('m1', 'base-v1.fp', 'acme', { directio: true })]);
    expect(standardScenarios(direct).map((s) => s.id)).not.toContain('directio');
    expect(scenarioById(direct, 'directio').id).toBe('directio');
  });
});

describe('scenarioById', () => {
  const input = inputOf([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v2.fp', 'acme')]);
  it('applies any working-set fraction in (0, 1]', () => {
    const s = scenarioById(input, 'working-set:0.1');
    expect(s.title).toBe('Working set 10 %');
    const r = analyze(s.apply(input));
    expect(r.options.workingSetFraction).toBe(0.1);
    expect(r.totals.bytesWithoutSharing).toBeLessThan(7_602_176);
    expect(scenarioById(input, 'working-set:1').apply(input).options?.workingSetFraction).toBe(1);
  });
  it('refuses unknown ids and bad fractions, naming them', () => {
    expect(() => scenarioById(input, 'working-set:0')).toThrow(
      'scenario "working-set:0": the working-set fraction must be a number in (0, 1]',
    );
    expect(() => scenarioById(input, 'working-set:1.5')).toThrow('must be a number in (0, 1]');
    expect(() => scenarioById(input, 'working-set:')).toThrow('must be a number in (0, 1]');
    expect(() => scenarioById(input, 'working-set:abc')).toThrow('must be a number in (0, 1]');
    expect(() => scenarioById(input, 'nope')).toThrow('unknown scenario "nope"');
  });
});

describe('compareReports: images and instances', () => {
  it('lists added, removed and changed images and instances; changed files explain lost and gained', () => {
    const base = analyze(inputOf([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v2.fp', 'acme')]));
    const next = analyze(inputOf([inst('m1', 'base-v1.fp', 'acme'), inst('m3', 'app.fp', 'acme')]));
    const d = compareReports(base, next);
    expect(d.images.map((x) => [x.name, x.change])).toEqual([
      ['app.fp.img', 'added'],
      ['base-v2.fp.img', 'removed'],
    ]);
    expect(d.instances.map((x) => [x.name, x.change])).toEqual([
      ['/run/images/m2', 'removed'],
      ['/run/images/m3', 'added'],
    ]);
    // base-v1 stays first in both and pays the same: unchanged, not listed.
    const files = [...d.stoppedSharing, ...d.startedSharing, ...d.changedSharing];
    const lost = files.reduce((a, f) => a + Math.max(0, f.savedBefore - f.savedAfter), 0);
    const gained = files.reduce((a, f) => a + Math.max(0, f.savedAfter - f.savedBefore), 0);
    expect([lost, gained]).toEqual([d.bytesLost, d.bytesGained]);
    const same = compareReports(base, base);
    expect([same.images, same.instances, same.changedSharing, same.bytesLost, same.bytesGained]).toEqual([
      [],
      [],
      [],
      0,
      0,
    ]);
  });

  it('an instance whose figures change is "changed" with both figures', () => {
    const base = analyze(inputOf([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v2.fp', 'acme')]));
    const next = analyze(inputOf([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v2.fp', 'other')]));
    const d = compareReports(base, next);
    expect(d.instances).toEqual([
      {
        name: '/run/images/m2',
        change: 'changed',
        before: { bytesWithoutSharing: 3_817_472, bytesWithSharing: 3_817_472 - 655_360 },
        after: { bytesWithoutSharing: 3_817_472, bytesWithSharing: 3_817_472 },
      },
    ]);
    expect(d.images.map((x) => [x.name, x.change])).toEqual([['base-v2.fp.img', 'changed']]);
    expect(d.changedSharing.length + d.stoppedSharing.length).toBeGreaterThan(0);
    expect(d.bytesLost).toBe(655_360);
  });
});
