/**
 * The server suite a second time, on PostgreSQL (`SHAREMAP_DATABASE_URL`): one private cluster
 * for the run (test/pg-global-setup.ts), a fresh database per test server (test/helpers.ts).
 * `npm test` runs it after the main suite when PostgreSQL is installed:
 *   pnpm exec vitest run --config apps/server/vitest.postgres.config.ts
 * The files below are the server tests that exercise the store through the HTTP API: they write
 * and read rows (reports, uploads, names, residency inputs, hostile text in them), look at or
 * change rows through test/backend-sql.ts (the server's own database, either backend) or
 * ctx.store, or probe the database (/api/ready, retention, paging cursors). The others stay
 * SQLite-only, for the reasons listed in docs/development.md#tests: they write or damage the
 * SQLite file itself, or test what reaches no database (request parsing and refusals before
 * any row, mount-configuration parsing, link building, the render pool and its file cache):
 * running those twice tested the same code twice.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { TEST_FILE_WORKERS } from '../../vitest.config.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const POSTGRES_TEST_FILES = [
  'analysis-input',
  'api-routes',
  'archives',
  'concurrency',
  'errors',
  'flow',
  'gc',
  'hostile',
  'metrics',
  'mount-formats',
  'output-injection',
  'render-parity',
  'render-memory',
  'report-html',
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
    // Files share worker processes (isolate: false): each process imports the server once, not
    // once per file; the setup file fails a file that leaves the process changed (environment,
    // globals, process listeners, open handles). docs/development.md#how-long-npm-test-takes
    setupFiles: ['apps/server/test/server-shared-process-guard.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    isolate: false,
    maxWorkers: TEST_FILE_WORKERS, // as vitest.config.ts: files side by side, a database each
    retry: process.env.CI ? 1 : 0, // as vitest.config.ts: docs/development.md#flaky-tests
  },
});
