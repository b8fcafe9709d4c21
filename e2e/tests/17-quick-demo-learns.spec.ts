/**
 * The Quick demo visibly learns (issue 11, item 1), on wasm: pressed as a new user would, its
 * validation MAE falls (best epoch ≤ 85 % of the first), its test MAE grows with the missing rate,
 * and the training-loss chart shows L_task and the weighted L_gen terms (t, a, v) as separate,
 * toggleable series with the total off by default and the L_gen warm-up marked. The numbers are
 * read from the exported results file (the store's results), never from pixels; what the canvas
 * charts drew, from their `data-drawn` attribute (LineCanvas.tsx).
 */
import { budget, test } from '../fixtures.ts';
import { assert, assertEqual, waitFor } from '../checks.ts';
import { byId, drawn, exportResults, ID, openApp, waitStatus } from '../app.ts';

const TERMS = ['task', 'genText', 'genAudio', 'genVision'] as const;

test('Quick demo: validation MAE falls, the robustness curve falls with the rate, loss terms apart', async ({
  page,
  app,
}) => {
  test.setTimeout(budget(240_000));
  await openApp(page, `${app.url}?backend=wasm`, budget(60_000));
  const t0 = Date.now();
  await byId(page, ID.preset('quick-demo')).click();
  await waitStatus(page, 'running', budget(30_000));

  // While it trains: one checkbox per series, the total off, and the chart drawing exactly the four terms.
  const series = byId(page, 'loss-steps');
  await waitFor(
    'the per-step loss series',
    async () => (await series.getAttribute('data-series')) !== null,
    budget(30_000),
  );
  for (const k of TERMS) assert(await byId(page, `loss-series-${k}`).isChecked(), `series ${k} should be on`);
  assert(!(await byId(page, 'loss-series-total').isChecked()), 'the total should be off by default');
  assert(
    (await series.getAttribute('data-series')) === TERMS.join(','),
    `drawn series: ${await series.getAttribute('data-series')}`,
  );
  await waitFor(
    'the per-step canvas to draw the four terms',
    async () => (await drawn(series)).series.map((s) => s.key).join(',') === TERMS.join(','),
    budget(10_000),
  );
  const legend = await byId(page, 'loss-chart').locator('.legend li').allInnerTexts();
  for (const label of ['L_task', 'α_t·L_gen(t)', 'α_a·L_gen(a)', 'α_v·L_gen(v)'])
    assert(legend.includes(label), `legend lacks "${label}": ${legend.join(' | ')}`);
  assert(!legend.includes('total'), `the total should not be in the legend by default: ${legend.join(' | ')}`);

  await waitStatus(page, 'done', budget(150_000));
  const seconds = (Date.now() - t0) / 1000;
  app.figure('Quick demo on wasm: click → done', seconds, 's');

  // The warm-up mark: a labelled reference line where L_gen joins, in both loss charts (as the
  // canvases drew them): in the per-step chart at the first step drawn with an L_gen value, in the
  // per-epoch chart at the first epoch after the warm-up.
  const stepsDrawn = await drawn(byId(page, 'loss-steps'));
  const epochsDrawn = await drawn(byId(page, 'loss-epochs'));
  const marks = [stepsDrawn, epochsDrawn].map((d) => d.refs.filter((r) => r.label === 'L_gen joins'));
  const labels = [stepsDrawn, epochsDrawn].map(
    (d) => d.labels.filter((l) => l.text === 'L_gen joins' && l.axis === 'ref').length,
  );
  assert(
    marks.every((m) => m.length === 1) && labels.every((n) => n === 1),
    `warm-up marks: ${marks.map((m) => m.length).join(' + ')} reference lines, ${labels.join(' + ')} labels (want 1 + 1 each)`,
  );
  const firstGen = stepsDrawn.series.find((s) => s.key === 'genText')?.points[0]?.[0];
  assertEqual(marks[0][0].x, firstGen, 'per-step mark at the first step drawn with L_gen(t)');
  // Toggling: the total on, L_task off — in the checkboxes' data-series and in what is drawn.
  await byId(page, 'loss-series-total').check();
  await byId(page, 'loss-series-task').uncheck();
  const after = await byId(page, 'loss-epochs').getAttribute('data-series');
  assert(after === 'genText,genAudio,genVision,total', `after toggling: ${after}`);
  await waitFor(
    'the per-epoch chart to draw the toggled series',
    async () =>
      (await drawn(byId(page, 'loss-epochs'))).series.map((s) => s.key).join(',') ===
      'genText,genAudio,genVision,total,valid',
    budget(5_000),
  );
  // The validation chart keeps MAE and Corr on charts of their own.
  await byId(page, 'valid-mae').waitFor({ state: 'visible' });
  await byId(page, 'valid-corr').waitFor({ state: 'visible' });

  const doc = await exportResults(page);
  assertEqual(
    marks[1][0].x,
    doc.config.train.reconWarmupEpochs + 1,
    'per-epoch mark at the first epoch after the warm-up',
  );
  const run = doc.runs[0];
  const mae = run.epochs.map((e) => e.valid.mae!);
  const best = Math.min(...mae);
  app.log(`valid MAE by epoch: ${mae.map((v) => v.toFixed(3)).join(', ')}; best/first ${(best / mae[0]).toFixed(3)}`);
  app.figure('Quick demo: best valid MAE / first epoch', best / mae[0], '');
  assert(best <= 0.85 * mae[0], `valid MAE best ${best.toFixed(3)} is not ≤ 85 % of epoch 1's ${mae[0].toFixed(3)}`);

  // The terms are in the file and add up to the train loss; L_gen is absent in the warm-up epoch only.
  for (const e of run.epochs) {
    const t = e.trainTerms!;
    assert(t, `epoch ${e.epoch} has no loss terms`);
    const sum = TERMS.reduce((s, k) => s + (t[k] ?? 0), 0);
    assert(
      Math.abs(sum - e.trainLoss!) <= 1e-4 * Math.max(1, e.trainLoss!),
      `epoch ${e.epoch}: terms ${sum} vs ${e.trainLoss}`,
    );
    const warm = e.epoch <= doc.config.train.reconWarmupEpochs;
    assert((t.genVision === null) === warm, `epoch ${e.epoch}: genVision ${t.genVision} (warm-up: ${warm})`);
  }

  // Robustness: test MAE grows and Corr falls as the missing rate rises.
  const byRate = run.test.map((t) => ({ rate: t.rate, mae: t.metrics.mae!, corr: t.metrics.corr ?? 0 }));
  app.log(
    `test by rate: ${byRate.map((r) => `${r.rate}: MAE ${r.mae.toFixed(3)} Corr ${r.corr.toFixed(2)}`).join('; ')}`,
  );
  for (let i = 1; i < byRate.length; i++)
    assert(
      byRate[i].mae > byRate[i - 1].mae,
      `test MAE does not grow from rate ${byRate[i - 1].rate} to ${byRate[i].rate}`,
    );
  assert(byRate[byRate.length - 1].corr < byRate[0].corr, 'test Corr should fall from rate 0 to rate 1');
});
