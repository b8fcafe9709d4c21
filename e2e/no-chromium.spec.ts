/**
 * Stands in for the browser suite when Chromium is missing (playwright.config.ts points here then):
 * skipped with the hint to install it, or failed in CI (env CI set), which must install it.
 */
import { test } from '@playwright/test';
import { CHROMIUM_HINT } from './env.ts';

test('browser suite: Chromium is installed', () => {
  const where = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (process.env.CI) throw new Error(`Chromium not found at ${where}; CI must install it. ${CHROMIUM_HINT}`);
  test.skip(true, `Chromium not found at ${where}: the browser tests are skipped. ${CHROMIUM_HINT}`);
});
