/**
 * `POST /api/admin/gc` (admin token): one garbage collection now (collect.ts), answered with
 * what it removed. The same collection as the periodic one; a request while one runs joins it.
 */
import { Router } from 'express';
import type { AppContext } from '../context.js';
import { requireAdmin } from '../tokens.js';
import { collectGarbage } from './collect.js';

export function gcRouter(ctx: AppContext): Router {
  const r = Router();
  r.post('/admin/gc', requireAdmin(ctx), async (_req, res) => {
    const result = await collectGarbage(ctx);
    res.setHeader('Cache-Control', 'no-store');
    res.json(result);
  });
  return r;
}
