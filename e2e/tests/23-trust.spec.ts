/**
 * Runs a researcher can trust (issue 12), on wasm:
 * - a 3-seed sweep stopped during its last seed: the AUILC table says "n = 2 of 3 seeds", and the
 *   exported results mark the third run stopped and leave it out of the summary;
 * - the Model panel's parameter count for macro + micro without recon, and for micro alone, equals
 *   `mfmb info` (computed by the worker for any combination, never looked up);
 * - the "macro and micro cannot both be off" refusal disappears once the switches change.
 */
import { execFileSync } from 'node:child_process';
import type { Page } from '@playwright/test';
import { budget, test } from '../fixtures.ts';
import { assert, assertEqual, waitFor } from '../checks.ts';
import { byId, exportResults, ID, openApp, startJob, stepMessages, tinyConfig, urlWith, waitStatus } from '../app.ts';

/** `mfmb info`'s total for each row label, for the tiny model on synthetic:tiny. */
function cliCounts(): Map<string, number> {
  const out = execFileSync(
    process.execPath,
    ['bin/mfmb.js', 'info', '--model', 'tiny', '--data', 'synthetic:tiny', '--branches', 'micro'],
    { encoding: 'utf8' },
  );
  const counts = new Map<string, number>();
  for (const line of out.split('\n')) {
    const m = /^(.+?)\s{2,}([\d,]+)\s/.exec(line);
    if (m) counts.set(m[1].trim(), Number(m[2].replace(/,/g, '')));
  }
  return counts;
}

/** The switches are styled labels: click the label, as a user does. */
const flip = (page: Page, id: string) => byId(page, id).locator('xpath=..').click();

const shownCount = async (page: Page) => Number((await byId(page, 'param-count').innerText()).replace(/[^\d]/g, ''));

test('parameter counts for any branch combination equal mfmb info; a refusal clears when fixed', async ({
  page,
  app,
}) => {
  test.setTimeout(budget(90_000));
  const cli = cliCounts();
  const woRecon = cli.get('w/o Recon');
  const microAlone = cli.get('MFMB-Net (macro off, micro on, recon off)');
  assert(woRecon && microAlone, `mfmb info rows: ${[...cli.keys()].join(' | ')}`);
  await openApp(page, urlWith(app.url, tinyConfig(), 'wasm'), budget(60_000));

  await flip(page, 'branch-recon');
  await waitFor('the count without recon', async () => (await shownCount(page)) === woRecon, budget(15_000));
  await flip(page, 'branch-macro');
  await waitFor('the count of micro alone', async () => (await shownCount(page)) === microAlone, budget(15_000));
  app.figure('parameters, micro alone (tiny)', microAlone, '');

  // Micro off too would leave no fusion stream: refused, with a message…
  await flip(page, 'branch-micro');
  await waitFor('the refusal', async () => (await byId(page, 'branch-reject').count()) === 1, budget(5_000));
  assert(await byId(page, 'branch-micro').isChecked(), 'micro must stay on after the refusal');
  // …that goes once its cause is gone (macro back on).
  await flip(page, 'branch-macro');
  await waitFor('the refusal to clear', async () => (await byId(page, 'branch-reject').count()) === 0, budget(5_000));
});

test('a 3-seed sweep stopped in its last seed: n = 2 of 3, the third run marked stopped and left out', async ({
  page,
  app,
}) => {
  test.setTimeout(budget(180_000));
  const config = tinyConfig({ epochs: 4, seeds: [111, 1111, 11111], testRates: [0, 1] });
  await openApp(page, urlWith(app.url, config, 'wasm'), budget(60_000));
  await startJob(page, 'sweep');
  await waitStatus(page, 'running', budget(15_000));
  await waitFor(
    'the third seed to be training',
    async () => (await stepMessages(page)).some((s) => s.index === 2 && s.epoch >= 1),
    budget(120_000),
  );
  await byId(page, ID.stop).click();
  await waitStatus(page, ['done', 'idle'], budget(30_000));

  const table = byId(page, ID.auilcTable);
  await waitFor('the n = 2 of 3 note', async () => /n = 2 of 3/.test(await table.innerText()), budget(10_000));

  const doc = await exportResults(page);
  assertEqual(doc.runs.length, 3, 'runs in the exported file');
  assertEqual(
    doc.runs.map((r) => r.status ?? '?').join(','),
    'finished,finished,stopped',
    'run statuses in the exported file',
  );
  assertEqual(doc.summary.length, 1, 'summary rows');
  assertEqual([...doc.summary[0].seeds].sort().join(','), '111,1111', 'seeds counted in the summary');
  assertEqual(doc.summary[0].cutOff?.map((c) => `${c.seed}:${c.status}`).join(','), '11111:stopped', 'cut-off runs');
});
