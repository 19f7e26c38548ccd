/**
 * The prediction core against mkfs.erofs 1.9.3: for every tar of testdata/oci, the predicted
 * manifest equals what the EROFS reader scans from the image mkfs.erofs built from that tar
 * (testdata/oci/README.fixtures.md lists the commands), in every field but nid and layout.
 */
import { describe, expect, it } from 'vitest';
import { FLAT_BUILD, LAYER_BUILD, predictTar, type BuildOptions } from '../src/index.js';
import {
  bytesChunks,
  comparable,
  fileChunks,
  hasher,
  linkGroups,
  OCI_DATA,
  scanned,
  tarMember,
} from './helpers.js';

const T1700 = { ...FLAT_BUILD, buildTime: 1700000000, mkfsTime: false };
const LAYERS = [
  'c989eb7f40a2b960235e40ce49bae3eaff9a215a6e30950db24f06143369558c/layer.tar',
  '7c2b90b35714868b93b017eed27d67538d95eb3d84b1e39af42eba0804aeed61/layer.tar',
  '679abf7fd4b15e3f2fe28b68797c656cbff164fb6803636dd4f78fec701eccf2/layer.tar',
];

async function expectSame(tarChunks: AsyncIterable<Uint8Array>, img: string, build: BuildOptions) {
  const predicted = await predictTar(tarChunks, { hasher, build, imageName: img, imageSize: 0, hash: true });
  const actual = await scanned(img);
  expect(predicted.files.map((f) => f.path)).toEqual(actual.files.map((f) => f.path));
  expect(predicted.files.map(comparable)).toEqual(actual.files.map(comparable));
  expect(linkGroups(predicted)).toEqual(linkGroups(actual));
  expect(predicted.superblock.inodes).toBe(actual.superblock.inodes);
  expect(predicted.superblock.feature_compat).toEqual(actual.superblock.feature_compat);
  expect(predicted.superblock.feature_incompat).toEqual(actual.superblock.feature_incompat);
  expect(predicted.superblock.build_time).toBe(actual.superblock.build_time);
  return predicted;
}

describe('predictTar = scan of the image mkfs.erofs 1.9.3 built', () => {
  it('rootfs.tar -> rootfs.img (-T1700000000)', async () => {
    const m = await expectSame(fileChunks(OCI_DATA + 'rootfs.tar'), 'rootfs.img', T1700);
    expect(m.files).toHaveLength(82);
    expect(m.predicted?.options).toEqual(['--tar=f', '--xattr-inode-digest', '-T1700000000']);
  });
  it('rootfs.tar -> rootfs.lz4hc.img (-zlz4hc)', async () => {
    await expectSame(fileChunks(OCI_DATA + 'rootfs.tar'), 'rootfs.lz4hc.img', {
      ...T1700,
      compression: 'lz4hc',
    });
  });
  it('image.flat.tar -> image.flat.img', async () => {
    await expectSame(fileChunks(OCI_DATA + 'image.flat.tar'), 'image.flat.img', T1700);
  });
  LAYERS.forEach((member, i) => {
    it(`layer ${i + 1} with --aufs -> image.layer${i + 1}.img`, async () => {
      const tar = await tarMember(OCI_DATA + 'image.docker.tar', member);
      await expectSame(bytesChunks(tar, 4093), `image.layer${i + 1}.img`, LAYER_BUILD);
    });
  });
});

describe('predicted manifests', () => {
  it('say what they assume and survive the manifest parser (JSON and NDJSON)', async () => {
    const { manifestToJson, manifestToNdjson, parseManifest } = await import('@sharemap/erofs');
    const m = await predictTar(fileChunks(OCI_DATA + 'rootfs.tar'), {
      hasher,
      build: FLAT_BUILD,
      imageName: 'rootfs.tar',
      imageSize: 1366016,
      hash: true,
      source: 'rootfs tar',
    });
    expect(m.predicted).toEqual({
      tool: 'mkfs.erofs 1.9.3',
      options: ['--tar=f', '--xattr-inode-digest', '-T0', '--mkfs-time'],
      source: 'rootfs tar',
    });
    // -T0 --mkfs-time keeps the tar mtimes: /etc/hostname has a fractional PAX mtime.
    const hostname = m.files.find((f) => f.path === '/etc/hostname')!;
    expect(hostname.mtime_nsec).toBeGreaterThan(0);
    expect(hostname.inode_size).toBe(64);
    expect(parseManifest(manifestToJson(m))).toEqual(m);
    expect(parseManifest([...manifestToNdjson(m)].join(''))).toEqual(m);
  });
});
