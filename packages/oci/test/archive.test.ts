/**
 * docker save and OCI layout archives: the flattened prediction equals the scan of
 * image.flat.img (and image.flat.files.json), each layer's equals image.layerN.img; every
 * digest is checked; platforms are picked from the multi-platform index.
 */
import { readFileSync } from 'node:fs';
import { memorySource } from '@sharemap/erofs';
import { describe, expect, it } from 'vitest';
import {
  FLAT_BUILD,
  isOciError,
  loadImages,
  openArchive,
  predictArchive,
  predictImage,
  type OciLayer,
} from '../src/index.js';
import { comparable, hasher, linkGroups, OCI_DATA, scanned } from './helpers.js';

const T1700 = { ...FLAT_BUILD, buildTime: 1700000000, mkfsTime: false };
const DIFF_IDS = [
  'sha256:10d04b0e32c48b0212e6de35a18faf9ac5313a509628aef7c2f758d25523b985',
  'sha256:05574326af0cb02189a08f649ea0e07b3f654aa2234ae4c4232c7c0af51c8306',
  'sha256:c85053f6de816f71e6492af8b8be767844e1b3580b98fe5d10c1e6f23fae0f72',
];

async function load(
  file: string,
  platform?: { os: string; architecture: string; variant?: string },
  cache?: Map<string, OciLayer>,
) {
  const src = memorySource(readFileSync(OCI_DATA + file));
  const a = await openArchive(src, file);
  if (a.kind === 'rootfs') throw new Error('not an image archive');
  const loaded = await loadImages(a.files, { hasher, platform, layerCache: cache });
  // what the archive's index said it is and what its contents loaded as agree
  expect(loaded.kind).toBe(a.kind);
  return loaded;
}

async function expectImageMatchesFixtures(images: Awaited<ReturnType<typeof load>>['images']) {
  expect(images).toHaveLength(1);
  const p = predictImage(images[0]!, { hash: true, flatBuild: T1700 });
  const flat = await scanned('image.flat.img');
  expect(p.flattened.files.map(comparable)).toEqual(flat.files.map(comparable));
  expect(linkGroups(p.flattened)).toEqual(linkGroups(flat));
  // The ground truth of the flattened rootfs, field by field.
  const truth = JSON.parse(readFileSync(OCI_DATA + 'image.flat.files.json', 'utf8')) as Record<
    string,
    unknown
  >[];
  expect(
    p.flattened.files.map((f) => [
      f.path,
      f.type,
      f.mode,
      f.uid,
      f.gid,
      f.nlink,
      f.sha256 ?? null,
      f.fingerprint ?? null,
    ]),
  ).toEqual(
    truth.map((t) => [
      t.path,
      t.type,
      t.mode,
      t.uid,
      t.gid,
      t.nlink,
      t.sha256 ?? null,
      t.fingerprint ?? null,
    ]),
  );
  for (const [i, l] of p.layers.entries()) {
    const img = await scanned(`image.layer${i + 1}.img`);
    expect(l.manifest.files.map(comparable)).toEqual(img.files.map(comparable));
    expect(l.layer.diffId).toBe(DIFF_IDS[i]);
  }
  return p;
}

describe('image archives', () => {
  it('docker save (Docker <= 24 layout): 3 uncompressed layers', async () => {
    const { kind, images } = await load('image.docker.tar');
    expect(kind).toBe('docker-save');
    expect(images[0]!.repoTags).toEqual(['sharemap/demo:1.0']);
    const p = await expectImageMatchesFixtures(images);
    expect(p.layers.map((l) => l.layer.compression)).toEqual(['none', 'none', 'none']);
  });

  it('OCI layout tar, default platform linux/amd64: gzip layers, digests verified', async () => {
    const { kind, images } = await load('image.oci.tar');
    expect(kind).toBe('oci-layout');
    expect(images[0]!.manifestDigest).toBe(
      'sha256:d4cde16f32c9817f7d80c9e678a569a781536a9f03327eeda349c65878bd224b',
    );
    expect(images[0]!.configDigest).toBe(
      'sha256:c1a2d21b34457521279d5fa8a3cfd1e9cc7a6d9663ad94bac9c9a7df730ba756',
    );
    const p = await expectImageMatchesFixtures(images);
    expect(p.layers.map((l) => l.layer.compression)).toEqual(['gzip', 'gzip', 'gzip']);
    expect(p.layers[0]!.layer.digest).toBe(
      'sha256:6548128a56840538c488fccc757770176d77705a31a4a44ae80a1ada0a910ebe',
    );
  });

  it('OCI layout tar, --platform linux/arm64/v8: zstd layers, same diff ids', async () => {
    const { images } = await load('image.oci.tar', { os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(images[0]!.manifestDigest).toBe(
      'sha256:b044a635cdd11ccf4da3d125aa25ff9a2c658b4003bcbed380ae4b99ad998e23',
    );
    const p = await expectImageMatchesFixtures(images);
    expect(p.layers.map((l) => l.layer.compression)).toEqual(['zstd', 'zstd', 'zstd']);
  });

  it('a platform the index lacks is an EPLATFORM error naming the ones it has', async () => {
    await expect(load('image.oci.tar', { os: 'linux', architecture: 's390x' })).rejects.toThrow(
      /EPLATFORM: no manifest for linux\/s390x \(the index has linux\/amd64, linux\/arm64\/v8\)/,
    );
  });

  it('identical diff ids are read once across archives (one per-layer image)', async () => {
    const cache = new Map<string, OciLayer>();
    const a = await load('image.docker.tar', undefined, cache);
    const b = await load('image.oci.tar', undefined, cache);
    expect(cache.size).toBe(3);
    expect(b.images[0]!.layers.map((l) => l.diffId)).toEqual(a.images[0]!.layers.map((l) => l.diffId));
    expect(b.images[0]!.layers[0]).toBe(a.images[0]!.layers[0]);
  });

  it('a plain rootfs tar is recognised from its members', async () => {
    const a = await openArchive(memorySource(readFileSync(OCI_DATA + 'rootfs.tar')), 'rootfs.tar');
    expect(a.kind).toBe('rootfs');
  });
});

describe('Docker 25+ docker save (an OCI layout inside, plus manifest.json: make-docker25.mjs)', () => {
  it('is detected as docker save and predicted the same as the classic form, both models', async () => {
    const predict = async (file: string) => {
      const a = await predictArchive(memorySource(readFileSync(OCI_DATA + file)), file, {
        hasher,
        hash: true,
      });
      expect(a.images).toHaveLength(1);
      return { kind: a.kind, flattened: a.images[0]!.flattened, layers: a.images[0]!.layers };
    };
    const classic = await predict('image.docker.tar');
    const v25 = await predict('image.docker25.tar');
    expect(v25.kind).toBe('docker-save');
    expect(v25.flattened).toEqual(classic.flattened);
    expect(v25.layers.map((l) => l.manifest)).toEqual(classic.layers.map((l) => l.manifest));
    // Layers named by blob: each one's stored digest is checked (equal to its diff id: uncompressed).
    expect(v25.layers.map((l) => [l.layer.diffId, l.layer.digest])).toEqual(DIFF_IDS.map((d) => [d, d]));
  });

  it('a layer blob whose bytes do not match its name is refused (EDIGEST)', async () => {
    const bytes = readFileSync(OCI_DATA + 'image.docker25.tar');
    // Layer 2's /etc/os-release says VERSION="3": still a valid tar, no longer its blob name.
    const at = bytes.indexOf(Buffer.from('VERSION="2"'));
    expect(at).toBeGreaterThan(0);
    bytes[at + 9] = 0x33;
    const e: unknown = await predictArchive(memorySource(bytes), 'bad25.tar', { hasher }).catch(
      (x: unknown) => x,
    );
    expect(isOciError(e, 'EDIGEST')).toBe(true);
    expect((e as Error).message).toMatch(
      /layer blob has digest sha256:[0-9a-f]{64}, its descriptor says sha256:05574326af0cb021/,
    );
  });
});
