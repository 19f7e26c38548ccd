// What the browser benches (web, web-scan) share: the real server (apps/server/dist/main.js, no
// demo) on 127.0.0.1 at `port`, data in `data`, serving the built web UI of `webDir`; and the
// in-page watcher of milestones.
import { spawn } from 'node:child_process';

/** How long the server may take to answer its health check on a loaded machine. */
const HEALTH_TRIES = 240;
const HEALTH_EVERY_MS = 250;

export function startBenchServer({ root, port, data, webDir }) {
  const server = spawn(process.execPath, ['apps/server/dist/main.js'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      SHAREMAP_DATA: data,
      SHAREMAP_DEMO: '0',
      SHAREMAP_WEB_DIR: webDir,
      SHAREMAP_WORKER_HEAP_MB: '8192',
      SHAREMAP_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  /** Resolves once GET /api/health answers 200; throws when it never does. */
  async function ready() {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/api/health`)).ok) return;
      } catch {
        /* not up yet */
      }
      if (i > HEALTH_TRIES) throw new Error('the server never answered');
      await new Promise((r) => setTimeout(r, HEALTH_EVERY_MS));
    }
  }
  return { server, base, ready };
}

/**
 * Adds `window.__benchWatch(marks, watch, before, options)` to every document of `page` (an init
 * script, added before the bench's own): a MutationObserver that runs `before()`, then for each
 * `[key, found, next]` of `watch` records `marks[key] = performance.now()` when `found()` is
 * first true and, with `next` (a click), queues it in a task of its own, marked `${key}Click`
 * when it runs: the page answers input when that task runs. No round trip to the bench counts.
 */
export async function addMarkWatcher(page) {
  await page.addInitScript(() => {
    window.__benchWatch = (marks, watch, before, options) =>
      new MutationObserver(() => {
        before?.();
        for (const [k, found, next] of watch)
          if (marks[k] === undefined && found()) {
            marks[k] = performance.now();
            if (next)
              setTimeout(() => {
                marks[`${k}Click`] = performance.now();
                next();
              }, 0);
          }
      }).observe(document, options);
  });
}
