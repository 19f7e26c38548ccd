/**
 * `sharemap analyze` reads manifests into a StringTable that keeps fingerprints as bytes
 * (docs/manifest.md#fingerprints-as-bytes): the engine numbers them from the bytes, and `--json`
 * (jsonBytes) copies the shared inodes' fingerprints from the bytes. The report's JSON is the one
 * the record form gives, byte for byte.
 */
import { describe, expect, it } from 'vitest';
import {
  FingerprintBytes,
  manifestToNdjson,
  parseManifestBytes,
  StringTable,
  type Manifest,
} from '@sharemap/erofs';
import { jsonBytes } from '@sharemap/report-wire';
import { analyze, attachedGroupColumns, withTrust, type AnalysisInput } from '@sharemap/sharing';
import { classFleet, fleetInstances, inputOf } from '@sharemap/sharing/testing';

function readAsBytes(m: Manifest, strings: StringTable): Manifest {
  const sb = { ...m.superblock, required_kernel: m.superblock.required_kernel ?? null };
  const text = [...manifestToNdjson({ ...m, superblock: sb })].join('');
  return parseManifestBytes(new TextEncoder().encode(text), { columnar: true, strings });
}

describe('fingerprints kept as bytes, written by --json', () => {
  it.each([
    ['the fleet', () => inputOf(fleetInstances())],
    ['a compact class fleet', () => ({ ...inputOf(classFleet(44)), fileTable: 'compact' as const })],
  ])('writes the report of %s as the record form gives it', (_name, inputFor: () => AnalysisInput) => {
    const input = inputFor();
    const want = JSON.stringify(withTrust(analyze(input), input));
    const strings = new StringTable();
    strings.keepFingerprintsAsBytes(new FingerprintBytes());
    const cols: AnalysisInput = {
      ...input,
      images: input.images.map((x) => ({ image: x.image, manifest: readAsBytes(x.manifest, strings) })),
    };
    const report = withTrust(analyze(cols), cols);
    const groups = attachedGroupColumns(report);
    // Written from the bytes: the columns carry them, and no string of the values was made.
    expect(groups?.fingerprintBytes?.bytes).toBe(strings.fingerprintBytes);
    expect(groups!.count).toBeGreaterThan(0);
    expect(groups!.plainFingerprints).toBe(true);
    for (const chunk of [64, 1 << 16]) {
      const got = Buffer.concat([...jsonBytes(report, chunk)]).toString('utf8');
      expect(got).toBe(want);
    }
  });
});
