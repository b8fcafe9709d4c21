/**
 * The runs table (src/ui/runs/RunsTable.tsx) and the share link with results: three tiny jobs
 * (synthetic:tiny, 2 epochs, rates 0 and 1, one seed each) are sorted by AUILC Corr (the displayed
 * values in order, both directions), two of them are ticked and the loss chart overlays exactly two
 * runs, and a Share link opened in a fresh browser profile shows the same AUILC table as the sender.
 */
import type { Locator, Page } from 'playwright-core';
import { budget, test } from '../fixtures.ts';
import { guardContext } from '../env.ts';
import { assert, assertEqual, waitFor } from '../checks.ts';
import { byId, drawn, ID, openApp, setField, startJob, tinyConfig, urlWith, waitStatus, workBackend } from '../app.ts';

const SEEDS = ['111', '222', '333'];

async function rowIds(page: Page): Promise<string[]> {
  const rows = byId(page, ID.runsList).locator(':scope > tr[data-testid^="run-"]');
  const out: string[] = [];
  for (let i = 0; i < (await rows.count()); i++)
    out.push(((await rows.nth(i).getAttribute('data-testid')) ?? '').replace(/^run-/, ''));
  return out;
}

/** The AUILC Corr cells as displayed, top to bottom ("—" as null). */
async function corrColumn(page: Page): Promise<(number | null)[]> {
  const out: (number | null)[] = [];
  for (const id of await rowIds(page)) {
    const t = (await byId(page, `run-cell-auilc_corr-${id}`).innerText()).trim();
    out.push(t === '—' ? null : Number(t));
  }
  return out;
}

async function tableCells(table: Locator): Promise<string[][]> {
  const rows = table.locator('tbody tr');
  const out: string[][] = [];
  for (let i = 0; i < (await rows.count()); i++)
    out.push((await rows.nth(i).locator('td').allInnerTexts()).map((t) => t.trim()));
  return out;
}

test('runs table: sort by AUILC Corr, overlay two runs, share results to a fresh profile', async ({
  page,
  browser,
  app,
}) => {
  test.setTimeout(budget(budget(150_000)));
  await openApp(page, urlWith(app.url, tinyConfig({ epochs: 2, testRates: [0, 1] }), workBackend()));

  for (const seed of SEEDS) {
    await setField(page, ID.seeds, seed);
    await startJob(page, 'train');
    await waitStatus(page, ['running', 'done'], budget(15_000));
    await waitStatus(page, 'done', budget(60_000));
  }
  const ids = await waitFor(
    'three finished jobs in the runs table',
    async () => {
      const got = await rowIds(page);
      return got.length === 3 ? got : null;
    },
    budget(10_000),
  );
  // New jobs are named by model preset and dataset.
  const firstName = await byId(page, `run-view-${ids[0]}`).innerText();
  assert(/tiny model · synthetic:tiny/.test(firstName), `the run name "${firstName}" does not say model and dataset`);
  for (const id of ids) assertEqual((await byId(page, `run-status-${id}`).innerText()).trim(), 'finished', 'status');

  // --- sort by AUILC Corr: descending first, then ascending, by the displayed values
  const header = byId(page, 'runs-col-auilc_corr');
  await header.locator('button').click();
  assertEqual(await header.getAttribute('aria-sort'), 'descending', 'aria-sort after one click');
  const down = await corrColumn(page);
  app.log(`AUILC Corr, descending: ${down.join(', ')}`);
  assert(
    down.every((v) => v !== null),
    `every job should have an AUILC Corr: ${down.join(', ')}`,
  );
  assert(new Set(down).size > 1, `three seeds gave one AUILC Corr (${down.join(', ')}): the order says nothing`);
  for (let i = 1; i < down.length; i++) assert(down[i - 1]! >= down[i]!, `not descending: ${down.join(', ')}`);
  await header.locator('button').click();
  assertEqual(await header.getAttribute('aria-sort'), 'ascending', 'aria-sort after two clicks');
  const up = await corrColumn(page);
  for (let i = 1; i < up.length; i++) assert(up[i - 1]! <= up[i]!, `not ascending: ${up.join(', ')}`);
  assertEqual(JSON.stringify(up), JSON.stringify([...down].reverse()), 'ascending = descending reversed');

  // --- tick exactly two runs: the loss chart overlays two runs' curves
  const [a, b, c] = ids as [string, string, string];
  const setTicked = async (id: string, on: boolean) => {
    const box = byId(page, `run-select-${id}`);
    if ((await box.isChecked()) !== on) await box.click();
  };
  await setTicked(a, true);
  await setTicked(b, true);
  await setTicked(c, false);
  const lossEpochs = byId(page, ID.lossChart).getByTestId('loss-epochs');
  await waitFor(
    'the loss chart to overlay two runs',
    async () => (await lossEpochs.getAttribute('data-overlay-runs')) === '2',
    budget(10_000),
  );
  // What the canvas drew: a train and a valid curve per run, each with points, in the run's colour.
  let curves = (await drawn(lossEpochs)).series;
  await waitFor(
    'the loss overlay canvas to draw two runs',
    async () => (curves = (await drawn(lossEpochs)).series).length === 4,
    budget(5_000),
  );
  const strokes = curves.map((c) => c.color);
  app.log(`loss overlay curves: ${curves.map((c) => `${c.label} ${c.color} (${c.points.length} points)`).join(', ')}`);
  assertEqual(strokes.length, 4, 'loss overlay curves (train and valid per run)');
  assertEqual(new Set(strokes).size, 2, 'distinct run colours in the loss overlay');
  for (const c of curves) assert(c.points.length > 0, `the overlay curve "${c.label}" has no points`);
  const legend = await byId(page, ID.lossChart).innerText();
  for (const id of [a, b]) {
    const name = await byId(page, `run-view-${id}`).innerText();
    assert(legend.includes(name), `the loss chart's legend does not name "${name}"`);
  }
  // Each chart follows the store at its own calm phase: the validation chart may catch up a moment later.
  const validMae = byId(page, 'valid-chart').getByTestId('valid-mae');
  await waitFor(
    'the validation chart to overlay the same two runs',
    async () => ((await validMae.getAttribute('data-overlay-runs')) === '2' ? true : null),
    budget(5_000),
  );
  assertEqual(await validMae.getAttribute('data-overlay-runs'), '2', 'validation chart overlay');

  // --- share: only the newest (current) job compared, so the sender's AUILC table is one job's
  await setTicked(a, false);
  await setTicked(b, false);
  const newest = a; // ids were read newest first (the table's default order): the current job
  await setTicked(newest, true);
  await byId(page, `run-view-${newest}`).click();
  const senderTable = byId(page, ID.auilcTable);
  await waitFor(
    'one row in the AUILC table',
    async () => (await senderTable.locator('tbody tr').count()) === 1,
    10_000,
  );
  const sent = await tableCells(senderTable);
  const sentHead = (await senderTable.locator('thead th').allInnerTexts()).map((t) => t.trim());
  app.log(`sender's AUILC row: ${sent[0]!.join(' | ')}`);

  await byId(page, ID.shareUrl).click();
  const share = byId(page, ID.shareUrlText);
  const link = await waitFor(
    'the share link',
    async () => ((await share.count()) ? await share.inputValue() : null),
    budget(10_000),
  );
  assertEqual(await share.getAttribute('data-results'), 'included', 'results in the link');
  assert(link.startsWith(app.origin), `the link ${link.slice(0, 80)} is not on the app's origin`);
  assert(/[#&]results=r1\.[A-Za-z0-9_-]+/.test(link), 'the link carries no results');
  app.figure('share link with results', link.length, 'characters');

  // A fresh browser profile: empty IndexedDB, so only the link can bring the results.
  const fresh = await browser.newContext();
  const guards = await guardContext(fresh, app.origin);
  try {
    const other = await fresh.newPage();
    await openApp(other, link);
    const table = byId(other, ID.auilcTable);
    await waitFor(
      'the shared results in the AUILC table',
      async () => (await table.locator('tbody tr').count()) === 1,
      budget(20_000),
    );
    const got = await tableCells(table);
    const gotHead = (await table.locator('thead th').allInnerTexts()).map((t) => t.trim());
    assertEqual(JSON.stringify(gotHead), JSON.stringify(sentHead), 'AUILC table header');
    assertEqual(JSON.stringify(got), JSON.stringify(sent), 'AUILC table cells, receiver vs sender');
    const runs = await other.locator(`[data-testid="${ID.runsList}"] > tr[data-testid^="run-"]`).count();
    assertEqual(runs, 1, 'jobs in the fresh profile (the imported one)');
    // The link's results part is gone from the address: a reload does not import them twice.
    assert(!other.url().includes('results='), `the address still holds the results: ${other.url().slice(0, 120)}`);
    assertEqual(guards.offOrigin.length, 0, `requests off the origin: ${guards.offOrigin.join(', ')}`);
  } finally {
    await fresh.close();
  }
});
