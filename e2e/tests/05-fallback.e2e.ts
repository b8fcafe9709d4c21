/**
 * Chromium without --enable-unsafe-webgpu: navigator.gpu.requestAdapter() gives null. The app must
 * say that WebGPU is unavailable and train on the next backend of the order (webgl, wasm, cpu).
 */
import { assert, test, waitFor } from '../harness.ts';
import { assertRealLosses, byId, ID, jobStatus, lossPoints, newestJobId, openApp, startJob, stepsDone, stepsPerSecond, tinyConfig, urlWith, waitFirstLossPoint, waitStatus } from '../app.ts';

test('without WebGPU the app says so and trains on another backend', async (t) => {
  const { page } = t;
  const backend = await openApp(page, urlWith(t.appUrl, tinyConfig({ epochs: 1, testRates: [0, 1] })), 120_000);
  const hasAdapter = await page.evaluate(async () => {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return gpu ? (await gpu.requestAdapter()) !== null : false;
  });
  assert(!hasAdapter, 'this browser context should have no WebGPU adapter (it runs without --enable-unsafe-webgpu)');
  t.log(`backend without WebGPU: ${backend}`);
  assert(!backend.includes('webgpu'), `backend-name shows "${backend}" although WebGPU is unavailable`);
  assert(['webgl', 'wasm', 'cpu'].some((b) => backend.includes(b)), `unexpected backend "${backend}"`);
  const fallback = byId(page, ID.backendFallback);
  assert(await fallback.count(), 'no message that WebGPU is unavailable (data-testid=backend-fallback)');
  const text = (await fallback.innerText()).trim();
  t.log(`message: ${text}`);
  assert(/webgpu/i.test(text) && /unavailable|not available|no adapter/i.test(text), `the fallback message does not say WebGPU is unavailable: "${text}"`);

  const clicked = await startJob(page, 'train');
  await waitStatus(page, ['running', 'done'], 15_000);
  const first = await waitFirstLossPoint(page, 300_000);
  t.figure(`time to first loss point, ${backend} (no WebGPU; Start click → first point drawn)`, (first - clicked) / 1000, 's');
  // A few steps are enough (WebGL on SwiftShader is slow): then stop, and the job must end cleanly.
  await waitFor('3 training steps', async () => (await stepsDone(page)) >= 3 || (await jobStatus(page)) === 'done', 300_000, 200);
  const sps = await stepsPerSecond(page);
  if (sps !== null && sps > 0) t.figure(`training steps/s, ${backend} (no WebGPU; tiny, batch 24)`, sps, 'steps/s');
  assert((await lossPoints(page)) >= 2, 'the loss chart should have points');
  const msgs = await assertRealLosses(page);
  t.log(`step losses ${msgs.slice(0, 4).map((m) => m.loss.toFixed(3)).join(', ')} …`);
  if ((await jobStatus(page)) !== 'done') await byId(page, ID.stop).click();
  await waitStatus(page, 'done', 300_000);
  const id = await newestJobId(page);
  assert(id, 'the job is not in the runs list');
  const status = (await byId(page, `run-status-${id}`).innerText()).trim();
  assert(status === 'done' || status === 'aborted', `the job ended as "${status}"`);
}, { browser: 'no-webgpu', timeoutMs: 420_000 });
