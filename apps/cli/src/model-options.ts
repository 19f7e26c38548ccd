/**
 * The OCI deployment-model options of `analyze` and `upload`, and --model's value: their own
 * module, so that a command's spec and argument check do not load the OCI reader
 * (archives.ts) or the side-by-side comparison (models.ts), which only archives need.
 */
import type { DeploymentModel } from '@sharemap/oci';
import type { OptionSpec } from './args.js';
import { inputError } from './errors.js';

export type Model = DeploymentModel;

export const MODEL_OPTIONS: Record<string, OptionSpec> = {
  model: {
    type: 'string',
    value: 'layers|flattened',
    description:
      'OCI archives: one predicted EROFS image per distinct layer (containerd EROFS snapshotter) or per OCI image (default flattened).',
    group: 'OCI images',
  },
  platform: {
    type: 'string',
    value: 'OS/ARCH[/VARIANT]',
    description: 'OCI archives: the platform picked from multi-platform indexes (default linux/amd64).',
    group: 'OCI images',
  },
  'compare-models': {
    type: 'boolean',
    description:
      'OCI archives: print both models side by side, without and with inode_share, instead of a report.',
    group: 'OCI images',
  },
};

export function parseModel(v: string | undefined): Model {
  if (v === undefined || v === 'flattened') return 'flattened';
  if (v === 'layers') return 'layers';
  throw inputError(`--model: expected layers or flattened, not ${JSON.stringify(v)}`);
}
