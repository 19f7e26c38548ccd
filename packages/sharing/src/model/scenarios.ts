/**
 * What-if scenarios: each a pure function AnalysisInput -> AnalysisInput; runScenarios
 * analyses them and reports totals and the change in savings against the base.
 */
import type { DataLayout, FileRecord } from '@sharemap/erofs';
import type { AnalysisInput, InstanceInput, Report, ScenarioResult } from '../report.js';
import { analyze } from './engine.js';
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

/** The standard scenarios for an input: the four global ones, one drop-image per image, one working set. */
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
    {
      id: `working-set:${fraction}`,
      title: `Working set ${Math.round(fraction * 100)} %`,
      description: `Each file ${Math.round(fraction * 100)} % resident (rounded up to whole pages per file).`,
      apply: workingSet(fraction),
    },
  ];
}

/** Analyses each scenario; `base` defaults to analyze(input). */
export function runScenarios(
  input: AnalysisInput,
  scenarios: readonly Scenario[] = standardScenarios(input),
  base?: Report,
): ScenarioResult[] {
  const baseSaved = (base ?? analyze(input)).totals.bytesSaved;
  return scenarios.map((s) => {
    const totals = analyze(s.apply(input)).totals;
    return {
      id: s.id,
      title: s.title,
      description: s.description,
      totals,
      deltaBytesSaved: totals.bytesSaved - baseSaved,
    };
  });
}

/** The report with its `scenarios` filled in. */
export function withScenarios(report: Report, input: AnalysisInput, scenarios?: readonly Scenario[]): Report {
  return { ...report, scenarios: runScenarios(input, scenarios ?? standardScenarios(input), report) };
}
