/**
 * The e2e tests' `test`: Playwright Test's, with the guards every test gets and what the tests
 * report.
 *
 * - `context` (overridden): before the first page, the init scripts (long main-thread tasks, the
 *   worker's step messages) and the request guards go on; after the test, **any request that left
 *   the app's origin fails it** (web sockets included; data: and blob: are fine). A failed test gets
 *   the page's console errors attached, and every test a note with its longest main-thread task.
 * - `app`: the served app's `url` and `origin`, `figure(name, value, unit)` (a number for the final
 *   report: an annotation `figure`, printed by e2e/summary-reporter.ts), `log(text)` (a note printed
 *   under the test) and `budget(ms)` (a time limit scaled by E2E_SLOW).
 *
 * Each test gets a fresh browser context (IndexedDB starts empty); `context.newPage()` opens another
 * page on the same storage, guarded like the first.
 */
import { test as base, expect } from '@playwright/test';
import { guardContext, longestTask } from './env.ts';

export interface AppInfo {
  /** The app's page, e.g. http://127.0.0.1:41234/ */
  url: string;
  /** Its origin, without a trailing slash. */
  origin: string;
  /** Records a figure for the final report (time to first loss point, steps/s, …). */
  figure(name: string, value: number, unit: string): void;
  /** A line printed under the test's result. */
  log(msg: string): void;
}

/** E2E_SLOW scales every budget (default 1: budgets fit a machine twice as slow as a quiet 2-core one). */
export const SLOW = Number(process.env.E2E_SLOW ?? 1) || 1;
export const budget = (ms: number): number => Math.round(ms * SLOW);

export const test = base.extend<{ app: AppInfo }>({
  context: async ({ context, baseURL }, use, testInfo) => {
    const origin = new URL(baseURL!).origin;
    const g = await guardContext(context, origin);
    await use(context);
    const page = context.pages()[0];
    if (page && !page.isClosed()) {
      const lt = await longestTask(page).catch(() => 0);
      if (lt > 0)
        testInfo.annotations.push({ type: 'note', description: `longest main-thread task ${lt.toFixed(0)} ms` });
    }
    if (testInfo.status !== testInfo.expectedStatus && g.problems.length) {
      await testInfo.attach('console errors', { body: g.problems.join('\n'), contentType: 'text/plain' });
      for (const p of g.problems.slice(0, 8)) testInfo.annotations.push({ type: 'note', description: p });
    }
    expect(g.offOrigin, `requests left the origin ${origin}`).toEqual([]);
  },
  app: async ({ baseURL }, use, testInfo) => {
    const url = baseURL!;
    await use({
      url,
      origin: new URL(url).origin,
      figure(name, value, unit) {
        const v = Number.isInteger(value) ? String(value) : value.toFixed(3);
        testInfo.annotations.push({ type: 'figure', description: `${name}: ${v} ${unit}` });
      },
      log(msg) {
        testInfo.annotations.push({ type: 'note', description: msg });
      },
    });
  },
});

export { expect };
