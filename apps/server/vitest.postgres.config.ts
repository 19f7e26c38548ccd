/**
 * The server suite a second time, on PostgreSQL (`SHAREMAP_DATABASE_URL`): one private cluster
 * for the run (test/pg-global-setup.ts), a fresh database per test server (test/helpers.ts).
 * `npm test` runs it after the main suite when PostgreSQL is installed:
 *   pnpm exec vitest run --config apps/server/vitest.postgres.config.ts
 * The files below are every server test that drives the HTTP API only (gc: also its rows,
 * through test/backend-sql.ts, on either backend); the others also open
 * the SQLite file or the better-sqlite3 connection (ctx.db) to inspect or damage it, which a
 * PostgreSQL server does not have (docs/server.md#deployment-with-postgresql).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const POSTGRES_TEST_FILES = [
  'api-routes',
  'concurrency',
  'errors',
  'fidelity',
  'flow',
  'gc',
  'hostile',
  'manifest-accept',
  'metrics',
  'mount-config-worker',
  'mount-formats',
  'output-injection',
  'render-parity',
  'renders',
  'report-html',
  'report-links',
  'report-list',
  'report-names',
  'report-size',
  'residency',
].map((f) => `apps/server/test/${f}.test.ts`);

export default defineConfig({
  root: repo,
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: POSTGRES_TEST_FILES,
    globalSetup: ['apps/server/test/pg-global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
