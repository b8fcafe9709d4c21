/**
 * A robustness sweep configured through the form: tiny model, synthetic:tiny, train-once at 30 %,
 * tested at two rates, two seeds. The AUILC table must show exactly the numbers of the exported
 * results JSON (rounded as displayed), and the AUILC chart must draw the JSON's per-rate values.
 */
import type { MetricKey } from '../../src/core/eval/metrics.ts';
import type { ResultsFile } from '../../src/core/eval/results.ts';
import { budget, test } from '../fixtures.ts';
import { assert, assertEqual, waitFor } from '../checks.ts';
import {
  assertRealLosses,
  byId,
  cellNumbers,
  choose,
  decimalsOf,
  exportResults,
  ID,
  openApp,
  setField,
  startJob,
  waitStatus,
  workBackend,
} from '../app.ts';

const HEADER_KEYS: [RegExp, MetricKey[]][] = [
  [/^MAE$/, ['mae']],
  [/^Corr$/, ['corr']],
  [/^Acc-7$/, ['acc7']],
  [/^Acc-5$/, ['acc5']],
  [/^Acc-2/, ['acc2_has0', 'acc2_non0']],
  [/^F1/, ['f1_has0', 'f1_non0']],
];
const scaled = (k: MetricKey, v: number | null) => (v === null ? null : k === 'mae' || k === 'corr' ? v : v * 100);

test('a 2-rate train-once sweep fills the AUILC table with the numbers of the exported JSON', async ({ page, app }) => {
  test.setTimeout(budget(budget(90_000)));
  const backend = workBackend();
  await openApp(page, backend === 'auto' ? app.url : `${app.url}#backend=${backend}`);

  await byId(page, ID.dataSource).selectOption('synthetic:tiny');
  await choose(page, ID.modelPreset('tiny'));
  await setField(page, ID.epochs, '2');
  await setField(page, ID.testRates, '0, 1');
  await setField(page, ID.seeds, '111, 1111');
  assert(
    await byId(page, 'missing-protocol-train-once').isChecked(),
    'the protocol should be train-once (the default)',
  );

  await startJob(page, 'sweep');
  await waitStatus(page, ['running', 'done'], budget(15_000));
  await waitStatus(page, 'done', budget(60_000));

  await assertRealLosses(page);
  const doc: ResultsFile = await exportResults(page);
  assertEqual(doc.config.missing.protocol, 'train-once', 'exported protocol');
  assertEqual(JSON.stringify(doc.config.missing.testRates), '[0,1]', 'exported test rates');
  assertEqual(doc.config.model.preset, 'tiny', 'exported model preset');
  assertEqual(doc.dataset.source, 'synthetic:tiny', 'exported data source');
  assertEqual(doc.runs.length, 2, 'runs (one per seed)');
  assertEqual(doc.summary.length, 1, 'summary rows');
  const row = doc.summary[0]!;
  assertEqual(row.perRate.length, 2, 'rates in the summary');
  app.log(
    `backend ${doc.backend}; AUILC MAE ${row.auilc.mae.mean} ± ${row.auilc.mae.std}, Corr ${row.auilc.corr.mean}`,
  );
  // With two rates the area is the mean of the two end points (trapezoid over [0, 1]).
  const m0 = row.perRate[0]!.mean.mae;
  const m1 = row.perRate[1]!.mean.mae;
  if (m0 !== null && m1 !== null && row.auilc.mae.mean !== null) {
    assert(
      Math.abs(row.auilc.mae.mean - (m0 + m1) / 2) < 1e-9,
      `AUILC MAE ${row.auilc.mae.mean} is not the trapezoid ${(m0 + m1) / 2}`,
    );
  }

  const table = byId(page, ID.auilcTable);
  // The charts follow the store calmly (≤ 500 ms + a phase): wait for the finished job's table.
  await waitFor('the finished AUILC table', async () => !/so far/.test(await table.innerText()), budget(5_000));
  const headers = (await table.locator('thead th').allInnerTexts()).map((h) => h.trim());
  const bodyRows = table.locator('tbody tr');
  assertEqual(await bodyRows.count(), 1, 'AUILC table rows');
  const cells = (await bodyRows.first().locator('td').allInnerTexts()).map((c) => c.trim());
  assert(headers.length === cells.length + 1, `AUILC table: ${headers.length} headers for ${cells.length} cells`);
  let compared = 0;
  const withStd = row.seeds.length > 1;
  headers.slice(1).forEach((h, i) => {
    const keys = HEADER_KEYS.find(([re]) => re.test(h))?.[1];
    assert(keys, `unknown AUILC column "${h}"`);
    const text = cells[i]!;
    const nums = cellNumbers(text);
    const decs = decimalsOf(text);
    const expected: { what: string; v: number | null }[] = [];
    for (const k of keys) {
      expected.push({ what: `${k} mean`, v: scaled(k, row.auilc[k].mean) });
      if (withStd && row.auilc[k].mean !== null) expected.push({ what: `${k} std`, v: scaled(k, row.auilc[k].std) });
    }
    assertEqual(nums.length, expected.length, `numbers in the "${h}" cell "${text}"`);
    expected.forEach((e, j) => {
      const shown = nums[j]!;
      if (e.v === null) {
        assert(shown === null, `"${h}" ${e.what}: JSON has null, the table shows ${shown}`);
        return;
      }
      assert(shown !== null, `"${h}" ${e.what}: the table shows — but the JSON has ${e.v}`);
      const tol = 0.5 * 10 ** -decs[j]! + 1e-9;
      assert(Math.abs(shown - e.v) <= tol, `"${h}" ${e.what}: table ${shown} ≠ JSON ${e.v} (cell "${text}")`);
      compared++;
    });
  });
  app.log(`${compared} AUILC numbers compared with the JSON`);
  assert(compared >= 8, `only ${compared} numbers compared`);

  // The AUILC chart (a canvas, AuilcCanvas.tsx) drew the same run: its Corr curve (the default
  // metric) at the JSON's per-rate means, the ± std band over the two seeds, the area shaded.
  const chart = JSON.parse(
    (await byId(page, 'auilc-view').locator('canvas[data-drawn]').getAttribute('data-drawn')) ?? '{}',
  ) as { series?: { points: [number, number][]; band: [number, number, number][]; area: boolean }[] };
  assertEqual(chart.series?.length, 1, 'curves in the AUILC chart');
  const curve = chart.series![0]!;
  const expectedPoints = row.perRate.flatMap((p) => (p.mean.corr === null ? [] : [[p.rate, p.mean.corr, p.std.corr]]));
  assertEqual(curve.points.length, expectedPoints.length, 'points of the Corr curve');
  expectedPoints.forEach(([rate, mean, std], j) => {
    const [x, y] = curve.points[j]!;
    assert(
      Math.abs(x - rate!) < 1e-9 && Math.abs(y - mean!) < 1e-9,
      `Corr point ${j}: drawn (${x}, ${y}), JSON (${rate}, ${mean})`,
    );
    if (std === null || std === undefined) return;
    const b = curve.band.find((q) => Math.abs(q[0] - rate!) < 1e-9);
    assert(b, `no ± std band drawn at rate ${rate}`);
    assert(
      Math.abs(b[1] - (mean! - std)) < 1e-9 && Math.abs(b[2] - (mean! + std)) < 1e-9,
      `band at ${rate}: drawn ${b[1]}…${b[2]}, JSON ${mean! - std}…${mean! + std}`,
    );
  });
  assert(curve.area === expectedPoints.length >= 2, 'the AUILC area is shaded (y from 0 is the default)');
});
