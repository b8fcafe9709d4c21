/**
 * The browser tests (`npm run test:e2e`, i.e. `playwright test`): Debian's Chromium (never a
 * downloaded one), the app built once and served by `vite preview` on a free port of 127.0.0.1,
 * one test at a time (two cores; SwiftShader WebGPU/WebGL is CPU-bound), traces kept for failures.
 * See e2e/README.md.
 *
 *   E2E_DEV=1        against the dev server instead of a build
 *   E2E_NO_BUILD=1   reuse dist/ from an earlier build
 *   E2E_PORT=N       serve on port N instead of a free one
 *   E2E_SLOW=F       multiply every test budget by F (they are set for a machine twice as slow as a quiet 2-core one)
 *   CHROMIUM_PATH    another Chromium
 */
import { defineConfig, type PlaywrightTestConfig } from '@playwright/test';
import { existsSync } from 'node:fs';
import { chromiumFlags, chromiumPath, CHROMIUM_HINT, freePort } from './e2e/env.ts';

// The workers load this file again: the port chosen here reaches them through the environment.
process.env.E2E_PORT ??= String(await freePort());
const port = Number(process.env.E2E_PORT);
const origin = `http://127.0.0.1:${port}`;
const dev = !!process.env.E2E_DEV;
const build = !dev && !(process.env.E2E_NO_BUILD && existsSync('dist/index.html'));
const vite = 'node node_modules/vite/bin/vite.js';
const executablePath = chromiumPath();
const slow = Number(process.env.E2E_SLOW ?? 1) || 1;

const common: PlaywrightTestConfig = {
  testDir: 'e2e/tests',
  outputDir: 'test-results/e2e',
  // One browser test at a time, in file order.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  // A test's own budget is set in the test (test.setTimeout); this is for anything that forgets to.
  timeout: 120_000 * slow,
  expect: { timeout: 10_000 * slow },
  forbidOnly: !!process.env.CI,
  reporter: [['list'], ['./e2e/summary-reporter.ts']],
};

let config: PlaywrightTestConfig;
if (!executablePath) {
  // No Chromium: a single placeholder test that says why (skipped; failed in CI, which installs it).
  if (!process.env.CI && !process.env.TEST_WORKER_INDEX)
    console.log(
      `e2e: SKIPPED — Chromium not found at ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'}. ${CHROMIUM_HINT}`,
    );
  config = { ...common, testDir: 'e2e', testMatch: 'no-chromium.spec.ts' };
} else {
  config = {
    ...common,
    testMatch: '*.spec.ts',
    webServer: {
      command: build
        ? `${vite} build --base ./ --logLevel warn && ${vite} preview --base ./ --host 127.0.0.1 --port ${port} --strictPort`
        : dev
          ? `${vite} --host 127.0.0.1 --port ${port} --strictPort`
          : `${vite} preview --base ./ --host 127.0.0.1 --port ${port} --strictPort`,
      url: `${origin}/`,
      reuseExistingServer: false,
      timeout: 240_000 * slow,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    use: {
      baseURL: `${origin}/`,
      viewport: { width: 1400, height: 1000 },
      actionTimeout: 30_000 * slow,
      navigationTimeout: 60_000 * slow,
      acceptDownloads: true,
      // Kept for failed tests only (npx playwright show-trace test-results/e2e/…/trace.zip). No
      // screencast: on two cores it would slow the SwiftShader tests down.
      trace: { mode: 'retain-on-failure', screenshots: false, snapshots: true, sources: true },
      screenshot: 'only-on-failure',
    },
    projects: [
      {
        // Chromium with --enable-unsafe-webgpu: a WebGPU adapter (SwiftShader's, on a machine without a GPU).
        name: 'webgpu',
        testIgnore: '**/05-fallback.spec.ts',
        use: {
          browserName: 'chromium',
          headless: true,
          launchOptions: { executablePath, args: chromiumFlags('webgpu') },
        },
      },
      {
        // The same Chromium without it: navigator.gpu.requestAdapter() gives null.
        name: 'no-webgpu',
        testMatch: '**/05-fallback.spec.ts',
        use: {
          browserName: 'chromium',
          headless: true,
          launchOptions: { executablePath, args: chromiumFlags('no-webgpu') },
        },
      },
    ],
  };
}

export default defineConfig(config);
