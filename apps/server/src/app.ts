/**
 * The Express application: security headers, request ids and structured access logs, the
 * API under /api, the web UI, JSON errors. `createApp()` never listens (see server.ts).
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { randomBytes } from 'node:crypto';
import type { ServerConfig } from './config.js';
import type { AppContext } from './context.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { bodyTimeout } from './guards.js';
import type { Logger } from './log.js';
import { gcRouter } from './gc/route.js';
import { archivesRouter } from './routes/archives.js';
import { imagesRouter } from './routes/images.js';
import { manifestsRouter } from './routes/manifests.js';
import { miscRouter } from './routes/misc.js';
import { mountConfigsRouter } from './routes/mount-configs.js';
import { opsRouter } from './routes/ops.js';
import { residencyRouter } from './routes/residency.js';
import { reportNamesRouter } from './routes/report-names.js';
import { reportsRouter } from './routes/reports.js';
import { webRouter } from './web.js';

export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  // Report links are capabilities: never leak them in Referer headers.
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
  next();
}

function accessLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.headers['x-request-id'];
    const id =
      typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomBytes(8).toString('hex');
    (req as Request & { id: string }).id = id;
    res.setHeader('X-Request-Id', id);
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const fields = {
        reqId: id,
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        ms: Math.round(ms * 10) / 10,
        bytesIn: Number(req.headers['content-length'] ?? 0) || undefined,
      };
      if (res.statusCode >= 500) log.error('request', fields);
      else log.info('request', fields);
    });
    next();
  };
}

export interface SharemapApp extends Express {
  locals: Express['locals'] & { sharemap: AppContext };
}

/**
 * The app over an opened context (`await openContext(config)`). Scans left pending by an
 * earlier run are resumed by startServer (resumeScans), before it listens.
 */
export function createApp(config: ServerConfig, ctx: AppContext): SharemapApp {
  const app = express() as SharemapApp;
  app.locals.sharemap = ctx;
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(securityHeaders);
  app.use(accessLog(ctx.log));
  app.use(ctx.metrics.middleware());
  app.use(bodyTimeout(config.limits));
  app.use('/api', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(opsRouter(ctx));
  app.use('/api', miscRouter(ctx));
  app.use('/api', imagesRouter(ctx));
  app.use('/api', archivesRouter(ctx));
  app.use('/api', manifestsRouter(ctx));
  app.use('/api', mountConfigsRouter(ctx));
  app.use('/api', residencyRouter(ctx));
  app.use('/api', reportsRouter(ctx));
  app.use('/api', reportNamesRouter(ctx));
  app.use('/api', gcRouter(ctx));
  app.use('/api', notFoundHandler);
  app.use(webRouter(config.webDir));
  app.use(notFoundHandler);
  app.use(errorHandler(ctx.log));
  return app;
}
