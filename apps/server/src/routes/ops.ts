/**
 * Operations: `GET /metrics` (Prometheus text format, metrics.ts) and `GET /api/ready`
 * (readiness: the database answers and the blob store is reachable; 503 with the reason
 * otherwise, and while the server is shutting down, so a load balancer stops sending it
 * requests). `/api/health` (routes/misc.ts) stays the liveness check.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { Router } from 'express';
import type { AppContext } from '../context.js';
import { RETRY_AFTER_SECONDS } from '../errors.js';

/** What /api/ready checked: 'ok' or the reason it failed. */
export interface Readiness {
  ready: boolean;
  database: string;
  blobStore: string;
  reason?: string;
}

export async function checkReady(ctx: AppContext): Promise<Readiness> {
  let database = 'ok';
  try {
    await ctx.store.ping();
  } catch (e) {
    database = `error: ${(e as Error).message}`;
  }
  let blobStore = 'ok';
  // Both folders must exist and be writable: blobs/ holds every stored upload and report,
  // tmp/ receives uploads before their rename (a shared volume that is not mounted fails here).
  for (const dir of [ctx.blobs.blobDir, ctx.blobs.tmpDir]) {
    try {
      await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (e) {
      blobStore = `error: ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
      break;
    }
  }
  const reasons: string[] = [];
  if (ctx.stopping) reasons.push('the server is shutting down');
  if (database !== 'ok') reasons.push(`database ${database}`);
  if (blobStore !== 'ok') reasons.push(`blob store ${blobStore}`);
  return {
    ready: reasons.length === 0,
    database,
    blobStore,
    ...(reasons.length ? { reason: reasons.join('; ') } : {}),
  };
}

export function opsRouter(ctx: AppContext): Router {
  const r = Router();

  r.get('/metrics', async (_req, res) => {
    const text = await ctx.metrics.registry.metrics();
    res.setHeader('Cache-Control', 'no-store');
    res.type(ctx.metrics.registry.contentType).send(text);
  });

  r.get('/api/ready', async (_req, res) => {
    const r = await checkReady(ctx);
    res.setHeader('Cache-Control', 'no-store');
    if (r.ready) {
      res.json({ status: 'ready', database: r.database, blobStore: r.blobStore });
      return;
    }
    res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(503).json({
      status: 'not-ready',
      database: r.database,
      blobStore: r.blobStore,
      error: { code: 'not-ready', message: `not ready: ${r.reason}` },
    });
  });

  return r;
}
