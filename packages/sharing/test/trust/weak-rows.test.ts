/**
 * The trust model's weak-binding statements (unverifiable, publisher-defined): their rows are
 * the first MAX_TRUST_ROWS rows, in row order, of the image's files with that binding, and
 * their rowCount the number of such rows on every instance (a compact table's row counting
 * each instance of its class). Checked against a row-by-row count made here, on the engine's
 * tables (per instance and compact) and on tables whose rows are not in the engine's order.
 */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '@sharemap/erofs';
import { analyze } from '../../src/model/engine.js';
import { rowCopies } from '../../src/model/file-rows.js';
import { imageEntryFromManifest } from '../../src/model/input.js';
import { fingerprintState } from '../../src/model/keys.js';
import type { AnalysisInput, Report } from '../../src/report.js';
import { buildTrustModel } from '../../src/trust/index.js';
import { MAX_TRUST_ROWS, type FingerprintBinding } from '../../src/trust/types.js';
import { inst, oracleManifest } from '../model-fixtures.js';

/** Fixture `name` without its sha256s: its sha256-form fingerprints are unverifiable. */
function unhashed(name: string): Manifest {
  const m = oracleManifest(name);
  return {
    ...m,
    hashed: false,
    files: m.files.map(({ sha256: _s, ...f }) => f),
  };
}

function inputOf(names: string[], instances: AnalysisInput['instances']): AnalysisInput {
  return {
    images: names.map((name) => {
      const manifest = unhashed(name);
      return { image: imageEntryFromManifest(manifest, { id: name }), manifest };
    }),
    instances,
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

/** Per image id, each file's weak binding as the trust model defines it (no sha256: never content-bound). */
function weakBindings(input: AnalysisInput): Map<string, (FingerprintBinding | null)[]> {
  const out = new Map<string, (FingerprintBinding | null)[]>();
  for (const { image, manifest } of input.images)
    out.set(
      image.id,
      manifest.files.map((f) =>
        f.type !== 'file' || fingerprintState(f.fingerprint, image.blockSize) !== 'ok'
          ? null
          : // `sha256:` (hex 7368613235363a) and 32 bytes: a digest claimed, not checked
            f.fingerprint!.length === 78 && f.fingerprint!.toLowerCase().startsWith('7368613235363a')
            ? 'unverifiable'
            : 'publisher-defined',
      ),
    );
  return out;
}

/** The weak statements' rows and counts, row by row. */
function expectedWeak(
  report: Report,
  input: AnalysisInput,
): Map<string, { rows: number[]; rowCount: number }> {
  const bindings = weakBindings(input);
  const copies = rowCopies(report.files, report.instances.length);
  const out = new Map<string, { rows: number[]; rowCount: number }>();
  for (let r = 0; r < report.files.instance.length; r++) {
    const i = report.files.instance[r]!;
    const imageId = report.instances[i]!.imageId;
    const b = bindings.get(imageId)![report.files.file[r]!];
    if (!b) continue;
    const key = `${imageId} ${b}`;
    const e = out.get(key) ?? { rows: [], rowCount: 0 };
    if (e.rows.length < MAX_TRUST_ROWS) e.rows.push(r);
    e.rowCount += copies === null ? 1 : copies[i]!;
    out.set(key, e);
  }
  return out;
}

function actualWeak(report: Report, input: AnalysisInput): Map<string, { rows: number[]; rowCount: number }> {
  const out = new Map<string, { rows: number[]; rowCount: number }>();
  for (const f of buildTrustModel(report, input).fingerprints)
    for (const s of f.statements)
      if (s.binding !== undefined && s.binding !== 'content-bound')
        out.set(`${f.imageId} ${s.binding}`, { rows: s.rows!, rowCount: s.rowCount! });
  return out;
}

const IMAGES = ['base-v1.fp', 'base-v2.fp', 'base-v1.fp.serial'];
const instances = (n: number) =>
  Array.from({ length: n }, (_, k) => inst(`m${k}`, IMAGES[k % IMAGES.length]!, 'acme'));

describe('trust model: rows of weak bindings', () => {
  it('a per-instance table: the first rows of each image and binding, every row counted', () => {
    const input = inputOf(IMAGES, instances(7));
    const report = analyze(input);
    const expected = expectedWeak(report, input);
    // Both kinds, and lists past the cap (several instances of ~240 files each).
    expect([...expected.keys()].some((k) => k.endsWith('publisher-defined'))).toBe(true);
    expect([...expected.values()].some((e) => e.rowCount > MAX_TRUST_ROWS)).toBe(true);
    expect(actualWeak(report, input)).toEqual(expected);
  });

  it("a compact table: a row counts its instance's class", () => {
    const input: AnalysisInput = { ...inputOf(IMAGES, instances(12)), fileTable: 'compact' };
    const report = analyze(input);
    expect(report.files.rowsOf).toBeDefined();
    expect(actualWeak(report, input)).toEqual(expectedWeak(report, input));
  });

  it("a table whose rows are not the engine's order: read row by row", () => {
    const input = inputOf(IMAGES, instances(4));
    const report = analyze(input);
    // The first instance's first two rows swapped (files 1, 0, 2, ...).
    const { file } = report.files;
    [file[0], file[1]] = [file[1]!, file[0]!];
    expect(actualWeak(report, input)).toEqual(expectedWeak(report, input));
  });

  it("a table whose run has the engine's ends but not its middle: read row by row", () => {
    const input = inputOf(IMAGES, instances(4));
    const report = analyze(input);
    const { file, instance } = report.files;
    const n = instance.filter((i) => i === 0).length;
    const before = JSON.stringify([...expectedWeak(report, input)]);
    // A middle row of the first instance made to repeat another file: the run still starts at
    // file 0 and ends at file n - 1, but its counts are no longer the image's.
    let changed = false;
    for (let q = 1; q < n - 1 && !changed; q++)
      for (let g = 1; g < n - 1 && !changed; g++) {
        const was = file[q]!;
        file[q] = g;
        changed = JSON.stringify([...expectedWeak(report, input)]) !== before;
        if (!changed) file[q] = was;
      }
    expect(changed).toBe(true);
    expect(file[0]).toBe(0);
    expect(file[n - 1]).toBe(n - 1);
    expect(actualWeak(report, input)).toEqual(expectedWeak(report, input));
  });
});
