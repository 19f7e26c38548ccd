/**
 * `Report.paths` made lazily from manifests whose paths are bytes (`@sharemap/erofs`
 * ManifestColumns.pathStore, docs/benchmarks.md#analyze-paths-paths-as-bytes-2026-12-07): each
 * image's list is a getter that makes the strings on first access (then kept), and the stores
 * stay attached to the `paths` object, so that a writer that only copies the paths (report-wire's
 * jsonBytes, the CLI's `--json`) reads their bytes without a string being made, and a reader of
 * a few paths (the trust model's and the findings' examples) makes only those.
 */
import type { PathStore } from '@sharemap/erofs';

export { PATH_ASCII, type PathStore } from '@sharemap/erofs';

const PATH_STORES = Symbol('sharemap.pathStores');
type WithStores = { [PATH_STORES]?: Map<string, PathStore> };

/**
 * The `paths` member of a report: by image id, its files' paths, taken from `store` where an
 * image has one (lazily, see above), else from `list()` as it is.
 */
export function reportPaths(
  images: readonly { id: string; store: PathStore | null; list: () => string[] }[],
): Record<string, string[]> {
  const paths: Record<string, string[]> = {};
  let stores: Map<string, PathStore> | null = null;
  for (const { id, store, list } of images) {
    if (store === null) {
      paths[id] = list();
      continue;
    }
    stores ??= new Map();
    stores.set(id, store);
    const byId = stores;
    let value: string[] | null = null;
    Object.defineProperty(paths, id, {
      get: () => (value ??= store.strings()),
      set: (v: string[]) => {
        value = v;
        byId.delete(id);
      },
      enumerable: true,
      configurable: true,
    });
  }
  // Not enumerable: a copy of the map (`{ ...paths }`) reads the lists and has no stores.
  if (stores)
    Object.defineProperty(paths, PATH_STORES, { value: stores, configurable: true, enumerable: false });
  return paths;
}

/** The PathStore image `id`'s paths of a report's `paths` member are made from (reportPaths), or null. */
export function attachedPathStore(paths: object, id: string): PathStore | null {
  return (paths as WithStores)[PATH_STORES]?.get(id) ?? null;
}

/** Path `file` of image `imageId` of a report, without making every path of the image from bytes. */
export function reportPathAt(
  paths: Record<string, string[]>,
  imageId: string,
  file: number,
): string | undefined {
  const store = attachedPathStore(paths, imageId);
  if (store !== null) return file >= 0 && file < store.n ? store.pathAt(file) : undefined;
  return paths[imageId]?.[file];
}

/** Every PathStore attached to a report's `paths` member (reportPaths), by image id; null when none. */
export function attachedPathStores(paths: object): ReadonlyMap<string, PathStore> | null {
  return (paths as WithStores)[PATH_STORES] ?? null;
}
