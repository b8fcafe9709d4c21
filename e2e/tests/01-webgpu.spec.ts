/**
 * The main path in Chromium with WebGPU (SwiftShader's CPU adapter on a machine without a GPU): the
 * page loads, the worker reports the webgpu backend, a job trains, and the loss chart gets points.
 *
 * Cheap on purpose: SwiftShader compiles every WebGPU kernel on the CPU (about 20 s on a quiet
 * 2-core machine) and then runs a step in seconds, so the job is the tiny model at batch 4 and the
 * test stops it after the fewest steps that prove training: 3 steps (a drawn line needs 2 points;
 * 3 finite, positive, not-all-equal losses show the backend computes).
 */
import { budget, test } from '../fixtures.ts';
import { assert, waitFor } from '../checks.ts';
import {
  assertRealLosses,
  backendFailures,
  byId,
  ID,
  jobStatus,
  lossPoints,
  startJob,
  stepsDone,
  stepsPerSecond,
  tinyConfig,
  urlWith,
  waitFirstLossPoint,
  waitReady,
  waitStatus,
} from '../app.ts';

const STEPS = Number(process.env.E2E_WEBGPU_STEPS ?? 3);
const BATCH = Number(process.env.E2E_WEBGPU_BATCH ?? 4);

test('loads, reports the WebGPU backend, trains 3 steps, the loss chart gets points', async ({ page, app }) => {
  test.setTimeout(budget(120_000));
  const t0 = Date.now();
  await page.goto(urlWith(app.url, tinyConfig({ epochs: 1, batchSize: BATCH, testRates: [0, 1] }), 'webgpu'), {
    waitUntil: 'load',
  });
  const backend = await waitReady(page, budget(60_000));
  app.figure(`page open → backend ready (${backend})`, (Date.now() - t0) / 1000, 's');
  assert(
    backend.includes('webgpu'),
    `backend-name shows "${backend}", expected webgpu (Chromium runs with --enable-unsafe-webgpu); the app says: ${(await backendFailures(page)) || '(no reason given)'}`,
  );
  assert((await jobStatus(page)) === 'idle', 'a fresh page should be idle');
  assert((await lossPoints(page)) === 0, 'the loss chart should be empty before training');

  const clicked = await startJob(page, 'train');
  await waitStatus(page, ['running', 'done'], budget(30_000));
  const first = await waitFirstLossPoint(page, budget(75_000));
  app.figure(
    `time to first loss point, webgpu (Start click → first point drawn; tiny, batch ${BATCH})`,
    (first - clicked) / 1000,
    's',
  );

  await waitFor(`${STEPS} training steps`, async () => (await stepsDone(page)) >= STEPS, budget(30_000), 200);
  const points = await lossPoints(page);
  const steps = await stepsDone(page);
  const sps = await stepsPerSecond(page);
  app.log(`${points} loss points after ${steps} steps; ${sps ?? '?'} steps/s (worker's estimate)`);
  if (sps !== null) app.figure(`training steps/s, webgpu (tiny model, batch ${BATCH})`, sps, 'steps/s');
  assert(points >= 2, `the loss chart has ${points} points after ${steps} steps`);

  const msgs = await assertRealLosses(page);
  app.log(
    `step losses ${msgs
      .slice(0, 4)
      .map((m) => m.loss.toFixed(3))
      .join(', ')} …`,
  );
  // An epoch is 30 steps at batch 4: far more than this test needs. Stop after the current step.
  await byId(page, ID.stop).click();
  await waitStatus(page, ['done', 'idle'], budget(30_000));
});
