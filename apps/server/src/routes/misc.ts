/** Health, demo report, tokens (admin) and the OpenAPI document. */
import { TokenCreate } from '@sharemap/api';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { declaredBodyLimit } from '../body.js';
import type { AppContext } from '../context.js';
import { HttpError, onlyJson } from '../errors.js';
import { SCHEMA_VERSION } from '../storage/db.js';
import { createToken, listTokens, requireAdmin } from '../tokens.js';
import { requestValidator } from '../validate.js';
import { openapiDocument } from '../openapi.js';
import { reportUrl } from './reports.js';

export const SERVER_VERSION = '0.1.0';

export function miscRouter(ctx: AppContext): Router {
  const r = Router();

  r.get('/health', async (_req, res) => {
    let db = 'ok';
    try {
      await ctx.store.ping();
    } catch {
      db = 'error';
    }
    res.setHeader('Cache-Control', 'no-store');
    res.status(db === 'ok' ? 200 : 503).json({
      status: db === 'ok' ? 'ok' : 'error',
      version: SERVER_VERSION,
      schemaVersion: SCHEMA_VERSION,
      uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 1000),
      database: db,
      scans: { running: ctx.scans.active, queued: ctx.scans.queued },
      renders: {
        running: ctx.renders.active,
        queued: ctx.renders.queued,
        cancelled: ctx.renders.cancelledCount,
      },
      mountConfigParses: { running: ctx.parses.active, queued: ctx.parses.queued },
      requireToken: ctx.config.requireToken,
      demo: ctx.demo.status,
    });
  });

  r.get('/demo', (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const d = ctx.demo;
    if (d.status === 'ready' && d.id) {
      res.json({ id: d.id, url: reportUrl(ctx, req, d.id), apiUrl: `/api/reports/${d.id}` });
      return;
    }
    if (d.status === 'loading') {
      res.setHeader('Retry-After', '2');
      throw new HttpError(503, 'not-ready', 'the demo report is being prepared; try again in a moment');
    }
    throw new HttpError(
      404,
      'not-found',
      d.status === 'failed'
        ? `no demo report: ${d.error ?? 'loading failed'}`
        : 'no demo report on this server',
    );
  });

  r.get('/openapi.json', (_req, res) => {
    res.json(openapiDocument(ctx.config));
  });

  const admin = requireAdmin(ctx);
  r.get('/tokens', admin, async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ tokens: await listTokens(ctx.store) });
  });
  const checkToken = requestValidator(TokenCreate, 'bad-request');
  const tokenBody: RequestHandler[] = [
    onlyJson,
    declaredBodyLimit(4096),
    express.json({ limit: 4096, type: () => true }),
  ];
  r.post('/tokens', admin, tokenBody, async (req: Request, res: Response) => {
    const b = checkToken(req.body);
    const token = await createToken(ctx.store, b.name, { admin: b.admin === true });
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json({ name: b.name, admin: b.admin === true, token });
  });

  return r;
}
