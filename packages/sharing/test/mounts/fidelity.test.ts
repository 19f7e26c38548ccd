/**
 * Regression tests of fidelity to the kernel for the mount-configuration side, each named after
 * the rule it concerns (docs/sharing-rules.md). Each failed on main at 274eee2.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/model/engine.js';
import { image } from '../model-fixtures.js';
import {
  createDomainRedactor,
  MountConfigError,
  parseFstab,
  parseMountinfo,
  parsePlan,
  resolveInstances,
} from '../../src/mounts/index.js';

const IMAGES = ['base-v1.fp', 'base-v2.fp', 'app.fp'].map((id) => ({ id, name: `${id}.img` }));

const plan = (mounts: object[]): string =>
  JSON.stringify({ kind: 'sharemap-mount-plan', version: 1, mounts }, null, 1);

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('R11: labels of domain_id values and written labels never merge', () => {
  const text = plan([
    {
      source: '/var/lib/images/base-v1.fp.img',
      mountPoint: '/run/a',
      options: 'ro,inode_share,domain_id=tenant-a',
    },
    {
      source: '/var/lib/images/base-v2.fp.img',
      mountPoint: '/run/b',
      options: 'ro,inode_share',
      domain: 'D1',
    },
  ]);

  it('the parser keeps where each label comes from, and never the raw domain id', () => {
    const c = parsePlan(text, { file: 'plan.json' });
    expect(c.entries.map((e) => e.domain)).toEqual([{ label: 'D1', source: 'domain-id' }, { label: 'D1' }]);
    expect(JSON.stringify(c)).not.toContain('tenant-a');
  });

  it('analyze refuses a label that names both, naming both sources', () => {
    const c = parsePlan(text, { file: 'plan.json' });
    const { instances } = resolveInstances([c], IMAGES);
    const err = thrown(() =>
      analyze({ images: [image('base-v1.fp'), image('base-v2.fp')], instances }),
    ) as Error;
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toBe(
      'domain label "D1" is both the label of a domain_id= value (/run/a (plan.json:5:3)) and a label ' +
        'written by hand (/run/b (plan.json:10:3)); a written label cannot name a secret domain_id (R11): ' +
        'rename the written label, or give that mount the domain_id= option instead',
    );
    expect(err.message).not.toContain('tenant-a');
  });

  it('across two configurations too (an fstab and a plan parsed with one redactor)', () => {
    const domains = createDomainRedactor();
    const fstab = parseFstab('/var/lib/images/base-v1.fp.img /run/a erofs ro,inode_share,domain_id=x 0 0\n', {
      file: 'fstab',
      domains,
    });
    const p = parsePlan(
      plan([
        {
          source: '/var/lib/images/base-v2.fp.img',
          mountPoint: '/run/b',
          options: 'inode_share',
          domain: 'D1',
        },
      ]),
      { file: 'p.json', domains },
    );
    const { instances } = resolveInstances([fstab, p], IMAGES);
    expect(() => analyze({ images: [image('base-v1.fp'), image('base-v2.fp')], instances })).toThrow(
      /domain label "D1" is both the label of a domain_id= value \(\/run\/a \(fstab:1:1\)\) and a label written by hand \(\/run\/b \(p\.json:/,
    );
  });
});

describe('R9: contradictory block-device inputs are refused, never folded', () => {
  it('two mounts of one major:minor over different images', () => {
    const text = plan([
      {
        source: '/dev/vdb',
        mountPoint: '/run/a',
        image: 'base-v1.fp',
        backing: 'bdev',
        device: '254:16',
        options: 'ro',
      },
      {
        source: '/dev/vdc',
        mountPoint: '/run/b',
        image: 'base-v2.fp',
        backing: 'bdev',
        device: '254:16',
        options: 'ro',
      },
    ]);
    const err = thrown(() => resolveInstances([parsePlan(text, { file: 'plan.json' })], IMAGES));
    expect(err).toBeInstanceOf(MountConfigError);
    expect((err as MountConfigError).code).toBe('contradictory-mounts');
    expect((err as MountConfigError).message).toBe(
      'plan.json:13:3: /run/b mounts block device 254:16 over image base-v2.fp, but /run/a (plan.json:5:3) ' +
        'mounts the same device over image base-v1.fp; one block device holds one image (R9): fix the device numbers or the image mapping',
    );
  });

  it('two mountinfo lines of one major:minor over different images (by mapping)', () => {
    const text =
      '36 25 7:0 / /run/a ro,relatime - erofs /dev/loop0 ro,inode_share\n' +
      '37 25 7:0 / /run/b ro,relatime - erofs /dev/loop1 ro,inode_share\n';
    const c = parseMountinfo(text, { file: 'mi' });
    expect(() =>
      resolveInstances([c], IMAGES, { mapping: { '/dev/loop0': 'base-v1.fp', '/dev/loop1': 'base-v2.fp' } }),
    ).toThrow(
      'mi:2:40: /run/b mounts block device 7:0 over image base-v2.fp, but /run/a (mi:1:40) mounts the same device over image base-v1.fp',
    );
    // The same image twice on one device is one superblock (R9): folded, as before.
    const same = resolveInstances([c], IMAGES, {
      mapping: { '/dev/loop0': 'base-v1.fp', '/dev/loop1': 'base-v1.fp' },
    });
    expect(same.instances.map((i) => i.mountPoints)).toEqual([['/run/a', '/run/b']]);
  });

  it('backing "bdev" with an anonymous or impossible device number', () => {
    const one = (m: object): unknown =>
      thrown(() => parsePlan(plan([{ source: '/dev/vdb', mountPoint: '/run/a', ...m }]), { file: 'p' }));
    expect((one({ backing: 'bdev', device: '0:51' }) as Error).message).toBe(
      'p:9:4: mounts[0].device: 0:51 is an anonymous device (major 0, a mount without a block device), but "backing" is "bdev"',
    );
    expect((one({ backing: 'file', device: '7:0' }) as Error).message).toMatch(
      /mounts\[0\]\.device: 7:0 is a block device number, but "backing" is "file"/,
    );
    expect((one({ backing: 'bdev', device: '4096:0' }) as Error).message).toMatch(
      /mounts\[0\]\.device: major 4096 of 4096:0 is impossible \(a dev_t major is at most 4095\)/,
    );
    expect((one({ device: '7:1048576' }) as Error).message).toMatch(
      /minor 1048576 of 7:1048576 is impossible \(a dev_t minor is at most 1048575\)/,
    );
    expect(() => parseMountinfo('36 25 9999:0 / /run/a ro - erofs /dev/x ro\n', { file: 'mi' })).toThrow(
      'mi:1:7: malformed mountinfo line: major 9999 of 9999:0 is impossible (a dev_t major is at most 4095)',
    );
  });
});

describe('R2: an empty domain_id= fails that mount only', () => {
  it('the mount fails with the kernel message; the other mounts go on', () => {
    const c = parseFstab(
      '/var/lib/images/base-v1.fp.img /run/a erofs ro,inode_share,domain_id= 0 0\n' +
        '/var/lib/images/base-v2.fp.img /run/b erofs ro,inode_share,domain_id=acme 0 0\n',
      { file: 'f' },
    );
    expect(c.entries[0]!.mountError).toEqual({
      errno: 'EINVAL',
      reason: 'empty-value',
      message: 'erofs: domain_id: Non-empty value required',
    });
    expect(c.entries[0]!.options.domainIdGiven).toBe(false);
    expect(c.entries[1]!.mountError).toBeNull();
    expect(c.warnings.filter((w) => w.code === 'mount-failed').map((w) => w.origin.line)).toEqual([1, 1]);
    const { instances } = resolveInstances([c], IMAGES);
    const r = analyze({ images: [image('base-v1.fp'), image('base-v2.fp')], instances });
    expect(r.instances[0]!.mountError).toBe('EINVAL: erofs: domain_id: Non-empty value required');
    expect(r.perInstance['i1']!.bytesWithoutSharing).toBe(0);
    expect(r.perInstance['i2']!.bytesWithoutSharing).toBe(3_817_472);
    expect(r.findings.filter((f) => f.code === 'mount-failed').map((f) => f.instanceIds)).toEqual([['i1']]);
  });

  it('likewise an empty device= (the same fs_param_is_string rule)', () => {
    const c = parseFstab('/i.img /a erofs ro,device=,inode_share,domain_id=x 0 0\n', { file: 'f' });
    expect(c.entries[0]!.mountError?.message).toBe('erofs: device: Non-empty value required');
    expect(c.entries[0]!.options.devices).toEqual([]);
  });
});
