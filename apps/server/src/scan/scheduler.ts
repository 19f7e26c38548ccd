/**
 * Image scans: queue a scan of an image row in the worker pool, record the result
 * (manifest blob + row, image status) in one transaction, publish progress, and let
 * report creation wait for pending scans.
 */
import type { AppContext } from '../context.js';
import { newId } from '../ids.js';
import { Metrics } from '../metrics.js';
import { nowIso } from '../storage/db.js';
import { TaskError } from './pool.js';
import type { ScanResult, ScanTask } from './tasks.js';

export type { ImageStatus } from '@sharemap/api';
import type { ImageStatus } from '@sharemap/api';

export interface ImageRow {
  id: string;
  name: string;
  sha256: string;
  size: number;
  devices: string;
  status: ImageStatus;
  error_code: string | null;
  error_message: string | null;
  manifest_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface DeviceRef {
  name: string;
  sha256: string;
  size: number;
}

export function getImage(ctx: AppContext, id: string): ImageRow | undefined {
  return ctx.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
}

function setStatus(
  ctx: AppContext,
  id: string,
  status: ImageStatus,
  error?: { code: string; message: string },
): void {
  ctx.db
    .prepare('UPDATE images SET status = ?, error_code = ?, error_message = ?, updated_at = ? WHERE id = ?')
    .run(status, error?.code ?? null, error?.message ?? null, nowIso(), id);
  ctx.bus.emit(`image:${id}`, 'status', status);
}

/** Queue (or re-queue) the scan of an image. Returns immediately. */
export function scheduleScan(ctx: AppContext, id: string): void {
  const row = getImage(ctx, id);
  if (!row) return;
  const gen = (ctx.scanGen.get(id) ?? 0) + 1;
  ctx.scanGen.set(id, gen);
  // A scan that finishes while the server is stopping still counts (graceful shutdown lets
  // running scans finish); one the pool ends is handed back by ctx.close().
  const current = (): boolean => ctx.scanGen.get(id) === gen;
  if (row.status !== 'queued') setStatus(ctx, id, 'queued');
  ctx.progress.set(id, { files: 0, bytesHashed: 0 });
  const devices = JSON.parse(row.devices) as DeviceRef[];
  const task: ScanTask = {
    kind: 'scan',
    dataDir: ctx.config.dataDir,
    image: { sha256: row.sha256, name: row.name, size: row.size },
    devices: devices.map((d) => d.sha256),
    maxFiles: ctx.config.limits.maxFilesPerImage,
    timeoutMs: ctx.config.limits.scanTimeoutMs,
  };
  let started = false;
  let startedAt: bigint | undefined;
  const observe = (outcome: 'ready' | 'failed'): void => {
    if (startedAt !== undefined) ctx.metrics.scanDuration.observe({ outcome }, Metrics.since(startedAt));
  };
  ctx.scans
    .run<ScanResult>(task, {
      timeoutMs: ctx.config.limits.scanTimeoutMs,
      onStart: () => {
        startedAt = process.hrtime.bigint();
      },
      onProgress: (p) => {
        if (!current()) return;
        if (!started) {
          started = true;
          setStatus(ctx, id, 'scanning');
        }
        const prog = { files: p.files, bytesHashed: p.bytesHashed };
        ctx.progress.set(id, prog);
        ctx.bus.emit(`image:${id}`, 'progress', prog);
      },
    })
    .then(
      (result) => {
        if (!current()) return;
        observe('ready');
        const manifestId = newId();
        const now = nowIso();
        ctx.db.transaction(() => {
          ctx.db
            .prepare(
              `INSERT INTO manifests (id, name, blob, header, file_count, hashed, source, image_id, created_at)
               VALUES (?, ?, ?, ?, ?, ?, 'scan', ?, ?)`,
            )
            .run(
              manifestId,
              row.name,
              result.blob,
              JSON.stringify(result.header),
              result.header.file_count,
              result.header.hashed ? 1 : 0,
              id,
              now,
            );
          ctx.db
            .prepare(
              `UPDATE images SET status = 'ready', manifest_id = ?, error_code = NULL, error_message = NULL, updated_at = ? WHERE id = ?`,
            )
            .run(manifestId, now, id);
        })();
        ctx.progress.set(id, {
          files: result.header.file_count,
          bytesHashed: ctx.progress.get(id)?.bytesHashed ?? 0,
        });
        ctx.log.info('image scanned', { imageId: id, files: result.header.file_count });
        ctx.bus.emit(`image:${id}`, 'status', 'ready');
      },
      (e: unknown) => {
        if (!current()) return; // superseded by a newer scan
        // Shutting down: left queued, or handed back by ctx.close() (resumed at the next start
        // or by another replica).
        if (e instanceof TaskError && e.code === 'shutdown') return;
        observe('failed');
        const err =
          e instanceof TaskError
            ? { code: e.code === 'timeout' ? 'scan-timeout' : e.code, message: e.message }
            : { code: 'scan-failed', message: (e as Error).message };
        if (err.code === 'worker-failed' || err.code === 'out-of-memory')
          ctx.log.error('scan worker failed', { imageId: id, ...err });
        else ctx.log.info('image rejected', { imageId: id, ...err });
        setStatus(ctx, id, 'failed', err);
      },
    );
}

/** Re-queue scans that were pending when the server stopped. */
export function resumeScans(ctx: AppContext): number {
  const rows = ctx.db
    .prepare(`SELECT id FROM images WHERE status IN ('queued', 'scanning') ORDER BY created_at`)
    .all() as {
    id: string;
  }[];
  for (const r of rows) scheduleScan(ctx, r.id);
  return rows.length;
}

/** Resolves with the image once its scan has finished (ready or failed), or after timeoutMs. */
export function waitForScan(ctx: AppContext, id: string, timeoutMs: number): Promise<ImageRow | undefined> {
  const done = (r: ImageRow | undefined): boolean => !r || r.status === 'ready' || r.status === 'failed';
  const now = getImage(ctx, id);
  if (done(now)) return Promise.resolve(now);
  return new Promise((resolve) => {
    const ev = `image:${id}`;
    const finish = (): void => {
      clearTimeout(timer);
      ctx.bus.off(ev, onEvent);
      resolve(getImage(ctx, id));
    };
    const onEvent = (kind: string, status: unknown): void => {
      if (kind === 'status' && (status === 'ready' || status === 'failed')) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    ctx.bus.on(ev, onEvent);
  });
}
