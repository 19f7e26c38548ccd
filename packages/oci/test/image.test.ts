/**
 * The image detail a flattened prediction carries (predicted.image): repository tags, digests,
 * layers and what each layer adds, changes and deletes, with the exact values of the fixture
 * image (testdata/oci/README.fixtures.md, "What is inside"); it survives the manifest format.
 */
import { readFileSync } from 'node:fs';
import { manifestToNdjson, memorySource, parseManifest } from '@sharemap/erofs';
import { describe, expect, it } from 'vitest';
import { predictArchive } from '../src/index.js';
import { hasher, OCI_DATA } from './helpers.js';

const DIFF_IDS = [
  'sha256:10d04b0e32c48b0212e6de35a18faf9ac5313a509628aef7c2f758d25523b985',
  'sha256:05574326af0cb02189a08f649ea0e07b3f654aa2234ae4c4232c7c0af51c8306',
  'sha256:c85053f6de816f71e6492af8b8be767844e1b3580b98fe5d10c1e6f23fae0f72',
];

async function detail(file: string) {
  const a = await predictArchive(memorySource(readFileSync(OCI_DATA + file)), file, { hasher });
  expect(a.images).toHaveLength(1);
  return a.images[0]!.flattened;
}

/** Layer 1 adds every path of its tar (36 members, /etc and /usr/... included). */
const LAYER1_ADDED = [
  '/etc',
  '/etc/conf.d',
  '/etc/conf.d/00-base.conf',
  '/etc/motd',
  '/etc/motd.d',
  '/etc/os-release',
  '/opt',
  '/opt/data',
  '/opt/data/a.txt',
  '/opt/data/b.txt',
  '/opt/data/sub',
  '/opt/data/sub/c.txt',
  '/root-note.txt',
  '/tmp',
  '/usr',
  '/usr/bin',
  '/usr/bin/app',
  '/usr/bin/app-hl',
  '/usr/bin/helper',
  '/usr/lib',
  '/usr/lib/libbase.so',
  '/usr/lib/libbase.so.1',
  '/usr/share',
  '/usr/share/doc',
  '/usr/share/doc/keep',
  '/usr/share/doc/keep/README',
  '/usr/share/doc/legacy',
  '/usr/share/doc/legacy/NOTES',
  '/usr/share/doc/legacy/README',
  '/usr/share/doc/legacy/sub',
  '/usr/share/doc/legacy/sub/x.txt',
  '/var',
  '/var/cache',
  '/var/cache/app',
  '/var/cache/app/keep.bin',
  '/var/cache/app/old.bin',
];

/** What layers 2 and 3 do, as the fixture README describes them. */
const CHANGES = [
  {
    added: LAYER1_ADDED,
    changed: [],
    deleted: [],
  },
  {
    // new.txt in the opaque /opt/data; libnew.so.2; /srv/web/index.html with implicit parents.
    added: [
      '/etc/motd.d/10-extra',
      '/opt/data/new.txt',
      '/srv',
      '/srv/web',
      '/srv/web/index.html',
      '/usr/lib/libnew.so.2',
    ],
    // os-release modified, motd re-added with a new mtime, the file motd.d now a directory.
    changed: ['/etc/motd', '/etc/motd.d', '/etc/os-release'],
    // .wh..wh..opq in /opt/data hides a.txt, b.txt, sub; .wh.app, .wh.legacy, .wh.old.bin.
    deleted: [
      '/opt/data/a.txt',
      '/opt/data/b.txt',
      '/opt/data/sub',
      '/usr/bin/app',
      '/usr/share/doc/legacy',
      '/var/cache/app/old.bin',
    ],
  },
  {
    // app re-created with app-hl2; libextra.so; /var/log new (its opaque marker hides nothing).
    added: ['/usr/bin/app', '/usr/bin/app-hl2', '/usr/lib/libextra.so', '/var/log', '/var/log/app.log'],
    // the directory conf.d replaced by a file; new.txt with user.rev; /var's attributes.
    changed: ['/etc/conf.d', '/opt/data/new.txt', '/var'],
    // .wh.root-note.txt and .wh.libnew.so.2 (/etc/.wh.never-existed deletes nothing).
    deleted: ['/root-note.txt', '/usr/lib/libnew.so.2'],
  },
];

describe('the image detail of a flattened prediction', () => {
  it('docker save: tags, config digest, layers with sizes and their added/changed/deleted paths', async () => {
    const m = await detail('image.docker.tar');
    const img = m.predicted!.image!;
    expect(img.repoTags).toEqual(['sharemap/demo:1.0']);
    expect(img.configDigest).toBe('sha256:c1a2d21b34457521279d5fa8a3cfd1e9cc7a6d9663ad94bac9c9a7df730ba756');
    expect(img.manifestDigest).toBeUndefined();
    expect(img.layers.map((l) => [l.diffId, l.digest, l.compression, l.size, l.storedSize])).toEqual([
      [DIFF_IDS[0], DIFF_IDS[0], 'none', 137216, 137216],
      [DIFF_IDS[1], DIFF_IDS[1], 'none', 36864, 36864],
      [DIFF_IDS[2], DIFF_IDS[2], 'none', 102400, 102400],
    ]);
    expect(img.layers.map((l) => l.paths)).toEqual(CHANGES);
    expect(img.layers.map((l) => [l.added, l.changed, l.deleted])).toEqual([
      [36, 0, 0],
      [6, 3, 6],
      [5, 3, 2],
    ]);
  });

  it('OCI layout: the manifest digest, platform and gzip layers; the same changes', async () => {
    const img = (await detail('image.oci.tar')).predicted!.image!;
    expect(img.repoTags).toEqual(['1.0']);
    expect(img.manifestDigest).toBe(
      'sha256:d4cde16f32c9817f7d80c9e678a569a781536a9f03327eeda349c65878bd224b',
    );
    expect(img.platform).toBe('linux/amd64');
    expect(img.layers.map((l) => [l.diffId, l.digest, l.compression])).toEqual([
      [DIFF_IDS[0], 'sha256:6548128a56840538c488fccc757770176d77705a31a4a44ae80a1ada0a910ebe', 'gzip'],
      [DIFF_IDS[1], 'sha256:58b2b07acca4d10972849db2d36046ff503e99cd5c1a5fc9452edaff4f6ada53', 'gzip'],
      [DIFF_IDS[2], 'sha256:945c69ecc979a9f5b9edc824a71a09d888168e4d51ad47090130be31e9681729', 'gzip'],
    ]);
    expect(img.layers.map((l) => l.paths)).toEqual(CHANGES);
  });

  it('survives the manifest format (NDJSON out, parsed back in)', async () => {
    const m = await detail('image.docker.tar');
    const back = parseManifest([...manifestToNdjson(m)].join(''));
    expect(back.predicted).toEqual(m.predicted);
  });
});
