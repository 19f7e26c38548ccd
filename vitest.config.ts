import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Test files run side by side in this many processes. Vitest's default in a `run` is one fewer
 * than the cores: a single worker on CI's two cores, which ran the files one after the other
 * while most of them wait on child processes, servers and disk. Two or more keep both cores
 * busy (docs/development.md#how-long-npm-test-takes); every test file already runs in its own
 * process with its own temporary folders, ports and databases.
 */
export const TEST_FILE_WORKERS = Math.max(2, availableParallelism());

// Unit and integration tests of every workspace package. Workspace imports resolve to
// TypeScript sources through the "source" export condition, so tests never need a build.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'apps/*/src/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'scripts/test/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: TEST_FILE_WORKERS,
    // Under CI a failed test runs once more; scripts/test.mjs names every test that needed the
    // second run (FLAKY lines) so it gets fixed, not forgotten (docs/development.md#flaky-tests).
    retry: process.env.CI ? 1 : 0,
  },
});
