/**
 * What-if scenarios: each a pure function AnalysisInput -> AnalysisInput; runScenarios
 * analyses them and reports totals and the change in savings against the base.
 */
import type { DataLayout, FileRecord } from '@sharemap/erofs';
import type { AnalysisInput, InstanceInput, Report, ScenarioResult } from '../report.js';
import { analyze } from './engine.js';
import { assignedDomain } from './input.js';
import { sha256Fingerprint } from './keys.js';

export interface Scenario {
  id: string;
  title: string;
  description: string;
  apply(input: AnalysisInput): AnalysisInput;
}

/** Label of the single domain of `merge-domains`. */
export const MERGED_DOMAIN_LABEL = 'merged';
/** Name mkfs.erofs gives the fingerprint xattr by default (docs/format.md#fingerprints). */
export const DEFAULT_FINGERPRINT_XATTR = 'erofs.fingerprint.v1';
export const DEFAULT_WORKING_SET_SCENARIO = 0.5;

function hasDomain(inst: InstanceInput): boolean {
  return inst.domain !== null || inst.options.domainIdGiven !== false;
}

/** Every instance that has a domain (known or unknown) goes into one domain "merged"; nothing else changes. */
export function mergeDomains(input: AnalysisInput): AnalysisInput {
  return {
    ...input,
    instances: input.instances.map((inst) =>
      hasDomain(inst) ? { ...inst, domain: { label: MERGED_DOMAIN_LABEL } } : inst,
    ),
  };
}

/** Every instance that has a domain gets a domain of its own, labelled `own:<instance id>`. */
export function separateDomains(input: AnalysisInput): AnalysisInput {
  return {
    ...input,
    instances: input.instances.map((inst) =>
      hasDomain(inst) ? { ...inst, domain: { label: `own:${inst.id}` } } : inst,
    ),
  };
}

/**
 * Images rebuilt with `mkfs.erofs --xattr-inode-digest`: for every hashed image (records
 * carry sha256), every non-empty regular file gets the fingerprint `sha256:` + digest
 * (replacing serials and forged values), and the image gets compat ISHARE_XATTRS with the
 * default xattr name. Images scanned without --hash are unchanged (their content is unknown).
 */
export function rebuildWithFingerprints(input: AnalysisInput): AnalysisInput {
  return {
    ...input,
    images: input.images.map(({ image, manifest }) => {
      if (!manifest.hashed && !manifest.files.some((f) => f.sha256 !== undefined)) return { image, manifest };
      const files: FileRecord[] = manifest.files.map((f) =>
        f.type === 'file' && f.size > 0 && f.sha256 !== undefined
          ? { ...f, fingerprint: sha256Fingerprint(f.sha256) }
          : f,
      );
      const featureCompat = image.featureCompat.includes('ishare_xattrs')
        ? image.featureCompat
        : [...image.featureCompat, 'ishare_xattrs'];
      return {
        image: {
          ...image,
          ishare: true,
          fingerprintXattrName: image.fingerprintXattrName ?? DEFAULT_FINGERPRINT_XATTR,
          featureCompat,
        },
        manifest: { ...manifest, files, superblock: { ...manifest.superblock, ishare: true } },
      };
    }),
  };
}

/**
 * Consistent compression: every file in one aops class (R6 never separates candidates).
 * Precisely: compressed layouts become `flat_plain` and every instance becomes a file-backed
 * mount (backing 'file', keeping `directio`), so every file's class is 'file-backed'. Sizes,
 * fingerprints and domains are unchanged (fingerprints hash the decompressed content). Side
 * effect: block-device instances now get an R8 backing-file cache line.
 */
export function consistentCompression(input: AnalysisInput): AnalysisInput {
  const plain = (layout: DataLayout): DataLayout =>
    layout === 'compressed_full' || layout === 'compressed_compact' ? 'flat_plain' : layout;
  return {
    ...input,
    images: input.images.map(({ image, manifest }) => ({
      image,
      manifest: {
        ...manifest,
        files: manifest.files.map((f) =>
          plain(f.layout) === f.layout ? f : { ...f, layout: plain(f.layout) },
        ),
      },
    })),
    instances: input.instances.map((inst) => (inst.backing === 'file' ? inst : { ...inst, backing: 'file' })),
  };
}

/** Without one image: the image and every instance mounting it are removed. */
export function dropImage(imageId: string): (input: AnalysisInput) => AnalysisInput {
  return (input) => ({
    ...input,
    images: input.images.filter((x) => x.image.id !== imageId),
    instances: input.instances.filter((inst) => inst.imageId !== imageId),
  });
}

/** Only a fraction of each file is resident (ceil(f * pages) per file, docs/metrics.md). */
export function workingSet(fraction: number): (input: AnalysisInput) => AnalysisInput {
  return (input) => ({ ...input, options: { ...input.options, workingSetFraction: fraction } });
}

/** Label of the one domain `merge-unknown` puts every unknown-domain instance in. */
export const UNKNOWN_MERGED_LABEL = 'unknown-merged';
/** Domain label `domain-per-publisher` gives instances of an image without a publisher. */
export const NO_PUBLISHER_LABEL = 'publisher:(none)';
/** Prefix of the working-set scenario ids: `working-set:<fraction>`, 0 < fraction <= 1. */
export const WORKING_SET_SCENARIO_PREFIX = 'working-set:';

/** An instance whose domain the input cannot show (R11: mountinfo, /proc/mounts), as the engine decides it (input.ts). */
function domainUnknown(inst: InstanceInput): boolean {
  return (
    inst.options.inodeShare &&
    inst.domain === null &&
    inst.options.domainIdGiven !== false &&
    inst.domainKnown !== true
  );
}

/**
 * The input with `labelOf(instance)` as the domain of each instance it names (non-null), as a
 * user's assignment: a domain_id given, so inode_share can be effective (the UI's what-ifs too).
 */
export function withAssignedDomains(
  input: AnalysisInput,
  labelOf: (inst: InstanceInput) => string | null,
): AnalysisInput {
  return {
    ...input,
    instances: input.instances.map((inst) => {
      const label = labelOf(inst);
      if (label === null) return inst;
      return {
        ...inst,
        domain: assignedDomain(input.instances, label),
        domainKnown: true,
        options: { ...inst.options, domainIdGiven: true },
      };
    }),
  };
}

/** Every instance of unknown domain (R11) in one domain `unknown-merged`; known domains unchanged. */
export function mergeUnknownDomains(input: AnalysisInput): AnalysisInput {
  return withAssignedDomains(input, (inst) => (domainUnknown(inst) ? UNKNOWN_MERGED_LABEL : null));
}

/**
 * Every instance of unknown domain (R11) in the domain of its image's publisher,
 * `publisher:<name>` (`publisher:(none)` for images without one); known domains unchanged.
 */
export function domainPerPublisher(input: AnalysisInput): AnalysisInput {
  const publisherOf = new Map(input.images.map(({ image }) => [image.id, image.publisher]));
  return withAssignedDomains(input, (inst) => {
    if (!domainUnknown(inst)) return null;
    const p = publisherOf.get(inst.imageId);
    return p ? `publisher:${p}` : NO_PUBLISHER_LABEL;
  });
}

/**
 * Every file-backed mount with `-o directio`: reads bypass the backing file system's page
 * cache, so no backing-file cache (R8) stays; nothing else changes (same aops class).
 */
export function directIo(input: AnalysisInput): AnalysisInput {
  return {
    ...input,
    instances: input.instances.map((inst) =>
      inst.backing === 'file' && !inst.options.directio
        ? { ...inst, options: { ...inst.options, directio: true } }
        : inst,
    ),
  };
}

/**
 * Every file-backed mount on a loop device of its own with direct I/O (`losetup --direct-io=on`):
 * a block-device mount, so no backing-file cache (R8), and plain files change aops class from
 * file-backed to block (R6). Each mount keeps its own superblock (one loop device each).
 */
export function loopDirectIo(input: AnalysisInput): AnalysisInput {
  return {
    ...input,
    instances: input.instances.map((inst) =>
      inst.backing === 'file' ? { ...inst, backing: 'bdev' as const, loopDirectIo: true } : inst,
    ),
  };
}

/** The working-set scenario for a fraction (0 < f <= 1), id `working-set:<f>`. */
export function workingSetScenario(fraction: number): Scenario {
  if (!(fraction > 0 && fraction <= 1))
    throw new RangeError(`working-set fraction must be in (0, 1], got ${fraction}`);
  const pct = Math.round(fraction * 1000) / 10;
  return {
    id: `${WORKING_SET_SCENARIO_PREFIX}${fraction}`,
    title: `Working set ${pct} %`,
    description: `Each file ${pct} % resident (rounded up to whole pages per file).`,
    apply: workingSet(fraction),
  };
}

/**
 * The scenario an id names: a standard one, or `working-set:<f>` for any fraction in (0, 1].
 * Throws a RangeError naming the id for anything else, so a link with an unknown or bad
 * scenario is refused, never silently ignored.
 */
export function scenarioById(input: AnalysisInput, id: string): Scenario {
  const standard = [...standardScenarios(input), ...CACHE_SCENARIOS, ...UNKNOWN_DOMAIN_SCENARIOS].find(
    (s) => s.id === id,
  );
  if (standard) return standard;
  if (id.startsWith(WORKING_SET_SCENARIO_PREFIX)) {
    const text = id.slice(WORKING_SET_SCENARIO_PREFIX.length);
    const f = text.trim() === '' ? Number.NaN : Number(text);
    if (!(f > 0 && f <= 1))
      throw new RangeError(`scenario "${id}": the working-set fraction must be a number in (0, 1]`);
    return workingSetScenario(f);
  }
  throw new RangeError(`unknown scenario "${id}"`);
}

/**
 * The standard scenarios for an input: the four global ones, one drop-image per image, one
 * working set; with file-backed mounts without `directio`, the two that remove the backing
 * file's cache (R8); with unknown domains (R11), the two that place them.
 */
export function standardScenarios(input: AnalysisInput, fraction = DEFAULT_WORKING_SET_SCENARIO): Scenario[] {
  return [
    {
      id: 'merge-domains',
      title: 'One domain for all',
      description: 'Every instance with a domain in one domain.',
      apply: mergeDomains,
    },
    {
      id: 'separate-domains',
      title: 'Each instance its own domain',
      description: 'No sharing across instances, only within one.',
      apply: separateDomains,
    },
    {
      id: 'rebuild-with-fingerprints',
      title: 'Rebuild with fingerprints',
      description:
        'Hashed images rebuilt with mkfs.erofs --xattr-inode-digest (sha256 fingerprints, ISHARE compat).',
      apply: rebuildWithFingerprints,
    },
    {
      id: 'consistent-compression',
      title: 'Consistent compression',
      description: 'Every file in one aops class: no compressed vs plain or block vs file-backed split.',
      apply: consistentCompression,
    },
    ...input.images.map(({ image }) => ({
      id: `drop-image:${image.id}`,
      title: `Without ${image.name}`,
      description: `The image ${image.name} and its instances removed.`,
      apply: dropImage(image.id),
    })),
    workingSetScenario(fraction),
    ...conditionalScenarios(input),
  ];
}

/** The scenarios that change something only for some inputs (backing-file cache, unknown domains). */
function conditionalScenarios(input: AnalysisInput): Scenario[] {
  const out: Scenario[] = [];
  if (input.instances.some((i) => i.backing === 'file' && !i.options.directio)) out.push(...CACHE_SCENARIOS);
  if (input.instances.some(domainUnknown)) out.push(...UNKNOWN_DOMAIN_SCENARIOS);
  return out;
}

const CACHE_SCENARIOS: Scenario[] = [
  {
    id: 'directio',
    title: 'Mount with directio',
    description: "File-backed mounts with -o directio: no backing file's page cache (R8).",
    apply: directIo,
  },
  {
    id: 'loop-directio',
    title: 'Loop devices with direct I/O',
    description:
      'File-backed mounts on loop devices with direct I/O (block devices): no backing file cache (R8); plain files become block class (R6).',
    apply: loopDirectIo,
  },
];

const UNKNOWN_DOMAIN_SCENARIOS: Scenario[] = [
  {
    id: 'merge-unknown',
    title: 'All unknown instances in one domain',
    description: `Every instance of unknown domain in one domain "${UNKNOWN_MERGED_LABEL}"; known domains unchanged.`,
    apply: mergeUnknownDomains,
  },
  {
    id: 'domain-per-publisher',
    title: 'One domain per publisher',
    description: "Every instance of unknown domain in its image publisher's domain; known domains unchanged.",
    apply: domainPerPublisher,
  },
];

/** Analyses each scenario; `base` defaults to analyze(input). */
export function runScenarios(
  input: AnalysisInput,
  scenarios: readonly Scenario[] = standardScenarios(input),
  base?: Report,
): ScenarioResult[] {
  const baseReport = base ?? analyze(input);
  const baseSaved = baseReport.totals.bytesSaved;
  const baseHost = baseReport.cost?.host.bytesWithSharing;
  return scenarios.map((s) => {
    const r = analyze(s.apply(input));
    const totals = r.totals;
    const result: ScenarioResult = {
      id: s.id,
      title: s.title,
      description: s.description,
      totals,
      deltaBytesSaved: totals.bytesSaved - baseSaved,
    };
    if (r.cost && baseHost !== undefined) {
      result.hostBytesWithSharing = r.cost.host.bytesWithSharing;
      result.deltaHostBytes = r.cost.host.bytesWithSharing - baseHost;
    }
    return result;
  });
}

/** The report with its `scenarios` filled in. */
export function withScenarios(report: Report, input: AnalysisInput, scenarios?: readonly Scenario[]): Report {
  return { ...report, scenarios: runScenarios(input, scenarios ?? standardScenarios(input), report) };
}
