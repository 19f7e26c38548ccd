/**
 * The engine and the trust model read a columnar manifest (docs/manifest.md#columnar-in-memory-form)
 * from its columns and give the very report they give for the same manifest as record objects:
 * every fixture oracle, the fleet.fstab instances, and random fleets of fixture images with random
 * mounts (domains, backing, inode_share, working set). No record object is made on the way.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  manifestColumns,
  manifestToNdjson,
  parseManifest,
  StringTable,
  type Manifest,
} from '@sharemap/erofs';
import { prepareImages, sharedStringTable } from '../../src/model/core.js';
import { analyze } from '../../src/model/engine.js';
import { withTrust } from '../../src/trust/model.js';
import type { AnalysisInput, Backing } from '../../src/report.js';
import { fleetInstances, image, inputOf, inst } from '../model-fixtures.js';

const PROPERTY_SEED = Number(process.env.SHAREMAP_PROPERTY_SEED ?? 20261205);

const NAMES = [
  'app.fp',
  'app.fp.lz4hc',
  'base-v1.fp',
  'base-v1.fp.lz4hc',
  'base-v1.fp.serial',
  'base-v2.fp',
  'base-v2.fp.forged',
  'base-v2.fp.lz4hc',
  'base-v2.fp.serial',
  'edge-mini.fp-trusted',
  'edge-mini.b16k',
  'edge-mini.48bit',
  'edge',
  'edge.zstd.fp',
];

/** A manifest read back from its NDJSON form into columns, whose `files` would throw if asked for. */
function columnar(m: Manifest, strings: StringTable): Manifest {
  // The oracles of images without incompat features leave required_kernel out; a scan writes null.
  const sb = { ...m.superblock, required_kernel: m.superblock.required_kernel ?? null };
  const back = parseManifest([...manifestToNdjson({ ...m, superblock: sb })].join(''), {
    columnar: true,
    strings,
  });
  expect(manifestColumns(back)).toBeDefined();
  Object.defineProperty(back, 'files', {
    get: () => {
      throw new Error('a record object was asked for');
    },
  });
  return back;
}

/** The same analysis over columnar manifests: report and trust model equal, as JSON text too. */
function expectSameReport(input: AnalysisInput): void {
  const strings = new StringTable();
  const cols: AnalysisInput = {
    ...input,
    images: input.images.map((x) => ({ image: x.image, manifest: columnar(x.manifest, strings) })),
  };
  const want = withTrust(analyze(input), input);
  const got = withTrust(analyze(cols), cols);
  expect(JSON.stringify(got)).toBe(JSON.stringify(want));
}

describe('fingerprint ids from the StringTable (docs/manifest.md#fingerprint-ids)', () => {
  const input = inputOf(NAMES.map((n, k) => inst(`i${k}`, n, k % 3 === 0 ? null : `d${k % 2}`)));
  /** The prepared images of the input with its manifests interned by `tableOf(image index)`. */
  const preparedWith = (tableOf: (k: number) => StringTable) =>
    prepareImages(
      input.images.map((x, k) => ({ image: x.image, manifest: columnar(x.manifest, tableOf(k)) })),
    );

  it('numbers fingerprints as the records do, and reports alike', () => {
    const want = prepareImages(input.images);
    const one = new StringTable();
    // Another table's strings first: the engine's ids are its own (dense, first seen), not the table's.
    one.intern('sha256:unrelated');
    const got = preparedWith(() => one);
    expect(sharedStringTable(got.images.map((i) => i.manifest))).toBe(one);
    expect(got.fingerprints).toStrictEqual(want.fingerprints);
    expect(got.images.map((i) => [...i.fpId])).toStrictEqual(want.images.map((i) => [...i.fpId]));
    expect([...got.fpContentId]).toStrictEqual([...want.fpContentId]);
    expect(got.fingerprints.length).toBeGreaterThan(100);
  });

  it('gives as many fingerprint ids as there are distinct values, with no room left over', () => {
    // prepareImages reserves an id per file up front (reserveIds) and trims the rest (finish).
    for (const got of [prepareImages(input.images), preparedWith(() => new StringTable())]) {
      const ids = new Set(got.images.flatMap((i) => [...i.fpId].filter((id) => id >= 0)));
      const files = got.images.reduce((a, i) => a + i.n, 0);
      expect(got.fingerprints.length).toBe(ids.size);
      expect(got.fingerprints.length).toBeLessThan(files);
      expect(new Set(got.fingerprints).size).toBe(ids.size);
      expect(Object.keys(got.fingerprints).length).toBe(got.fingerprints.length); // no hole
      expect(got.fpContentId.length).toBe(ids.size);
    }
  });

  it('falls back to its own interning when the images were read into different tables', () => {
    const want = prepareImages(input.images);
    const got = preparedWith(() => new StringTable());
    expect(sharedStringTable(got.images.map((i) => i.manifest))).toBeNull();
    expect(sharedStringTable(input.images.map((i) => i.manifest))).toBeNull();
    expect(got.fingerprints).toStrictEqual(want.fingerprints);
    expect(got.images.map((i) => [...i.fpId])).toStrictEqual(want.images.map((i) => [...i.fpId]));
    const mixed = new StringTable();
    const cols: AnalysisInput = {
      ...input,
      images: input.images.map((x, k) => ({
        image: x.image,
        manifest: columnar(x.manifest, k % 2 ? mixed : new StringTable()),
      })),
    };
    expect(JSON.stringify(withTrust(analyze(cols), cols))).toBe(
      JSON.stringify(withTrust(analyze(input), input)),
    );
  });
});

describe('analysis of columnar manifests', () => {
  it('gives the report of the record form on every fixture image, each mounted once', () => {
    expectSameReport(inputOf(NAMES.map((n, k) => inst(`i${k}`, n, k % 3 === 0 ? null : `d${k % 2}`))));
  });

  it('gives the report of the record form on the fleet.fstab instances', () => {
    expectSameReport(inputOf(fleetInstances()));
  });

  it('gives the report of the record form on random fleets of fixture images', () => {
    const mount = fc.record({
      image: fc.constantFrom(...NAMES),
      domain: fc.constantFrom(null, 'a', 'b'),
      backing: fc.constantFrom<Backing>('file', 'file', 'bdev'),
      inodeShare: fc.boolean(),
      directio: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(mount, { minLength: 1, maxLength: 6 }),
        fc.constantFrom(undefined, 0.5),
        (mounts, workingSetFraction) => {
          const input = inputOf(
            mounts.map((x, k) =>
              inst(`m${k}`, x.image, x.domain, {
                backing: x.backing,
                inodeShare: x.inodeShare,
                directio: x.directio,
              }),
            ),
          );
          if (workingSetFraction !== undefined) input.options = { workingSetFraction };
          expectSameReport(input);
        },
      ),
      { seed: PROPERTY_SEED, numRuns: 60 },
    );
  }, 120_000);

  it('gives the trust model of the record form for unhashed manifests (bindings by StringTable index)', () => {
    // Without sha256 a binding follows from the fingerprint's form, which the trust model
    // checks once per StringTable index (fingerprintsOf): serials and sha256 forms side by side.
    const unhashed = (m: Manifest): Manifest => ({
      ...m,
      hashed: false,
      files: m.files.map(({ sha256: _sha256, ...r }) => r),
    });
    const input = inputOf(NAMES.map((n, k) => inst(`i${k}`, n, `d${k % 2}`)));
    input.images = input.images.map((x) => ({ image: x.image, manifest: unhashed(x.manifest) }));
    const strings = new StringTable();
    const cols: AnalysisInput = {
      ...input,
      images: input.images.map((x) => ({ image: x.image, manifest: columnar(x.manifest, strings) })),
    };
    for (const x of cols.images) {
      expect(manifestColumns(x.manifest)!.sha256).toBeNull();
      expect(manifestColumns(x.manifest)!.fingerprintIndex).not.toBeNull();
    }
    const want = withTrust(analyze(input), input);
    const got = withTrust(analyze(cols), cols);
    const bindings = want.trust!.fingerprints.map((x) => x.counts);
    expect(bindings.some((c) => c['publisher-defined'] > 0)).toBe(true);
    expect(bindings.some((c) => c.unverifiable > 0)).toBe(true);
    expect(JSON.stringify(got)).toBe(JSON.stringify(want));
  });

  it('the fixture images exist (a guard for the lists above)', () => {
    for (const n of NAMES) expect(image(n).manifest.files.length).toBeGreaterThan(0);
  });
});
