/**
 * The one way to turn "these images (manifests), these mount configurations" into the engine's
 * AnalysisInput, shared by the CLI, the server and the browser's analysis worker, so a report
 * is a function of its inputs, not of argument order, upload order or which scan finished
 * first (docs/metrics.md#determinism-a-report-is-a-function-of-its-inputs).
 *
 * The engine is order-sensitive where the kernel is (the first member of a shared inode decides
 * its size and attribution, R5/R6), so the order of images and instances is fixed here:
 *  - images in canonical order: image name, then content digest (the image's sha256 when the
 *    manifest has it), then the rest of the manifest header, then, for images still equal so
 *    far (imagesNeedingDigest), the sha256 of the manifest's NDJSON form, which the caller
 *    computes (this package does no hashing); their ids are the names, with `#2`, `#3` for
 *    repeated names in that order;
 *  - instances in the mount configurations' order (the order the kernel mounts them, which R9
 *    depends on); without a configuration, one default instance per image in image order.
 * Where the kernel's read order itself could change a figure, the engine reports the range
 * (the `order-dependent` finding); that is not an input-order effect.
 */
import type { ManifestHeader } from '@sharemap/erofs';
import { assignedDomain, defaultInstances, imageEntryFromManifest, type ImageEntry } from './model/input.js';
import { resolveInstances, type ResolvedInstance, type UnresolvedEntry } from './mounts/resolve.js';
import type { MountConfig, MountWarning } from './mounts/types.js';
import type { AnalysisInput, InstanceInput } from './report.js';

/** Refused input (unknown mapping target, assignment to an unknown instance): exit 2 / HTTP 422. */
export class AnalysisInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnalysisInputError';
  }
}

export interface AnalysisImageSource<T> {
  /** The manifest header (records are not needed to order and name the images). */
  header: ManifestHeader;
  /** The image's name when the caller knows it better than the header (the server's upload name). */
  name?: string;
  /** Other names a caller uses for the image in `mapping` and `publishers` (the server's ids). */
  aliases?: string[];
  /** sha256 (hex) of the manifest's NDJSON form (manifestToNdjson), when imagesNeedingDigest
   * names this image: it orders images whose name and header are equal. */
  digest?: string;
  /** Carried through unchanged: the manifest itself, or where to load it from. */
  payload: T;
}

export interface AnalysisSources<T> {
  images: AnalysisImageSource<T>[];
  /** In the order given: it is the mount order (R9: the first mount of a device wins). */
  mountConfigs?: MountConfig[];
  /** Mount source (or loop backing file) -> image id, name or alias. */
  mapping?: Record<string, string>;
  /** Image alias, id or name -> publisher. */
  publishers?: Record<string, string>;
  /** Instance id -> domain label, for instances whose domain is unknown (R11). */
  domainAssignments?: Record<string, string>;
}

export interface BuiltAnalysisInput<T> {
  /** In canonical order, ids assigned. */
  images: { image: ImageEntry; payload: T; aliases: string[] }[];
  instances: InstanceInput[];
  /** Entries of the mount configurations that name no image of the input. */
  unresolved: UnresolvedEntry[];
  /** Parser and resolution warnings, configuration order. */
  warnings: MountWarning[];
}

/** Plain code-unit order: the same on every platform, which is all a canonical order needs. */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Order of two images: name, then the image's sha256, then the whole manifest header. */
export function compareImageHeaders(
  a: ManifestHeader,
  b: ManifestHeader,
  nameA?: string,
  nameB?: string,
): number {
  return (
    compareText(nameA ?? a.image.name, nameB ?? b.image.name) ||
    compareText(a.image.sha256 ?? '', b.image.sha256 ?? '') ||
    compareText(headerKey(a), headerKey(b))
  );
}

/**
 * Indices of the images that compareImageHeaders cannot order (equal name and header, e.g. two
 * builds of one image with a fixed uuid): the caller gives those a `digest`.
 */
export function imagesNeedingDigest(
  images: readonly Pick<AnalysisImageSource<unknown>, 'header' | 'name'>[],
): number[] {
  const groups = new Map<string, number[]>();
  images.forEach((s, k) => {
    const key = JSON.stringify([s.name ?? s.header.image.name, headerKey(s.header)]);
    const g = groups.get(key);
    if (g) g.push(k);
    else groups.set(key, [k]);
  });
  return [...groups.values()]
    .filter((g) => g.length > 1)
    .flat()
    .sort((a, b) => a - b);
}

/** The header as JSON with a fixed field order (two copies of one manifest compare equal). */
function headerKey(h: ManifestHeader): string {
  return JSON.stringify([
    h.image.name,
    h.image.size,
    h.image.sha256 ?? null,
    h.superblock,
    h.hashed,
    h.file_count,
  ]);
}

/**
 * ResolvedInstance (configuration view) -> the engine's InstanceInput. Formats that show
 * domain_id (fstab, units, scripts, plan) say whether one was given; mountinfo and /proc/mounts
 * never do (R11), and it stays unknown there.
 */
export function instanceInputOf(r: ResolvedInstance): InstanceInput {
  const first = r.entries[0];
  const inst: InstanceInput = {
    id: r.id,
    label: r.label,
    imageId: r.imageId,
    mountPoints: [...r.mountPoints],
    source: r.source,
    backing: r.backing,
    domain: r.domain,
    options: { ...r.options },
    domainKnown: r.domainKnown,
  };
  if (r.domainKnown && first) inst.options.domainIdGiven = first.options.domainIdGiven;
  if (r.users) inst.users = [...r.users];
  if (r.origin) inst.origin = r.origin;
  if (r.notMounted) inst.notMounted = r.notMounted;
  if (r.mountError) inst.mountError = r.mountError;
  if (r.backingFile) inst.backingFile = { ...r.backingFile };
  if (r.loopDirectIo !== undefined) inst.loopDirectIo = r.loopDirectIo;
  return inst;
}

export function buildAnalysisInput<T>(sources: AnalysisSources<T>): BuiltAnalysisInput<T> {
  const order = sources.images
    .map((s, k) => ({ s, k }))
    .sort(
      (a, b) =>
        compareImageHeaders(a.s.header, b.s.header, a.s.name, b.s.name) ||
        compareText(a.s.digest ?? '', b.s.digest ?? '') ||
        a.k - b.k,
    );
  const used = new Set<string>();
  const byAlias = new Map<string, string>();
  const publishers = sources.publishers ?? {};
  const images = order.map(({ s }) => {
    const name = s.name ?? s.header.image.name;
    let id = name;
    for (let n = 2; used.has(id); n++) id = `${name}#${n}`;
    used.add(id);
    const aliases = [...(s.aliases ?? [])];
    for (const a of aliases) byAlias.set(a, id);
    const publisher = [...aliases, id, name].map((k) => publishers[k]).find((p) => p !== undefined);
    const image = imageEntryFromManifest(
      { ...s.header, files: [] },
      publisher !== undefined ? { id, publisher } : { id },
    );
    image.name = name;
    return { image, payload: s.payload, aliases };
  });

  const configs = sources.mountConfigs ?? [];
  let instances: InstanceInput[];
  const unresolved: UnresolvedEntry[] = [];
  const warnings: MountWarning[] = [];
  if (configs.length === 0) {
    instances = defaultInstances(images.map((i) => i.image));
  } else {
    const mapping: Record<string, string> = {};
    for (const [src, target] of Object.entries(sources.mapping ?? {})) {
      const id = byAlias.get(target) ?? (used.has(target) ? target : undefined);
      // a name that is not an id (the first of repeated names is both) is left to the resolver
      mapping[src] = id ?? target;
    }
    for (const c of configs) warnings.push(...c.warnings);
    const resolved = resolveInstances(
      configs,
      images.map((i) => ({ id: i.image.id, name: i.image.name })),
      { mapping },
    );
    unresolved.push(...resolved.unresolved);
    warnings.push(...resolved.warnings);
    instances = resolved.instances.map(instanceInputOf);
  }
  for (const [iid, label] of Object.entries(sources.domainAssignments ?? {})) {
    const inst = instances.find((i) => i.id === iid);
    if (!inst) throw new AnalysisInputError(`domainAssignments: no instance ${iid}`);
    // an existing label joins that domain on purpose (model/input.ts assignedDomain)
    inst.domain = assignedDomain(instances, label);
    inst.domainKnown = true;
  }
  return { images, instances, unresolved, warnings };
}

/**
 * A built AnalysisInput (the server's stored input, after what-if edits in the browser) with its
 * images in canonical order. Instances keep their order: it already is the configuration's or
 * the canonical default order. Idempotent.
 */
export function canonicalAnalysisInput(input: AnalysisInput): AnalysisInput {
  const header = (x: AnalysisInput['images'][number]): ManifestHeader => ({
    kind: x.manifest.kind,
    version: x.manifest.version,
    image: x.manifest.image,
    superblock: x.manifest.superblock,
    hashed: x.manifest.hashed,
    file_count: x.manifest.file_count,
  });
  const images = input.images
    .map((x, k) => ({ x, k }))
    .sort(
      (a, b) => compareImageHeaders(header(a.x), header(b.x), a.x.image.name, b.x.image.name) || a.k - b.k,
    )
    .map(({ x }) => x);
  return { ...input, images };
}
