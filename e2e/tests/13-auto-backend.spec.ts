/**
 * 'auto' on a machine without a GPU (SwiftShader is what Chromium has here): it must not pick the
 * software-emulated WebGPU/WebGL, must say why, must be fast to the first loss point, must be
 * remembered per browser and re-measurable, and an explicit choice must still be honoured. Stop
 * must take effect within one step on every backend. The page is cross-origin isolated (vite
 * preview sends COOP/COEP), so wasm loads its threaded SIMD binary.
 */
import type { Page } from '@playwright/test';
import { budget, test } from '../fixtures.ts';
import { assert, waitFor } from '../checks.ts';
import {
  byId,
  ID,
  openApp,
  stepMessages,
  startJob,
  stepsDone,
  tinyConfig,
  urlWith,
  waitFirstLossPoint,
  waitReady,
  waitStatus,
  wasmBinariesLoaded,
} from '../app.ts';
import type { BackendName } from '../../src/worker/protocol.ts';

const FIRST_LOSS_BUDGET_MS = 5_000; // the "within 5 s of pressing it"

test('auto skips the software GPU, says why, and the Quick demo shows a loss within 5 s', async ({ page, app }) => {
  test.setTimeout(budget(120_000));
  const wasm = wasmBinariesLoaded(page);
  const badge = await openApp(page, app.url, budget(60_000));
  assert(await page.evaluate(() => crossOriginIsolated), 'vite preview should make the page cross-origin isolated');
  assert(badge.startsWith('wasm'), `auto chose "${badge}"; expected wasm on this machine (SwiftShader only)`);
  const reason = (await byId(page, 'backend-reason').innerText()).trim();
  app.log(`auto: ${badge} — ${reason}`);
  assert(/WebGPU is software-emulated here/i.test(reason), `the badge does not say why: "${reason}"`);
  assert(/thread/.test(badge), `the wasm badge should give the thread count: "${badge}"`);
  assert(
    wasm.includes('tfjs-backend-wasm-threaded-simd.wasm'),
    `the threaded SIMD binary was not the one loaded: ${wasm.join(', ') || '(none)'}`,
  );
  app.figure('wasm threads (tfjs pool: hardwareConcurrency / 2)', Number(await threads(page)), 'threads');

  const t0 = await page.evaluate(() => performance.now());
  await byId(page, ID.preset('quick-demo')).click();
  const first = await waitFirstLossPoint(page, budget(60_000));
  const ms = first - t0;
  app.figure('Quick demo on auto: click → first loss point', ms / 1000, 's');
  assert(ms <= budget(FIRST_LOSS_BUDGET_MS), `first loss point after ${(ms / 1000).toFixed(1)} s (budget 5 s)`);
  await waitStatus(page, ['done', 'idle'], budget(90_000));

  // Remembered: a reload takes the stored choice without timing anything; re-measure redoes it.
  await page.reload({ waitUntil: 'load' });
  const again = await waitReady(page, budget(60_000));
  assert(again.startsWith('wasm'), `after a reload auto chose "${again}"`);
  const remembered = (await byId(page, 'backend-reason').innerText()).trim();
  assert(/remembered/i.test(remembered), `the reload should reuse the remembered choice: "${remembered}"`);
  await byId(page, 'backend-remeasure').click();
  await waitFor(
    're-measured choice',
    async () => {
      const r = byId(page, 'backend-reason');
      return (await r.count()) && !/remembered/i.test(await r.innerText()) ? true : null;
    },
    budget(60_000),
  );
  assert((await byId(page, ID.backendName).innerText()).startsWith('wasm'), 're-measuring should pick wasm again');
});

test('an explicit WebGPU choice is honoured over auto', async ({ page, app }) => {
  test.setTimeout(budget(90_000));
  await openApp(page, app.url, budget(60_000));
  await byId(page, ID.backendSelect).selectOption('webgpu');
  await waitFor(
    'the worker to switch to WebGPU',
    async () => ((await byId(page, ID.backendName).getAttribute('data-backend')) === 'webgpu' ? true : null),
    budget(60_000),
  );
  assert((await byId(page, ID.backendName).innerText()).includes('webgpu'), 'the badge should say webgpu');
  // And from a link: #backend=webgpu.
  const page2 = await page.context().newPage();
  const b = await openApp(page2, `${app.url}#backend=webgpu`, budget(60_000));
  assert(b.includes('webgpu'), `#backend=webgpu gave "${b}"`);
  await page2.close();
});

for (const backend of ['wasm', 'webgpu', 'webgl', 'cpu'] as BackendName[]) {
  test(`Stop takes effect within one step on ${backend}`, async ({ page, app }) => {
    test.setTimeout(budget(180_000));
    await openApp(page, urlWith(app.url, tinyConfig({ epochs: 20, batchSize: 4 }), backend), budget(60_000));
    const active = await byId(page, ID.backendName).getAttribute('data-backend');
    assert(active === backend, `asked for ${backend}, got ${active}`);
    await startJob(page, 'train');
    await waitStatus(page, ['running'], budget(30_000));
    await waitFor('2 steps', async () => ((await stepsDone(page)) >= 2 ? true : null), budget(120_000), 50);
    const before = await stepMessages(page);
    const stepMs = before.length >= 2 ? before[before.length - 1].t - before[before.length - 2].t : NaN;
    // The moment the page handles the click (not before Playwright's click: steps keep arriving while
    // it checks the button, and a fast backend finishes a step or two in that time).
    const stop = byId(page, ID.stop);
    await stop.evaluate((el) =>
      el.addEventListener('click', () => ((window as unknown as { __stopAt?: number }).__stopAt = performance.now()), {
        capture: true,
        once: true,
      }),
    );
    await stop.click();
    const t0 = await page.evaluate(() => (window as unknown as { __stopAt?: number }).__stopAt ?? NaN);
    assert(Number.isFinite(t0), 'the Stop click did not reach the page');
    await waitStatus(page, ['done', 'idle', 'error'], budget(120_000));
    const t1 = await page.evaluate(() => performance.now());
    const after = (await stepMessages(page)).filter((s) => s.t > t0);
    app.figure(
      `Stop → job ended, ${backend} (tiny, batch 4; one step ≈ ${stepMs.toFixed(0)} ms)`,
      (t1 - t0) / 1000,
      's',
    );
    // At most the step in flight when the worker reads Stop, plus one already posted and still in
    // the message channel when the click lands (wasm steps take ~200 ms, and the page reads step
    // messages as they arrive): anything more would mean Stop waited for more than one step.
    assert(
      after.length <= 2,
      `${after.length} steps were reported after Stop on ${backend} (at most the one in flight and one in the channel)`,
    );
    const limit = Math.max(2 * stepMs, 1_000) + budget(2_000);
    assert(
      t1 - t0 <= limit,
      `Stop took ${(t1 - t0).toFixed(0)} ms on ${backend}; one step is ~${stepMs.toFixed(0)} ms`,
    );
  });
}

async function threads(page: Page): Promise<string> {
  return (await byId(page, ID.backendName).getAttribute('data-threads')) ?? '';
}
