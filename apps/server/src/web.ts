/**
 * The built web UI (apps/web/dist): static files, and index.html for client-side routes
 * such as /r/<reportId>. Without a build, `/` explains how to get one.
 */
import express, { Router } from 'express';
import { existsSync } from 'node:fs';
import path from 'node:path';

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sharemap</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>sharemap</h1>
<p>The server is running, but the web UI has not been built, so there is nothing to show here yet.</p>
<p>Build it with <code>pnpm build</code> (or start everything with <code>npm start</code>), then reload.
The web UI is served from <code>WEB_DIR</code>.</p>
<p>The API works already: <a href="/api/health">/api/health</a>, <a href="/api/demo">/api/demo</a>,
<a href="/api/openapi.json">/api/openapi.json</a>.</p>
</body></html>
`;

const HASHED_EXTENSIONS = new Set(['.js', '.css', '.wasm', '.woff', '.woff2']);

/**
 * A bundler's hashed asset name (`index-3fA9x_2b.js`, `a.worker-DucSc-lN.js`): a `.` or `-`
 * followed by 8+ word characters or dashes before the extension. Checked without a regular
 * expression over the whole name (that one rescanned runs of dashes).
 */
function isHashedAsset(file: string): boolean {
  const ext = path.extname(file);
  if (!HASHED_EXTENSIONS.has(ext)) return false;
  const stem = path.basename(file, ext);
  const dot = stem.lastIndexOf('.');
  const tail = stem.slice(dot + 1);
  if (!/^[\w-]*$/.test(tail)) return false;
  // The earliest separator gives the longest hash: the last dot, else the tail's first dash.
  const hash = dot >= 0 ? tail : tail.slice(tail.indexOf('-') + 1);
  return (dot >= 0 || tail.includes('-')) && hash.length >= 8;
}

export function webRouter(webDir: string): Router {
  const r = Router();
  const index = path.join(webDir, 'index.html');
  r.use(
    express.static(webDir, {
      index: false,
      dotfiles: 'ignore',
      fallthrough: true,
      setHeaders(res, file) {
        // Hashed asset names can be cached for ever; index.html must be revalidated.
        res.setHeader(
          'Cache-Control',
          isHashedAsset(file) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    }),
  );
  r.get(/^\/(?!api(?:\/|$)).*/, (req, res, next) => {
    if (existsSync(index)) {
      // SPA fallback: only for page routes (no file extension), so a missing asset stays a 404.
      if (path.extname(req.path) !== '' && req.path !== '/') {
        next();
        return;
      }
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
      return;
    }
    if (req.path === '/' || req.path.startsWith('/r/')) {
      res
        .status(200)
        .type('html')
        .send(NOT_BUILT.replace('WEB_DIR', webDir.replace(/[<>&]/g, '')));
      return;
    }
    next();
  });
  return r;
}
