/**
 * Chromium without --enable-unsafe-webgpu (the `no-webgpu` project): navigator.gpu.requestAdapter()
 * gives null. A user who asks for WebGPU must be told it is unavailable and get the next backend of
 * the order (webgl, wasm, cpu) — here WebGL, so this test is also the one that trains on WebGL.
 * (Auto never picks a software GPU; 13-auto-backend covers it.)
 *
 * Cheap on purpose: WebGL on SwiftShader compiles its shaders on the CPU and a step takes seconds,
 * so the job is the tiny model at batch 4, stopped after 2 steps — the fewest that draw a line in
 * the loss chart and show two different, finite losses.
 */
import { budget, test } from '../fixtures.ts';
import { assert, waitFor } from '../checks.ts';
import {
  assertRealLosses,
  byId,
  ID,
  jobStatus,
  lossPoints,
  newestJobId,
  openApp,
  startJob,
  stepsDone,
  stepsPerSecond,
  tinyConfig,
  urlWith,
  waitFirstLossPoint,
  waitStatus,
} from '../app.ts';

const STEPS = 2;
const BATCH = 4;

test('without WebGPU the app says so and trains on another backend', async ({ page, app }) => {
  test.setTimeout(budget(180_000));
  const backend = await openApp(
    page,
    urlWith(app.url, tinyConfig({ epochs: 1, batchSize: BATCH, testRates: [0, 1] }), 'webgpu'),
    budget(60_000),
  );
  const hasAdapter = await page.evaluate(async () => {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return gpu ? (await gpu.requestAdapter()) !== null : false;
  });
  assert(!hasAdapter, 'this browser context should have no WebGPU adapter (it runs without --enable-unsafe-webgpu)');
  app.log(`backend without WebGPU: ${backend}`);
  assert(!backend.includes('webgpu'), `backend-name shows "${backend}" although WebGPU is unavailable`);
  assert(backend.includes('webgl'), `expected the next backend after WebGPU, webgl; got "${backend}"`);
  const fallback = byId(page, ID.backendFallback);
  assert(await fallback.count(), 'no message that WebGPU is unavailable (data-testid=backend-fallback)');
  const text = (await fallback.innerText()).trim();
  app.log(`message: ${text}`);
  assert(
    /webgpu/i.test(text) && /unavailable|not available|no adapter/i.test(text),
    `the fallback message does not say WebGPU is unavailable: "${text}"`,
  );

  const clicked = await startJob(page, 'train');
  await waitStatus(page, ['running', 'done'], budget(30_000));
  const first = await waitFirstLossPoint(page, budget(120_000));
  app.figure(
    `time to first loss point, ${backend} (no WebGPU; Start click → first point drawn; tiny, batch ${BATCH})`,
    (first - clicked) / 1000,
    's',
  );
  await waitFor(`${STEPS} training steps`, async () => (await stepsDone(page)) >= STEPS, budget(40_000), 200);
  const sps = await stepsPerSecond(page);
  if (sps !== null && sps > 0)
    app.figure(`training steps/s, ${backend} (no WebGPU; tiny, batch ${BATCH})`, sps, 'steps/s');
  assert((await lossPoints(page)) >= 2, 'the loss chart should have points');
  const msgs = await assertRealLosses(page);
  app.log(
    `step losses ${msgs
      .slice(0, 4)
      .map((m) => m.loss.toFixed(3))
      .join(', ')} …`,
  );
  // An epoch is 30 steps at batch 4: stop after the current step; the job must end cleanly.
  if ((await jobStatus(page)) !== 'done') await byId(page, ID.stop).click();
  await waitStatus(page, 'done', budget(60_000));
  const id = await newestJobId(page);
  assert(id, 'the job is not in the runs list');
  // The runs table follows the store at most every 500 ms (useCalm): wait for it, briefly.
  await waitFor(
    'the runs table to show the job ended',
    async () => ['finished', 'stopped'].includes((await byId(page, `run-status-${id}`).innerText()).trim()),
    budget(5_000),
  );
});
