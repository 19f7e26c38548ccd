/**
 * Test support (import it as `@sharemap/report-wire/testing`: a "source"-only export, for vitest;
 * nothing ships it): manifests and reports in the shape of the `server-2m` benchmark
 * (bench/manifest-2m.mjs: the header and record templates of a real scan, 1,000 package
 * folders of files, random-looking sha256 digests, one file in four a copy of an earlier one),
 * at any size, so that tests can compare what the server stores for a large report byte for
 * byte (docs/benchmarks.md#report-creation-phase-by-phase-report-phases).
 */
import { createHash } from 'node:crypto';
import {
  analyze,
  imageEntryFromManifest,
  withTrust,
  type AnalysisInput,
  type Report,
} from '@sharemap/sharing';
import { inst, oracleManifest, seededRandom } from '@sharemap/sharing/testing';

type Manifest = AnalysisInput['images'][number]['manifest'];
type FileRecord = Manifest['files'][number];

/** Package folders below /usr/lib holding the files (as in bench/manifest-2m.mjs). */
const DIRS = 1000;
/** One file in DUP_EVERY has the content of an earlier file (same fingerprint and digest). */
const DUP_EVERY = 4;

/**
 * A manifest of `records` records in path order: /, /usr, /usr/lib, the package folders and
 * their files. `seed` picks which earlier file each copy repeats; `variant` > 0 changes the
 * content of one file in `variant` (a later version of the same image: same paths, some new
 * content).
 */
export function bigManifest(
  records: number,
  opts: { name: string; seed: number; variant?: number },
): Manifest {
  const base = oracleManifest('base-v1.fp');
  const dirT = base.files.find((f) => f.path === '/')!;
  const fileT = base.files.find((f) => f.type === 'file' && f.size > 0 && f.sha256)!;
  const dirs = Math.min(DIRS, Math.max(1, Math.floor(records / 8)));
  const files: FileRecord[] = [];
  let nid = 36;
  const dir = (p: string): void => {
    files.push({ ...dirT, path: p, nid: (nid += 2), nlink: 2 });
  };
  dir('/');
  dir('/usr');
  dir('/usr/lib');
  const count = records - 3 - dirs;
  const rand = seededRandom(opts.seed);
  let k = 0;
  for (let d = 0; d < dirs; d++) {
    const folder = `/usr/lib/pkg${String(d).padStart(4, '0')}`;
    dir(folder);
    const end = Math.floor(((d + 1) * count) / dirs);
    for (; k < end; k++) {
      let content = k % DUP_EVERY === DUP_EVERY - 1 ? Math.floor(rand() * k) : k;
      if (opts.variant && k % opts.variant === 0) content += 1e9;
      const sha = createHash('sha256').update(String(content)).digest('hex');
      files.push({
        ...fileT,
        path: `${folder}/lib${String(k).padStart(7, '0')}.so.1`,
        nid: (nid += 2),
        size: 1 + ((content * 2654435761) % 400_000),
        fingerprint: '7368613235363a' + sha,
        sha256: sha,
      });
    }
  }
  return { ...base, image: { name: opts.name, size: 64 * 1024 ** 3 }, file_count: files.length, files };
}

/**
 * A report over `images` such images (1 or 2) of `records` records each (the second a later
 * version of the first), one instance of each in one domain: with two, shared inodes across
 * images and paths repeated across images; the trust model.
 */
export function bigReport(records: number, images: 1 | 2 = 2): Report {
  const manifests = [
    bigManifest(records, { name: 'big-v1.img', seed: 42 }),
    bigManifest(records, { name: 'big-v2.img', seed: 7, variant: 3 }),
  ].slice(0, images);
  const input: AnalysisInput = {
    images: manifests.map((manifest) => ({
      image: imageEntryFromManifest(manifest, { id: manifest.image.name }),
      manifest,
    })),
    instances: manifests.map((m, k) => inst(`i${k + 1}`, m.image.name, 'acme')),
    createdAt: '2026-12-06T00:00:00.000Z',
  };
  return withTrust(analyze(input), input);
}
