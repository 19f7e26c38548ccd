/**
 * Content identity of every file of every image, as the engine sees it (keys.contentIdentity:
 * the digest a sha256 fingerprint claims, the file's own sha256 where the fingerprint is missing,
 * not sha256 or does not match, R4, R12). Views use it to show what is the same content but does
 * not share, e.g. across domains (docs/sharing-rules.md#r4: the key is fingerprint ++ domain id).
 */
import type { AnalysisInput } from '../report.js';
import { contentIdOf, prepareImages } from './core.js';

/**
 * By image id, per file index (the order of `Report.paths[image id]`): a content id, equal for
 * two files exactly when the engine takes them for the same content, or -1 (empty, not a
 * regular file, or neither fingerprint nor sha256). Ids are dense, 0 .. n - 1, across all images.
 */
export function contentIdsByImage(images: AnalysisInput['images']): Record<string, Int32Array> {
  const prepared = prepareImages(images);
  const out: Record<string, Int32Array> = {};
  for (const img of prepared.images) {
    const ids = new Int32Array(img.n);
    for (let f = 0; f < img.n; f++) ids[f] = img.regular[f] ? contentIdOf(prepared, img, f) : -1;
    out[img.entry.id] = ids;
  }
  return out;
}
