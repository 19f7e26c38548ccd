/**
 * The trust model's fingerprint bindings taken from analyze()'s R12 check (model/core.ts
 * PreparedImage.binding, model/engine-bindings.ts) are those it finds classifying each record
 * itself: the same trust model either way, on fingerprints of every form the check leaves to it.
 */
import { describe, expect, it } from 'vitest';
import {
  ManifestColumns,
  columnarManifest,
  manifestHeader,
  type FileRecord,
  type Manifest,
} from '@sharemap/erofs';
import { analyze } from '../../src/model/engine.js';
import { engineBindings } from '../../src/model/engine-bindings.js';
import { imageEntryFromManifest } from '../../src/model/input.js';
import type { AnalysisInput, Report } from '../../src/report.js';
import { buildTrustModel } from '../../src/trust/index.js';
import { fleetInstances, inputOf, inst, oracleManifest } from '../model-fixtures.js';

/** base-v1.fp (hashed) with fingerprints and sha256s of every form the engine's check leaves to the trust model. */
function oddManifest(): Manifest {
  const m = oracleManifest('base-v1.fp');
  const files: FileRecord[] = m.files.map((f) => ({ ...f }));
  const hashed = files.filter((f) => f.type === 'file' && f.fingerprint && f.sha256);
  const edits: ((f: FileRecord) => void)[] = [
    (f) => (f.fingerprint = f.fingerprint!.toUpperCase()), // not lower hex: content-bound
    (f) => delete f.sha256, // unverifiable
    (f) => (f.sha256 = ''), // a mismatch to the engine, unverifiable to the trust model
    (f) => (f.sha256 = f.fingerprint!.slice(-3)), // a tail, not a digest: content-bound to the trust model
    (f) => (f.fingerprint = 'deadbeef'), // publisher-defined
    (f) => (f.fingerprint = ''), // no usable fingerprint
    (f) => (f.fingerprint = null), // none
    (f) => (f.sha256 = hashed[20]!.sha256), // verified mismatch
    (f) => (f.fingerprint = '\u0017' + f.fingerprint!.slice(1)), // sha256 form to isSha256Form only
    (f) => (f.sha256 = f.sha256!.toUpperCase()), // matches, not by endsWith
    (f) => (f.fingerprint = f.fingerprint!.slice(0, 10).toUpperCase()), // publisher-defined, not lower hex
  ];
  edits.forEach((edit, k) => edit(hashed[k]!));
  return { ...m, files };
}

function inputFor(manifest: Manifest): AnalysisInput {
  return {
    images: [{ image: imageEntryFromManifest(manifest, { id: 'odd', publisher: 'acme' }), manifest }],
    instances: [inst('m1', 'odd', 'acme'), inst('m2', 'odd', 'acme')],
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

/** The same input with other manifest objects (the same records): analyze() kept no bindings for them. */
function withOtherManifests(input: AnalysisInput, copy: (m: Manifest) => Manifest): AnalysisInput {
  return { ...input, images: input.images.map((x) => ({ ...x, manifest: copy(x.manifest) })) };
}

function bothWays(input: AnalysisInput, copy: (m: Manifest) => Manifest) {
  const report: Report = analyze(input);
  for (const { image, manifest } of input.images)
    expect(engineBindings(report, manifest, image.blockSize)).not.toBeNull();
  const other = withOtherManifests(input, copy);
  for (const { image, manifest } of other.images)
    expect(engineBindings(report, manifest, image.blockSize)).toBeNull();
  return { fromEngine: buildTrustModel(report, input), itself: buildTrustModel(report, other) };
}

describe("trust model: fingerprint bindings from analyze()'s R12 check", () => {
  it('records of every fingerprint form: the same bindings, counts, examples and rows', () => {
    const { fromEngine, itself } = bothWays(inputFor(oddManifest()), (m) => ({ ...m, files: m.files }));
    expect(fromEngine).toEqual(itself);
    const fp = fromEngine.fingerprints[0]!;
    expect(fp.counts).toEqual({
      'content-bound': 231,
      'verified-mismatch': 1,
      unverifiable: 2,
      'publisher-defined': 2,
    });
    expect(fp.none).toBe(2);
    const weak = fp.statements.find((s) => s.binding === 'unverifiable')!;
    // Both instances' rows of the two files.
    expect(weak.rowCount).toBe(4);
  });

  it('columnar manifests: the same trust model', () => {
    const columnar = (m: Manifest): Manifest =>
      columnarManifest(manifestHeader(m), ManifestColumns.fromRecords(m.files));
    const { fromEngine, itself } = bothWays(inputFor(columnar(oddManifest())), columnar);
    expect(fromEngine).toEqual(itself);
    expect(fromEngine.fingerprints[0]!.counts['verified-mismatch']).toBe(1);
  });

  it('the fleet (several images, forged and serial fingerprints): the same trust model', () => {
    const input = inputOf([
      ...fleetInstances(),
      inst('forged', 'base-v2.fp.forged', 'acme-signed'),
      inst('serial', 'base-v1.fp.serial', 'acme-signed'),
    ]);
    const { fromEngine, itself } = bothWays(input, (m) => ({ ...m, files: m.files }));
    expect(fromEngine).toEqual(itself);
    expect(
      fromEngine.fingerprints.find((f) => f.imageId === 'base-v2.fp.forged')!.counts['verified-mismatch'],
    ).toBe(1);
  });

  it('none left to the trust model (unhashed lower-hex fingerprints): its counts and examples from the engine', () => {
    // Without sha256s every file's binding is settled by the engine (unverifiable or
    // publisher-defined): the trust model takes the engine's counts and reads files for examples only.
    const unhashed = (name: string): Manifest => {
      const m = oracleManifest(name);
      return { ...m, hashed: false, files: m.files.map(({ sha256: _s, ...f }) => f) };
    };
    const manifests = ['base-v1.fp', 'base-v1.fp.serial'].map(unhashed);
    const input: AnalysisInput = {
      images: manifests.map((manifest, k) => ({
        image: imageEntryFromManifest(manifest, { id: `img${k}`, publisher: 'acme' }),
        manifest,
      })),
      instances: [inst('m1', 'img0', 'acme'), inst('m2', 'img1', 'acme'), inst('m3', 'img0', 'acme')],
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    const { fromEngine, itself } = bothWays(input, (m) => ({ ...m, files: m.files }));
    expect(fromEngine).toEqual(itself);
    const report = analyze(input);
    for (const { image, manifest } of input.images)
      expect(engineBindings(report, manifest, image.blockSize)!.bindingCounts[0]).toBe(0); // no BINDING_ASK
    expect(fromEngine.fingerprints[0]!.counts.unverifiable).toBeGreaterThan(3);
    expect(fromEngine.fingerprints[1]!.counts['publisher-defined']).toBeGreaterThan(3);
    expect(fromEngine.fingerprints[0]!.examples.unverifiable).toHaveLength(3);
  });

  it('another block size than analyze() had: nothing kept for it', () => {
    const input = inputFor(oddManifest());
    const report = analyze(input);
    const { image: entry, manifest } = input.images[0]!;
    expect(engineBindings(report, manifest, entry.blockSize)).not.toBeNull();
    expect(engineBindings(report, manifest, entry.blockSize * 2)).toBeNull();
    expect(engineBindings(analyze(inputFor(oddManifest())), manifest, entry.blockSize)).toBeNull();
  });
});
