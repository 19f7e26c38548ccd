/**
 * Browser tests of the web UI against the real built server (apps/server/dist/main.js with the
 * built web UI in apps/web/dist; `pnpm build` first). Debian's Chromium, never a downloaded one.
 */
import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './chromium.mjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
// The config is evaluated in the runner and again in each worker: fix port and data folder once
// in the environment, which the workers inherit.
process.env.E2E_PORT ??= String(18000 + (process.pid % 1000));
process.env.E2E_DATA ??= mkdtempSync(path.join(tmpdir(), 'sharemap-e2e-'));
const port = Number(process.env.E2E_PORT);
const dataDir = process.env.E2E_DATA;

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  // Spec files run in two browsers at once against the one server (the tests of a file stay in
  // order, in one browser): a page mostly waits on the server or on rendering, so two keep both
  // of CI's cores busy. Each spec makes its own reports; the demo report is only read.
  // docs/development.md#how-long-npm-test-takes
  fullyParallel: false,
  workers: 2,
  // One more run under CI; scripts/test.mjs names each test that needed it (FLAKY lines).
  retries: process.env.CI ? 1 : 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1400, height: 900 },
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: chromiumLaunchOptions,
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    command: 'node apps/server/dist/main.js',
    cwd: root,
    url: `http://127.0.0.1:${port}/api/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      SHAREMAP_DATA: dataDir,
      SHAREMAP_WEB_DIR: path.join(root, 'apps/web/dist'),
    },
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
