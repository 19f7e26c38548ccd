/**
 * The fingerprint bindings analyze() found for a report's manifests (core.ts
 * PreparedImage.binding), kept for the trust model (trust/model.ts fingerprintsOf), which
 * then reads one byte per file instead of comparing every record's fingerprint with its sha256
 * a second time (docs/benchmarks.md#server-trust2-the-trust-phase-from-the-engines-r12-check-2026-12-07),
 * and takes the engine's counts when it left it no file to classify (bindingCounts:
 * docs/benchmarks.md#analyze-core5-the-trust-models-per-record-passes-2026-12-08).
 * Held by report, then by manifest, both weakly: nothing here keeps either alive, and a report
 * that did not come from analyze() (a copy, a parsed one) or a manifest analysed with another
 * block size finds nothing, and the trust model classifies the records itself.
 */
import type { Manifest } from '@sharemap/erofs';
import type { Report } from '../report.js';
import type { PreparedImage } from './core.js';

/** What analyze() kept of one prepared image: its per-file bindings and their counts (PreparedImage). */
interface KeptBindings {
  blockSize: number;
  binding: Int8Array;
  bindingCounts: Int32Array;
}

const byReport = new WeakMap<Report, WeakMap<Manifest, KeptBindings>>();

/** Keeps each prepared image's bindings for `report` (called by analyze()). */
export function keepBindings(report: Report, images: readonly PreparedImage[]): void {
  const byManifest = new WeakMap<Manifest, KeptBindings>();
  for (const p of images)
    byManifest.set(p.manifest, {
      blockSize: p.entry.blockSize,
      binding: p.binding,
      bindingCounts: p.bindingCounts,
    });
  byReport.set(report, byManifest);
}

/**
 * What analyze() found for `manifest` when it made `report` with that manifest at that block
 * size, else null: `binding`, one byte per file (core.ts BINDING_* codes or an index into
 * FINGERPRINT_BINDINGS), and `bindingCounts`, how many regular files have each code (at
 * `code - BINDING_ASK`).
 */
export function engineBindings(
  report: Report,
  manifest: Manifest,
  blockSize: number,
): Pick<KeptBindings, 'binding' | 'bindingCounts'> | null {
  const kept = byReport.get(report)?.get(manifest);
  return kept !== undefined && kept.blockSize === blockSize ? kept : null;
}
