// The built server (apps/server/dist/main.js) in a child process on 127.0.0.1 and a free
// port: the kill -9 and lock tests (helpers.ts) and the server benchmarks (bench/) start it
// here. Plain ESM so the benchmarks import it without a TypeScript step; types in
// child-server.d.mts.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Kept of each output stream for the error message of a failed start. */
const TAIL_CHARS = 20_000;

/**
 * `nodeArgs`: Node flags before main.js (e.g. `--import` of a test preload; the server's worker
 * threads get them too). Resolves once the server serves (the line main.js prints on stderr); rejects with both
 * streams' tails when it exits first or does not start within `startTimeoutMs`.
 */
export function startServerChild(dataDir, env = {}, { startTimeoutMs = 60_000, nodeArgs = [] } = {}) {
  const proc = spawn(
    process.execPath,
    [
      ...nodeArgs,
      path.join(repo, 'apps/server/dist/main.js'),
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data',
      dataDir,
      '--no-demo',
    ],
    {
      cwd: repo,
      env: { ...process.env, SHAREMAP_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`server did not start within ${startTimeoutMs} ms:\n${out}\n${err}`)),
      startTimeoutMs,
    );
    proc.stdout.on('data', (d) => (out = (out + d).slice(-TAIL_CHARS)));
    proc.stderr.on('data', (d) => {
      err = (err + d).slice(-TAIL_CHARS);
      const m = /serving the web UI and API on (\S+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve({ proc, url: m[1], stderr: () => err });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`server exited with ${code}:\n${out}\n${err}`));
    });
  });
}
