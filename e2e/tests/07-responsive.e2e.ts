/**
 * The page stays responsive while the worker trains: every main-thread long task (PerformanceObserver
 * 'longtask', installed before the app's first script) is recorded; the longest one during training
 * is reported and must stay under 1 s. The input round trip (a click handled and painted) is measured too.
 */
import { assert, test } from '../harness.ts';
import { longestTask } from '../env.ts';
import { byId, ID, openApp, startJob, stepsDone, tinyConfig, urlWith, waitStatus, workBackend } from '../app.ts';

test('the page stays responsive during training (longest main-thread task < 1 s)', async (t) => {
  const { page } = t;
  const backend = await openApp(page, urlWith(t.appUrl, tinyConfig({ epochs: 3, testRates: [0, 0.5, 1] }), workBackend()));
  const atLoad = await longestTask(page);
  t.log(`longest task while loading: ${atLoad.toFixed(0)} ms`);
  const since = await startJob(page, 'train');
  await waitStatus(page, ['running', 'done'], 15_000);
  // While training: the UI must react to input. The smoothing slider re-renders the loss chart.
  let worstRoundTrip = 0;
  for (let i = 0; i < 20 && (await page.evaluate(() => document.querySelector('[data-testid="progress"]')?.getAttribute('data-status'))) === 'running'; i++) {
    const ms = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const t0 = performance.now();
          const el = document.querySelector('[data-testid="memory-refresh"]') as HTMLElement | null;
          el?.click();
          requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
        }),
    );
    worstRoundTrip = Math.max(worstRoundTrip, ms);
    await page.waitForTimeout(250);
  }
  await waitStatus(page, 'done', 240_000);
  const steps = await stepsDone(page);
  const longest = await longestTask(page, since);
  t.figure(`longest main-thread task during training (${backend})`, longest, 'ms');
  t.figure(`worst click→paint round trip during training (${backend})`, worstRoundTrip, 'ms');
  t.log(`${steps} steps; longest task ${longest.toFixed(0)} ms; worst round trip ${worstRoundTrip.toFixed(0)} ms`);
  assert(longest < 1000, `a main-thread task took ${longest.toFixed(0)} ms during training (limit 1000 ms)`);
  assert((await byId(page, ID.progress).getAttribute('data-status')) === 'done', 'the job should be done');
}, { timeoutMs: 300_000 });
