import { defineConfig } from 'vitest/config';

// Unit and integration tests of every workspace package. Workspace imports resolve to
// TypeScript sources through the "source" export condition, so tests never need a build.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'scripts/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Under CI a failed test runs once more; scripts/test.mjs names every test that needed the
    // second run (FLAKY lines) so it gets fixed, not forgotten (docs/development.md#flaky-tests).
    retry: process.env.CI ? 1 : 0,
  },
});
