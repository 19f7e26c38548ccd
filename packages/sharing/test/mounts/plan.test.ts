import { describe, expect, it } from 'vitest';
import { readMountSample } from '../model-fixtures.js';
import {
  createDomainRedactor,
  detectFormat,
  MountConfigError,
  parseFstab,
  parseMountConfig,
  parseMountinfo,
  parsePlan,
  resolveInstances,
  toPlan,
} from '../../src/mounts/index.js';

const read = readMountSample;
const IMAGES = [
  'base-v1.fp',
  'base-v2.fp',
  'app.fp',
  'base-v1.fp.lz4hc',
  'base-v2.fp.lz4hc',
  'app.fp.lz4hc',
  'edge',
].map((id) => ({ id, name: `${id}.img` }));

const PLAN = `{
  "kind": "sharemap-mount-plan",
  "version": 1,
  "loopDevices": { "/dev/loop0": "/var/lib/images/app.fp.img" },
  "mounts": [
    { "source": "/var/lib/images/base-v1.fp.img", "mountPoint": "/run/images/base-v1", "options": "ro,inode_share,domain_id=acme-signed" },
    { "source": "/dev/loop0", "mountPoint": "/run/images/app", "options": ["ro", "inode_share"], "domain": "acme" },
    { "source": "/dev/loop0", "mountPoint": "/run/images/app2", "options": ["ro", "inode_share"], "domain": "acme" },
    { "source": "/srv/x.img", "mountPoint": "/run/images/x", "image": "edge", "options": "inode_share", "domainUnknown": true },
    { "source": "/srv/y.img", "mountPoint": "/run/images/y", "image": "base-v2.fp", "mounted": false },
    { "source": "overlay", "mountPoint": "/run/containers/web-1/rootfs", "type": "overlay", "lowerdirs": ["/run/images/app", "/run/images/base-v1/usr"] }
  ]
}`;

describe('plan: sharemap-mount-plan v1', () => {
  const cfg = parsePlan(PLAN, { file: 'plan.json', domains: createDomainRedactor() });

  it('reads mounts, domains (labels and redacted ids), image ids and overlays', () => {
    expect(
      cfg.entries.map((e) => [
        e.mountPoint,
        e.domain?.label ?? null,
        e.domainKnown,
        e.backing,
        e.notMounted,
        e.image ?? null,
      ]),
    ).toEqual([
      ['/run/images/base-v1', 'D1', true, 'file', null, null],
      ['/run/images/app', 'acme', true, 'bdev', null, null],
      ['/run/images/app2', 'acme', true, 'bdev', null, null],
      ['/run/images/x', null, false, 'file', null, 'edge'],
      ['/run/images/y', null, true, 'file', 'noauto', 'base-v2.fp'],
    ]);
    expect(cfg.entries[3]!.mountError).toBeNull(); // domain unknown is not "no domain"
    expect(cfg.entries[0]!.origin).toEqual({ file: 'plan.json', line: 6, column: 5 });
  });

  it('R9 resolves the two /dev/loop0 mounts into one instance and attaches overlay users by prefix', () => {
    const { instances, unresolved } = resolveInstances([cfg], IMAGES);
    expect(unresolved).toEqual([]);
    expect(instances.map((i) => [i.imageId, i.mountPoints, i.users ?? []])).toEqual([
      ['base-v1.fp', ['/run/images/base-v1'], ['web-1']],
      ['app.fp', ['/run/images/app', '/run/images/app2'], ['web-1']],
      ['edge', ['/run/images/x'], []],
      ['base-v2.fp', ['/run/images/y'], []],
    ]);
  });

  it('R11 domain strings never appear in output', () => {
    expect(JSON.stringify([cfg, resolveInstances([cfg], IMAGES)])).not.toContain('acme-signed');
  });

  it('bad plan JSON: syntax error with line and column', () => {
    let err: unknown;
    try {
      parsePlan('{\n  "kind": "sharemap-mount-plan",\n  "version": 1\n  "mounts": []\n}', { file: 'p.json' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MountConfigError);
    expect([(err as MountConfigError).code, (err as MountConfigError).message]).toEqual([
      'bad-json',
      'p.json:4:3: invalid JSON: expected "," or "}"',
    ]);
  });

  it('bad plan fields are named with their position', () => {
    const base = (m: string): string => `{"kind":"sharemap-mount-plan","version":1,"mounts":[\n ${m}\n]}`;
    const msg = (m: string): string => {
      try {
        parsePlan(base(m), { file: 'p' });
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(msg('{"mountPoint":"/a"}')).toBe('p:2:2: mounts[0]: "source" is required');
    expect(msg('{"source":"/a.img","mountPoint":"a"}')).toBe(
      'p:2:21: mounts[0].mountPoint: must be an absolute path',
    );
    expect(msg('{"source":"/a.img","mountPoint":"/a","options":7}')).toBe(
      'p:2:39: mounts[0].options: expected a string or an array of strings',
    );
    expect(msg('{"source":"/a.img","mountPoint":"/a","device":"7-0"}')).toBe(
      'p:2:39: mounts[0].device: expected major:minor, e.g. "7:0"',
    );
    expect(msg('{"source":"/a.img","mountPoint":"/a","colour":"red"}')).toBe(
      'p:2:39: mounts[0].colour: unknown field "colour"',
    );
    // A value the kernel refuses fails that mount, at its position (docs/sharing-rules.md#r2).
    expect(msg('{"source":"/a.img","mountPoint":"/a","options":"cache_strategy=x"}')).toBe('no error');
    expect(
      parsePlan(base('{"source":"/a.img","mountPoint":"/a","options":"cache_strategy=x"}'), { file: 'p' })
        .warnings[0]!.message,
    ).toBe(
      'p:2:50: cache_strategy= must be one of disabled, readahead, readaround, got "x": the kernel refuses the mount (EINVAL)',
    );
    expect(
      msg('{"source":"/a.img","mountPoint":"/a","options":"inode_share,domain_id=s3cret","domain":"D9"}'),
    ).toBe('p:2:80: mounts[0].domain: give either "domain" or a domain_id= option, not both');
    expect(() => parsePlan('{"kind":"other","version":1,"mounts":[]}', { file: 'p' })).toThrow(
      'p:1:2: kind: "kind" must be "sharemap-mount-plan"',
    );
    expect(() => parsePlan('{"kind":"sharemap-mount-plan","version":2,"mounts":[]}', { file: 'p' })).toThrow(
      'unsupported version',
    );
  });

  it('toPlan round-trips fstab through a plan without raw domain strings', () => {
    const domains = createDomainRedactor();
    const fstab = parseFstab(read('fleet.fstab'), { domains });
    const plan = toPlan([fstab]);
    const text = JSON.stringify(plan, null, 2);
    expect(text).not.toContain('acme-signed');
    const again = parsePlan(text, { domains });
    expect(
      again.entries.map((e) => [
        e.mountPoint,
        e.domain?.label ?? null,
        e.mountError?.reason ?? null,
        e.notMounted,
      ]),
    ).toEqual(
      fstab.entries.map((e) => [
        e.mountPoint,
        e.domain?.label ?? null,
        e.mountError?.reason ?? null,
        e.notMounted,
      ]),
    );
    const info = toPlan([parseMountinfo(read('host.mountinfo'))]);
    expect(info.mounts[0]).toMatchObject({ domainUnknown: true, device: '0:51', backing: 'file' });
    expect(parsePlan(JSON.stringify(info)).entries.filter((e) => e.mountError)).toEqual([]);
  });
});

describe('detect', () => {
  it('detects every sample format from content and name', () => {
    expect(detectFormat(read('host.mountinfo'))).toBe('mountinfo');
    expect(detectFormat(read('host.mounts'))).toBe('proc-mounts');
    expect(detectFormat(read('fleet.fstab'))).toBe('fstab');
    expect(detectFormat(read('mount-commands.sh'))).toBe('mount-commands');
    expect(detectFormat(read('losetup.json'))).toBe('losetup-json');
    expect(detectFormat(PLAN)).toBe('plan');
    expect(detectFormat(read('units/run-images-app.mount'))).toBe('systemd-unit');
    expect(detectFormat('/a /b erofs ro 0 0\n', 'fstab')).toBe('fstab');
    expect(() => detectFormat('hello world', 'x.txt')).toThrow('x.txt:1:1: cannot tell the format');
  });

  it('parseMountConfig dispatches and shares one redactor across inputs', () => {
    const domains = createDomainRedactor();
    const a = parseMountConfig(read('fleet.fstab'), { file: 'fleet.fstab', domains });
    const b = parseMountConfig(read('mount-commands.sh'), { file: 'mount-commands.sh', domains });
    expect(a.format).toBe('fstab');
    expect(b.format).toBe('mount-commands');
    expect(a.entries[0]!.domain).toEqual(b.entries[0]!.domain);
    expect(a.entries[4]!.domain).toEqual({ label: 'D2', source: 'domain-id' });
  });
});

describe('domains (R11)', () => {
  it('labels in order of first appearance, stable for equal strings, keyed HMAC fingerprints', () => {
    const key = new Uint8Array(32).fill(7);
    const r = createDomainRedactor(key);
    expect([r.labelFor('b'), r.labelFor('a'), r.labelFor('b')]).toEqual([
      { label: 'D1', source: 'domain-id' },
      { label: 'D2', source: 'domain-id' },
      { label: 'D1', source: 'domain-id' },
    ]);
    expect(r.fingerprintOf('a')).toMatch(/^[0-9a-f]{64}$/);
    expect(createDomainRedactor(key).fingerprintOf('a')).toBe(r.fingerprintOf('a'));
    expect(createDomainRedactor().fingerprintOf('a')).not.toBe(r.fingerprintOf('a'));
    expect(JSON.stringify(r.entries())).not.toMatch(/"a"|"b"/);
    const seeded = createDomainRedactor(key, r.entries());
    expect(seeded.labelFor('a')).toEqual({ label: 'D2', source: 'domain-id' });
    expect(seeded.labelFor('c')).toEqual({ label: 'D3', source: 'domain-id' });
  });

  it('R11 domain strings never appear in output of any sample, warning or error', () => {
    const domains = createDomainRedactor();
    const outs = [
      parseFstab(read('fleet.fstab'), { domains }),
      parseMountConfig(read('mount-commands.sh'), { file: 'mount-commands.sh', domains }),
      parseMountConfig(read('units/run-images-app.mount'), { file: 'run-images-app.mount', domains }),
    ];
    const text = JSON.stringify([outs, resolveInstances(outs, IMAGES)]).replaceAll(
      '/run/images/app-thirdparty',
      '<mp>',
    );
    expect(text).not.toContain('acme-signed');
    expect(text).not.toContain('thirdparty');
    for (const bad of [
      '/a /b erofs domain_id=acme-signed,domain_id=acme-signed,dax=maybe 0 0',
      '/a /b erofs domain_id=thirdparty,bogus=thirdparty x',
    ]) {
      try {
        parseFstab(bad, { file: 'f' });
      } catch (e) {
        expect((e as Error).message).not.toMatch(/acme-signed|thirdparty/);
      }
    }
  });
});
