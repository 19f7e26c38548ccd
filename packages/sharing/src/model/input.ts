/**
 * Building engine input: image entries from manifests, default instances, and the
 * kernel's mount-time checks (docs/format.md#ishare-mount, R2, R3) that decide each instance's state.
 */
import type { Manifest } from '@sharemap/erofs';
import type {
  AnalysisInput,
  DomainLabel,
  InodeShareState,
  InstanceInput,
  ReportImage,
  ReportInstance,
} from '../report.js';

export type ImageEntry = AnalysisInput['images'][number]['image'];

/** The domain label `defaultInstances` gives every image. */
export const DEFAULT_DOMAIN_LABEL = 'default';

/** The image entry of a manifest (header fields only); `id` defaults to the image name. */
export function imageEntryFromManifest(
  manifest: Manifest,
  extra: { id?: string; publisher?: string } = {},
): ImageEntry {
  const sb = manifest.superblock;
  const entry: ImageEntry = {
    id: extra.id ?? manifest.image.name,
    name: manifest.image.name,
    blockSize: sb.block_size,
    ishare: sb.ishare,
    fingerprintXattrName: sb.fingerprint_xattr_name,
    requiredKernel: sb.required_kernel ?? 'unknown',
    featureCompat: [...sb.feature_compat],
    featureIncompat: [...sb.feature_incompat],
    hashed: manifest.hashed,
  };
  if (manifest.image.sha256 !== undefined) entry.sha256 = manifest.image.sha256;
  if (extra.publisher !== undefined) entry.publisher = extra.publisher;
  if (manifest.predicted) entry.predicted = manifest.predicted;
  return entry;
}

/**
 * Instances when no mount configuration is given: each image mounted once, as an image file
 * (file-backed mount, no `directio`), with `inode_share`, all in one domain labelled
 * "default". This is the "what if we turned it on" baseline: the most sharing a single
 * domain of file-backed mounts can give. Ids are `i1`, `i2`, ... in image order.
 */
export function defaultInstances(images: readonly Pick<ReportImage, 'id' | 'name'>[]): InstanceInput[] {
  return images.map((image, k) => ({
    id: `i${k + 1}`,
    label: image.name,
    imageId: image.id,
    mountPoints: [],
    source: image.name,
    backing: 'file',
    domain: { label: DEFAULT_DOMAIN_LABEL },
    options: {
      inodeShare: true,
      domainIdGiven: true,
      dax: null,
      directio: false,
      cacheStrategy: null,
      devices: [],
      fsoffset: 0,
    },
  }));
}

/**
 * The kernel's verdict on one instance, in fill_super's order (docs/format.md#ishare-mount):
 * not mounted; parser-reported failure; inode_share without domain_id -> EINVAL;
 * inode_share with dax=always -> EINVAL; fsoffset not a multiple of the image's block size ->
 * EINVAL; no inode_share -> private; image without
 * ISHARE_XATTRS -> silently off (R3); domain not known -> effective, domain unknown (R11).
 */
export function resolveInstanceState(
  instance: InstanceInput,
  image: Pick<ReportImage, 'ishare' | 'name' | 'blockSize'> | undefined,
): ReportInstance {
  const o = instance.options;
  const off = (
    reason: Exclude<InodeShareState, { effective: true }>['reason'],
    message: string,
    mountError?: string,
  ): ReportInstance => {
    const r: ReportInstance = { ...instance, inodeShare: { effective: false, reason, message } };
    if (mountError !== undefined) r.mountError = mountError;
    return r;
  };
  if (instance.notMounted)
    return off('not-mounted', `not mounted (${instance.notMounted}): holds no page cache`);
  if (!image)
    return off(
      'not-mounted',
      `image ${instance.imageId} is not part of the analysis: holds no page cache`,
      `unknown image ${instance.imageId}`,
    );
  const domainAbsent =
    instance.domain === null && (o.domainIdGiven === false || instance.domainKnown === true);
  if (instance.mountError) {
    const msg = /EINVAL/.test(instance.mountError) ? instance.mountError : `EINVAL: ${instance.mountError}`;
    const reason =
      o.inodeShare && domainAbsent
        ? 'no-domain'
        : o.inodeShare && o.dax === 'always'
          ? 'dax'
          : 'mount-failed';
    return off(reason, `mount fails: ${msg}`, msg);
  }
  if (o.inodeShare && domainAbsent) {
    const msg = 'EINVAL: inode_share without domain_id ("domain_id is needed when inode_ishare is on", R2)';
    return off('no-domain', `mount fails: ${msg}`, msg);
  }
  if (o.inodeShare && o.dax === 'always') {
    const msg = 'EINVAL: inode_share with dax=always ("FSDAX is not allowed when inode_ishare is on", R2)';
    return off('dax', `mount fails: ${msg}`, msg);
  }
  // erofs_read_superblock() refuses an fsoffset that is not a multiple of the image's own block
  // size ("fsoffset %llu is not aligned to block size %u"), with or without inode_share; only
  // the engine knows the block size (the parsers check the 512-byte minimum).
  if (o.fsoffset % image.blockSize !== 0) {
    const msg = `EINVAL: fsoffset ${o.fsoffset} is not aligned to block size ${image.blockSize} of ${image.name}`;
    return off('mount-failed', `mount fails: ${msg}`, msg);
  }
  if (!o.inodeShare) {
    const why =
      instance.domain !== null ? 'domain_id without inode_share shares nothing' : 'no inode_share option';
    return off('not-requested', `${why} (R2)`);
  }
  if (!image.ishare) {
    return off(
      'no-ishare-compat',
      `image ${image.name} lacks compat ISHARE_XATTRS: the kernel silently turns inode_share off (R3)`,
    );
  }
  const { mountError: _none, ...rest } = instance;
  if (instance.domain === null) return { ...rest, inodeShare: { effective: true, domainUnknown: true } };
  return { ...rest, inodeShare: { effective: true } };
}

/**
 * The domain a user's assignment of `label` to an instance means (a what-if in the UI, the API's
 * `domainAssignments`): the existing domain of that label when the input has one, the user
 * choosing to join it (its label object is reused, so a domain made from a domain_id= value
 * stays that domain), else a new domain with a written label. Unlike a plan's written
 * `domain`, which is refused when it clashes with a domain_id label (checkDomainLabelNamespaces),
 * an assignment names domains the user sees in the report.
 */
export function assignedDomain(instances: readonly InstanceInput[], label: string): DomainLabel {
  for (const inst of instances) if (inst.domain?.label === label) return inst.domain;
  return { label };
}

/** Whether an instance holds page cache at all (mounted, mount succeeded): the one definition
 * the engine, the findings, the renderers' headline and the web UI's Overview count by. */
export function isMounted(instance: Pick<ReportInstance, 'mountError' | 'inodeShare'>): boolean {
  return (
    instance.mountError === undefined &&
    !(instance.inodeShare.effective === false && instance.inodeShare.reason === 'not-mounted')
  );
}
