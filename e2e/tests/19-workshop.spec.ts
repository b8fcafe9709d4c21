/**
 * The guided workshop and the presets' time estimates (issue 11, items 5 and 6), on wasm:
 * - a lesson link (`?lesson=N`) opens the app at that card; its step sets the config and starts
 *   the job it describes, and Next/Back keep the address bar on the lesson's own link;
 * - every preset button states how long it takes here, from a step time measured in the worker
 *   (the lesson-sized ablation within the 5 minutes a lesson allows).
 */
import { budget, test } from '../fixtures.ts';
import { assert, assertEqual, waitFor } from '../checks.ts';
import { byId, exportResults, ID, openApp, waitStatus } from '../app.ts';

test('a lesson link opens its card, runs its step, and the presets say how long they take here', async ({
  page,
  app,
}) => {
  test.setTimeout(budget(240_000));
  await openApp(page, `${app.url}?backend=wasm&lesson=3`, budget(60_000));
  const card = byId(page, 'lesson-card');
  await waitFor('the lesson card', async () => (await card.count()) > 0, budget(10_000));
  assertEqual(await card.getAttribute('data-lesson'), '3', 'the card the link names');
  assert(/macro/i.test(await byId(page, 'lesson-title').innerText()), 'lesson 3 is about the macro stream');

  // The presets' estimates: measured once the backend is up, shown on every button.
  const seconds = async (id: string) => Number(await byId(page, `preset-time-${id}`).getAttribute('data-seconds'));
  await waitFor(
    'every preset to show its measured duration',
    async () => {
      for (const id of ['quick-demo', 'ablation', 'ablation-paper', 'sweep', 'sweep-paper'])
        if (!((await seconds(id)) > 0)) return false;
      return true;
    },
    budget(60_000),
  );
  const quick = await seconds('quick-demo');
  const lesson = await seconds('ablation');
  const paper = await seconds('ablation-paper');
  app.figure('estimate: Quick demo', quick, 's');
  app.figure('estimate: ablation, lesson-sized', lesson, 's');
  app.figure('estimate: ablation, paper-sized', paper, 's');
  assert(quick < lesson && lesson < paper, `estimates out of order: ${quick} / ${lesson} / ${paper} s`);
  assert(/here/.test(await byId(page, 'preset-time-ablation').innerText()), 'the estimate says "here"');

  // Next and Back move the card and the address bar together.
  await byId(page, 'lesson-next').click();
  await waitFor('lesson 4', async () => (await card.getAttribute('data-lesson')) === '4', budget(5_000));
  assert(new URL(page.url()).searchParams.get('lesson') === '4', `address bar: ${page.url()}`);
  await byId(page, 'lesson-prev').click();
  await waitFor('lesson 3 again', async () => (await card.getAttribute('data-lesson')) === '3', budget(5_000));

  // The step: the Quick demo's config with the macro stream switched off, started as a job.
  await byId(page, 'lesson-run').click();
  await waitStatus(page, 'running', budget(30_000));
  assert(!(await byId(page, 'branch-macro').isChecked()), 'the macro switch should be off');
  assert(await byId(page, 'branch-micro').isChecked(), 'the micro switch should stay on');
  await waitStatus(page, 'done', budget(150_000));
  const doc = await exportResults(page);
  assertEqual(doc.runs.length, 1, 'runs of the lesson job');
  const r = doc.runs[0];
  assert(!r.branches.macro && r.branches.micro && r.branches.recon, `branches: ${JSON.stringify(r.branches)}`);
  assertEqual(doc.config.data.source, 'synthetic:small', 'the Quick demo data');
  // The AUILC view follows the store calmly (at most every 500 ms, at a phase of its own): wait for it.
  await waitFor(
    'the AUILC table to compare with the full model',
    async () => (await byId(page, ID.auilcTable).count()) > 0,
    budget(5_000),
  );
});
