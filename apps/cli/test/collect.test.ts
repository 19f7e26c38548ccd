/**
 * `sharemap collect --root`: fixture images extracted with the repo's own reader into a tree
 * laid out as a mount table says, page cache dropped, a few files read whole, then the
 * snapshot and the report it gives are checked against a hand calculation.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { openImageFile } from '@sharemap/erofs/node';
import type { HostSnapshot, Report } from '@sharemap/sharing';
import { cli, fx, tmp } from './helpers.js';

const LIBCAP = '/lib/x86_64-linux-gnu/libcap.so.2.66'; // 47128 bytes = 12 pages, same fingerprint in v1 and v2
const EXPAT = '/lib/x86_64-linux-gnu/libexpat.so.1.8.10'; // v2: 186472 bytes = 46 pages, differs from v1
const hasFincore = spawnSync('fincore', ['--version']).status === 0;

/** Extracts an image's directories, regular files and symlinks under `dest` with packages/erofs. */
async function extract(image: string, dest: string): Promise<void> {
  const { image: img, close } = await openImageFile(image);
  try {
    const visit = async (path: string): Promise<void> => {
      for (const ent of await img.readdir(path, { withFileTypes: true })) {
        const p = path === '/' ? `/${ent.name}` : `${path}/${ent.name}`;
        if (ent.isDirectory()) {
          mkdirSync(join(dest, p), { recursive: true });
          await visit(p);
        } else if (ent.isFile()) writeFileSync(join(dest, p), await img.readFile(p));
        else if (ent.isSymbolicLink()) symlinkSync(await img.readlink(p), join(dest, p));
      }
    };
    mkdirSync(dest, { recursive: true });
    await visit('/');
  } finally {
    await close();
  }
}

/** Drops the page cache of every regular file under `dir` (write back, then POSIX_FADV_DONTNEED via dd). */
function dropCache(dir: string): void {
  execFileSync('sync');
  execFileSync('find', [
    dir,
    '-type',
    'f',
    '-exec',
    'dd',
    'if={}',
    'iflag=nocache',
    'count=0',
    'status=none',
    ';',
  ]);
}

const MOUNTINFO = [
  '22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
  '101 22 0:51 / /run/images/base-v1 ro,relatime shared:60 - erofs /var/lib/images/base-v1.fp.img ro,user_xattr,acl,inode_share',
  '102 22 0:52 / /run/images/base-v2 ro,relatime shared:61 - erofs /var/lib/images/base-v2.fp.img ro,user_xattr,acl,inode_share',
  '107 22 0:55 / /run/images/edge ro,relatime shared:66 - erofs /var/lib/images/edge.img ro,noacl',
  '110 22 0:60 / /run/containers/web-1/rootfs rw,relatime shared:70 - overlay overlay rw,lowerdir=/run/images/base-v1,upperdir=/u,workdir=/w',
  '',
].join('\n');
const FSTAB = [
  '/var/lib/images/base-v1.fp.img /run/images/base-v1 erofs ro,inode_share,domain_id=acme 0 0',
  '/var/lib/images/base-v2.fp.img /run/images/base-v2 erofs ro,inode_share,domain_id=acme 0 0',
  '',
].join('\n');

describe.skipIf(!hasFincore)('sharemap collect --root', () => {
  let dir: string;
  let snapshotPath: string;
  let collected: { code: number; stderr: string };

  beforeAll(async () => {
    dir = tmp();
    const root = join(dir, 'root');
    await extract(fx('base-v1.fp.img'), join(root, 'run/images/base-v1'));
    await extract(fx('base-v2.fp.img'), join(root, 'run/images/base-v2'));
    // A symlink out of the mount: never followed (it would reach this repository's files).
    symlinkSync(fx(''), join(root, 'run/images/base-v1/escape'));
    dropCache(root);
    // The "workload": libcap read on both mounts, libexpat on base-v2.
    readFileSync(join(root, 'run/images/base-v1', LIBCAP));
    readFileSync(join(root, 'run/images/base-v2', LIBCAP));
    readFileSync(join(root, 'run/images/base-v2', EXPAT));
    writeFileSync(join(dir, 'host.mountinfo'), MOUNTINFO);
    writeFileSync(join(dir, 'fleet.fstab'), FSTAB);
    snapshotPath = join(dir, 'host.snapshot.json.gz');
    collected = await cli([
      'collect',
      '--root',
      root,
      '--mountinfo',
      join(dir, 'host.mountinfo'),
      '--output',
      snapshotPath,
    ]);
  }, 120_000);

  it('writes a gzip snapshot: EROFS mounts, overlays, resident pages of the files read, nothing through the symlink', () => {
    expect(collected.code).toBe(0);
    expect(collected.stderr).toContain('/run/images/edge: not found under');
    const snap = JSON.parse(gunzipSync(readFileSync(snapshotPath)).toString('utf8')) as HostSnapshot;
    expect(snap.kind).toBe('sharemap-host-snapshot');
    expect(snap.host.pageSize).toBe(4096);
    expect(snap.tool).toMatch(/^fincore from util-linux/);
    expect(snap.mountinfo.split('\n').filter(Boolean)).toHaveLength(4); // erofs and overlay lines only
    expect(
      snap.mounts.map((m) => [m.mountPoint, m.overlays, m.files.length, m.unreadable, m.truncated]),
    ).toEqual([
      ['/run/images/base-v1', ['/run/containers/web-1/rootfs'], 238, 0, false],
      ['/run/images/base-v2', [], 238, 0, false],
      ['/run/images/edge', [], 0, 1, false],
    ]);
    const resident = snap.mounts.map((m) => m.files.filter((f) => f[1] > 0));
    expect(resident).toEqual([
      [[LIBCAP, 12, 47128]],
      [
        [LIBCAP, 12, 47128],
        [EXPAT, 46, 186472],
      ],
      [],
    ]);
  });

  it('its report equals the hand calculation: libcap shared once, libexpat private', async () => {
    const images = [fx('base-v1.fp.img'), fx('base-v2.fp.img')];
    // Domains from the fstab, residency from the snapshot: without 12 + 12 + 46 = 70 pages, with 12 + 46 = 58.
    const r = await cli([
      'analyze',
      ...images,
      '--mounts',
      join(dir, 'fleet.fstab'),
      '--residency',
      snapshotPath,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.measured!.totals).toEqual({
      pagesWithoutSharing: 70,
      pagesWithSharing: 58,
      bytesWithoutSharing: 70 * 4096,
      bytesWithSharing: 58 * 4096,
      bytesSaved: 12 * 4096,
      percentSaved: (12 / 70) * 100,
    });
    expect(report.measured!.coverage).toEqual({
      files: 476,
      bytes: 3374094 + 3405146,
      filesWithData: 476,
      bytesWithData: 3374094 + 3405146,
      unmatchedEntries: 0,
    });
    // The snapshot as the mount configuration: mountinfo never shows domain_id (R11), so the
    // worst case keeps each mount in a domain of its own and nothing is shared.
    const s = await cli(['analyze', ...images, '--mounts', snapshotPath, '--json']);
    expect(s.code).toBe(0);
    const worst = JSON.parse(s.stdout) as Report;
    expect(worst.instances.map((i) => i.mountPoints)).toEqual([
      ['/run/images/base-v1'],
      ['/run/images/base-v2'],
    ]);
    expect(worst.measured!.totals).toMatchObject({ pagesWithoutSharing: 70, pagesWithSharing: 70 });
  });

  it('--max-files bounds the walk and marks the mounts cut short', async () => {
    const r = await cli([
      'collect',
      '--root',
      join(dir, 'root'),
      '--mountinfo',
      join(dir, 'host.mountinfo'),
      '--max-files',
      '10',
      '--output',
      '-',
    ]);
    expect(r.code).toBe(0);
    const snap = JSON.parse(r.stdout) as HostSnapshot;
    expect(snap.mounts.map((m) => [m.mountPoint, m.files.length, m.truncated])).toEqual([
      ['/run/images/base-v1', 10, true],
      ['/run/images/base-v2', 0, true],
      ['/run/images/edge', 0, false],
    ]);
  });

  it('says clearly when fincore is missing', async () => {
    const r = await cli([
      'collect',
      '--root',
      dir,
      '--mountinfo',
      join(dir, 'host.mountinfo'),
      '--fincore',
      join(dir, 'no-fincore'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^sharemap collect needs fincore \(util-linux >= 2.30; Debian: apt-get install util-linux\), and cannot run \S+no-fincore: ENOENT; give --fincore PATH if it lives elsewhere\n$/,
    );
  });
});
