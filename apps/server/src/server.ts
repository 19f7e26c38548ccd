/** Starting and stopping a server: listen, demo data, graceful shutdown. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type SharemapApp } from './app.js';
import { defaultConfig, loadConfig, type ServerConfig } from './config.js';
import { openContext, type AppContext } from './context.js';
import { ensureDemo } from './demo.js';
import { resumeScans } from './scan/scheduler.js';
import { startGcTimer } from './gc/schedule.js';
import { capConnections } from './guards.js';
import { createLogger, type Logger } from './log.js';
import { WORKER_EXIT_TIMEOUT_MS } from './scan/pool.js';

export interface RunningServer {
  url: string;
  port: number;
  app: SharemapApp;
  ctx: AppContext;
  server: Server;
  /** Resolves once the demo report is ready (or known to be absent). */
  demo: Promise<void>;
  /**
   * Stop accepting connections; let requests in flight and running scans finish (up to
   * graceMs, default the limit shutdownGraceMs); end and hand back the scans still running;
   * stop workers; close the database.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * How long an idle keep-alive connection stays open between requests (Node's default is 5 s).
 * A client whose event loop was busy (hashing, a synchronous child process, a loaded CI
 * runner) for about that long sends its next request on a socket the server is closing at the
 * same moment, and gets ECONNRESET on a POST that no client retries. 65 s outlasts the usual
 * 60 s idle timeout of load balancers in front, so they, not the server, close idle sockets
 * (docs/server.md#limits).
 */
export const KEEP_ALIVE_IDLE_MS = 65_000;

export async function startServer(
  config: ServerConfig,
  log: Logger = createLogger(config.logLevel),
): Promise<RunningServer> {
  const ctx = await openContext(config, log);
  let app: SharemapApp;
  try {
    app = createApp(config, ctx);
    const resumed = await resumeScans(ctx);
    if (resumed) log.info('resumed pending scans', { images: resumed });
  } catch (e) {
    await ctx.close();
    throw e;
  }
  const l = config.limits;
  // Large uploads may take long (no overall request timeout; the body rate check of
  // guards.ts ends trickling bodies), headers must arrive within headersTimeoutMs, and a
  // socket silent for 2 minutes is closed; server-sent events write a keep-alive every 15 s.
  const server = createServer(
    {
      requestTimeout: 0,
      headersTimeout: l.headersTimeoutMs,
      // How often Node checks headersTimeout: a fraction of it, so that it holds to about 25 %.
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(l.headersTimeoutMs / 4))),
      keepAliveTimeout: KEEP_ALIVE_IDLE_MS,
    },
    app,
  );
  capConnections(server, l.maxConnections, log);
  server.timeout = 120_000;
  if (config.host !== undefined) server.listen(config.port, config.host);
  else server.listen(config.port);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host && config.host !== '0.0.0.0' && config.host !== '::' ? config.host : 'localhost';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info('listening', {
    url,
    dataDir: config.dataDir,
    requireToken: config.requireToken,
    webDir: config.webDir,
  });
  const demo = ensureDemo(ctx).then(() => {
    if (ctx.demo.status === 'ready' && ctx.demo.id)
      log.info('demo report ready', { url: `${config.publicUrl ?? url}/r/${ctx.demo.id}` });
  });
  const stopGc = startGcTimer(ctx);
  let closing: Promise<void> | null = null;
  const close = (graceMs = l.shutdownGraceMs): Promise<void> => {
    closing ??= (async () => {
      stopGc();
      ctx.stopping = true; // /api/ready answers 503 from now on
      ctx.bus.emit('shutdown'); // end server-sent event streams so connections can close
      const requests = new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, graceMs);
        server.close(() => {
          clearTimeout(t);
          resolve();
        });
        server.closeIdleConnections();
      });
      // Running scans may finish within the same grace (queued ones stay queued); those still
      // running then are ended, and handed back by ctx.close().
      const scans = ctx.scans.drain(graceMs).then(async (running) => {
        await ctx.scans.close();
        return running;
      });
      const [, unfinished] = await Promise.all([requests, scans]);
      await ctx.close();
      const stuck = ctx.stuckWorkers();
      if (stuck > 0)
        log.warn('worker threads did not end', {
          workers: stuck,
          waitedMs: WORKER_EXIT_TIMEOUT_MS,
          note: 'blocked in a system call; the process cannot exit normally',
        });
      log.info('stopped', { scansUnfinished: unfinished, workersStuck: stuck });
    })();
    return closing;
  };
  return { url, port, app, ctx, server, demo, close };
}

/** For `sharemap serve`: start with the defaults, the environment and these options. */
export async function start(
  opts: { port?: number; host?: string; dataDir?: string; requireToken?: boolean } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const config = loadConfig(process.env, [], defaultConfig());
  if (opts.port !== undefined) config.port = opts.port;
  if (opts.host !== undefined) config.host = opts.host;
  if (opts.dataDir !== undefined) config.dataDir = opts.dataDir;
  if (opts.requireToken) config.requireToken = true;
  const s = await startServer(config);
  return { url: s.url, close: () => s.close() };
}
