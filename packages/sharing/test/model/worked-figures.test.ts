/**
 * Every row of the worked-figures table in docs/sharing-rules.md (file-backed mounts, 4 KiB
 * pages, every file fully read), each checked against the table AND against a small
 * reference implementation below that works straight from the oracle records.
 */
import { describe, expect, it } from 'vitest';
import type { Backing } from '../../src/report.js';
import { analyze } from '../../src/model/engine.js';
import { fleetInstances, inputOf, inst, oracleInodes } from '../model-fixtures.js';

interface RefMount {
  image: string;
  domain: string;
  backing?: Backing;
}

/** Reference model, written independently of the engine: docs/format.md#sharing-key pseudo-code, mounts in order. */
function reference(mounts: RefMount[]): { without: number; with: number } {
  let without = 0;
  let withSharing = 0;
  const shared = new Map<string, string>();
  for (const m of mounts) {
    for (const { file: f, eligible } of oracleInodes(m.image)) {
      const bytes = Math.ceil(f.size / 4096) * 4096;
      without += bytes;
      if (!eligible) {
        withSharing += bytes;
        continue;
      }
      const aops = f.layout.startsWith('compressed') ? 'z' : m.backing === 'bdev' ? 'b' : 'f';
      const key = `${f.fingerprint}/${m.domain}`;
      const cls = `${aops}/${f.size}`;
      const first = shared.get(key);
      if (first === undefined) {
        shared.set(key, cls);
        withSharing += bytes;
      } else if (first !== cls) withSharing += bytes;
    }
  }
  return { without, with: withSharing };
}

function check(mounts: RefMount[], without: number, withSharing: number) {
  const ref = reference(mounts);
  expect(ref).toEqual({ without, with: withSharing });
  const report = analyze(
    inputOf(mounts.map((m, k) => inst(`m${k + 1}`, m.image, m.domain, { backing: m.backing ?? 'file' }))),
  );
  expect(report.totals.bytesWithoutSharing).toBe(without);
  expect(report.totals.bytesWithSharing).toBe(withSharing);
  expect(report.totals.bytesSaved).toBe(without - withSharing);
  return report;
}

describe('worked figures (docs/sharing-rules.md)', () => {
  it('base-v1.fp : acme, base-v2.fp : acme', () => {
    check(
      [
        { image: 'base-v1.fp', domain: 'acme' },
        { image: 'base-v2.fp', domain: 'acme' },
      ],
      7_602_176,
      6_946_816,
    );
  });
  it('base-v1.fp : acme twice (two file-backed mounts of one file)', () => {
    check(
      [
        { image: 'base-v1.fp', domain: 'acme' },
        { image: 'base-v1.fp', domain: 'acme' },
      ],
      7_569_408,
      3_784_704,
    );
  });
  it('base-v1.fp : acme, base-v1.fp.lz4hc : acme', () => {
    check(
      [
        { image: 'base-v1.fp', domain: 'acme' },
        { image: 'base-v1.fp.lz4hc', domain: 'acme' },
      ],
      7_569_408,
      5_890_048,
    );
  });
  it('base-v1.fp : acme, base-v2.fp : other', () => {
    check(
      [
        { image: 'base-v1.fp', domain: 'acme' },
        { image: 'base-v2.fp', domain: 'other' },
      ],
      7_602_176,
      7_602_176,
    );
  });
  it('base-v1.fp, base-v2.fp, app.fp : acme', () => {
    check(
      [
        { image: 'base-v1.fp', domain: 'acme' },
        { image: 'base-v2.fp', domain: 'acme' },
        { image: 'app.fp', domain: 'acme' },
      ],
      8_675_328,
      7_434_240,
    );
  });
  it('base-v1.fp on a block device : acme, base-v1.fp file-backed : acme', () => {
    check(
      [
        { image: 'base-v1.fp', domain: 'acme', backing: 'bdev' },
        { image: 'base-v1.fp', domain: 'acme' },
      ],
      7_569_408,
      7_569_408,
    );
  });
  it('base-v1.fp : acme, base-v2.fp.forged : acme', () => {
    const r = check(
      [
        { image: 'base-v1.fp', domain: 'acme' },
        { image: 'base-v2.fp.forged', domain: 'acme' },
      ],
      7_602_176,
      5_967_872,
    );
    expect(r.findings.some((f) => f.code === 'fingerprint-mismatch' && f.severity === 'error')).toBe(true);
  });
  it('base-v1.fp.serial : acme, base-v2.fp.serial : acme', () => {
    check(
      [
        { image: 'base-v1.fp.serial', domain: 'acme' },
        { image: 'base-v2.fp.serial', domain: 'acme' },
      ],
      7_602_176,
      6_946_816,
    );
  });
  it('base-v1.fp.serial : acme, base-v2.fp : acme (serials never equal sha256 values)', () => {
    check(
      [
        { image: 'base-v1.fp.serial', domain: 'acme' },
        { image: 'base-v2.fp', domain: 'acme' },
      ],
      7_602_176,
      7_602_176,
    );
  });
  it('fleet.fstab: the six instances that mount, with order bounds (R6)', () => {
    const mounted: RefMount[] = [
      { image: 'base-v1.fp', domain: 'acme-signed' },
      { image: 'base-v2.fp', domain: 'acme-signed' },
      { image: 'app.fp', domain: 'acme-signed' },
      { image: 'base-v1.fp.lz4hc', domain: 'acme-signed' },
      { image: 'app.fp.lz4hc', domain: 'thirdparty' },
      // edge.img lacks ISHARE_XATTRS: inode_share silently off (R3)
      { image: 'edge', domain: 'acme-signed' },
    ];
    // Reference: every order of the instances; the table gives the range.
    const perms = (xs: RefMount[]): RefMount[][] =>
      xs.length <= 1
        ? [xs]
        : xs.flatMap((x, k) => perms([...xs.slice(0, k), ...xs.slice(k + 1)]).map((p) => [x, ...p]));
    const withs = perms(mounted).map((p) => reference(p));
    expect(new Set(withs.map((w) => w.without))).toEqual(new Set([17_666_048]));
    expect(Math.min(...withs.map((w) => w.with))).toBe(14_745_600);
    expect(Math.max(...withs.map((w) => w.with))).toBe(15_265_792);

    const report = analyze(inputOf(fleetInstances()));
    expect(report.totals.bytesWithoutSharing).toBe(17_666_048);
    expect(report.totals.bytesWithSharing).toBe(reference(mounted).with); // fstab order: plain first
    expect(report.orderBounds?.best.bytesWithSharing).toBe(14_745_600);
    expect(report.orderBounds?.worst.bytesWithSharing).toBe(15_265_792);
    const od = report.findings.find((f) => f.code === 'order-dependent');
    expect(od?.range).toEqual({ min: 14_745_600, max: 15_265_792 });
  }, 120_000);
});

describe('worked figures through the mount parsers', () => {
  it('fleet.fstab parsed by parseMountConfig + resolveInstances gives the same figures', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseMountConfig, resolveInstances } = await import('../../src/mounts/index.js');
    const text = readFileSync(new URL('../../../../testdata/mounts/fleet.fstab', import.meta.url), 'utf8');
    const names = [
      'base-v1.fp',
      'base-v2.fp',
      'app.fp',
      'base-v1.fp.lz4hc',
      'app.fp.lz4hc',
      'edge',
      'base-v2.fp.lz4hc',
    ];
    const { instances } = resolveInstances(
      [parseMountConfig(text, { file: 'fleet.fstab' })],
      names.map((n) => ({ id: n, name: `${n}.img` })),
    );
    const report = analyze(inputOf(instances, names));
    expect(report.totals.bytesWithoutSharing).toBe(17_666_048);
    expect(report.orderBounds?.best.bytesWithSharing).toBe(14_745_600);
    expect(report.orderBounds?.worst.bytesWithSharing).toBe(15_265_792);
    expect(report.bounds).toBeUndefined(); // every domain is known in an fstab
    expect(report.findings.filter((f) => f.code === 'mount-failed')).toHaveLength(2);
    expect(JSON.stringify(report)).not.toMatch(/acme-signed|domain_id=thirdparty/); // R11: labels only
  });
});
