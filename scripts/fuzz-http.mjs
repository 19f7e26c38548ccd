// `pnpm fuzz:http`: long HTTP fuzz run of the server (the bounded run is part of `npm test`,
// apps/server/test/http-fuzz.test.ts; both draw their cases with
// apps/server/test/http-fuzz-lib.mjs).
//
//   pnpm fuzz:http [--seconds 300] [--seed S] [--no-build]
//
// Starts the built server on 127.0.0.1 (a free port, a temp data folder, an admin token),
// uploads a fixture image, a manifest, a mount configuration and a report so that every
// route has a real resource, then sends seeded random mutations of valid requests to every
// operation of the OpenAPI description over raw sockets. A finding is a 5xx other than 503,
// an error without a JSON body, no answer, or a server that stops answering /api/health.
// Each finding is saved as apps/server/test/fuzz-cases/<hash>.json (seed, route, mutation
// ops, the request bytes) and printed; the exit code is then 1. http-fuzz.test.ts replays
// every saved case in `npm test`. Loopback only.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build, ensureInstalled, log, root } from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '300' },
    seed: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  process.stdout.write('pnpm fuzz:http [--seconds 300] [--seed S] [--no-build]\n');
  process.exit(0);
}
const seconds = Number(opt.seconds);
const seed = opt.seed !== undefined ? Number(opt.seed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
if (!(seconds > 0) || Number.isNaN(seed)) {
  process.stderr.write('fuzz:http: --seconds must be a positive number, --seed an integer\n');
  process.exit(2);
}
if (!opt['no-build']) {
  ensureInstalled();
  build(['@sharemap/server']);
}

const server = await import('../apps/server/dist/index.js');
const { openapiDocument } = await import('../apps/server/dist/openapi.js');
const { manifestToNdjson } = await import('../packages/erofs/dist/index.js');
const { scanImageFile } = await import('../packages/erofs/dist/node.js');
const lib = await import('../apps/server/test/http-fuzz-lib.mjs');

const OUT = path.join(root, 'apps/server/test/fuzz-cases');
const ADMIN = 'smt_fuzz-admin-token'; // FUZZ_ADMIN_TOKEN of apps/server/test/fuzz-target.ts (saved cases replay with it)
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sharemap-fuzz-http-'));
const config = {
  ...server.defaultConfig(),
  port: 0,
  host: '127.0.0.1',
  dataDir,
  demoDir: null,
  logLevel: 'silent',
  webDir: path.join(dataDir, 'no-web'),
  adminToken: ADMIN,
  limits: server.resolveLimits({
    bodyTimeoutMs: 300,
    minBodyBytesPerWindow: 64,
    maxUploadBytes: 16 * 1024 * 1024,
  }),
};
const s = await server.startServer(config);
let exitCode = 0;
try {
  const imagePath = path.join(root, 'testdata/erofs/app.fp.img');
  const base = {
    image: readFileSync(imagePath),
    manifestNdjson: [...manifestToNdjson(await scanImageFile(imagePath))].join(''),
    fstab: readFileSync(path.join(root, 'testdata/mounts/fleet.fstab'), 'utf8'),
    bomb: lib.makeBomb(16),
    adminToken: ADMIN,
  };
  const fx = { ...base, ids: await lib.prepare(s.url, base) };
  const ops = lib.operations(openapiDocument(config), fx.ids);
  log(`fuzz:http: seed ${seed}, ${seconds} s, ${ops.length} operations, server ${s.url}`);
  const { cases, findings } = await lib.fuzzRun({ port: s.port, fx, ops, seed, deadlineMs: seconds * 1000 });
  const seen = new Set();
  for (const f of findings) {
    const hash = createHash('sha256')
      .update(f.route + f.finding.replace(/\d+/g, 'N'))
      .digest('hex')
      .slice(0, 12);
    if (seen.has(hash)) continue;
    seen.add(hash);
    mkdirSync(OUT, { recursive: true });
    writeFileSync(path.join(OUT, `${hash}.json`), JSON.stringify(f, null, 2) + '\n');
    log(`finding ${hash}: ${f.route} [${f.ops.join('; ')}] -> ${f.finding}`);
  }
  log(`fuzz:http: ${cases} cases, ${findings.length} findings (${seen.size} distinct)`);
  if (findings.length) exitCode = 1;
} finally {
  await s.close(1000);
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
