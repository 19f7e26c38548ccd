/**
 * `sharemap collect` records what lies behind each EROFS mount (docs/trust.md, lifetime): the
 * backing file of a file-backed mount or of a loop device (from /sys/block/loopN/loop), its owner,
 * mode and immutable attribute (lsattr), and the loop device's direct I/O. `--root` maps /sys and
 * the backing files under the folder, so the test lays out a host with real files: an immutable
 * image, a writable one behind a loop device without direct I/O.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostSnapshot, Report } from '@sharemap/sharing';
import { immutableFromLsattr } from '../src/collect.js';
import { cli, fx, tmp } from './helpers.js';
import { serve } from './server-helpers.js';

const hasFincore = spawnSync('fincore', ['--version']).status === 0;

const MOUNTINFO = [
  '22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
  '101 22 0:51 / /run/images/base-v1 ro,relatime shared:60 - erofs /var/lib/images/base-v1.fp.img ro,user_xattr,acl,inode_share',
  '102 22 7:3 / /run/images/base-v2 ro,relatime shared:61 - erofs /dev/loop3 ro,user_xattr,acl,inode_share',
  '',
].join('\n');

describe('lsattr output', () => {
  it('reads the immutable flag from the flag field, and nothing from other output', () => {
    expect(immutableFromLsattr('----i---------e------- /var/lib/images/a.img\n')).toBe(true);
    expect(immutableFromLsattr('--------------e------- /var/lib/images/a.img\n')).toBe(false);
    // A path holding an "i" does not count; an error message is no flag field.
    expect(immutableFromLsattr('--------------e------- /images/immutable.img\n')).toBe(false);
    expect(immutableFromLsattr('lsattr: Operation not supported While reading flags on /x\n')).toBe(null);
    expect(immutableFromLsattr('')).toBe(null);
  });
});

describe.skipIf(!hasFincore)('sharemap collect: backing files and loop devices', () => {
  let dir: string;
  let root: string;
  let snapshotPath: string;
  let immutableSet = false;

  beforeAll(async () => {
    dir = tmp();
    root = join(dir, 'root');
    mkdirSync(join(root, 'run/images/base-v1'), { recursive: true });
    mkdirSync(join(root, 'run/images/base-v2'), { recursive: true });
    mkdirSync(join(root, 'var/lib/images'), { recursive: true });
    mkdirSync(join(root, 'sys/block/loop3/loop'), { recursive: true });
    const v1 = join(root, 'var/lib/images/base-v1.fp.img');
    const v2 = join(root, 'var/lib/images/base-v2.fp.img');
    copyFileSync(fx('base-v1.fp.img'), v1);
    copyFileSync(fx('base-v2.fp.img'), v2);
    chmodSync(v1, 0o444);
    chmodSync(v2, 0o644);
    // chattr +i needs CAP_LINUX_IMMUTABLE and a file system with the flag (ext4, xfs, btrfs).
    immutableSet = spawnSync('chattr', ['+i', v1]).status === 0;
    // What the kernel shows of loop3: its backing file and that it does not use direct I/O.
    writeFileSync(join(root, 'sys/block/loop3/loop/backing_file'), '/var/lib/images/base-v2.fp.img\n');
    writeFileSync(join(root, 'sys/block/loop3/loop/dio'), '0\n');
    writeFileSync(join(dir, 'host.mountinfo'), MOUNTINFO);
    snapshotPath = join(dir, 'host.snapshot.json');
    const r = await cli([
      'collect',
      '--root',
      root,
      '--mountinfo',
      join(dir, 'host.mountinfo'),
      '--output',
      '-',
    ]);
    expect(r.code).toBe(0);
    writeFileSync(snapshotPath, r.stdout);
  }, 120_000);

  afterAll(() => {
    if (immutableSet) execFileSync('chattr', ['-i', join(root, 'var/lib/images/base-v1.fp.img')]);
  });

  it('records the backing file of a file-backed mount and of a loop device, with owner, mode and direct I/O', () => {
    const snap = JSON.parse(readFileSync(snapshotPath, 'utf8')) as HostSnapshot;
    const uid = process.getuid!();
    const gid = process.getgid!();
    expect(snap.mounts.map((m) => m.backing)).toEqual([
      {
        path: '/var/lib/images/base-v1.fp.img',
        uid,
        gid,
        mode: 0o444,
        ...(spawnSync('lsattr', ['--help']).error ? {} : { immutable: immutableSet }),
      },
      {
        path: '/var/lib/images/base-v2.fp.img',
        loopDevice: '/dev/loop3',
        directIo: false,
        uid,
        gid,
        mode: 0o644,
        ...(spawnSync('lsattr', ['--help']).error ? {} : { immutable: false }),
      },
    ]);
  }, 180_000);

  it('the snapshot as mount configuration carries them into the report and the threat model', async () => {
    const images = [fx('base-v1.fp.img'), fx('base-v2.fp.img')];
    const r = await cli(['analyze', ...images, '--mounts', snapshotPath, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    const uid = process.getuid!();
    const gid = process.getgid!();
    expect(report.instances.map((i) => [i.mountPoints[0], i.source, i.backingFile, i.loopDirectIo])).toEqual([
      [
        '/run/images/base-v1',
        '/var/lib/images/base-v1.fp.img',
        { uid, gid, mode: 0o444, immutable: immutableSet },
        undefined,
      ],
      ['/run/images/base-v2', '/dev/loop3', { uid, gid, mode: 0o644, immutable: false }, false],
    ]);
    const life = report.trust!.lifetime;
    expect(life.backingFiles.map((b) => [b.source, b.state])).toEqual([
      ['/var/lib/images/base-v1.fp.img', immutableSet ? 'immutable' : 'not-immutable'],
      ['/dev/loop3', 'writable'],
    ]);
    expect(life.loopDevices.map((l) => [l.source, l.directIo])).toEqual([['/dev/loop3', false]]);
    const t = await cli(['analyze', ...images, '--mounts', snapshotPath, '--threat-model']);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('Loop devices /dev/loop3');
    expect(t.stdout).toContain('run without direct I/O');
    expect(t.stdout).not.toContain('are not recorded: whether the blobs are immutable is unknown');
  });

  it('uploaded to a server, the stored report carries them too (the snapshot is the mount configuration)', async () => {
    const { server } = await serve(false);
    try {
      const images = [fx('base-v1.fp.img'), fx('base-v2.fp.img')];
      const r = await cli([
        'upload',
        ...images,
        '--mounts',
        snapshotPath,
        '--server',
        server.url,
        '--json',
        '-q',
      ]);
      expect(r.code).toBe(0);
      const { id } = JSON.parse(r.stdout) as { id: string };
      const res = await fetch(`${server.url}/api/reports/${id}`);
      expect(res.status).toBe(200);
      const report = (await res.json()) as Report;
      expect(report.instances.map((i) => [i.source, i.backingFile?.mode, i.loopDirectIo])).toEqual([
        ['/var/lib/images/base-v1.fp.img', 0o444, undefined],
        ['/dev/loop3', 0o644, false],
      ]);
      expect(report.trust!.lifetime.backingFiles.map((b) => b.state)).toEqual([
        immutableSet ? 'immutable' : 'not-immutable',
        'writable',
      ]);
    } finally {
      await server.close();
    }
  }, 180_000);
});
