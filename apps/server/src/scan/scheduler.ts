/**
 * Image scans: queue a scan of an image row in the worker pool, record the result
 * (manifest blob + row, image status) in one transaction, publish progress, and let
 * report creation wait for pending scans.
 */
import type { AppContext } from '../context.js';
import { newId } from '../ids.js';
import { Metrics } from '../metrics.js';
import { nowIso } from '../storage/db.js';
import { leaseCeilingMs, TaskError } from './pool.js';
import type { ScanResult, ScanTask } from './tasks.js';

export type { ImageStatus } from '@sharemap/api';
import type { ImageStatus } from '@sharemap/api';

export type { ImageRow } from '../storage/store/repos.js';
import type { ImageRow } from '../storage/store/repos.js';

export interface DeviceRef {
  name: string;
  sha256: string;
  size: number;
}

export function getImage(ctx: AppContext, id: string): Promise<ImageRow | undefined> {
  return ctx.store.images.get(id);
}

/** Record an image's status, then tell the listeners (who read the row anew), on every replica. */
async function setStatus(
  ctx: AppContext,
  id: string,
  status: ImageStatus,
  error?: { code: string; message: string },
): Promise<void> {
  await ctx.store.images.setStatus(id, status, error, nowIso());
  ctx.events.publish(id, 'status', status);
}

/**
 * Scans a route has admitted (the queue limit checked) but not yet handed to the queue: they
 * count as waiting, so that requests checking the limit while the image row is being written
 * cannot all pass it (an admitted upload always gets its scan).
 */
const admitted = new WeakMap<AppContext, number>();

/** Scans waiting for a worker, the admitted ones included. */
export function scansWaiting(ctx: AppContext): number {
  return ctx.scanQueue.waiting() + (admitted.get(ctx) ?? 0);
}

/** Count one scan as waiting until the returned function is called (once it is scheduled, or not). */
export function admitScan(ctx: AppContext): () => void {
  admitted.set(ctx, (admitted.get(ctx) ?? 0) + 1);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    admitted.set(ctx, (admitted.get(ctx) ?? 1) - 1);
  };
}

/**
 * Queue (or re-queue) the scan of an image: in this process's worker pool, or in the shared
 * queue any replica takes jobs from (scan/queue.ts). Resolves once it is queued, not when it
 * is done.
 */
export async function scheduleScan(ctx: AppContext, id: string): Promise<void> {
  const row = await getImage(ctx, id);
  if (!row) return;
  if (row.status !== 'queued') await setStatus(ctx, id, 'queued');
  ctx.progress.set(id, { files: 0, bytesHashed: 0 });
  await ctx.scanQueue.enqueue(row);
}

/**
 * Whether a scan's outcome (its result or its failure) may still be written to the image, as
 * read for update in the transaction that writes it: the image still exists, still has the
 * devices the scan was given (other devices mean a newer scan superseded it, perhaps on another
 * replica), and no other run of the same job has recorded a result already.
 */
function outcomeStillApplies(cur: ImageRow | undefined, scanned: ImageRow): boolean {
  return cur !== undefined && cur.devices === scanned.devices && cur.status !== 'ready';
}

/**
 * Scan an image in the worker pool and record the result. The task is in the pool before the
 * first await. Resolves once the result is recorded (or dropped: superseded by a newer scan,
 * or recorded already by another run of the same job); rejects with TaskError 'shutdown' when
 * the pool ended it (the scan is handed back).
 */
export function runScan(ctx: AppContext, row: ImageRow): Promise<void> {
  const id = row.id;
  const gen = (ctx.scanGen.get(id) ?? 0) + 1;
  ctx.scanGen.set(id, gen);
  // A scan that finishes while the server is stopping still counts (graceful shutdown lets
  // running scans finish); one the pool ends is handed back by ctx.close().
  const current = (): boolean => ctx.scanGen.get(id) === gen;
  const devices = JSON.parse(row.devices) as DeviceRef[];
  const task: ScanTask = {
    kind: 'scan',
    dataDir: ctx.config.dataDir,
    image: { sha256: row.sha256, name: row.name, size: row.size },
    devices: devices.map((d) => d.sha256),
    maxFiles: ctx.config.limits.maxFilesPerImage,
    timeoutMs: ctx.config.limits.scanTimeoutMs,
  };
  // The scan's writes (scanning, then ready or failed) one after the other: on a pool of
  // connections an unordered 'scanning' could land after 'ready'.
  // A write that fails is logged here, and rejects the scan's promise (a job of the shared
  // queue then fails and is retried).
  let writes: Promise<void> = Promise.resolve();
  const record = (write: () => Promise<void>): Promise<void> => {
    const done = writes.then(write);
    writes = done.catch((e: unknown) => {
      ctx.log.error('could not record the scan', { imageId: id, error: (e as Error).message });
    });
    return done;
  };
  let started = false;
  let startedAt: bigint | undefined;
  const observe = (outcome: 'ready' | 'failed'): void => {
    if (startedAt !== undefined) ctx.metrics.scanDuration.observe({ outcome }, Metrics.since(startedAt));
  };
  return ctx.scans
    .run<ScanResult>(task, {
      timeoutMs: ctx.config.limits.scanTimeoutMs,
      // A job of the shared queue (PostgreSQL) must end within its lease (jobLeaseMs).
      ...(ctx.config.databaseUrl
        ? { wallTimeoutMs: leaseCeilingMs(ctx.config.limits.scanTimeoutMs, ctx.config.limits.jobLeaseMs) }
        : {}),
      onStart: () => {
        startedAt = process.hrtime.bigint();
      },
      onProgress: (p) => {
        if (!current()) return;
        if (!started) {
          started = true;
          record(() => setStatus(ctx, id, 'scanning')).catch(() => undefined); // logged by record()
        }
        const prog = { files: p.files, bytesHashed: p.bytesHashed };
        ctx.progress.set(id, prog);
        ctx.events.publish(id, 'progress', prog);
      },
    })
    .then(
      (result) =>
        record(async () => {
          if (!current()) return;
          const manifestId = newId();
          const now = nowIso();
          // The manifest row and the image's status commit together (its blob is durable
          // already), once: a result for other devices (superseded on another replica) or for
          // an image another run of the same job recorded already is dropped.
          const recorded = await ctx.store.transaction(async (tx) => {
            const cur = await tx.images.getForUpdate(id);
            if (!outcomeStillApplies(cur, row)) return false;
            await tx.manifests.insert([
              {
                id: manifestId,
                name: row.name,
                blob: result.blob,
                header: JSON.stringify(result.header),
                file_count: result.header.file_count,
                hashed: result.header.hashed ? 1 : 0,
                source: 'scan',
                image_id: id,
                created_at: now,
              },
            ]);
            await tx.images.markReady(id, manifestId, now);
            return true;
          });
          if (!recorded) {
            ctx.log.info('scan result dropped: superseded or recorded already', { imageId: id });
            return;
          }
          observe('ready');
          ctx.progress.set(id, {
            files: result.header.file_count,
            bytesHashed: ctx.progress.get(id)?.bytesHashed ?? 0,
          });
          ctx.log.info('image scanned', {
            imageId: id,
            files: result.header.file_count,
            lz4Decoder: result.lz4Decoder,
          });
          ctx.events.publish(id, 'status', 'ready');
        }),
      (e: unknown) => {
        // Shutting down: left queued, or handed back by ctx.close() (resumed at the next start
        // or by another replica).
        if (e instanceof TaskError && e.code === 'shutdown') throw e;
        return record(async () => {
          if (!current()) return; // superseded by a newer scan
          observe('failed');
          const err =
            e instanceof TaskError
              ? { code: e.code === 'timeout' ? 'scan-timeout' : e.code, message: e.message }
              : { code: 'scan-failed', message: (e as Error).message };
          if (err.code === 'worker-failed' || err.code === 'out-of-memory')
            ctx.log.error('scan worker failed', { imageId: id, ...err });
          else ctx.log.info('image rejected', { imageId: id, ...err });
          // As a result is: a failure for other devices is dropped. With the shared queue the
          // newer scan's generation is set only when a replica takes its job, so a scan that
          // failed for want of a device attached meanwhile would otherwise write 'failed' over
          // the image's 'queued' (seen as a flaky flow test on PostgreSQL).
          const recorded = await ctx.store.transaction(async (tx) => {
            const cur = await tx.images.getForUpdate(id);
            if (!outcomeStillApplies(cur, row)) return false;
            await tx.images.setStatus(id, 'failed', err, nowIso());
            return true;
          });
          if (!recorded) {
            ctx.log.info('scan failure dropped: superseded or recorded already', { imageId: id });
            return;
          }
          ctx.events.publish(id, 'status', 'failed');
        });
      },
    );
}

/**
 * Re-queue scans that were pending when the server stopped (with the shared queue: those
 * that have no job there, e.g. a replica died between recording the upload and queueing it).
 */
export async function resumeScans(ctx: AppContext): Promise<number> {
  const ids = await ctx.scanQueue.toResume(await ctx.store.images.pending());
  for (const id of ids) await scheduleScan(ctx, id);
  return ids.length;
}

/** Resolves with the image once its scan has finished (ready or failed), or after timeoutMs. */
export function waitForScan(ctx: AppContext, id: string, timeoutMs: number): Promise<ImageRow | undefined> {
  const done = (r: ImageRow | undefined): boolean => !r || r.status === 'ready' || r.status === 'failed';
  return new Promise((resolve, reject) => {
    const ev = `image:${id}`;
    let settled = false;
    const settle = (row: Promise<ImageRow | undefined>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.bus.off(ev, onEvent);
      row.then(resolve, reject);
    };
    const onEvent = (kind: string, status: unknown): void => {
      if (kind === 'status' && (status === 'ready' || status === 'failed')) settle(getImage(ctx, id));
    };
    const timer = setTimeout(() => settle(getImage(ctx, id)), timeoutMs);
    // Listening before reading: a scan that ends while the row is read is not missed.
    ctx.bus.on(ev, onEvent);
    getImage(ctx, id).then(
      (now) => {
        if (done(now)) settle(Promise.resolve(now));
      },
      (e: unknown) => settle(Promise.reject(e as Error)),
    );
  });
}
