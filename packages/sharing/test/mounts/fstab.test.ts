import { describe, expect, it } from 'vitest';
import { readMountSample } from '../model-fixtures.js';
import { createDomainRedactor, parseFstab, resolveInstances } from '../../src/mounts/index.js';

const IMAGES = [
  'base-v1.fp',
  'base-v2.fp',
  'app.fp',
  'base-v1.fp.lz4hc',
  'base-v2.fp.lz4hc',
  'app.fp.lz4hc',
  'edge',
].map((id) => ({ id, name: `${id}.img` }));
const read = readMountSample;

describe('fstab: fleet.fstab', () => {
  const domains = createDomainRedactor();
  const cfg = parseFstab(read('fleet.fstab'), { file: 'fleet.fstab', domains });
  const byMp = (mp: string) => cfg.entries.find((e) => e.mountPoint === `/run/images/${mp}`)!;

  it('lines 3 and 13 are not erofs: ignored', () => {
    expect(cfg.ignored.map((x) => [x.origin.line, x.mountPoint, x.fsType])).toEqual([
      [3, '/', 'ext4'],
      [13, '/tmp', 'tmpfs'],
    ]);
    expect(cfg.entries.map((e) => e.origin.line)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('lines 4-7 are in domain acme-signed (D1) with sharing requested; line 8 thirdparty is D2', () => {
    for (const mp of ['base-v1', 'base-v2', 'app', 'base-v1-z', 'edge']) {
      expect(byMp(mp).domain).toEqual({ label: 'D1', source: 'domain-id' });
      expect(byMp(mp).options.inodeShare).toBe(true);
      expect(byMp(mp).mountError).toBeNull();
      expect(byMp(mp).inodeShareEffective).toBeNull(); // R3: the image decides
    }
    expect(byMp('app-thirdparty').domain).toEqual({ label: 'D2', source: 'domain-id' });
    expect(byMp('app-thirdparty').options.directio).toBe(true);
    expect(domains.labelFor('acme-signed')).toEqual({ label: 'D1', source: 'domain-id' });
  });

  it('R2 inode_share without domain_id fails with EINVAL', () => {
    const e = byMp('no-domain');
    expect(e.mountError).toEqual({
      errno: 'EINVAL',
      reason: 'no-domain',
      message: 'domain_id is needed when inode_ishare is on',
    });
    expect(e.inodeShareEffective).toBe(false);
  });

  it('R2 inode_share with dax=always fails with EINVAL', () => {
    const e = byMp('with-dax');
    expect(e.options.dax).toBe('always');
    expect(e.mountError).toEqual({
      errno: 'EINVAL',
      reason: 'dax',
      message: 'FSDAX is not allowed when inode_ishare is on',
    });
  });

  it('R2 noauto line is not mounted; domain_id without inode_share is reported', () => {
    const e = byMp('base-v2-z');
    expect(e.notMounted).toBe('noauto');
    expect(e.options.inodeShare).toBe(false);
    expect(e.domain).toEqual({ label: 'D1', source: 'domain-id' });
    expect(cfg.warnings.filter((w) => w.origin.line === 12).map((w) => w.message)).toEqual([
      'fleet.fstab:12:1: domain_id without inode_share shares nothing (R2)',
    ]);
  });

  it('resolves to instances with domains, inode_share states and errors (README table)', () => {
    const { instances, unresolved } = resolveInstances([cfg], IMAGES);
    expect(unresolved).toEqual([]);
    expect(
      instances.map((i) => [
        i.label,
        i.imageId,
        i.domain?.label ?? null,
        i.inodeShareConfig?.effective ?? 'image',
        i.mountError ?? i.notMounted ?? null,
      ]),
    ).toEqual([
      ['/run/images/base-v1', 'base-v1.fp', 'D1', 'image', null],
      ['/run/images/base-v2', 'base-v2.fp', 'D1', 'image', null],
      ['/run/images/app', 'app.fp', 'D1', 'image', null],
      ['/run/images/base-v1-z', 'base-v1.fp.lz4hc', 'D1', 'image', null],
      ['/run/images/app-thirdparty', 'app.fp.lz4hc', 'D2', 'image', null],
      ['/run/images/edge', 'edge', 'D1', 'image', null],
      ['/run/images/no-domain', 'base-v2.fp', null, false, 'domain_id is needed when inode_ishare is on'],
      ['/run/images/with-dax', 'base-v2.fp', 'D1', false, 'FSDAX is not allowed when inode_ishare is on'],
      ['/run/images/base-v2-z', 'base-v2.fp.lz4hc', 'D1', false, 'noauto'],
    ]);
    expect(instances[6]!.inodeShareConfig).toMatchObject({ reason: 'no-domain' });
    expect(instances[7]!.inodeShareConfig).toMatchObject({ reason: 'dax' });
    expect(instances[8]!.inodeShareConfig).toMatchObject({ reason: 'not-mounted' });
    // the six instances that mount (worked example in sharing-rules.md)
    expect(instances.filter((i) => !i.mountError && !i.notMounted)).toHaveLength(6);
    expect(instances.every((i) => i.backing === 'file')).toBe(true);
  });

  it('R11 domain strings never appear in output', () => {
    // "thirdparty" is also part of a mount point (/run/images/app-thirdparty), which is not a secret.
    const out = JSON.stringify([cfg, resolveInstances([cfg], IMAGES)]).replaceAll(
      '/run/images/app-thirdparty',
      '<mp>',
    );
    expect(out).not.toContain('acme-signed');
    expect(out).not.toContain('thirdparty');
  });

  it('bad option value: that mount fails (EINVAL) with line and column, no domain string in the message', () => {
    // The kernel refuses such a mount and mounts the others (docs/sharing-rules.md#r2, fidelity.test.ts).
    const text =
      '/i.img /a erofs ro,inode_share,domain_id=acme-signed,fsoffset=12k 0 0\n/j.img /b erofs ro 0 0\n';
    const c = parseFstab(text, { file: 'f' });
    expect(c.entries[0]!.mountError).toEqual({
      errno: 'EINVAL',
      reason: 'bad-value',
      message:
        'erofs: bad value for fsoffset: fsoffset= must be an unsigned integer number of bytes, got "12k"',
    });
    expect(c.entries[1]!.mountError).toBeNull();
    expect(c.warnings[0]!.message).toBe(
      'f:1:54: fsoffset= must be an unsigned integer number of bytes, got "12k": the kernel refuses the mount (EINVAL)',
    );
    expect(JSON.stringify(c)).not.toContain('acme-signed');
    const flag = parseFstab('/i.img /a erofs inode_share=1 0 0\n', { file: 'f' });
    expect(flag.entries[0]!.mountError?.reason).toBe('bad-value');
    expect(flag.entries[0]!.options.inodeShare).toBe(false);
    expect(flag.warnings[0]!.message).toBe(
      'f:1:17: option inode_share takes no value: the kernel refuses the mount (EINVAL)',
    );
  });

  it('unknown options are kept, reported, and fail the mount like the kernel would', () => {
    const c = parseFstab('/i.img /a erofs ro,frobnicate,domainid=acme-signed 0 0\n', { file: 'f' });
    const e = c.entries[0]!;
    expect(e.options.unknown).toEqual(['frobnicate', 'domainid=<redacted>']);
    expect(e.mountError).toEqual({
      errno: 'EINVAL',
      reason: 'unknown-option',
      message: "erofs: Unknown parameter 'frobnicate'",
    });
    expect(c.warnings.map((w) => w.code)).toEqual(['unknown-option', 'unknown-option', 'mount-failed']);
    expect(JSON.stringify(c)).not.toContain('acme-signed');
  });

  it('option semantics: legacy dax, nodirectio, repeated device=, fsoffset alignment, -o loop', () => {
    const c = parseFstab(
      [
        '/a.img /a erofs dax,directio,nodirectio,device=/b1,device=/b2,fsoffset=0x1000 0 0',
        '/a.img /b erofs fsoffset=100 0 0',
        '/a.img /c erofs loop,ro 0 0',
        '/dev/mapper/v /d erofs directio 0 0',
      ].join('\n'),
      { file: 'f' },
    );
    const [a, b, l, d] = c.entries as [
      (typeof c.entries)[0],
      (typeof c.entries)[0],
      (typeof c.entries)[0],
      (typeof c.entries)[0],
    ];
    expect([a.options.dax, a.options.directio, a.options.devices, a.options.fsoffset, a.mountError]).toEqual([
      'always',
      false,
      ['/b1', '/b2'],
      4096,
      null,
    ]);
    expect(b.mountError?.reason).toBe('fsoffset-unaligned');
    expect([l.backing, l.options.loop, l.options.readOnly]).toEqual(['bdev', true, true]);
    expect(d.backing).toBe('bdev');
    expect(c.warnings.map((w) => w.code)).toEqual(['mount-failed', 'ignored-option']);
  });

  it('malformed fstab line', () => {
    expect(() => parseFstab('# c\n/a /b erofs ro 0 0 extra\n', { file: 'f' })).toThrow(
      'f:2:20: malformed fstab line: expected 3 to 6 fields, found 7',
    );
  });
});
