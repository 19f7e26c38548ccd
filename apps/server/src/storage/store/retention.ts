/**
 * The rows retention removes (docs/server.md#retention) and the blobs rows name, for the
 * garbage collector (src/gc/collect.ts). The same queries on SQLite and PostgreSQL.
 */
import { bytewise, isForeignKeyViolation, type Q } from './repos.js';
import type { SqlDialect } from '../schema.js';

/** A blob name as it appears in any column: 64 lowercase hex digits (a sha256). */
const BLOB_ID_RE = /[0-9a-f]{64}/g;

/** Rows each expiry removed. */
export interface ExpiredUploads {
  images: number;
  manifests: number;
  mountConfigs: number;
  residencyInputs: number;
}

export class RetentionRepo {
  constructor(
    private readonly q: Q,
    private readonly dialect: SqlDialect,
  ) {}

  /**
   * Delete reports created before `before` (ISO time) that no report name points at. One
   * report at a time, each checked again in its own statement: a name set meanwhile keeps
   * its report (on PostgreSQL the name's foreign-key check and this delete lock the report
   * row, so one of them waits for the other; a delete that then finds the name fails and
   * the report stays). Returns how many were deleted.
   */
  async expireReports(before: string): Promise<number> {
    const old = await this.q
      .selectFrom('reports')
      .select('id')
      .where(bytewise(this.dialect, 'created_at'), '<', before)
      .where('id', 'not in', (eb) => eb.selectFrom('report_names').select('report_id'))
      .execute();
    let deleted = 0;
    for (const { id } of old) {
      try {
        const r = await this.q
          .deleteFrom('reports')
          .where('id', '=', id)
          .where('id', 'not in', (eb) => eb.selectFrom('report_names').select('report_id'))
          .executeTakeFirst();
        deleted += Number(r.numDeletedRows);
      } catch (e) {
        // A name committed between the check and the delete (foreign-key violation): the
        // report is named now, so it stays.
        if (!isForeignKeyViolation(e)) throw e;
      }
    }
    return deleted;
  }

  /**
   * Delete uploads older than `before`: images whose scan ended (ready or failed; a queued or
   * running scan keeps its image) last changed before it, then manifests created before it
   * that no remaining image names, mount configurations and residency inputs created before
   * it. Reports do not need them: a report's snapshot and input are its own blobs.
   */
  async expireUploads(before: string): Promise<ExpiredUploads> {
    const images = await this.q
      .deleteFrom('images')
      .where('status', 'in', ['ready', 'failed'])
      .where(bytewise(this.dialect, 'updated_at'), '<', before)
      .executeTakeFirst();
    const manifests = await this.q
      .deleteFrom('manifests')
      .where(bytewise(this.dialect, 'created_at'), '<', before)
      .where('id', 'not in', (eb) =>
        eb.selectFrom('images').select('manifest_id').where('manifest_id', 'is not', null).$castTo<string>(),
      )
      .executeTakeFirst();
    const mountConfigs = await this.q
      .deleteFrom('mount_configs')
      .where(bytewise(this.dialect, 'created_at'), '<', before)
      .executeTakeFirst();
    const residencyInputs = await this.q
      .deleteFrom('residency_inputs')
      .where(bytewise(this.dialect, 'created_at'), '<', before)
      .executeTakeFirst();
    return {
      images: Number(images.numDeletedRows),
      manifests: Number(manifests.numDeletedRows),
      mountConfigs: Number(mountConfigs.numDeletedRows),
      residencyInputs: Number(residencyInputs.numDeletedRows),
    };
  }

  /**
   * Reports whose `manifest_blobs` is not filled: none, unless an older server (schema 4)
   * still inserts reports into this database (replicas upgraded one at a time).
   */
  unfilledReports(): Promise<{ id: string; input_blob: string }[]> {
    return this.q
      .selectFrom('reports')
      .select(['id', 'input_blob'])
      .where('manifest_blobs', 'is', null)
      .execute();
  }

  async setManifestBlobs(id: string, json: string): Promise<void> {
    await this.q.updateTable('reports').set({ manifest_blobs: json }).where('id', '=', id).execute();
  }

  /**
   * Every blob id found in any column of any image, manifest or report row (a report's
   * `manifest_blobs` among them): a superset of the columns that name blobs today
   * (BlobRefsRepo), so a column added later that names blobs keeps them alive too.
   */
  async liveBlobs(): Promise<Set<string>> {
    const out = new Set<string>();
    const add = (rows: object[]): void => {
      for (const row of rows)
        for (const v of Object.values(row))
          if (typeof v === 'string') for (const m of v.matchAll(BLOB_ID_RE)) out.add(m[0]);
    };
    add(await this.q.selectFrom('images').selectAll().execute());
    add(await this.q.selectFrom('manifests').selectAll().execute());
    add(await this.q.selectFrom('reports').selectAll().execute());
    return out;
  }
}
