import { describe, expect, it } from 'vitest';
import type { AnalysisInput } from '../../src/report.js';
import { analyze } from '../../src/model/engine.js';
import { FINDING_DETECTORS } from '../../src/model/findings.js';
import { image, inputOf, inst } from '../model-fixtures.js';

describe('findings', () => {
  it('fingerprint-unverifiable: serial fingerprints, warning when trusted by another image', () => {
    const r = analyze(inputOf([inst('a', 'base-v1.fp.serial', 'D1'), inst('b', 'base-v2.fp.serial', 'D1')]));
    const f = r.findings.filter((x) => x.code === 'fingerprint-unverifiable');
    expect(f).toHaveLength(2);
    expect(f[0]!.severity).toBe('warning');
    expect(f[0]!.message).toContain('base-v2.fp.serial');
    expect(r.findings.some((x) => x.code === 'fingerprint-mismatch')).toBe(false);
  });

  it('mixed-publishers in one domain', () => {
    const input: AnalysisInput = {
      images: [image('base-v1.fp', 'acme'), image('app.fp.lz4hc', 'thirdparty')],
      instances: [inst('a', 'base-v1.fp', 'D1'), inst('b', 'app.fp.lz4hc', 'D1')],
    };
    const f = analyze(input).findings.find((x) => x.code === 'mixed-publishers')!;
    expect(f.domains).toEqual(['D1']);
    expect(f.message).toMatch(/acme.*thirdparty/);
    const separate = analyze({
      ...input,
      instances: [inst('a', 'base-v1.fp', 'D1'), inst('b', 'app.fp.lz4hc', 'D2')],
    });
    expect(separate.findings.some((x) => x.code === 'mixed-publishers')).toBe(false);
  });

  it('unsharable-duplicate: other domain, aops and fingerprint kind, with bytes lost', () => {
    const other = analyze(inputOf([inst('a', 'base-v1.fp', 'D1'), inst('b', 'base-v2.fp', 'D2')]));
    const dom = other.findings.find(
      (x) => x.code === 'unsharable-duplicate' && /different domains/.test(x.message),
    )!;
    // Exactly what the same two images save in one domain.
    expect(dom.bytes).toBe(7_602_176 - 6_946_816);

    const z = analyze(inputOf([inst('a', 'base-v1.fp', 'D1'), inst('b', 'base-v1.fp.lz4hc', 'D1')]));
    const aops = z.findings.find((x) => x.code === 'unsharable-duplicate' && /aops/.test(x.message))!;
    expect(aops.bytes).toBe(5_890_048 - 3_784_704);

    const serial = analyze(inputOf([inst('a', 'base-v1.fp.serial', 'D1'), inst('b', 'base-v2.fp', 'D1')]));
    const fp = serial.findings.find((x) => x.code === 'unsharable-duplicate')!;
    expect(fp.message).toMatch(/different fingerprints/);
    expect(fp.bytes).toBe(7_602_176 - 6_946_816);

    const noFp = analyze(
      inputOf([
        inst('a', 'edge', 'D1', { inodeShare: false }),
        inst('b', 'edge', 'D1', { inodeShare: false }),
      ]),
    );
    expect(noFp.findings.find((x) => x.code === 'unsharable-duplicate')!.message).toMatch(/inode_share/);
  });

  it('unsharable-duplicate: the same digest claimed in upper and lower case is one content, two keys', () => {
    // Unhashed copies of one image, one with its fingerprints in upper case: keys compare the
    // values as given (no sharing across the two), content identity compares the digests.
    const unhashed = (id: string, fp: (v: string) => string): AnalysisInput['images'][number] => {
      const { image: entry, manifest } = image('base-v1.fp');
      const files = manifest.files.map(({ sha256: _, ...f }) => ({
        ...f,
        fingerprint: f.fingerprint === null ? null : fp(f.fingerprint),
      }));
      return {
        image: { ...entry, id, name: id, hashed: false },
        manifest: { ...manifest, hashed: false, files },
      };
    };
    const same = analyze({
      images: [unhashed('lower', (v) => v), unhashed('upper', (v) => v.toUpperCase())],
      instances: [inst('a', 'lower', 'D1'), inst('b', 'upper', 'D1')],
    });
    const f = same.findings.find((x) => x.code === 'unsharable-duplicate')!;
    expect(f.message).toMatch(/different fingerprints/);
    // What the two would save with equal fingerprints: every non-empty file's pages, once.
    const equal = analyze({
      images: [unhashed('lower', (v) => v), unhashed('lower2', (v) => v)],
      instances: [inst('a', 'lower', 'D1'), inst('b', 'lower2', 'D1')],
    });
    expect(same.totals.bytesSaved).toBe(0);
    expect(f.bytes).toBe(equal.totals.bytesSaved);
    expect(f.bytes).toBeGreaterThan(0);
  });

  it('mount-failed and inode-share-ineffective for the fleet', async () => {
    const { fleetInstances } = await import('../model-fixtures.js');
    const r = analyze(inputOf(fleetInstances()));
    const codes = r.findings.map((f) => `${f.code}:${(f.instanceIds ?? []).join(',')}`);
    expect(codes).toContain('mount-failed:no-domain');
    expect(codes).toContain('mount-failed:with-dax');
    expect(codes).toContain('inode-share-ineffective:edge');
    expect(codes.some((c) => c.startsWith('order-dependent'))).toBe(true);
    expect(r.instances.find((i) => i.id === 'base-v2-z')!.inodeShare).toMatchObject({
      effective: false,
      reason: 'not-mounted',
    });
    expect(r.perInstance['base-v2-z']!.bytesWithoutSharing).toBe(0);
    // app-thirdparty duplicates app.fp's content in another domain.
    const dup = r.findings.find(
      (f) => f.code === 'unsharable-duplicate' && /different domains/.test(f.message),
    )!;
    expect(dup.instanceIds).toContain('app-thirdparty');
    expect(r.findings.map((f) => f.severity)).toEqual(
      [...r.findings.map((f) => f.severity)].sort(
        (a, b) => ['error', 'warning', 'info'].indexOf(a) - ['error', 'warning', 'info'].indexOf(b),
      ),
    );
  });

  it('the detector table runs one detector per finding code, in the documented order, each naming its rule', () => {
    expect(FINDING_DETECTORS.map((d) => d.code)).toEqual([
      'mount-failed',
      'inode-share-ineffective',
      'fingerprint-mismatch',
      'fingerprint-unverifiable',
      'mixed-publishers',
      'unsharable-duplicate',
      'cross-domain-key-collision',
      'order-dependent',
      'domain-unknown',
    ]);
    expect(FINDING_DETECTORS.map((d) => d.rule)).toEqual([
      'R2 (the mount fails with EINVAL)',
      'R2, R3',
      'R12',
      'R12',
      'R12 (one domain, one publisher)',
      'R2-R6',
      'R4, R12',
      'R5, R6',
      'R11',
    ]);
  });
});
