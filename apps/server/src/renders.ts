/**
 * CSV and Markdown renders of a report. A report never changes, so a render is made once and
 * kept as a gzip file in `cache/renders/` of the data folder; requests for a render in
 * progress wait for the same job, and the job is cancelled (its worker terminated) when every
 * client waiting for it has gone. Renders run in their own worker pool (`ctx.renders`), so
 * exports of big reports cannot keep report creation (`ctx.analyses`) waiting. A render reads
 * the report's stored parts (summary, columnar files), never the whole report JSON, and streams
 * its output (scan/render.ts; docs/server.md#renders).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { AppContext } from './context.js';
import { TaskError } from './scan/pool.js';
import type { PartsResult, RenderResult, RenderTask } from './scan/tasks.js';

/** Folder of cached renders, below the data folder. Safe to delete while the server is stopped. */
export const RENDER_CACHE_DIR = path.join('cache', 'renders');

/** Bump when the renderers' output changes: older cached renders are then never read again. */
const RENDER_VERSION = 2;

export type RenderFormat = 'csv' | 'markdown';

interface Inflight {
  promise: Promise<RenderResult>;
  controller: AbortController;
  waiters: number;
}

const inflightByCtx = new WeakMap<AppContext, Map<string, Inflight>>();

/** The cache key: the report's snapshot blob (immutable), the format and the link written into it. */
export function renderKey(reportBlob: string, format: RenderFormat, url: string): string {
  return createHash('sha256').update(`${RENDER_VERSION}\0${reportBlob}\0${format}\0${url}`).digest('hex');
}

export interface CachedRender {
  file: string;
  key: string;
}

/**
 * The gzip file of a render, made in a render worker when it is not cached yet. `signal`
 * is the client's: when it aborts, this call rejects with TaskError `cancelled`, and the job
 * itself is cancelled once no other request waits for it.
 */
export async function cachedRender(
  ctx: AppContext,
  reportBlob: string,
  parts: () => Promise<PartsResult>,
  format: RenderFormat,
  url: string,
  signal: AbortSignal,
): Promise<CachedRender> {
  const key = renderKey(reportBlob, format, url);
  const dir = path.join(ctx.config.dataDir, RENDER_CACHE_DIR);
  const file = path.join(dir, `${key}.gz`);
  if (existsSync(file)) return { file, key };
  let inflight = inflightByCtx.get(ctx);
  if (!inflight) inflightByCtx.set(ctx, (inflight = new Map()));
  const jobs = inflight;
  let job = jobs.get(key);
  if (!job) {
    mkdirSync(dir, { recursive: true });
    const controller = new AbortController();
    // Written in tmp/ while the render streams; removed here when the render fails or is
    // cancelled (its worker terminated), so nothing of an unfinished render stays.
    const tmpFile = path.join(ctx.blobs.tmpDir, `${randomBytes(12).toString('hex')}.render`);
    const promise = parts()
      .then(({ summaryBlob, filesBlob }) => {
        if (controller.signal.aborted) throw new TaskError('cancelled', 'the client went away');
        const task: RenderTask = {
          kind: 'render',
          dataDir: ctx.config.dataDir,
          summaryBlob,
          filesBlob,
          format,
          url,
          tmpFile,
          outFile: file,
        };
        return ctx.renders.run<RenderResult>(task, {
          timeoutMs: ctx.config.limits.analysisTimeoutMs,
          signal: controller.signal,
        });
      })
      .catch((e: unknown) => {
        rmSync(tmpFile, { force: true });
        throw e;
      });
    const created: Inflight = { promise, controller, waiters: 0 };
    const forget = (): void => {
      if (jobs.get(key) === created) jobs.delete(key);
    };
    promise.then(forget, forget);
    jobs.set(key, created);
    job = created;
  }
  const mine = job;
  mine.waiters++;
  return new Promise<CachedRender>((resolve, reject) => {
    let done = false;
    const leave = (): void => {
      done = true;
      mine.waiters--;
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      if (done) return;
      leave();
      if (mine.waiters === 0) {
        if (jobs.get(key) === mine) jobs.delete(key);
        mine.controller.abort();
      }
      reject(new TaskError('cancelled', 'the client went away'));
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    mine.promise.then(
      () => {
        if (done) return;
        leave();
        resolve({ file, key });
      },
      (e: unknown) => {
        if (done) return;
        leave();
        reject(e);
      },
    );
  });
}
