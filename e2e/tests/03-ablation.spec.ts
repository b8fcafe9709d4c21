/**
 * The ablation: the four Table-5 settings (all, w/o macro, w/o micro, w/o recon), each trained and
 * tested; the parameter counts shown differ as the branches do and match the runs' own counts.
 * Then the header's "Ablation (Table 5)" preset: it must start a four-run job (stopped at once: its
 * full size is for people, not for a test).
 */
import { budget, test } from '../fixtures.ts';
import { assert, assertEqual, waitFor } from '../checks.ts';
import { byId, exportResults, ID, openApp, startJob, tinyConfig, urlWith, waitStatus, workBackend } from '../app.ts';

const SLUGS = ['all', 'wo-macro', 'wo-micro', 'wo-recon'] as const;
const BRANCHES: Record<(typeof SLUGS)[number], { macro: boolean; micro: boolean; recon: boolean }> = {
  all: { macro: true, micro: true, recon: true },
  'wo-macro': { macro: false, micro: true, recon: true },
  'wo-micro': { macro: true, micro: false, recon: true },
  'wo-recon': { macro: true, micro: true, recon: false },
};

test('the ablation runs all four settings; the parameter counts differ as the branches do', async ({ page, app }) => {
  test.setTimeout(budget(budget(90_000)));
  await openApp(page, urlWith(app.url, tinyConfig({ epochs: 1, testRates: [0, 1] }), workBackend()));

  const counts = await waitFor(
    'the four parameter counts',
    async () => {
      const out: Record<string, number> = {};
      for (const s of SLUGS) {
        const n = Number((await byId(page, ID.paramCount(s)).innerText()).replace(/[^\d]/g, ''));
        if (!n) return null;
        out[s] = n;
      }
      return out;
    },
    budget(60_000),
  );
  app.log(`parameters: ${SLUGS.map((s) => `${s} ${counts[s]}`).join(', ')}`);
  assertEqual(new Set(Object.values(counts)).size, 4, 'distinct parameter counts');
  for (const s of SLUGS.slice(1))
    assert(
      counts[s]! < counts.all!,
      `${s} (${counts[s]}) should have fewer parameters than all branches (${counts.all})`,
    );

  await startJob(page, 'ablation');
  await waitStatus(page, ['running', 'done'], budget(15_000));
  const progressText = await byId(page, ID.progress).innerText();
  assert(
    /run\s+\d+\s*\/\s*4/.test(progressText),
    `the progress line should count 4 runs: "${progressText.replace(/\s+/g, ' ')}"`,
  );
  await waitStatus(page, 'done', budget(60_000));

  const doc = await exportResults(page);
  assertEqual(doc.runs.length, 4, 'runs in the exported JSON');
  assertEqual(doc.summary.length, 4, 'summary rows in the exported JSON');
  for (const s of SLUGS) {
    const b = BRANCHES[s];
    const run = doc.runs.find(
      (r) => r.branches.macro === b.macro && r.branches.micro === b.micro && r.branches.recon === b.recon,
    );
    assert(run, `no run for ${s} in the exported JSON`);
    assertEqual(run.params, counts[s], `parameters of the ${s} run vs the count shown`);
    assert(run.test.length === 2, `${s}: tested at ${run.test.length} rates`);
  }

  const rows = byId(page, ID.ablationTable).locator('tbody:not([data-testid="paper-rows"]) tr');
  // The charts follow the store calmly (≤ 500 ms + a phase): wait for the finished job's rows.
  await waitFor(
    'the finished ablation table',
    async () => (await rows.allInnerTexts()).every((r) => !/not run|so far/.test(r)),
    budget(5_000),
  );
  assertEqual(await rows.count(), 4, 'ablation table rows');
  const texts = (await rows.allInnerTexts()).map((r) => r.replace(/\s+/g, ' '));
  for (const r of texts) assert(!/not run/.test(r), `ablation table row not filled: "${r}"`);

  // The preset button: loads the Table-5 config and starts a four-run job.
  await byId(page, ID.preset('ablation')).click();
  await waitStatus(page, ['running'], budget(15_000));
  await waitFor(
    'the preset job to show 4 runs',
    async () => /run\s+1\s*\/\s*4/.test(await byId(page, ID.progress).innerText()),
    budget(30_000),
  );
  await byId(page, ID.stop).click();
  await waitStatus(page, ['done', 'idle'], budget(60_000));
});
