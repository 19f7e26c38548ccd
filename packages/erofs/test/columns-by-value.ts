/**
 * Comparing two readers' columns (ManifestColumns) by the manifest they carry. Two readers of
 * one manifest fill the same columns, but not always the same bookkeeping: a reader given a
 * StringTable declares it (internedIn) and keeps each fingerprint's index in it
 * (`fingerprintIndex`, docs/manifest.md#fingerprint-ids), another reader, or the same one
 * without a table, keeps none, and the typed arrays' capacity depends on how they grew. So
 * `toStrictEqual` on the columns themselves compares how they were read, not what they hold.
 */
import { expect } from 'vitest';
import type { ManifestColumns } from '../src/manifest-columns.js';

/** Fields of ManifestColumns that record how the columns were filled, not the manifest. */
const BOOKKEEPING = new Set(['strings', 'fingerprintIndex', 'cap', 'scratch']);

/**
 * The content of `cols`: every field but the bookkeeping, typed arrays cut to the `n` records
 * (their type kept), for `toStrictEqual`. undefined stays undefined (no columns at all).
 */
export function columnsByValue(cols: ManifestColumns | undefined): Record<string, unknown> | undefined {
  if (cols === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cols)) {
    if (BOOKKEEPING.has(k)) continue;
    out[k] = ArrayBuffer.isView(v) ? (v as Uint8Array).slice(0, cols.n) : v;
  }
  return out;
}

/**
 * The interning bookkeeping itself, for columns read with a StringTable: each record's
 * fingerprint index names that fingerprint in the table (-1 for none), as the sharing engine
 * reads it.
 */
export function expectFingerprintIndices(cols: ManifestColumns): void {
  expect(cols.strings).not.toBeNull();
  expect(cols.fingerprintIndex).not.toBeNull();
  const table = cols.strings!;
  const index = cols.fingerprintIndex!;
  for (let i = 0; i < cols.n; i++) {
    const fp = cols.fingerprint[i]!;
    expect(index[i]).toBe(fp === null ? -1 : table.indexOf(fp));
    if (fp !== null) expect(table.stringAt(index[i]!)).toBe(fp);
  }
}
