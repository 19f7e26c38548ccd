/**
 * The sharing graph as a list: every pair of instances that shares page cache, most bytes
 * first. The graph's text fallback where its labels cannot be read (a phone) and for screen
 * readers (the drawing is one image).
 */
import type { Report } from '@sharemap/sharing';
import { sharingMatrix } from './derive';

export interface SharingPair {
  /** Instance indexes, a < b. */
  a: number;
  b: number;
  /** Bytes of page cache the two share (their cell of `sharingMatrix`). */
  bytes: number;
}

/** Pairs with shared bytes > 0, by bytes descending, then by instance order. */
export function sharingPairs(r: Report): SharingPair[] {
  const { n, m } = sharingMatrix(r);
  const out: SharingPair[] = [];
  for (let a = 0; a < n; a++)
    for (let b = a + 1; b < n; b++) {
      const bytes = m[a * n + b]!;
      if (bytes > 0) out.push({ a, b, bytes });
    }
  return out.sort((x, y) => y.bytes - x.bytes || x.a - y.a || x.b - y.b);
}
