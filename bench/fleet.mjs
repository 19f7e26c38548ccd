// The synthetic fleet of the engine benchmarks (sharing-analyze, ci-pack): IMAGES images of
// FILES files each, "minor versions" (path k of image i holds one of a few versions of that
// file, so most fingerprints recur across images), each image mounted once, file-backed, in 4
// domains. Deterministic (a seeded PRNG).
import { manifestOfRecords } from '../packages/sharing/test/synthetic-manifest.mjs';

export function fleet(IMAGES, FILES) {
  const VERSIONS = 8;

  // Deterministic PRNG (mulberry32).
  let seed = 42;
  function rand() {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  const paths = Array.from(
    { length: FILES },
    (_, k) => `/usr/lib/pkg${String(k % 500).padStart(3, '0')}/file${String(k).padStart(6, '0')}.so`,
  ).sort();
  const sizes = Array.from({ length: FILES }, () => 1 + Math.floor(rand() * 200_000));
  const hex = (n, width) => n.toString(16).padStart(width, '0');
  // One fingerprint (and sha256) per (path, version).
  // Round-tripped through JSON so the strings are flat, as in a parsed manifest.
  const digests = JSON.parse(
    JSON.stringify(Array.from({ length: FILES * VERSIONS }, (_, v) => hex(v, 16).repeat(4))),
  );
  const fingerprints = JSON.parse(JSON.stringify(digests.map((d) => '7368613235363a' + d)));
  const emptyXattrs = {};
  const rootDir = {
    path: '/',
    nid: 36,
    type: 'dir',
    mode: '0755',
    uid: 0,
    gid: 0,
    size: 4096,
    nlink: 2,
    mtime: 1_700_000_000,
    mtime_nsec: 0,
    layout: 'flat_inline',
    inode_size: 32,
    xattr_isize: 0,
    xattrs: emptyXattrs,
    fingerprint: null,
  };

  function manifest(i) {
    // A valid manifest (BENCH_PARSED=1 parses it): "/" first, then the files.
    const files = new Array(FILES + 1);
    files[0] = rootDir;
    for (let k = 0; k < FILES; k++) {
      // Newer images move some files to newer versions.
      const version = Math.min(VERSIONS - 1, Math.floor((i / IMAGES) * VERSIONS + (rand() < 0.1 ? 1 : 0)));
      const v = k * VERSIONS + version;
      files[k + 1] = {
        path: paths[k],
        nid: 100 + k,
        type: 'file',
        mode: '0644',
        uid: 0,
        gid: 0,
        size: sizes[k] + version, // a new version has a new size
        nlink: 1,
        mtime: 1_700_000_000,
        mtime_nsec: 0,
        layout: k % 10 === 0 ? 'compressed_compact' : 'flat_plain',
        inode_size: 32,
        xattr_isize: 0,
        xattrs: emptyXattrs,
        fingerprint: fingerprints[v],
        sha256: digests[v],
      };
    }
    const name = `img${i}.img`;
    return {
      image: {
        id: `img${i}`,
        name,
        blockSize: 4096,
        ishare: true,
        fingerprintXattrName: 'erofs.fingerprint.v1',
        requiredKernel: '7.0',
        featureCompat: ['ishare_xattrs'],
        featureIncompat: ['xattr_prefixes'],
        hashed: true,
        publisher: 'acme',
      },
      manifest: manifestOfRecords({
        version: 1,
        name,
        imageSize: 300 * 1024 * 1024,
        blockSize: 4096,
        blocks: 76800,
        ishare: true,
        hashed: true,
        uuid: `00000000-0000-4000-8000-${hex(i, 12)}`,
        featureIncompat: ['xattr_prefixes'],
        files,
      }),
    };
  }

  const images = Array.from({ length: IMAGES }, (_, i) => manifest(i));
  const instances = images.map(({ image }, i) => ({
    id: `i${i}`,
    label: `/run/images/${image.name}`,
    imageId: image.id,
    mountPoints: [`/run/images/${image.name}`],
    source: `/var/lib/images/${image.name}`,
    backing: 'file',
    domain: { label: `D${(i % 4) + 1}` },
    options: { inodeShare: true, dax: null, directio: false, cacheStrategy: null, devices: [], fsoffset: 0 },
  }));
  return { images, instances };
}
