import { describe, expect, it } from 'vitest';
import { readMountSample } from '../model-fixtures.js';
import {
  createDomainRedactor,
  MountConfigError,
  parseLosetupJson,
  parseMountinfo,
  parseProcMounts,
  resolveInstances,
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
  'edge-mini.chunk4k.blob',
].map((id) => ({
  id,
  name: `${id}.img`,
}));

describe('mountinfo: host.mountinfo', () => {
  const cfg = parseMountinfo(read('host.mountinfo'), { file: 'host.mountinfo' });

  it('yields the seven erofs mounts with unescaped mount points and devices', () => {
    expect(cfg.format).toBe('mountinfo');
    expect(cfg.entries.map((e) => e.mountPoint)).toEqual([
      '/run/images/base-v1',
      '/run/images/base-v2',
      '/run/images/app',
      '/run/images/app (second mount)',
      '/run/images/base-v1-private',
      '/run/images/base-v1-z',
      '/run/images/edge',
    ]);
    expect(cfg.entries.map((e) => e.device)).toEqual(['0:51', '0:52', '7:0', '7:0', '0:53', '0:54', '0:55']);
    expect(cfg.entries.map((e) => e.backing)).toEqual([
      'file',
      'file',
      'bdev',
      'bdev',
      'file',
      'file',
      'file',
    ]);
    expect(cfg.entries[0]!.origin).toEqual({ file: 'host.mountinfo', line: 6, column: 65 });
  });

  it('reads super options per docs/format.md#show-options and the per-mount VFS flags', () => {
    const z = cfg.entries[5]!;
    expect(z.options.directio).toBe(true);
    expect(z.options.cacheStrategy).toBe('readahead');
    expect(z.options.readOnly).toBe(true);
    expect(z.options.generic).toContain('relatime');
    const edge = cfg.entries[6]!;
    expect(edge.options.acl).toBe(false);
    expect(edge.options.cacheStrategy).toBe('disabled');
    expect(cfg.warnings).toEqual([]);
  });

  it('R11 mountinfo never shows domain_id: every domain is unknown', () => {
    for (const e of cfg.entries) {
      expect(e.domain).toBeNull();
      expect(e.domainKnown).toBe(false);
      expect(e.mountError).toBeNull();
    }
  });

  it('inode_share is in effect exactly where printed (docs/format.md#show-options)', () => {
    expect(cfg.entries.map((e) => e.inodeShareEffective)).toEqual([
      true,
      true,
      true,
      true,
      false,
      true,
      false,
    ]);
  });

  it('keeps overlay mounts as context and ignores other file systems', () => {
    expect(cfg.context.map((c) => [c.user, c.lowerdirs])).toEqual([
      ['web-1', ['/run/images/app', '/run/images/base-v1']],
      ['web-2', ['/run/images/app', '/run/images/base-v2']],
      ['batch', ['/run/images/base-v1-z']],
    ]);
    expect(cfg.ignored.map((x) => x.fsType)).toEqual(['ext4', 'proc', 'sysfs', 'devtmpfs', 'tmpfs']);
  });

  it('R9 two mounts of /dev/loop0 are one instance; file-backed mounts of one file are not', () => {
    const loops = parseLosetupJson(read('losetup.json'), { file: 'losetup.json' });
    const { instances, unresolved } = resolveInstances([cfg, loops], IMAGES);
    expect(unresolved).toEqual([]);
    const rows = instances.map((i) => [
      i.id,
      i.imageId,
      i.mountPoints,
      i.backing,
      i.options.inodeShare,
      i.users ?? [],
    ]);
    expect(rows).toEqual([
      ['i1', 'base-v1.fp', ['/run/images/base-v1'], 'file', true, ['web-1']],
      ['i2', 'base-v2.fp', ['/run/images/base-v2'], 'file', true, ['web-2']],
      [
        'i3',
        'app.fp',
        ['/run/images/app', '/run/images/app (second mount)'],
        'bdev',
        true,
        ['web-1', 'web-2'],
      ],
      ['i4', 'base-v1.fp', ['/run/images/base-v1-private'], 'file', false, []],
      ['i5', 'base-v1.fp.lz4hc', ['/run/images/base-v1-z'], 'file', true, ['batch']],
      ['i6', 'edge', ['/run/images/edge'], 'file', false, []],
    ]);
    expect(instances[2]!.device).toBe('7:0');
    expect(instances[4]!.options.directio).toBe(true);
    expect(instances.every((i) => i.domain === null && !i.domainKnown)).toBe(true);
    expect(instances[0]!.inodeShareConfig).toEqual({ effective: true });
    expect(instances[3]!.inodeShareConfig).toMatchObject({ effective: false, reason: 'not-requested' });
  });

  it('without losetup output, /dev/loop0 is reported unresolved with the reason', () => {
    const { instances, unresolved } = resolveInstances([cfg], IMAGES);
    expect(instances).toHaveLength(5);
    expect(unresolved.map((u) => [u.entry.mountPoint, u.reason])).toEqual([
      [
        '/run/images/app',
        'loop device /dev/loop0 has no known backing file (add `losetup --list --json` output or a mapping)',
      ],
      [
        '/run/images/app (second mount)',
        'loop device /dev/loop0 has no known backing file (add `losetup --list --json` output or a mapping)',
      ],
    ]);
    const mapped = resolveInstances([cfg], IMAGES, { mapping: { '/dev/loop0': 'app.fp' } });
    expect(mapped.unresolved).toEqual([]);
    expect(mapped.instances[2]!.mountPoints).toHaveLength(2);
  });

  it('malformed mountinfo line: error names line and column', () => {
    const bad =
      '101 26 0:51 / /run/a ro shared:1 - erofs /img ro\n102 26 0-52 / /run/b ro shared:2 - erofs /img ro\n';
    const err = (() => {
      try {
        parseMountinfo(bad, { file: 'm.info' });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(MountConfigError);
    const e = err as MountConfigError;
    expect([e.code, e.file, e.line, e.column]).toEqual(['malformed-line', 'm.info', 2, 8]);
    expect(e.message).toBe('m.info:2:8: malformed mountinfo line: "0-52" is not major:minor');
    expect(() => parseMountinfo('101 26 0:51 / /run/a ro shared:1 erofs /img ro\n', { file: 'm' })).toThrow(
      'm:1:25: malformed mountinfo line: no "-" separator',
    );
  });

  it('bad option value in mountinfo super options points at the option', () => {
    expect(() =>
      parseMountinfo('1 2 0:5 / /a ro - erofs /i ro,cache_strategy=fast\n', { file: 'x' }),
    ).toThrow('x:1:31: cache_strategy= must be one of disabled, readahead, readaround, got "fast"');
  });
});

describe('proc-mounts: host.mounts', () => {
  const cfg = parseProcMounts(read('host.mounts'), { file: 'host.mounts', domains: createDomainRedactor() });
  it('matches host.mountinfo except for device numbers', () => {
    const info = parseMountinfo(read('host.mountinfo'));
    expect(cfg.entries.map((e) => [e.source, e.mountPoint, e.options.inodeShare, e.backing])).toEqual(
      info.entries.map((e) => [e.source, e.mountPoint, e.options.inodeShare, e.backing]),
    );
    expect(cfg.entries.every((e) => e.device === null && e.domain === null)).toBe(true);
    expect(cfg.context.map((c) => c.user)).toEqual(['web-1', 'web-2', 'batch']);
  });
  it('R9 without major:minor, the same /dev/loop0 source still merges', () => {
    const { instances } = resolveInstances([cfg, parseLosetupJson(read('losetup.json'))], IMAGES);
    expect(instances.map((i) => i.mountPoints.length)).toEqual([1, 1, 2, 1, 1, 1]);
    expect(instances.map((i) => i.users ?? [])).toEqual([
      ['web-1'],
      ['web-2'],
      ['web-1', 'web-2'],
      [],
      ['batch'],
      [],
    ]);
  });
  it('malformed /proc/mounts line', () => {
    expect(() => parseProcMounts('/a /b erofs ro 0\n', { file: 'pm' })).toThrow(
      'pm:1:16: malformed /proc/mounts line: expected 6 fields, found 5',
    );
  });
});

describe('mountinfo: overlay layers (overlay-layers.mountinfo)', () => {
  it('keeps lowerdir+=, datadir+= and classic lowerdir with data-only layers, and resolves each container', () => {
    const cfg = parseMountinfo(read('overlay-layers.mountinfo'), { file: 'overlay-layers.mountinfo' });
    expect(cfg.context.map((c) => [c.user, c.lowerdirs])).toEqual([
      ['api', ['/run/images/app', '/run/images/base-v1']],
      ['worker', ['/run/images/app/usr', '/run/images/base-v2']],
    ]);
    const { instances } = resolveInstances([cfg], IMAGES);
    expect(instances.map((i) => [i.imageId, i.users ?? []])).toEqual([
      ['base-v1.fp', ['api']],
      ['base-v2.fp', ['worker']],
      ['app.fp', ['api', 'worker']],
    ]);
  });
});

describe('losetup --json', () => {
  it('maps /dev/loop0 to app.fp.img', () => {
    const c = parseLosetupJson(read('losetup.json'), { file: 'losetup.json' });
    expect(c.loopDevices).toEqual({ '/dev/loop0': '/var/lib/images/app.fp.img' });
    expect(c.entries).toEqual([]);
  });
  it('rejects a wrong shape with line and column', () => {
    expect(() => parseLosetupJson('{\n  "loopdevices": [ { "name": 3 } ]\n}', { file: 'l.json' })).toThrow(
      'l.json:2:22: "name" must be a /dev path',
    );
  });
});
