/**
 * Nothing finished is lost (issue 12, item 2), on wasm: a training job (tiny model, synthetic:tiny,
 * 16 epochs of 15 steps) is cut off by a reload after ≥ 2 epochs. After the reload the job is
 * 'interrupted' and lists its checkpointed epochs and best weights; Export weights downloads a
 * non-empty weights file from storage; Resume continues the same job from its checkpoint and
 * finishes with exactly the numbers of an uninterrupted run of the same config and seed (run here
 * too): every epoch's losses, lr and validation metrics, and every test metric, compared in the
 * exported results files.
 */
import { statSync } from 'node:fs';
import { budget, test } from '../fixtures.ts';
import { assert, assertEqual, waitFor } from '../checks.ts';
import {
  byId,
  download,
  exportResults,
  newestJobId,
  openApp,
  progressStep,
  runListStatuses,
  startJob,
  stepMessages,
  tinyConfig,
  urlWith,
  waitReady,
  waitStatus,
} from '../app.ts';
import type { ResultsFile } from '../../src/core/eval/results.ts';

const EPOCHS = 16;

/** What must match between the resumed and the uninterrupted run: everything but wall-clock times. */
function numbers(doc: ResultsFile) {
  return doc.runs.map((r) => ({
    seed: r.seed,
    bestEpoch: r.bestEpoch,
    stopReason: r.stopReason,
    epochs: r.epochs.map(({ seconds: _s, ...rest }) => rest),
    test: r.test,
  }));
}

test('reload mid-training: interrupted job lists its checkpoint, exports weights, resumes to the same numbers', async ({
  page,
  app,
}) => {
  test.setTimeout(budget(420_000));
  // Patience = epochs: no early stop, so the reload surely lands mid-run.
  const config = tinyConfig({ epochs: EPOCHS, batchSize: 8, patience: EPOCHS, testRates: [0, 0.5, 1] });
  await openApp(page, urlWith(app.url, config, 'wasm'), budget(60_000));
  await startJob(page, 'train');
  await waitStatus(page, 'running', budget(30_000));
  const id = (await newestJobId(page))!;
  assert(id, 'the job is not in the runs list');

  // Two epochs finished (and their checkpoints stored), the third under way: reload.
  await waitFor(
    'epoch 3 to start with a stored checkpoint',
    async () => {
      const p = await progressStep(page);
      return p !== null && p.epoch >= 3 && (await byId(page, 'stored-checkpoints').count()) > 0;
    },
    budget(120_000),
    50,
  );
  const before = await progressStep(page);
  await page.reload({ waitUntil: 'load' });
  await waitReady(page, budget(60_000));
  app.log(`reloaded at epoch ${before?.epoch}, step ${before?.step}`);

  const row = (await runListStatuses(page)).find((r) => r.id === id);
  assertEqual(row?.status, 'interrupted', 'the cut-off job after the reload');
  const epochsText = await byId(page, `job-kept-epochs-${id}`).innerText();
  const kept = Number(/(\d+) epochs? finished and checkpointed/.exec(epochsText)?.[1] ?? NaN);
  assert(kept >= 2 && kept < EPOCHS, `checkpointed epochs: "${epochsText}"`);
  const bestText = await byId(page, `job-kept-best-${id}`).innerText();
  assert(/best weights: run 1, epoch \d+/.test(bestText), `best weights line: "${bestText}"`);
  app.figure('epochs kept across the reload', kept, '');

  // Export weights from storage (the worker that trained them is gone).
  const dl = await download(page, `job-export-weights-${id}`);
  const bytes = statSync((await dl.download.path())!).size;
  assert(bytes > 1000, `the exported weights file has ${bytes} bytes`);
  assert(dl.name.endsWith('.bin'), `weights file name ${dl.name}`);

  // Resume: the same job runs on from its checkpoint.
  await byId(page, `job-resume-${id}`).click();
  await waitStatus(page, 'running', budget(30_000));
  // The worker's first step message after the resume (every message is logged): it continues the
  // checkpointed run, not epoch 1. (A checkpoint write still under way at the reload may have
  // landed after the list was read: the run then continues from that later epoch.)
  const first = await waitFor(
    'the first step after resuming',
    async () => (await stepMessages(page))[0],
    budget(60_000),
    50,
  );
  assert(
    first.step === 1 && first.epoch >= kept + 1 && first.epoch <= (before?.epoch ?? EPOCHS),
    `resumed at epoch ${first.epoch}, step ${first.step}; checkpointed ${kept}, reloaded in epoch ${before?.epoch}`,
  );
  app.log(`resumed at epoch ${first.epoch}`);
  await waitStatus(page, 'done', budget(150_000));
  assertEqual(await newestJobId(page), id, 'Resume continues the same job (no new one)');
  await byId(page, `run-view-${id}`).click();
  const resumed = await exportResults(page);

  // The same config and seed, uninterrupted.
  await startJob(page, 'train');
  await waitStatus(page, 'running', budget(30_000));
  const straightId = (await newestJobId(page))!;
  assert(straightId !== id, 'a second job');
  await waitStatus(page, 'done', budget(150_000));
  await byId(page, `run-view-${straightId}`).click();
  const straight = await exportResults(page);

  assertEqual(resumed.runs.length, 1, 'runs in the resumed job');
  assertEqual(resumed.runs[0].epochs.length, EPOCHS, 'epochs in the resumed job');
  assertEqual(
    JSON.stringify(numbers(resumed)),
    JSON.stringify(numbers(straight)),
    'the resumed run and the uninterrupted run (epochs and test metrics)',
  );
  app.log(`test MAE at r = 0: ${resumed.runs[0].test[0].metrics.mae} (both runs)`);
});
