/** One test per sharing rule (docs/sharing-rules.md R1-R12), on the real fixture oracles. */
import { describe, expect, it } from 'vitest';
import type { Manifest, Nid } from '@sharemap/erofs';
import type { AnalysisInput, FileStatus, Report } from '../../src/report.js';
import { analyze } from '../../src/model/engine.js';
import { explainFile } from '../../src/model/explain.js';
import { image, inputOf, inst, oracleManifest } from '../model-fixtures.js';

function rowOf(report: Report, instanceId: string, path: string): number {
  const i = report.instances.findIndex((x) => x.id === instanceId);
  const inst = report.instances[i]!;
  const f = report.paths[inst.imageId]!.indexOf(path);
  for (let r = 0; r < report.files.instance.length; r++)
    if (report.files.instance[r] === i && report.files.file[r] === f) return r;
  throw new Error(`no row for ${instanceId}:${path}`);
}

function statuses(report: Report, instanceId: string): Map<FileStatus, number> {
  const i = report.instances.findIndex((x) => x.id === instanceId);
  const out = new Map<FileStatus, number>();
  report.files.status.forEach((s, r) => {
    if (report.files.instance[r] === i) out.set(s, (out.get(s) ?? 0) + 1);
  });
  return out;
}

/** A copy of a fixture's manifest with some records changed. */
function variant(
  name: string,
  id: string,
  change: (m: Manifest) => Manifest,
): AnalysisInput['images'][number] {
  const base = image(name);
  const manifest = change(structuredClone(oracleManifest(name)));
  return { image: { ...base.image, id, name: `${id}.img` }, manifest };
}

describe('sharing rules', () => {
  it('R1 directories and symlinks never share', () => {
    const r = analyze(inputOf([inst('a', 'edge.zstd.fp', 'D1'), inst('b', 'edge.zstd.fp', 'D1')]));
    const m = oracleManifest('edge.zstd.fp');
    const nonRegular = m.files.filter((f) => f.type !== 'file').length;
    expect(statuses(r, 'b').get('private-not-regular')).toBe(nonRegular);
    for (const path of [
      '/',
      '/links',
      m.files.find((f) => f.type === 'symlink')!.path,
      m.files.find((f) => f.type === 'chr')!.path,
    ]) {
      const row = rowOf(r, 'b', path);
      expect(r.files.status[row]).toBe('private-not-regular');
      expect(r.files.pagesWithout[row]).toBe(0);
      expect(explainFile(r, row)).toMatch(/R1/);
    }
    expect(r.files.status[rowOf(r, 'b', '/exact4096')]).toBe('shared');
  });

  it('R2 inode_share needs domain_id, dax=always fails the mount, domain_id alone shares nothing', () => {
    const r = analyze(
      inputOf([
        inst('ok', 'base-v1.fp', 'D1'),
        inst('no-domain', 'base-v1.fp', null, { domainIdGiven: false }),
        inst('dax', 'base-v1.fp', 'D1', { dax: 'always' }),
        inst('domain-only', 'base-v1.fp', 'D1', { inodeShare: false }),
      ]),
    );
    const byId = Object.fromEntries(r.instances.map((x) => [x.id, x]));
    expect(byId['no-domain']!.mountError).toMatch(/EINVAL/);
    expect(byId['dax']!.mountError).toMatch(/EINVAL.*dax=always/);
    expect(r.perInstance['no-domain']!.bytesWithoutSharing).toBe(0);
    expect(r.perInstance['dax']!.bytesWithoutSharing).toBe(0);
    expect(byId['domain-only']!.inodeShare).toMatchObject({ effective: false, reason: 'not-requested' });
    expect(r.perInstance['domain-only']!.bytesSaved).toBe(0);
    expect(r.perInstance['domain-only']!.bytesWithoutSharing).toBe(3_784_704);
    expect(r.totals.bytesWithSharing).toBe(2 * 3_784_704);
    expect(r.findings.filter((f) => f.code === 'mount-failed').map((f) => f.instanceIds)).toEqual([
      ['no-domain'],
      ['dax'],
    ]);
    expect(explainFile(r, rowOf(r, 'domain-only', '/usr/bin/openssl'))).toMatch(/no inode_share.*R2/);
    expect(explainFile(r, rowOf(r, 'dax', '/usr/bin/openssl'))).toMatch(/mount fails/);
  });

  it('R3 image without ISHARE_XATTRS silently turns inode_share off', () => {
    const r = analyze(inputOf([inst('e1', 'edge', 'D1'), inst('e2', 'edge', 'D1')]));
    expect(r.instances[0]!.inodeShare).toMatchObject({ effective: false, reason: 'no-ishare-compat' });
    expect(r.instances[0]!.mountError).toBeUndefined();
    expect(r.totals.bytesSaved).toBe(0);
    expect(r.totals.bytesWithoutSharing).toBe(2 * 4_132_864); // edge.img's file data, twice
    const f = r.findings.filter((x) => x.code === 'inode-share-ineffective');
    expect(f).toHaveLength(2);
    expect(f[0]!.message).toMatch(/R3/);
    expect(explainFile(r, rowOf(r, 'e2', '/exact4096'))).toMatch(/silently.*R3/);
  });

  it('R4 missing, empty and oversized fingerprints stay private', () => {
    const changed = variant('base-v1.fp', 'v1-mod', (m) => {
      const files = m.files.map((f) => {
        if (f.path === '/usr/bin/openssl') return { ...f, fingerprint: '' };
        if (f.path === '/lib/x86_64-linux-gnu/libz.so.1.2.13')
          return { ...f, fingerprint: 'ab'.repeat(4097) };
        if (f.path === '/lib/x86_64-linux-gnu/libexpat.so.1.8.10') return { ...f, fingerprint: null };
        return f;
      });
      return { ...m, files };
    });
    const input: AnalysisInput = {
      images: [image('base-v1.fp'), changed],
      instances: [inst('a', 'base-v1.fp', 'D1'), { ...inst('b', 'v1-mod', 'D1') }],
    };
    const r = analyze(input);
    for (const p of [
      '/usr/bin/openssl',
      '/lib/x86_64-linux-gnu/libz.so.1.2.13',
      '/lib/x86_64-linux-gnu/libexpat.so.1.8.10',
    ]) {
      const row = rowOf(r, 'b', p);
      expect(r.files.status[row]).toBe('private-no-fingerprint');
      expect(r.files.pagesWith[row]).toBe(r.files.pagesWithout[row]);
      expect(explainFile(r, row)).toMatch(/R4/);
    }
    // Empty files never get a fingerprint from mkfs (edge.zstd.fp has some).
    const e = analyze(inputOf([inst('z', 'edge.zstd.fp', 'D1')]));
    const empty = rowOf(e, 'z', '/empty');
    expect(e.files.status[empty]).toBe('private-no-fingerprint');
    expect(e.files.pagesWithout[empty]).toBe(0);
  });

  it('R5 size mismatch stays private', () => {
    const bigger = variant('base-v2.fp', 'v2-size', (m) => ({
      ...m,
      files: m.files.map((f) =>
        f.path === '/lib/x86_64-linux-gnu/libz.so.1.2.13' ? { ...f, size: f.size + 1 } : f,
      ),
    }));
    const input: AnalysisInput = {
      images: [image('base-v1.fp'), bigger],
      instances: [inst('a', 'base-v1.fp', 'D1'), inst('b', 'v2-size', 'D1')],
    };
    const r = analyze(input);
    const row = rowOf(r, 'b', '/lib/x86_64-linux-gnu/libz.so.1.2.13');
    expect(r.files.status[row]).toBe('private-size-mismatch');
    const size = r.files.size[row]!;
    expect(explainFile(r, row)).toContain(`size ${size} differs from first member's ${size - 1}`);
    expect(explainFile(r, row)).toMatch(/R5/);
    // One file of each size: whichever reads first, nothing is saved, so read order cannot
    // matter and there is no order-dependent finding (docs/sharing-rules.md#r6).
    expect(r.findings.some((f) => f.code === 'order-dependent')).toBe(false);
    expect(r.orderBounds).toBeUndefined();
  });

  it('R6 compressed, block-device and file-backed files never share with each other', () => {
    const r = analyze(
      inputOf([
        inst('plain', 'base-v1.fp', 'D1'),
        inst('z', 'base-v1.fp.lz4hc', 'D1'),
        inst('bdev', 'base-v1.fp', 'D1', { backing: 'bdev' }),
      ]),
    );
    const z = oracleManifest('base-v1.fp.lz4hc');
    const compressed = z.files.find((f) => f.layout === 'compressed_compact')!;
    const plainInZ = z.files.find(
      (f) => f.type === 'file' && f.layout !== 'compressed_compact' && f.size > 0,
    )!;
    expect(r.files.status[rowOf(r, 'z', compressed.path)]).toBe('private-aops-mismatch');
    expect(r.files.status[rowOf(r, 'z', plainInZ.path)]).toBe('shared');
    expect(r.files.status[rowOf(r, 'bdev', plainInZ.path)]).toBe('private-aops-mismatch');
    expect(explainFile(r, rowOf(r, 'z', compressed.path))).toMatch(/R6/);
    const g = r.groups[r.files.group[rowOf(r, 'z', compressed.path)]!]!;
    expect(g.aops).toBe('file-backed');
  });

  it('R7 pages are ceil(size / page size) whatever the EROFS block size', () => {
    for (const name of ['edge-mini.b512', 'edge-mini.b16k']) {
      const m = oracleManifest(name);
      const seen = new Set<Nid>();
      let pages = 0;
      for (const f of m.files) {
        if (f.type !== 'file' || seen.has(f.nid)) continue;
        seen.add(f.nid);
        pages += Math.ceil(f.size / 4096);
      }
      const r = analyze(inputOf([inst('x', name, null, { inodeShare: false })]));
      expect(r.totals.pagesWithoutSharing).toBe(pages);
      expect(r.totals.bytesWithoutSharing).toBe(pages * 4096);
    }
    const r16 = analyze({
      ...inputOf([inst('x', 'edge-mini.b512', null, { inodeShare: false })]),
      options: { pageSize: 16384 },
    });
    expect(r16.files.pagesWithout[rowOf(r16, 'x', '/b16385')]).toBe(2);
  });

  it('R8 backing-file caches are separate lines, outside the sharing totals', () => {
    const r = analyze(
      inputOf([
        inst('a', 'base-v1.fp', 'D1'),
        inst('b', 'base-v2.fp', 'D1', { directio: true }),
        inst('c', 'app.fp', 'D1', { backing: 'bdev' }),
      ]),
    );
    expect(r.unsharedCaches.map((l) => [l.instanceId, l.kind])).toEqual([['a', 'backing-file']]);
    expect(r.unsharedCaches[0]!.bytes).toBe(3_538_944); // the image file
    const sum = Object.values(r.perInstance).reduce((a, t) => a + t.bytesWithoutSharing, 0);
    expect(sum).toBe(r.totals.bytesWithoutSharing);
  });

  it('R9 file-backed mounts of one image file are separate superblocks; one bdev superblock counts once', () => {
    const two = analyze(
      inputOf([
        inst('a', 'base-v1.fp', null, { inodeShare: false }),
        inst('b', 'base-v1.fp', null, { inodeShare: false }),
      ]),
    );
    expect(two.totals.bytesWithoutSharing).toBe(2 * 3_784_704);
    const loop = inst('loop0', 'base-v1.fp', null, { backing: 'bdev', inodeShare: false });
    loop.mountPoints = ['/run/a', '/run/b'];
    const one = analyze(inputOf([loop]));
    expect(one.totals.bytesWithoutSharing).toBe(3_784_704);
    // The backing-file cache of one image file is counted once for two mounts of it.
    const sharedShareOff = two.unsharedCaches.map((l) => l.bytes);
    expect(sharedShareOff).toEqual([3_538_944, 0]);
  });

  it('R10 hard links count once; identical files in one image share', () => {
    const r = analyze(inputOf([inst('z', 'edge.zstd.fp', 'D1')]));
    const links = ['/hl_c_toplevel', '/links/hl_a', '/links/hl_b'].map((p) => rowOf(r, 'z', p));
    expect(links.map((x) => r.files.status[x])).toEqual(['shared-alone', 'hardlink', 'hardlink']);
    expect(r.files.hardlinks.primary).toEqual([links[0], links[0]]);
    expect(explainFile(r, links[1]!)).toContain('/hl_c_toplevel');
    const dup = ['/dup/a.dat', '/dup/b.dat', '/dup/sub/c.dat'].map((p) => rowOf(r, 'z', p));
    expect(dup.map((x) => r.files.status[x])).toEqual(['shared', 'shared', 'shared']);
    expect(dup.map((x) => r.files.pagesWith[x])).toEqual([3, 0, 0]);
    const m = oracleManifest('edge.zstd.fp');
    const inodeBytes = new Map(
      m.files.filter((f) => f.type === 'file').map((f) => [f.nid, Math.ceil(f.size / 4096)]),
    );
    expect(r.totals.pagesWithoutSharing).toBe([...inodeBytes.values()].reduce((a, b) => a + b, 0));
  });

  it('R11 unknown domains give bounds, never raw domain ids', () => {
    const r = analyze(
      inputOf([inst('a', 'base-v1.fp', null), inst('b', 'base-v2.fp', null), inst('c', 'app.fp', 'D1')]),
    );
    expect(r.instances[0]!.inodeShare).toEqual({ effective: true, domainUnknown: true });
    expect(r.domains.map((d) => d.label)).toEqual(['?a', '?b', 'D1']);
    expect(r.bounds!.worst).toEqual(r.totals);
    // Best: a and b join D1 with app (the worked figure of v1 + v2 + app in one domain), more
    // than v1 + v2 in a domain of their own (6,946,816 + 1,073,152): docs/sharing-rules.md#unknown-domain-bounds.
    expect(r.bounds!.best.bytesWithSharing).toBe(7_434_240);
    expect(r.totals.bytesWithSharing).toBe(7_602_176 + 1_073_152);
    const f = r.findings.find((x) => x.code === 'domain-unknown')!;
    expect(f.range).toEqual({ min: r.bounds!.best.bytesWithSharing, max: r.totals.bytesWithSharing });
    expect(explainFile(r, rowOf(r, 'a', '/usr/bin/openssl'))).toMatch(/unknown/);
  });

  it('R12 forged fingerprint shares and is flagged', () => {
    const r = analyze(
      inputOf([
        inst('v1', 'base-v1.fp', 'D1'),
        inst('forged', 'base-v2.fp.forged', 'D1'),
        inst('other', 'app.fp', 'D2'),
      ]),
    );
    const row = rowOf(r, 'forged', '/usr/bin/openssl');
    expect(r.files.status[row]).toBe('shared');
    expect(r.files.pagesWith[row]).toBe(0);
    const f = r.findings.find((x) => x.code === 'fingerprint-mismatch')!;
    expect(f.severity).toBe('error');
    expect(f.message).toContain('/usr/bin/openssl');
    expect(f.message).toContain('base-v1.fp');
    expect(f.message).toMatch(/R12/);
    expect(f.imageIds).toEqual(['base-v2.fp.forged', 'base-v1.fp']);
    expect(f.rows).toEqual([row]);
    expect(f.bytes).toBe(Math.ceil(976_136 / 4096) * 4096);
    expect(r.findings[0]!.code).toBe('fingerprint-mismatch'); // errors first
  });
});
