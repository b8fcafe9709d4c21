/** tf.memory().numTensors in the worker returns to its baseline after each of two consecutive runs. */
import { budget, test } from '../fixtures.ts';
import { assert, waitFor } from '../checks.ts';
import {
  byId,
  ID,
  jobStatus,
  openApp,
  startJob,
  tinyConfig,
  urlWith,
  waitStatus,
  workBackend,
  workerTensors,
} from '../app.ts';

test('worker tensors return to the baseline after two consecutive runs', async ({ page, app }) => {
  test.setTimeout(budget(budget(90_000)));
  const backend = await openApp(page, urlWith(app.url, tinyConfig({ epochs: 2, testRates: [0, 1] }), workBackend()));
  // 'described' (parameter counts) builds and disposes models: wait for it before the baseline.
  await waitFor(
    'the parameter counts',
    async () => /\d/.test(await byId(page, ID.paramCount('all')).innerText()),
    budget(60_000),
  );
  const baseline = await waitFor(
    'a stable tensor count',
    async () => {
      const a = await workerTensors(page);
      await page.waitForTimeout(300);
      const b = await workerTensors(page);
      return a === b ? { n: a } : null;
    },
    budget(20_000),
  );
  const counts: number[] = [];
  let during = -1;
  for (let run = 1; run <= 2; run++) {
    await startJob(page, 'train');
    await waitStatus(page, ['running', 'done'], budget(15_000));
    if (run === 1) {
      // The reading is live: while a model exists the worker holds tensors (its weights at least).
      await waitFor(
        'tensors while training',
        async () => {
          if ((await jobStatus(page)) !== 'running') return true;
          during = await workerTensors(page);
          return during > baseline.n;
        },
        budget(60_000),
        100,
      );
    }
    await waitStatus(page, 'done', budget(60_000));
    let last = -1;
    const ok = await waitFor(
      `tensors back to ${baseline.n} after run ${run}`,
      async () => {
        last = await workerTensors(page);
        return last === baseline.n;
      },
      budget(15_000),
      300,
    ).then(
      () => true,
      () => false,
    );
    counts.push(last);
    assert(ok, `after run ${run} the worker holds ${last} tensors, baseline ${baseline.n} (${backend})`);
  }
  app.log(
    `numTensors on ${backend}: baseline ${baseline.n}, during run 1 ${during < 0 ? '(not caught)' : during}, after run 1 ${counts[0]}, after run 2 ${counts[1]}`,
  );
  assert(
    during > baseline.n,
    `the worker's tensor count never rose above the baseline while training (read ${during}): is the memory reading live?`,
  );
});
