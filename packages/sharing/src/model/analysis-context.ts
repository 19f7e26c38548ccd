/**
 * The internal view of one analysis that the finding detectors read (findings.ts and
 * findings/*.ts). engine.ts `analyze()` builds it after the core run; nothing outside this
 * package sees it (it is not exported from the package: its shape follows the engine's
 * internals, core.ts and unknown-bounds.ts, and changes with them).
 */
import type { ReportInstance } from '../report.js';
import type { CoreResult, Prepared } from './core.js';
import type { unknownDomainBounds } from './unknown-bounds.js';

export interface AnalysisContext {
  prepared: Prepared;
  instances: ReportInstance[];
  core: CoreResult;
  /** Domain label of each instance as analysed (worst case for unknown ones), null when not sharing. */
  domainLabelOf: (string | null)[];
  pageSize: number;
  /** Whether keys of different domains are one key under the kernel's concatenation (key-collisions.ts). */
  keysCollide: boolean;
  /** The unknown-domain bounds' search, when some domain is unknown (R11). */
  unknownBounds?: ReturnType<typeof unknownDomainBounds>;
}
