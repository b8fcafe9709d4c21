/** Pause, resume and stop; the runs list after a reload; a shared URL restores the config. */
import type { Page } from '@playwright/test';
import { budget, test } from '../fixtures.ts';
import { assert, assertEqual, waitFor } from '../checks.ts';
import { readUrlState } from '../../src/state/urlCodec.ts';
import {
  byId,
  choose,
  ID,
  jobStatus,
  newestJobId,
  openApp,
  runListStatuses,
  setField,
  startJob,
  stepsDone,
  tinyConfig,
  urlWith,
  waitReady,
  waitStatus,
  workBackend,
} from '../app.ts';

test('pause stops the steps, resume continues them, stop ends the job', async ({ page, app }) => {
  test.setTimeout(budget(budget(60_000)));
  await openApp(page, urlWith(app.url, tinyConfig({ epochs: 20, testRates: [0, 1] }), workBackend()));
  await startJob(page, 'train');
  await waitStatus(page, 'running', budget(15_000));
  await waitFor('2 steps', async () => (await stepsDone(page)) >= 2, budget(60_000), 100);

  await byId(page, ID.pause).click();
  await waitStatus(page, 'paused', budget(60_000));
  assert(await byId(page, ID.resume).isEnabled(), 'Resume should be enabled while paused');
  assert(!(await byId(page, ID.pause).isEnabled()), 'Pause should be disabled while paused');
  const atPause = await stepsDone(page);
  await page.waitForTimeout(2_500);
  const later = await stepsDone(page);
  assertEqual(later, atPause, 'steps while paused');

  await byId(page, ID.resume).click();
  await waitStatus(page, 'running', budget(30_000));
  await waitFor('steps to continue after resume', async () => (await stepsDone(page)) > atPause, budget(60_000), 100);

  await byId(page, ID.stop).click();
  await waitStatus(page, ['done', 'idle'], budget(60_000));
  assert(await byId(page, ID.start).isEnabled(), 'Start should be enabled after stop');
  const id = await newestJobId(page);
  assert(id, 'the stopped job is not in the runs list');
  // The runs table follows the store at most every 500 ms (useCalm): wait for it, briefly.
  await waitFor(
    'the runs table to show the job stopped',
    async () => (await byId(page, `run-status-${id}`).innerText()).trim() === 'stopped',
    budget(5_000),
  );
});

/** The job record as IndexedDB holds it (read straight from the app's database). */
async function storedStatus(page: Page, id: string): Promise<string | null> {
  return page.evaluate(
    (jobId) =>
      new Promise<string | null>((resolve) => {
        const req = indexedDB.open('mfmb-playground');
        req.onerror = () => resolve(null);
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains('jobs')) {
            db.close();
            return resolve(null);
          }
          const get = db.transaction('jobs', 'readonly').objectStore('jobs').get(jobId);
          get.onsuccess = () => {
            db.close();
            resolve((get.result as { status?: string } | undefined)?.status ?? null);
          };
          get.onerror = () => {
            db.close();
            resolve(null);
          };
        };
      }),
    id,
  );
}

test('after a reload the runs list shows the finished job (and a cut-off one as interrupted)', async ({
  page,
  app,
}) => {
  test.setTimeout(budget(budget(90_000)));
  const backend = workBackend();
  await openApp(page, urlWith(app.url, tinyConfig({ epochs: 1, testRates: [0, 1] }), backend));
  await startJob(page, 'train');
  await waitStatus(page, ['running', 'done'], budget(15_000));
  await waitStatus(page, 'done', budget(60_000));
  const doneId = await newestJobId(page);
  assert(doneId, 'the finished job is not in the runs list');
  await waitFor(
    'the finished job to be saved in IndexedDB',
    async () => (await storedStatus(page, doneId)) === 'done',
    budget(15_000),
  );

  // A second, longer job, cut off by the reload.
  await setField(page, ID.epochs, '50');
  await startJob(page, 'train');
  await waitStatus(page, 'running', budget(15_000));
  await waitFor('a step of the second job', async () => (await stepsDone(page)) >= 1, budget(60_000), 100);
  // The runs table follows the store at most every 500 ms (useCalm).
  const cutId = await waitFor(
    'the second job in the runs list',
    async () => {
      const id = await newestJobId(page);
      return id && id !== doneId ? id : null;
    },
    budget(5_000),
  );
  await waitFor('the running job to be saved', async () => (await storedStatus(page, cutId)) !== null, budget(15_000));

  await page.reload({ waitUntil: 'load' });
  await waitReady(page);
  assertEqual(await jobStatus(page), 'idle', 'status after the reload');
  await waitFor(
    'both jobs in the runs list after the reload',
    async () => {
      const ids = (await runListStatuses(page)).map((j) => j.id);
      return ids.includes(doneId) && ids.includes(cutId);
    },
    budget(5_000),
  );
  const list = await runListStatuses(page);
  app.log(`after reload: ${list.map((j) => `${j.status}`).join(', ')}`);
  const done = list.find((j) => j.id === doneId);
  const cut = list.find((j) => j.id === cutId);
  assert(done, 'the finished job is missing after the reload');
  assertEqual(done.status, 'done', 'the finished job after the reload');
  assert(/1 run\b/.test(done.text), `the finished job should list its run: "${done.text}"`);
  assert(cut, 'the cut-off job is missing after the reload');
  assertEqual(cut.status, 'interrupted', 'the job cut off by the reload');
  // Its results are still there: the JSON export of the finished job works after the reload.
  await byId(page, `run-view-${doneId}`).click();
  assert(
    await byId(page, ID.exportJson).isEnabled(),
    'Results JSON export should be enabled for the finished job after the reload',
  );
});

test('a shared URL restores the config', async ({ page, context, app }) => {
  test.setTimeout(budget(budget(60_000)));
  await openApp(page, `${app.url}#backend=${workBackend() === 'auto' ? 'auto' : workBackend()}`);
  await byId(page, ID.dataSource).selectOption('synthetic:tiny');
  await choose(page, ID.modelPreset('tiny'));
  await setField(page, ID.epochs, '7');
  await setField(page, ID.lr, '0.003');
  await setField(page, ID.testRates, '0, 0.25, 1');
  await setField(page, ID.seeds, '5, 6');
  await choose(page, 'missing-level-modality');

  await byId(page, ID.shareUrl).click();
  const link = await waitFor(
    'the share link',
    async () => {
      const el = byId(page, ID.shareUrlText);
      return (await el.count()) ? await el.inputValue() : null;
    },
    budget(10_000),
  );
  app.log(`share link: ${link.length} characters`);
  assert(link.startsWith(app.origin), `the link ${link} is not on the app's origin`);
  assert(/#.*config=1\./.test(link), `the link carries no config: ${link}`);
  const state = readUrlState(link);
  assert(state.config && !state.error, `the link does not decode: ${state.error}`);
  const decoded = state.config;
  assertEqual(decoded.train.epochs, 7, 'epochs in the link');

  // A new page (the config is not kept anywhere else): the link alone must restore it.
  const other = await context.newPage();
  await openApp(other, link);
  assertEqual(await byId(other, ID.epochs).inputValue(), '7', 'epochs restored');
  assertEqual(Number(await byId(other, ID.lr).inputValue()), 0.003, 'learning rate restored');
  assertEqual((await byId(other, ID.testRates).inputValue()).replace(/\s+/g, ''), '0,0.25,1', 'test rates restored');
  assertEqual((await byId(other, ID.seeds).inputValue()).replace(/\s+/g, ''), '5,6', 'seeds restored');
  assertEqual(await byId(other, ID.dataSource).inputValue(), 'synthetic:tiny', 'data source restored');
  assert(await byId(other, ID.modelPreset('tiny')).isChecked(), 'model preset tiny restored');
  assert(await byId(other, 'missing-level-modality').isChecked(), 'drop unit restored');
  // And a page without the link shows the defaults, so it was the link that did it.
  const plain = await context.newPage();
  await openApp(plain, app.url);
  assertEqual(await byId(plain, ID.epochs).inputValue(), '40', 'epochs on a page without the link (default)');
});
