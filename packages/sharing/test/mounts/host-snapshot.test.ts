/**
 * A host snapshot read as a mount configuration, and losetup's DIO column: what they record of
 * the backing files and loop devices reaches the resolved instances (docs/trust.md, lifetime).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { instanceInputOf } from '../../src/analysis-input.js';
import { MountConfigError } from '../../src/mounts/errors.js';
import {
  detectFormat,
  parseMountConfig,
  resolveInstances,
  snapshotMountConfigText,
} from '../../src/mounts/index.js';

const MOUNTS = join(__dirname, '../../../../testdata/mounts');

const MOUNTINFO =
  '101 22 0:51 / /run/images/app ro,relatime shared:60 - erofs /var/lib/images/app.fp.img ro,inode_share\n' +
  '102 22 7:0 / /run/images/base ro,relatime shared:61 - erofs /dev/loop0 ro,inode_share\n';

function snapshot(backings: unknown[]): Record<string, unknown> {
  return {
    kind: 'sharemap-host-snapshot',
    version: 1,
    createdAt: '2026-12-05T18:00:00.000Z',
    host: { kernelRelease: '7.0.0', pageSize: 4096 },
    tool: 'fincore from util-linux 2.38.1',
    mountinfo: MOUNTINFO,
    mounts: [
      {
        mountPoint: '/run/images/app',
        source: '/var/lib/images/app.fp.img',
        overlays: [],
        files: [['/a', 1, 10]],
        unreadable: 0,
        truncated: false,
        backing: backings[0],
      },
      {
        mountPoint: '/run/images/base',
        source: '/dev/loop0',
        overlays: [],
        files: [],
        unreadable: 0,
        truncated: false,
        backing: backings[1],
      },
    ],
  };
}

const images = [
  { id: 'app', name: 'app.fp.img' },
  { id: 'base', name: 'base-v1.fp.img' },
];

describe('host snapshot as a mount configuration', () => {
  it('is detected by its kind, and its backing files and loop devices reach the instances', () => {
    const text = snapshotMountConfigText(
      snapshot([
        { path: '/var/lib/images/app.fp.img', uid: 0, gid: 0, mode: 0o444, immutable: true },
        {
          path: '/var/lib/images/base-v1.fp.img',
          loopDevice: '/dev/loop0',
          directIo: true,
          uid: 1000,
          gid: 100,
          mode: 0o600,
        },
      ]) as never,
    );
    // The residency is left out of the configuration text.
    expect(JSON.parse(text).mounts[0].files).toEqual([]);
    expect(detectFormat(text)).toBe('host-snapshot');
    const config = parseMountConfig(text, { file: 'host.json' });
    expect(config.format).toBe('host-snapshot');
    expect(config.entries.map((e) => [e.mountPoint, e.backing, e.domainKnown])).toEqual([
      ['/run/images/app', 'file', false],
      ['/run/images/base', 'bdev', false],
    ]);
    expect(config.entries[1]!.origin).toMatchObject({ file: 'host.json mountinfo', line: 2 });
    expect(config.loopDevices).toEqual({ '/dev/loop0': '/var/lib/images/base-v1.fp.img' });
    expect(config.loopDirectIo).toEqual({ '/dev/loop0': true });
    const { instances } = resolveInstances([config], images);
    expect(
      instances.map((i) => instanceInputOf(i)).map((i) => [i.imageId, i.backingFile, i.loopDirectIo]),
    ).toEqual([
      ['app', { uid: 0, gid: 0, mode: 0o444, immutable: true }, undefined],
      ['base', { uid: 1000, gid: 100, mode: 0o600 }, true],
    ]);
  });

  it('a snapshot without backing (older collect) still reads, with nothing recorded', () => {
    const config = parseMountConfig(JSON.stringify(snapshot([undefined, undefined])), { file: 'old.json' });
    expect(config.backingFiles).toBeUndefined();
    expect(config.loopDirectIo).toBeUndefined();
    expect(config.loopDevices).toEqual({});
  });

  it.each([
    [{ path: 'relative.img' }, /host\.json:\d+:\d+: "path" must be an absolute path/],
    [{ path: '/x.img', mode: 0o10000 }, /"mode" must be the permission bits/],
    [{ path: '/x.img', uid: -1 }, /"uid" must be an integer between 0 and 4294967294/],
    [{ path: '/x.img', immutable: 'yes' }, /"immutable" must be true or false/],
    [{ path: '/x.img', loopDevice: '/dev/sda' }, /"loopDevice" must be a \/dev\/loopN path/],
  ])('refuses a bad backing %j with its location', (backing, message) => {
    const text = JSON.stringify(snapshot([backing, undefined]), null, 1);
    let err: unknown;
    try {
      parseMountConfig(text, { file: 'host.json' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MountConfigError);
    expect((err as MountConfigError).code).toBe('bad-snapshot');
    expect((err as Error).message).toMatch(message);
  });
});

describe('losetup --list --json: direct I/O', () => {
  it('the fixture (util-linux 2.38, "dio": false) maps loop0 without direct I/O', () => {
    const config = parseMountConfig(readFileSync(join(MOUNTS, 'losetup.json'), 'utf8'), {
      file: 'losetup.json',
    });
    expect(config.loopDirectIo).toEqual({ '/dev/loop0': false });
  });

  it('older releases print "1"/"0"; anything else is refused at its position', () => {
    const list = (dio: unknown): string =>
      JSON.stringify({ loopdevices: [{ name: '/dev/loop7', 'back-file': '/i.img', dio }] }, null, 1);
    expect(parseMountConfig(list('1'), { format: 'losetup-json' }).loopDirectIo).toEqual({
      '/dev/loop7': true,
    });
    expect(parseMountConfig(list('0'), { format: 'losetup-json' }).loopDirectIo).toEqual({
      '/dev/loop7': false,
    });
    expect(() => parseMountConfig(list('on'), { format: 'losetup-json', file: 'l.json' })).toThrow(
      /l\.json:\d+:\d+: "dio" must be true, false, 1, 0, "1" or "0"/,
    );
  });
});
