/**
 * `node apps/server/dist/main.js [flags]`: the sharemap server (API + web UI). Config from
 * the environment and flags (config.ts, docs/server.md). SIGINT/SIGTERM: graceful shutdown.
 */
import { ConfigError, loadConfig, USAGE } from './config.js';
import { startServer } from './server.js';
import { DatabaseOpenError } from './storage/open.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  let config;
  try {
    config = loadConfig(process.env, argv);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof RangeError) {
      process.stderr.write(`sharemap server: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
  let running;
  try {
    running = await startServer(config);
  } catch (e) {
    // A database that cannot be reached or used: one line, no stack.
    if (e instanceof DatabaseOpenError) {
      process.stderr.write(`sharemap server: ${e.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
  process.stderr.write(`sharemap: serving the web UI and API on ${running.url}\n`);
  void running.demo.then(() => {
    const d = running.ctx.demo;
    if (d.status === 'ready' && d.id)
      process.stderr.write(`sharemap: demo report: ${config.publicUrl ?? running.url}/r/${d.id}\n`);
  });
  /**
   * process.exit() joins every worker thread, so it never returns while a worker is blocked in
   * a system call that terminate() cannot interrupt (pool.ts WORKER_EXIT_TIMEOUT_MS). Then the
   * process ends by the signal it was sent (its default action), as it would have without a
   * handler: the database is closed and the scans handed back by then.
   */
  const exit = (signal: NodeJS.Signals, code: number): void => {
    if (running.ctx.stuckWorkers() === 0) process.exit(code);
    process.stderr.write(`sharemap: worker threads did not end; exiting by ${signal}\n`);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  };
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // At once, by the signal's default action: process.exit() could wait for a worker.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    stopping = true;
    process.stderr.write(`sharemap: ${signal}, shutting down\n`);
    running.close().then(
      () => exit(signal, 0),
      () => exit(signal, 1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  process.stderr.write(`sharemap server: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
