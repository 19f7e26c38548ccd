// The built server (apps/server/dist/main.js) in a child process on a free loopback port, for
// the server benchmarks. Resolves once it serves (the line main.js prints on stderr); stdout
// (request logs at log level info) is read and dropped.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** @returns {Promise<{ proc: import('node:child_process').ChildProcess, url: string, stderr: () => string }>} */
export function startServerChild(dataDir, env = {}) {
  const proc = spawn(
    process.execPath,
    [
      path.join(root, 'apps/server/dist/main.js'),
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data',
      dataDir,
      '--no-demo',
    ],
    { env: { ...process.env, SHAREMAP_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  proc.stdout.resume();
  let err = '';
  return new Promise((resolve, reject) => {
    proc.stderr.on('data', (d) => {
      err = (err + d).slice(-20_000);
      const m = /serving the web UI and API on (\S+)/.exec(err);
      if (m) resolve({ proc, url: m[1], stderr: () => err });
    });
    proc.on('exit', (c) => reject(new Error(`server exited ${c}: ${err}`)));
  });
}
