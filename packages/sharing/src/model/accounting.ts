/**
 * Page accounting (R7, R8) and the working-set fraction. Every figure is a whole number of
 * pages; bytes are pages * pageSize. Definitions: docs/metrics.md.
 */
import type { AnalysisOptions, Totals } from '../report.js';

/** x86-64 page size (R7). */
export const DEFAULT_PAGE_SIZE = 4096;
/** The static bound: every file fully read (product.md "What memory means"). */
export const DEFAULT_WORKING_SET_FRACTION = 1;
/**
 * Page sizes the model accepts: powers of two from the smallest EROFS block (512) to the
 * largest Linux base page (64 KiB: arm64, ppc64). The one rule: the CLI, the server's request
 * schema (packages/api) and the OpenAPI document all take it from here.
 */
export const MIN_PAGE_SIZE = 512;
export const MAX_PAGE_SIZE = 65536;
/** The rule as words, for error messages ("pageSize must be ..."). */
export const PAGE_SIZE_RULE = `a power of two from ${MIN_PAGE_SIZE} to ${MAX_PAGE_SIZE}`;

/** Every page size the model accepts (MIN_PAGE_SIZE..MAX_PAGE_SIZE, powers of two). */
export function pageSizes(): number[] {
  const out: number[] = [];
  for (let p = MIN_PAGE_SIZE; p <= MAX_PAGE_SIZE; p *= 2) out.push(p);
  return out;
}

export function isPageSize(n: unknown): n is number {
  return (
    typeof n === 'number' &&
    Number.isInteger(n) &&
    n >= MIN_PAGE_SIZE &&
    n <= MAX_PAGE_SIZE &&
    (n & (n - 1)) === 0
  );
}

/** R7: pages a fully read file of `size` bytes occupies: ceil(size / pageSize), whatever the EROFS block size. */
export function pagesOf(size: number, pageSize: number): number {
  return size <= 0 ? 0 : Math.ceil(size / pageSize);
}

/**
 * Working-set pages of a file of `pages` pages: ceil(f * pages). A partly read file still
 * occupies whole pages and any read touches at least one, so a non-empty file never drops to 0.
 * The 1e-9 guard keeps f * pages that are integers up to float error (0.1 * 30) from rounding up.
 */
export function workingSetPages(pages: number, fraction: number): number {
  if (fraction >= 1 || pages === 0) return pages;
  return Math.max(1, Math.ceil(pages * fraction - 1e-9));
}

export function normaliseOptions(options: Partial<AnalysisOptions> | undefined): AnalysisOptions {
  const pageSize = options?.pageSize ?? DEFAULT_PAGE_SIZE;
  const workingSetFraction = options?.workingSetFraction ?? DEFAULT_WORKING_SET_FRACTION;
  if (!isPageSize(pageSize)) throw new RangeError(`pageSize must be ${PAGE_SIZE_RULE}, got ${pageSize}`);
  if (!(workingSetFraction > 0 && workingSetFraction <= 1)) {
    throw new RangeError(`workingSetFraction must be in (0, 1], got ${workingSetFraction}`);
  }
  return { pageSize, workingSetFraction };
}

/** Totals from page counts: bytes = pages * pageSize; saved = without - with; percent of without. */
export function totalsOf(pagesWithout: number, pagesWith: number, pageSize: number): Totals {
  const bytesWithoutSharing = pagesWithout * pageSize;
  const bytesWithSharing = pagesWith * pageSize;
  const bytesSaved = bytesWithoutSharing - bytesWithSharing;
  return {
    pagesWithoutSharing: pagesWithout,
    pagesWithSharing: pagesWith,
    bytesWithoutSharing,
    bytesWithSharing,
    bytesSaved,
    percentSaved: bytesWithoutSharing === 0 ? 0 : (bytesSaved / bytesWithoutSharing) * 100,
  };
}

/** Page sums keyed by a string (instance id, domain label, image id), in first-seen order. */
export class PageSums {
  private readonly without = new Map<string, number>();
  private readonly with = new Map<string, number>();

  /** Registers a key with zero pages so that it appears even when it holds nothing. */
  touch(key: string): void {
    if (!this.without.has(key)) {
      this.without.set(key, 0);
      this.with.set(key, 0);
    }
  }

  add(key: string, pagesWithout: number, pagesWith: number): void {
    this.without.set(key, (this.without.get(key) ?? 0) + pagesWithout);
    this.with.set(key, (this.with.get(key) ?? 0) + pagesWith);
  }

  toRecord(pageSize: number): Record<string, Totals> {
    const out: Record<string, Totals> = {};
    for (const [key, w] of this.without) out[key] = totalsOf(w, this.with.get(key) ?? 0, pageSize);
    return out;
  }
}

/**
 * R8, backing-file cache: a file-backed mount without `directio` reads the image through the
 * backing file system, whose page cache keeps the raw image bytes it read, per image file
 * and never shared by inode_share. Estimate for "every file fully read": the whole image
 * file (`manifest.image.size`, else blocks * block size: metadata plus stored, possibly
 * compressed, data), in pages, with the working-set fraction applied like to any file.
 * Extra devices (`device=` blobs) are not included. Two file-backed mounts of one image file
 * share this cache (it is the same backing file), so it is counted once per image file.
 * Block-device mounts and `directio` mounts get no line here.
 */
export function backingFileCachePages(imageBytes: number, pageSize: number, fraction: number): number {
  return workingSetPages(pagesOf(imageBytes, pageSize), fraction);
}
