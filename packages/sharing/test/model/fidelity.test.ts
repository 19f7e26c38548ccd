/**
 * Regression tests of the engine's fidelity to the kernel, each named after the rule it
 * concerns (docs/sharing-rules.md), on the fixture oracles. Each failed on main at 274eee2.
 * The mount side is in ../mounts/fidelity.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '@sharemap/erofs';
import type { AnalysisInput, Report } from '../../src/report.js';
import { createDomainRedactor } from '../../src/mounts/domains.js';
import { renderMarkdown, renderText } from '../../src/render/index.js';
import { withSharingRange } from '../../src/render/common.js';
import { analyze } from '../../src/model/engine.js';
import { assignedDomain } from '../../src/model/input.js';
import { image, inputOf, inst, oracleManifest } from '../model-fixtures.js';

const OPENSSL = '/etc/ssl/openssl.cnf'; // 12,332 bytes (4 pages) in base-v1.fp and base-v2.fp

/** base-v1.fp as image `id` with one file's fingerprint set to `fingerprintHex`. */
function withFingerprint(id: string, path: string, fingerprintHex: string): AnalysisInput['images'][number] {
  const base = image('base-v1.fp');
  const m: Manifest = structuredClone(oracleManifest('base-v1.fp'));
  m.files = m.files.map((f) => (f.path === path ? { ...f, fingerprint: fingerprintHex } : f));
  return { image: { ...base.image, id, name: `${id}.img` }, manifest: m };
}

function rowOf(report: Report, instanceId: string, path: string): number {
  const i = report.instances.findIndex((x) => x.id === instanceId);
  const f = report.paths[report.instances[i]!.imageId]!.indexOf(path);
  for (let r = 0; r < report.files.instance.length; r++)
    if (report.files.instance[r] === i && report.files.file[r] === f) return r;
  throw new Error(`no row for ${instanceId}:${path}`);
}

const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

describe('R4, R12: the sharing key is fingerprint ++ domain id, nothing between', () => {
  // Domain ids "c" and "bc" through a parser's redactor: labels D1, D2; the raw ids stay in it.
  const domains = createDomainRedactor();
  const c = domains.labelFor('c');
  const bc = domains.labelFor('bc');
  const input = (): AnalysisInput => ({
    images: [withFingerprint('fp-ab', OPENSSL, hex('ab')), withFingerprint('fp-a', OPENSSL, hex('a'))],
    instances: [
      { ...inst('x', 'fp-ab', null), domain: c },
      { ...inst('y', 'fp-a', null), domain: bc },
    ],
    createdAt: '2026-01-01T00:00:00.000Z',
    domainSecrets: domains,
  });

  it('fingerprint "ab" in domain "c" and "a" in domain "bc" share one inode across the two domains', () => {
    const r = analyze(input());
    const rx = rowOf(r, 'x', OPENSSL);
    const ry = rowOf(r, 'y', OPENSSL);
    expect([r.files.status[rx], r.files.status[ry]]).toEqual(['shared', 'shared']);
    expect(r.files.group[rx]).toBe(r.files.group[ry]);
    expect(r.groups[r.files.group[rx]!]!.members).toEqual([rx, ry]);
    // Nothing else crosses: two 3,784,704-byte images, 4 pages of openssl.cnf saved.
    expect(r.totals.bytesWithoutSharing).toBe(7_569_408);
    expect(r.totals.bytesWithSharing).toBe(7_569_408 - 4 * 4096);
  });

  it('an error finding names the two domains by label and the files, never the domain ids', () => {
    const r = analyze(input());
    const f = r.findings.find((x) => x.code === 'cross-domain-key-collision')!;
    expect(f.severity).toBe('error');
    expect(f.domains).toEqual(['D1', 'D2']);
    expect(f.rows).toEqual([rowOf(r, 'x', OPENSSL), rowOf(r, 'y', OPENSSL)]);
    expect(f.instanceIds).toEqual(['x', 'y']);
    expect(f.imageIds).toEqual(['fp-ab', 'fp-a']);
    expect(f.bytes).toBe(4 * 4096);
    expect(f.message).toMatch(
      /^Domains D1, D2 share page cache: .* 2 file\(s\) read through one shared inode across the domain boundary \(\/etc\/ssl\/openssl\.cnf, \/etc\/ssl\/openssl\.cnf\)/,
    );
    expect(r.findings[0]!.code).toBe('cross-domain-key-collision'); // errors first
    const json = JSON.stringify(r);
    expect(json).not.toContain(hex('bc'));
    expect(json).not.toContain('"bc"');
    expect(JSON.stringify(r.instances.map((i) => i.domain))).toBe(
      '[{"label":"D1","source":"domain-id"},{"label":"D2","source":"domain-id"}]',
    );
  });

  it('serial-number fingerprints of different lengths (the realistic case), through a parsed fstab', () => {
    // base-v2.fp.serial's openssl.cnf carries "acme-serial:...01"; base-v1.fp.serial's, here,
    // the same without its last byte "1", in domain "1tenant-zeta" against "tenant-zeta".
    const serial = oracleManifest('base-v2.fp.serial').files.find((f) => f.path === OPENSSL)!.fingerprint!;
    expect(serial.endsWith(hex('1'))).toBe(true);
    const v1: AnalysisInput['images'][number] = (() => {
      const base = image('base-v1.fp.serial');
      const m: Manifest = structuredClone(base.manifest);
      m.files = m.files.map((f) => (f.path === OPENSSL ? { ...f, fingerprint: serial.slice(0, -2) } : f));
      return { image: base.image, manifest: m };
    })();
    const redactor = createDomainRedactor();
    const long = redactor.labelFor('1tenant-zeta');
    const short = redactor.labelFor('tenant-zeta');
    const r = analyze({
      images: [v1, image('base-v2.fp.serial')],
      instances: [
        { ...inst('a', 'base-v1.fp.serial', null), domain: long },
        { ...inst('b', 'base-v2.fp.serial', null), domain: short },
      ],
      domainSecrets: redactor,
    });
    expect(r.totals.bytesWithSharing).toBe(7_602_176 - 4 * 4096);
    expect(r.findings.find((x) => x.code === 'cross-domain-key-collision')!.rows).toEqual([
      rowOf(r, 'a', OPENSSL),
      rowOf(r, 'b', OPENSSL),
    ]);
    expect(JSON.stringify(r)).not.toContain('tenant-zeta');
    // Without the secrets the engine cannot compare domain ids and keeps domains apart.
    const { domainSecrets: _, ...blind } = { ...input(), domainSecrets: redactor };
    expect(analyze(blind).findings.some((x) => x.code === 'cross-domain-key-collision')).toBe(false);
  });
});

describe('R5, R6: order-dependent only where read order changes a figure', () => {
  // libz of v2 one byte bigger: one candidate of each size, so whichever reads first saves 0.
  const bigger = (): AnalysisInput['images'][number] => {
    const base = image('base-v2.fp');
    const m: Manifest = structuredClone(base.manifest);
    m.files = m.files.map((f) =>
      f.path === '/lib/x86_64-linux-gnu/libz.so.1.2.13' ? { ...f, size: f.size + 1 } : f,
    );
    return { image: { ...base.image, id: 'v2-size', name: 'v2-size.img' }, manifest: m };
  };

  it('a rejected candidate alone raises no finding and no range', () => {
    const r = analyze({
      images: [image('base-v1.fp'), bigger()],
      instances: [inst('a', 'base-v1.fp', 'acme'), inst('b', 'v2-size', 'acme')],
    });
    expect(r.files.status[rowOf(r, 'b', '/lib/x86_64-linux-gnu/libz.so.1.2.13')]).toBe(
      'private-size-mismatch',
    );
    expect(r.findings.map((f) => f.code)).not.toContain('order-dependent');
    expect(r.orderBounds).toBeUndefined();
    expect(r.groups.some((g) => g.orderDependent)).toBe(false);
    expect(renderText(r)).not.toMatch(/read order/);
    expect(renderMarkdown(r)).not.toMatch(/between/);
  });

  it('two of one size and one of another is order-dependent, with a real range', () => {
    const r = analyze({
      images: [image('base-v1.fp'), bigger()],
      instances: [
        inst('a', 'base-v1.fp', 'acme'),
        inst('a2', 'base-v1.fp', 'acme'),
        inst('b', 'v2-size', 'acme'),
      ],
    });
    const f = r.findings.find((x) => x.code === 'order-dependent')!;
    // libz (121,280 bytes, 30 pages): the two of v1's size save 30 pages if one reads first, 0
    // if v2's reads first.
    expect(f.range!.max - f.range!.min).toBe(30 * 4096);
    expect(f.bytes).toBe(30 * 4096);
  });

  it('a range never reads "between X and X"', () => {
    expect(withSharingRange(7_602_176, 7_602_176)).toBe('with sharing 7.3 MiB');
    expect(withSharingRange(7_602_176, 7_606_272)).toBe('with sharing between 7,602,176 and 7,606,272 bytes');
    expect(withSharingRange(6_946_816, 7_602_176)).toBe('with sharing between 6.6 MiB and 7.3 MiB');
  });
});

describe('R11: unknown-domain bounds', () => {
  it('best considers the unknown instance joining a known domain', () => {
    const r = analyze(inputOf([inst('a', 'base-v1.fp', 'acme'), inst('b', 'base-v2.fp', null)]));
    // Each alone (the report's figures) vs b in acme: the worked figure of v1 + v2 in one domain.
    expect(r.totals.bytesWithSharing).toBe(7_602_176);
    expect(r.bounds!.best.bytesWithSharing).toBe(6_946_816);
    expect(r.bounds!.worst.bytesWithSharing).toBe(7_602_176);
    const f = r.findings.find((x) => x.code === 'domain-unknown')!;
    expect(f.range).toEqual({ min: 6_946_816, max: 7_602_176 });
    expect(f.message).toContain(
      'between 6.6 MiB (6,946,816 bytes) (b in acme, luckiest order) and 7.3 MiB (7,602,176 bytes) (b in new domain 1, unluckiest order)',
    );
  });

  it('worst is the read-order worst, not the input order', () => {
    // In acme: two file-backed mounts of base-v1 and one on a block device (R6). In input order
    // a file-backed one reads first and shares; if the block device reads first, nothing does.
    const r = analyze(
      inputOf([
        inst('f1', 'base-v1.fp', 'acme'),
        inst('f2', 'base-v1.fp', 'acme'),
        inst('blk', 'base-v1.fp', 'acme', { backing: 'bdev' }),
        inst('u', 'app.fp', null),
      ]),
    );
    const without = 3 * 3_784_704 + 1_073_152;
    expect(r.totals.bytesWithoutSharing).toBe(without);
    expect(r.totals.bytesWithSharing).toBe(without - 3_784_704);
    expect(r.bounds!.worst.bytesWithSharing).toBe(without);
    expect(r.bounds!.best.bytesWithSharing).toBeLessThan(r.totals.bytesWithSharing);
  });

  it('bounds that coincide are given as one figure, without a range', () => {
    const r = analyze(inputOf([inst('u', 'base-v1.fp.serial', null)]));
    expect(r.bounds!.best).toEqual(r.bounds!.worst);
    const f = r.findings.find((x) => x.code === 'domain-unknown')!;
    expect(f.range).toBeUndefined();
    expect(f.message).toContain(
      'whatever their domains and the read order, 3.6 MiB (3,784,704 bytes) with sharing',
    );
    expect(renderText(r)).toContain('  unknown domains: with sharing 3.6 MiB');
  });
});

describe('R2: fsoffset must be a multiple of the image block size', () => {
  const at = (fsoffset: number, name = 'base-v1.fp') => {
    const i = inst('a', name, 'acme');
    i.options.fsoffset = fsoffset;
    return analyze(inputOf([i, inst('b', 'base-v2.fp', 'acme')]));
  };

  it('512 on a 4096-byte-block image fails that mount only', () => {
    const r = at(512);
    expect(r.instances[0]!.mountError).toBe(
      'EINVAL: fsoffset 512 is not aligned to block size 4096 of base-v1.fp.img',
    );
    expect(r.perInstance['a']!.bytesWithoutSharing).toBe(0);
    expect(r.perInstance['b']!.bytesWithoutSharing).toBe(3_817_472);
    expect(r.findings.find((f) => f.code === 'mount-failed')!.instanceIds).toEqual(['a']);
  });

  it('a multiple of the block size mounts', () => {
    expect(at(8192).instances[0]!.mountError).toBeUndefined();
    expect(at(8192).totals.bytesWithSharing).toBe(6_946_816);
    expect(at(512, 'edge-mini.b512').instances[0]!.mountError).toBeUndefined();
  });
});

describe("R11, the class: written labels never join the engine's own domains", () => {
  it('"?b" would join the unknown domain of instance b; "(not sharing)" the row of instances that do not share', () => {
    const assigned = inst('a', 'base-v1.fp', '?b');
    expect(() => analyze(inputOf([assigned, inst('b', 'base-v2.fp', null)]))).toThrow(
      'domain label "?b" of /run/images/a is reserved (labels starting with "?" name unknown domains, "(not sharing)" the instances that do not share): choose another label',
    );
    expect(() => analyze(inputOf([inst('a', 'base-v1.fp', '(not sharing)')]))).toThrow(/is reserved/);
  });
});

describe('R11: a user assigning an existing domain joins it (what-if, domainAssignments)', () => {
  it('the domain_id-made D1 is reused, so the instance joins it; a new label is a written one', () => {
    const redactor = createDomainRedactor();
    const a = { ...inst('a', 'base-v1.fp', null), domain: redactor.labelFor('tenant-a') };
    const b = inst('b', 'base-v2.fp', null);
    expect(assignedDomain([a, b], 'D1')).toBe(a.domain);
    expect(assignedDomain([a, b], 'tenant-x')).toEqual({ label: 'tenant-x' });
    const r = analyze(inputOf([a, { ...b, domain: assignedDomain([a, b], 'D1'), domainKnown: true }]));
    expect(r.totals.bytesWithSharing).toBe(6_946_816); // the worked figure of v1 + v2 in one domain
  });
});
