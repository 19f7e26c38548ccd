/**
 * The row types of the schema (schema.ts) as Kysely sees them, one interface per table. Both
 * backends return the same JavaScript values: SQLite INTEGER and PostgreSQL bigint (parsed as
 * numbers in pg.ts) are numbers, TEXT is a string, flags are 0/1.
 */
import type { Generated } from 'kysely';
import type { ImageStatus } from '@sharemap/api';

export interface ImagesTable {
  id: string;
  name: string;
  sha256: string;
  size: number;
  /** JSON array of DeviceRef. */
  devices: string;
  status: ImageStatus;
  error_code: string | null;
  error_message: string | null;
  manifest_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface ManifestsTable {
  id: string;
  name: string;
  blob: string;
  /** JSON of the ManifestHeader. */
  header: string;
  file_count: number;
  hashed: number;
  source: 'scan' | 'upload';
  image_id: string | null;
  created_at: string;
}

export interface MountConfigsTable {
  id: string;
  name: string;
  format: string;
  /** JSON of the redacted MountConfig. */
  config: string;
  entries: number;
  warnings: number;
  created_at: string;
}

export interface DomainLabelsTable {
  fingerprint: string;
  label: string;
}

export interface ReportsTable {
  id: string;
  title: string | null;
  blob: string;
  input_blob: string;
  summary: string;
  summary_blob: string | null;
  files_blob: string | null;
  /**
   * JSON array of the manifest blobs the analysis input names (schema version 5); null only
   * for a row an older server inserted, until the garbage collector fills it.
   */
  manifest_blobs: string | null;
  created_at: string;
}

export interface ReportNamesTable {
  name: string;
  report_id: string;
  set_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface TokensTable {
  id: Generated<number>;
  name: string;
  hash: string;
  admin: number;
  created_at: string;
  last_used_at: string | null;
}

export interface ResidencyInputsTable {
  id: string;
  name: string;
  format: string;
  data: string;
  records: number;
  created_at: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface Tables {
  images: ImagesTable;
  manifests: ManifestsTable;
  mount_configs: MountConfigsTable;
  domain_labels: DomainLabelsTable;
  reports: ReportsTable;
  report_names: ReportNamesTable;
  tokens: TokensTable;
  residency_inputs: ResidencyInputsTable;
  meta: MetaTable;
}
