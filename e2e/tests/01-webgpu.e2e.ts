/**
 * The main path in Chromium with WebGPU (SwiftShader's CPU adapter here): the page loads, the
 * worker reports the webgpu backend, the Quick demo trains, and the loss chart gets points.
 */
import { assert, test, waitFor } from '../harness.ts';
import { assertRealLosses, backendFailures, byId, ID, jobStatus, lossPoints, stepsDone, stepsPerSecond, waitFirstLossPoint, waitReady, waitStatus } from '../app.ts';

test('loads, reports the WebGPU backend, trains a few steps, the loss chart gets points', async (t) => {
  const { page } = t;
  const t0 = Date.now();
  await page.goto(t.appUrl, { waitUntil: 'load' });
  const backend = await waitReady(page, 120_000);
  t.figure(`page open → backend ready (${backend})`, (Date.now() - t0) / 1000, 's');
  assert(
    backend.includes('webgpu'),
    `backend-name shows "${backend}", expected webgpu (Chromium runs with --enable-unsafe-webgpu); the app says: ${(await backendFailures(page)) || '(no reason given)'}`,
  );
  assert((await jobStatus(page)) === 'idle', 'a fresh page should be idle');
  assert((await lossPoints(page)) === 0, 'the loss chart should be empty before training');

  // Quick demo = tiny model on synthetic:tiny (5 steps an epoch); it starts at once.
  const clicked = await page.evaluate(() => performance.now());
  await byId(page, ID.preset('quick-demo')).click();
  await waitStatus(page, ['running', 'done'], 15_000);
  const first = await waitFirstLossPoint(page, 240_000);
  t.figure('time to first loss point, webgpu (Quick demo click → first point drawn)', (first - clicked) / 1000, 's');

  await waitFor('4 loss points in the chart', async () => (await lossPoints(page)) >= 4, 240_000, 250);
  const points = await lossPoints(page);
  const steps = await stepsDone(page);
  const sps = await stepsPerSecond(page);
  t.log(`${points} loss points after ${steps} steps; ${sps ?? '?'} steps/s (worker's estimate)`);
  if (sps !== null) t.figure('training steps/s, webgpu (tiny model, batch 24; Quick demo)', sps, 'steps/s');
  assert(points >= 4, `the loss chart has ${points} points`);

  const msgs = await assertRealLosses(page);
  t.log(`step losses ${msgs.slice(0, 4).map((m) => m.loss.toFixed(3)).join(', ')} …`);
  // The demo runs 8 epochs: more than this test needs. Stop after the current step.
  if ((await jobStatus(page)) !== 'done') {
    await byId(page, ID.stop).click();
    await waitStatus(page, ['done', 'idle'], 120_000);
  }
}, { timeoutMs: 300_000 });
