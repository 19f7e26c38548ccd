export { COMPACT_FILE_TABLE_ROWS, analyze, analyzeTotals } from './engine.js';
export {
  copiesOf,
  crossImageInodeInstanceIds,
  expandFileTable,
  fileRowView,
  forEachMemberInstance,
  mapReportRows,
  memberCount,
  rejectedCount,
  rowClasses,
  rowCopies,
  type FileRowView,
} from './file-rows.js';
export {
  DEFAULT_PAGE_SIZE,
  DEFAULT_WORKING_SET_FRACTION,
  MAX_PAGE_SIZE,
  MIN_PAGE_SIZE,
  PAGE_SIZE_RULE,
  backingFileCachePages,
  isPageSize,
  normaliseOptions,
  pageSizes,
  pagesOf,
  totalsOf,
  workingSetPages,
} from './accounting.js';
export { NOT_SHARING_LABEL, unknownDomainLabel } from './domains.js';
export {
  attachedPathStore,
  attachedPathStores,
  PATH_ASCII,
  reportPathAt,
  reportPaths,
  type PathStore,
} from './report-paths.js';
export {
  AOPS_CLASSES,
  attachGroupColumns,
  attachedGroupColumns,
  groupColumnsFromObjects,
  groupColumnsOf,
  groupMemberCount,
  groupMembers,
  groupObject,
  groupObjects,
  groupRejectedCount,
  type SharedGroupColumns,
} from './group-columns.js';
export {
  DEFAULT_DOMAIN_LABEL,
  assignedDomain,
  defaultInstances,
  imageEntryFromManifest,
  isMounted,
  resolveInstanceState,
} from './input.js';
export type { ImageEntry } from './input.js';
export {
  SHA256_FINGERPRINT_PREFIX_HEX,
  aopsClassOf,
  contentIdentity,
  fingerprintDigest,
  fingerprintState,
  sha256Fingerprint,
} from './keys.js';
export type { FingerprintState } from './keys.js';
export { FINDING_CODES, MAX_FINDING_ROWS } from './findings.js';
export { describeRow, explainFile } from './explain.js';
export { contentIdsByImage } from './content.js';
export type { FileRef } from './explain.js';
export {
  DEFAULT_FINGERPRINT_XATTR,
  DEFAULT_WORKING_SET_SCENARIO,
  MERGED_DOMAIN_LABEL,
  NO_PUBLISHER_LABEL,
  UNKNOWN_MERGED_LABEL,
  WORKING_SET_SCENARIO_PREFIX,
  consistentCompression,
  directIo,
  domainPerPublisher,
  dropImage,
  loopDirectIo,
  mergeDomains,
  mergeUnknownDomains,
  scenarioById,
  rebuildWithFingerprints,
  runScenarios,
  separateDomains,
  standardScenarios,
  withScenarios,
  workingSet,
  withAssignedDomains,
  workingSetScenario,
} from './scenarios.js';
export { costOf, splitExact } from './cost.js';
export type { Scenario } from './scenarios.js';
export { compareReports } from './compare.js';
export type { EntityDelta, FileDelta, ReportDelta } from './compare.js';
