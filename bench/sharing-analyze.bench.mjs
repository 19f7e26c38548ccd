// Engine benchmark: analyze() on a synthetic fleet, default 200 images x 10,000 files
// (2M (instance, file) records), each image mounted once, file-backed, in 4 domains.
// Images are "minor versions": path k of image i holds one of a few versions of that file,
// so most fingerprints recur across images.
//
// Only analyze() is timed; it builds every index it needs from the manifests itself (nothing
// is precomputed here). Issue #5's target: 200 x 10,000 in under 2 s (targetMs) and under
// 1 GiB (targetMB, compared with peakRssMB: the whole process, input included).
//
// By default records of different images share their string objects (one string per
// fingerprint, digest and path), as manifests parsed with one StringTable do (the server's and
// the CLI's analyses parse them so). BENCH_PARSED=1 instead serialises each manifest to NDJSON
// and parses it back with the product's parser (parseManifest with one StringTable for the
// fleet): the input as an analysis really gets it; parsing is not timed but reported (parseMs).
//
// Prints one JSON line: {name, images, filesPerImage, files, parsedInput, ms, targetMs, cpuMs,
// heapMB, heapForReportMB, rssMB, peakRssMB, targetMB, groups, findings, bytesSaved}.
// Needs a build (`pnpm build`, or `npx tsc -b packages/sharing`): it imports dist/.
// Env: BENCH_IMAGES (200), BENCH_FILES (10000), BENCH_PARSED (unset; 1 to parse).
// Run: `pnpm bench sharing-analyze`, or `node --expose-gc bench/sharing-analyze.bench.mjs`.
import { manifestToNdjson, parseManifest, StringTable } from '../packages/erofs/dist/index.js';
import { analyze, buildTrustModel } from '../packages/sharing/dist/index.js';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 200);
const FILES = Number(process.env.BENCH_FILES ?? 10_000);
const PARSED = process.env.BENCH_PARSED === '1';
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
    manifest: {
      kind: 'sharemap-manifest',
      version: 1,
      image: { name, size: 300 * 1024 * 1024 },
      superblock: {
        block_size: 4096,
        blocks: 76800,
        meta_blkaddr: 0,
        xattr_blkaddr: 0,
        root_nid: 36,
        inodes: FILES + 1,
        sb_size: 128,
        feature_compat: ['ishare_xattrs'],
        feature_incompat: ['xattr_prefixes'],
        uuid: `00000000-0000-4000-8000-${hex(i, 12)}`,
        build_time: 0,
        ishare: true,
        fingerprint_xattr_name: 'erofs.fingerprint.v1',
        required_kernel: '7.0',
        devices: [],
      },
      hashed: true,
      file_count: FILES + 1,
      files,
    },
  };
}

const images = Array.from({ length: IMAGES }, (_, i) => manifest(i));
let parseMs = 0;
if (PARSED) {
  const strings = new StringTable();
  for (const img of images) {
    const text = [...manifestToNdjson(img.manifest)].join('');
    const p0 = performance.now();
    img.manifest = parseManifest(text, { strings });
    parseMs += performance.now() - p0;
  }
}
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

globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const c0 = process.cpuUsage();
const t0 = performance.now();
const report = analyze({ images, instances, createdAt: '2026-01-01T00:00:00Z' });
const ms = performance.now() - t0;
const cpu = process.cpuUsage(c0);
const mem = process.memoryUsage();
// The trust model (docs/trust.md) is built after analyze() where the manifests are (CLI,
// server, browser): timed on its own, not part of `ms`.
const c1 = process.cpuUsage();
const t1 = performance.now();
const trust = buildTrustModel(report, { images, instances });
const trustMs = performance.now() - t1;
const trustCpu = process.cpuUsage(c1);
console.log(
  JSON.stringify({
    name: 'sharing-analyze',
    images: IMAGES,
    filesPerImage: FILES,
    files: report.files.instance.length,
    parsedInput: PARSED,
    ...(PARSED ? { parseMs: Math.round(parseMs) } : {}),
    ms: Math.round(ms),
    targetMs: 2000,
    // CPU time of this process (user + system, all threads incl. GC helpers): less sensitive to a busy machine.
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    heapMB: Math.round(mem.heapUsed / 2 ** 20),
    heapForReportMB: Math.round((mem.heapUsed - heapBefore) / 2 ** 20),
    rssMB: Math.round(mem.rss / 2 ** 20),
    // Largest resident set of the process so far (input generation included).
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    targetMB: 1024,
    groups: report.groups.length,
    findings: report.findings.length,
    bytesSaved: report.totals.bytesSaved,
    trustMs: Math.round(trustMs),
    trustCpuMs: Math.round((trustCpu.user + trustCpu.system) / 1000),
    trustMatrixCells: trust.matrix.length,
  }),
);
