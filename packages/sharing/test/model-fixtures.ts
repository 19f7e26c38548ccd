/**
 * Test support for the tests of packages/sharing and of the packages and apps above it (import
 * it as `@sharemap/sharing/testing`: a "source"-only export, for vitest; nothing ships it): the
 * fixture oracles (testdata/erofs/*.expected.json) as manifests, and instance builders; and the
 * seeded random numbers of `@sharemap/erofs/testing`, for the packages that do not depend on
 * @sharemap/erofs themselves.
 */
import { readFileSync } from 'node:fs';
import { MANIFEST_VERSION, type FileRecord, type Manifest, type Nid } from '@sharemap/erofs';
import type { AnalysisInput, Backing, InstanceInput } from '../src/report.js';
import { imageEntryFromManifest } from '../src/model/input.js';
import { manifestOfRecords } from './synthetic-manifest.mjs';

export { seededBytes, seededInts, seededRandom } from '@sharemap/erofs/testing';

const ERofs = new URL('../../../testdata/erofs/', import.meta.url);
const cache = new Map<string, Manifest>();

interface Oracle {
  image: string;
  image_size: number;
  superblock: Record<string, unknown> & {
    block_size: number;
    blocks: number;
    ishare: boolean;
    fingerprint_xattr_name: string | null;
  };
  files: FileRecord[];
}

const MOUNTS = new URL('../../../testdata/mounts/', import.meta.url);

/** A mount-configuration sample from testdata/mounts/ (copies of the shared mount fixtures), as text. */
export function readMountSample(name: string): string {
  return readFileSync(new URL(name, MOUNTS), 'utf8');
}

/** The oracle of `NAME` (e.g. "base-v1.fp") wrapped as a Manifest (records carry sha256: hashed). */
export function oracleManifest(name: string): Manifest {
  let m = cache.get(name);
  if (m) return m;
  const o = JSON.parse(readFileSync(new URL(`${name}.expected.json`, ERofs), 'utf8')) as Oracle;
  const sb = o.superblock;
  m = {
    kind: 'sharemap-manifest',
    version: MANIFEST_VERSION,
    image: { name: o.image, size: o.image_size },
    superblock: {
      block_size: sb.block_size,
      blocks: sb.blocks,
      meta_blkaddr: sb['meta_blkaddr'] as number,
      xattr_blkaddr: sb['xattr_blkaddr'] as number,
      root_nid: sb['root_nid'] as number,
      inodes: sb['inodes'] as number,
      sb_size: sb['sb_size'] as number,
      feature_compat: sb['feature_compat'] as string[],
      feature_incompat: sb['feature_incompat'] as string[],
      uuid: sb['uuid'] as string,
      build_time: 1700000000,
      ishare: sb.ishare,
      fingerprint_xattr_name: sb.fingerprint_xattr_name,
      required_kernel: sb['required_kernel'] as string,
      devices: [],
    },
    hashed: true,
    file_count: o.files.length,
    files: o.files,
  };
  cache.set(name, m);
  return m;
}

/**
 * Record `k` of a made-up image (`/f0000`, `/f0001`, ... at nid 100 + k; mode 0644, owner 0,
 * one link, no time, 32-byte inode, no xattrs) with the fields a test varies.
 */
export function syntheticRecord(
  k: number,
  f: Pick<FileRecord, 'type' | 'size' | 'layout' | 'fingerprint'>,
): FileRecord {
  return {
    path: `/f${String(k).padStart(4, '0')}`,
    nid: 100 + k,
    type: f.type,
    mode: '0644',
    uid: 0,
    gid: 0,
    size: f.size,
    nlink: 1,
    mtime: 0,
    mtime_nsec: 0,
    layout: f.layout,
    inode_size: 32,
    xattr_isize: 0,
    xattrs: {},
    fingerprint: f.fingerprint,
  };
}

/**
 * A manifest of made-up records (syntheticRecord's), not hashed, as a scan of a 4 KiB-block image
 * of one block per record would give it; `ishare`: built with fingerprints (ishare_xattrs).
 */
export function syntheticManifest(name: string, files: FileRecord[], ishare: boolean): Manifest {
  return manifestOfRecords({
    version: MANIFEST_VERSION,
    name,
    imageSize: 4096 * (files.length + 1),
    blockSize: 4096,
    blocks: files.length + 1,
    ishare,
    hashed: false,
    files,
  });
}

/**
 * The regular files of fixture `name`, each inode once (R10, by nid), with whether it may share
 * at all (R3 compat, R4 usable fingerprint): the oracle side of the tests' reference models.
 */
export function oracleInodes(name: string): { file: FileRecord; eligible: boolean }[] {
  const man = oracleManifest(name);
  const seen = new Set<Nid>();
  const out: { file: FileRecord; eligible: boolean }[] = [];
  for (const f of man.files) {
    if (f.type !== 'file' || seen.has(f.nid)) continue;
    seen.add(f.nid);
    const fp = f.fingerprint;
    out.push({
      file: f,
      eligible: man.superblock.ishare && !!fp && fp.length / 2 <= man.superblock.block_size,
    });
  }
  return out;
}

/** Image id = fixture name (e.g. "base-v1.fp"). */
export function image(name: string, publisher?: string): AnalysisInput['images'][number] {
  const manifest = oracleManifest(name);
  return {
    image: imageEntryFromManifest(manifest, publisher === undefined ? { id: name } : { id: name, publisher }),
    manifest,
  };
}

export interface InstOpts {
  backing?: Backing;
  inodeShare?: boolean;
  dax?: 'always' | 'never' | null;
  directio?: boolean;
  domainIdGiven?: boolean;
  notMounted?: string;
}

/** An instance of fixture `name`; domain null means unknown (R11). */
export function inst(id: string, name: string, domain: string | null, o: InstOpts = {}): InstanceInput {
  const i: InstanceInput = {
    id,
    label: `/run/images/${id}`,
    imageId: name,
    mountPoints: [`/run/images/${id}`],
    source: `/var/lib/images/${name}.img`,
    backing: o.backing ?? 'file',
    domain: domain === null ? null : { label: domain },
    options: {
      inodeShare: o.inodeShare ?? true,
      dax: o.dax ?? null,
      directio: o.directio ?? false,
      cacheStrategy: null,
      devices: [],
      fsoffset: 0,
    },
  };
  if (o.domainIdGiven !== undefined) i.options.domainIdGiven = o.domainIdGiven;
  if (o.notMounted !== undefined) i.notMounted = o.notMounted;
  return i;
}

/** Input with the images of the given instances (each image once, in first-use order). */
export function inputOf(instances: InstanceInput[], extraImages: string[] = []): AnalysisInput {
  const names = [...new Set([...instances.map((i) => i.imageId), ...extraImages])];
  return { images: names.map((n) => image(n)), instances, createdAt: '2026-01-01T00:00:00.000Z' };
}

/** The instances of testdata/mounts/fleet.fstab that mount (lines 4-9) plus the failing/noauto ones (10-12). */
export function fleetInstances(): InstanceInput[] {
  return [
    inst('base-v1', 'base-v1.fp', 'acme-signed'),
    inst('base-v2', 'base-v2.fp', 'acme-signed'),
    inst('app', 'app.fp', 'acme-signed'),
    inst('base-v1-z', 'base-v1.fp.lz4hc', 'acme-signed'),
    inst('app-thirdparty', 'app.fp.lz4hc', 'thirdparty', { directio: true }),
    inst('edge', 'edge', 'acme-signed'),
    inst('no-domain', 'base-v2.fp', null, { domainIdGiven: false }),
    inst('with-dax', 'base-v2.fp', 'acme-signed', { dax: 'always' }),
    inst('base-v2-z', 'base-v2.fp.lz4hc', 'acme-signed', { inodeShare: false, notMounted: 'noauto' }),
  ];
}

/**
 * A fleet of `n` mounts of eleven kinds, repeated in this order: every class of a compact file
 * table (docs/metrics.md#compact-file-table) appears in any 11 instances.
 */
export function classFleet(n: number): InstanceInput[] {
  const kinds: ((id: string) => InstanceInput)[] = [
    (id) => inst(id, 'base-v1.fp', 'acme'),
    (id) => inst(id, 'base-v2.fp', 'acme'),
    (id) => inst(id, 'app.fp', 'acme'),
    (id) => inst(id, 'base-v1.fp.lz4hc', 'acme'),
    (id) => inst(id, 'base-v2.fp', 'other'),
    (id) => inst(id, 'base-v2.fp.forged', 'acme'),
    (id) => inst(id, 'base-v1.fp', 'acme', { backing: 'bdev' }),
    (id) => inst(id, 'app.fp', 'other', { inodeShare: false }),
    (id) => inst(id, 'base-v1.fp.serial', 'acme'),
    (id) => inst(id, 'edge', 'acme'), // hard links (R10)
    (id) => inst(id, 'base-v2.fp', 'acme', { notMounted: 'noauto' }),
  ];
  return Array.from({ length: n }, (_, k) => kinds[k % kinds.length]!(`i${k}`));
}
