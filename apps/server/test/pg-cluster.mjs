/**
 * A private PostgreSQL cluster for the tests and the replicas benchmark (bench/): initdb in a temporary folder, `postgres` on
 * 127.0.0.1 and a free port, stopped and removed afterwards. initdb refuses to run as root:
 * as root, the cluster runs as the `postgres` user (Debian's package makes it) or `nobody`
 * through runuser. The binaries: SHAREMAP_PG_BIN, else the newest /usr/lib/postgresql/N/bin,
 * else initdb and pg_ctl on PATH. Nothing is skipped: a cluster that cannot start throws
 * with the reason (initdb's or pg_ctl's output and the server log).
 * Plain ESM so the benchmarks import it without a TypeScript step (as child-server.mjs);
 * types in pg-cluster.d.mts, and pg-cluster.ts re-exports it for the tests.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Seconds pg_ctl waits for the server to start or stop (a loaded machine is slow). */
const PG_CTL_WAIT_SECONDS = 120;

export function pgBinDir() {
  const given = process.env.SHAREMAP_PG_BIN;
  if (given) return given;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => /^\d+$/.test(v) && existsSync(path.join(base, v, 'bin/initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length) return path.join(base, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return path.dirname(which.stdout.trim());
  throw new Error(
    "PostgreSQL is not installed (no /usr/lib/postgresql/N/bin/initdb, no initdb on PATH): install Debian's postgresql (npm test does so as root) or set SHAREMAP_PG_BIN",
  );
}

/** The unprivileged user to run the cluster as when this process is root. */
function clusterUser() {
  if (process.getuid?.() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0)
      return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error('running as root and neither a postgres nor a nobody user exists to run initdb as');
}

/** A port free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves with the running cluster (see PgCluster in pg-cluster.d.mts). */
export async function startPgCluster() {
  const bin = pgBinDir();
  const user = clusterUser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sharemap-pg-'));
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  if (user) chownSync(dir, user.uid, user.gid);
  const run = (cmd, args) => {
    const r = user
      ? spawnSync('runuser', ['-u', user.name, '--', path.join(bin, cmd), ...args], { encoding: 'utf8' })
      : spawnSync(path.join(bin, cmd), args, { encoding: 'utf8' });
    return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}` };
  };
  const fail = (what, output) => {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL test cluster: ${what} failed:\n${output}\n${log}`);
  };
  const init = run('initdb', ['-D', data, '-A', 'trust', '-U', 'sharemap', '-E', 'UTF8', '--no-sync']);
  if (init.status !== 0) fail('initdb', init.output);
  // A port picked free may be taken before the server binds it: try a few.
  let port = 0;
  let last = '';
  for (let attempt = 0; attempt < 5 && !port; attempt++) {
    const p = await freePort();
    const opts = `-p ${p} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200`;
    const started = run('pg_ctl', [
      '-D',
      data,
      '-l',
      logFile,
      '-w',
      '-t',
      String(PG_CTL_WAIT_SECONDS),
      '-o',
      opts,
      'start',
    ]);
    if (started.status === 0) port = p;
    else last = started.output;
  }
  if (!port) fail('pg_ctl start', last);
  const url = (db) => `postgres://sharemap@127.0.0.1:${port}/${db}`;
  return {
    url: url('postgres'),
    port,
    dir,
    createDatabase(name) {
      if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
      const r = run('psql', [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'sharemap',
        '-d',
        'postgres',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        `CREATE DATABASE ${name}`,
      ]);
      if (r.status !== 0) throw new Error(`CREATE DATABASE ${name} failed: ${r.output}`);
      return url(name);
    },
    stop() {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', String(PG_CTL_WAIT_SECONDS), 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
