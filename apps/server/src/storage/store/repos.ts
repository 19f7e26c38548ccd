/**
 * The repositories of the data layer, one per concern, each a thin set of Kysely queries that
 * compile to SQLite and to PostgreSQL alike (no dialect-only SQL except where a repository
 * says so). They run on the store's connection or inside one of its transactions (store.ts).
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { SqlDialect } from '../schema.js';
import type {
  ImagesTable,
  ManifestsTable,
  MountConfigsTable,
  ReportNamesTable,
  ReportsTable,
  ResidencyInputsTable,
  Tables,
  TokensTable,
} from './tables.js';

/** A connection or a transaction (Kysely's Transaction is a Kysely). */
export type Q = Kysely<Tables>;

/**
 * A text column compared byte by byte, as SQLite compares TEXT: PostgreSQL would use the
 * database's collation (en_US orders "release_1" before "release/1.2" and ignores case), so
 * listings and their paging cursors would differ between the backends.
 */
export function bytewise(dialect: SqlDialect, column: string): RawBuilder<string> {
  return dialect === 'postgres'
    ? sql<string>`${sql.ref(column)} COLLATE "C"`
    : sql<string>`${sql.ref(column)}`;
}

/** SQLite's SQLITE_CONSTRAINT_FOREIGNKEY or PostgreSQL's 23503 foreign_key_violation. */
export function isForeignKeyViolation(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

export type ImageRow = ImagesTable;
export type ManifestRow = ManifestsTable;
export type ReportRow = ReportsTable;
export type NameRow = ReportNamesTable;
export type MountConfigRow = MountConfigsTable;
export type ResidencyRow = ResidencyInputsTable;
export type TokenRow = Omit<TokensTable, 'id'> & { id: number };

/** The columns of a scan's outcome, cleared. */
const NOT_SCANNED = { manifest_id: null, error_code: null, error_message: null } as const;

/** Images and their scan state (the in-process scan queue's persistent side). */
export class ImagesRepo {
  constructor(
    private readonly q: Q,
    private readonly dialect: SqlDialect,
  ) {}

  get(id: string): Promise<ImageRow | undefined> {
    return this.q.selectFrom('images').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * The row, locked until the transaction ends on PostgreSQL (SELECT ... FOR UPDATE), so two
   * requests adding devices cannot both read the old list; SQLite has one writer at a time.
   */
  getForUpdate(id: string): Promise<ImageRow | undefined> {
    const q = this.q.selectFrom('images').selectAll().where('id', '=', id);
    return (this.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
  }

  async insert(row: ImageRow): Promise<void> {
    await this.q.insertInto('images').values(row).execute();
  }

  /** The manifest of an earlier upload of the same bytes and devices that scanned fine. */
  async priorManifest(sha256: string, devices: string): Promise<string | undefined> {
    const r = await this.q
      .selectFrom('images')
      .select('manifest_id')
      .where('sha256', '=', sha256)
      .where('devices', '=', devices)
      .where('status', '=', 'ready')
      .where('manifest_id', 'is not', null)
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst();
    return r?.manifest_id ?? undefined;
  }

  /** Change columns of one image row. */
  private async update(id: string, changes: Partial<Omit<ImageRow, 'id'>>): Promise<void> {
    await this.q.updateTable('images').set(changes).where('id', '=', id).execute();
  }

  setStatus(
    id: string,
    status: ImageRow['status'],
    error: { code: string; message: string } | undefined,
    now: string,
  ): Promise<void> {
    return this.update(id, {
      status,
      error_code: error?.code ?? null,
      error_message: error?.message ?? null,
      updated_at: now,
    });
  }

  /** New device list: the image is scanned again (its earlier manifest no longer applies). */
  setDevices(id: string, devices: string, now: string): Promise<void> {
    return this.update(id, { devices, ...NOT_SCANNED, status: 'queued', updated_at: now });
  }

  markReady(id: string, manifestId: string, now: string): Promise<void> {
    return this.update(id, { ...NOT_SCANNED, status: 'ready', manifest_id: manifestId, updated_at: now });
  }

  /** Images whose scan was queued or running, oldest first (resumed at start). */
  async pending(): Promise<string[]> {
    const rows = await this.q
      .selectFrom('images')
      .select('id')
      .where('status', 'in', ['queued', 'scanning'])
      .orderBy('created_at')
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Running scans back to queued (shutdown); returns how many. `ids`: only these images (a
   * replica hands back its own scans, not those other replicas are running).
   */
  async handBack(now: string, ids?: readonly string[]): Promise<number> {
    if (ids?.length === 0) return 0;
    let q = this.q
      .updateTable('images')
      .set({ status: 'queued', updated_at: now })
      .where('status', '=', 'scanning');
    if (ids) q = q.where('id', 'in', ids);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async any(): Promise<boolean> {
    return (await this.q.selectFrom('images').select('id').limit(1).executeTakeFirst()) !== undefined;
  }
}

export class ManifestsRepo {
  constructor(private readonly q: Q) {}

  get(id: string): Promise<ManifestRow | undefined> {
    return this.q.selectFrom('manifests').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insert(rows: ManifestRow[]): Promise<void> {
    if (rows.length) await this.q.insertInto('manifests').values(rows).execute();
  }
}

/** Mount configurations and the domain labels their redaction handed out. */
export class MountConfigsRepo {
  constructor(private readonly q: Q) {}

  get(id: string): Promise<MountConfigRow | undefined> {
    return this.q.selectFrom('mount_configs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insert(row: MountConfigRow): Promise<void> {
    await this.q.insertInto('mount_configs').values(row).execute();
  }

  async labels(): Promise<[string, string][]> {
    const rows = await this.q.selectFrom('domain_labels').select(['fingerprint', 'label']).execute();
    return rows.map((r) => [r.fingerprint, r.label]);
  }

  /** Labels not known yet; one already stored (same fingerprint or label) is kept as it is. */
  async addLabels(labels: [string, string][]): Promise<void> {
    for (const [fingerprint, label] of labels)
      await this.q
        .insertInto('domain_labels')
        .values({ fingerprint, label })
        .onConflict((oc) => oc.doNothing())
        .execute();
  }
}

export class ReportsRepo {
  constructor(
    private readonly q: Q,
    private readonly dialect: SqlDialect,
  ) {}

  get(id: string): Promise<ReportRow | undefined> {
    return this.q.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insert(row: ReportRow): Promise<void> {
    await this.q.insertInto('reports').values(row).execute();
  }

  /**
   * Does the report exist? Inside a transaction on PostgreSQL the row is then locked against
   * deletion until the transaction ends (SELECT ... FOR KEY SHARE: the lock a foreign-key
   * check takes), so the garbage collector's expiry waits for a name being set on it and then
   * keeps the report; SQLite has one writer at a time.
   */
  async existsLocked(id: string): Promise<boolean> {
    const q = this.q.selectFrom('reports').select('id').where('id', '=', id);
    return (await (this.dialect === 'postgres' ? q.forKeyShare() : q).executeTakeFirst()) !== undefined;
  }

  async setParts(id: string, summaryBlob: string, filesBlob: string): Promise<void> {
    await this.q
      .updateTable('reports')
      .set({ summary_blob: summaryBlob, files_blob: filesBlob })
      .where('id', '=', id)
      .execute();
  }

  /** Newest first by (created_at, id), before a cursor (a time alone, or a time and an id). */
  list(
    limit: number,
    before?: { createdAt: string; id: string | null },
  ): Promise<Pick<ReportRow, 'id' | 'title' | 'summary' | 'created_at'>[]> {
    const createdAt = bytewise(this.dialect, 'created_at');
    const id = bytewise(this.dialect, 'id');
    let q = this.q.selectFrom('reports').select(['id', 'title', 'summary', 'created_at']);
    if (before && before.id === null) q = q.where(createdAt, '<', before.createdAt);
    else if (before) {
      const cursor = before as { createdAt: string; id: string };
      q = q.where((eb) =>
        eb.or([
          eb(createdAt, '<', cursor.createdAt),
          eb.and([eb('created_at', '=', cursor.createdAt), eb(id, '<', cursor.id)]),
        ]),
      );
    }
    return q.orderBy(createdAt, 'desc').orderBy(id, 'desc').limit(limit).execute();
  }

  async any(): Promise<boolean> {
    return (await this.q.selectFrom('reports').select('id').limit(1).executeTakeFirst()) !== undefined;
  }
}

export class NamesRepo {
  constructor(
    private readonly q: Q,
    private readonly dialect: SqlDialect,
  ) {}

  get(name: string): Promise<NameRow | undefined> {
    return this.q.selectFrom('report_names').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /** Point a name at a report (created, or moved: created_at stays). */
  async upsert(row: NameRow): Promise<void> {
    await this.q
      .insertInto('report_names')
      .values(row)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet((eb) => ({
          report_id: eb.ref('excluded.report_id'),
          set_by: eb.ref('excluded.set_by'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  async delete(name: string): Promise<number> {
    const r = await this.q.deleteFrom('report_names').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  list(after: string, limit: number): Promise<NameRow[]> {
    return this.q
      .selectFrom('report_names')
      .selectAll()
      .where(bytewise(this.dialect, 'name'), '>', after)
      .orderBy(bytewise(this.dialect, 'name'))
      .limit(limit)
      .execute();
  }
}

export class TokensRepo {
  constructor(private readonly q: Q) {}

  async insert(row: { name: string; hash: string; admin: number; created_at: string }): Promise<void> {
    await this.q.insertInto('tokens').values(row).execute();
  }

  async deleteByName(name: string): Promise<number> {
    const r = await this.q.deleteFrom('tokens').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  list(): Promise<TokenRow[]> {
    return this.q.selectFrom('tokens').selectAll().orderBy('id').execute();
  }

  byHash(hash: string): Promise<Pick<TokenRow, 'id' | 'name' | 'admin'> | undefined> {
    return this.q
      .selectFrom('tokens')
      .select(['id', 'name', 'admin'])
      .where('hash', '=', hash)
      .executeTakeFirst();
  }

  async touch(id: number, now: string): Promise<void> {
    await this.q.updateTable('tokens').set({ last_used_at: now }).where('id', '=', id).execute();
  }
}

export class ResidencyRepo {
  constructor(private readonly q: Q) {}

  async insert(row: ResidencyRow): Promise<void> {
    await this.q.insertInto('residency_inputs').values(row).execute();
  }

  async data(id: string): Promise<string | undefined> {
    return (
      await this.q.selectFrom('residency_inputs').select('data').where('id', '=', id).executeTakeFirst()
    )?.data;
  }
}

export class MetaRepo {
  constructor(private readonly q: Q) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.q.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst())?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.q
      .insertInto('meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
      .execute();
  }
}

/** Which blobs rows name (the blob folder's garbage is what no row names). */
export class BlobRefsRepo {
  constructor(private readonly q: Q) {}

  /**
   * Is the blob named by any row? Devices and a report's manifest blobs are JSON lists, so
   * such a blob is its quoted sha.
   */
  async referenced(sha256: string): Promise<boolean> {
    // A sha256 is 64 hex digits: no LIKE wildcard can occur in it.
    const quoted = `%"${sha256}"%`;
    const r = await sql<{ hit: number }>`
      SELECT 1 AS hit FROM images WHERE sha256 = ${sha256} OR devices LIKE ${quoted}
      UNION ALL SELECT 1 AS hit FROM manifests WHERE blob = ${sha256}
      UNION ALL SELECT 1 AS hit FROM reports WHERE ${sha256} IN (blob, input_blob, summary_blob, files_blob)
        OR manifest_blobs LIKE ${quoted}
      LIMIT 1`.execute(this.q);
    return r.rows.length > 0;
  }

  /** Every blob a row names. */
  async all(): Promise<Set<string>> {
    return collectBlobRefs(
      await this.q.selectFrom('images').select(['sha256', 'devices']).execute(),
      await this.q.selectFrom('manifests').select('blob').execute(),
      await this.q
        .selectFrom('reports')
        .select(['blob', 'input_blob', 'summary_blob', 'files_blob', 'manifest_blobs'])
        .execute(),
    );
  }
}

/**
 * The blobs named by image, manifest and report rows (an image's devices and a report's
 * manifest blobs are JSON lists).
 */
export function collectBlobRefs(
  images: Pick<ImageRow, 'sha256' | 'devices'>[],
  manifests: Pick<ManifestRow, 'blob'>[],
  reports: Pick<ReportRow, 'blob' | 'input_blob' | 'summary_blob' | 'files_blob' | 'manifest_blobs'>[],
): Set<string> {
  const out = new Set<string>();
  for (const r of images) {
    out.add(r.sha256);
    for (const d of JSON.parse(r.devices) as { sha256: string }[]) out.add(d.sha256);
  }
  for (const r of manifests) out.add(r.blob);
  for (const r of reports) {
    out.add(r.blob);
    out.add(r.input_blob);
    if (r.summary_blob) out.add(r.summary_blob);
    if (r.files_blob) out.add(r.files_blob);
    for (const m of JSON.parse(r.manifest_blobs ?? '[]') as string[]) out.add(m);
  }
  return out;
}
