/**
 * Chart layout at a phone's and a desktop's width: after a tiny ablation (four settings, one epoch,
 * rates 0 and 1) every chart's axis labels are checked by their bounding boxes, not only by eye —
 * no two labels of one chart overlap, each lies inside its chart's SVG (or canvas: the training
 * charts report the box of every text they drew), no axis repeats a label and none shows float
 * noise (2.78e-17, 0.30000000000000004). The AUILC and ablation charts are canvases too (their
 * wrapped setting names count as one label each, the box around their lines). Screenshots go to
 * /tmp/h/shots/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { budget, test } from '../fixtures.ts';
import { assert, assertEqual, waitFor } from '../checks.ts';
import { byId, download, ID, openApp, startJob, tinyConfig, urlWith, waitStatus, workBackend } from '../app.ts';

const SHOTS = '/tmp/h/shots';
const CHARTS = ['loss-chart', 'valid-chart', 'auilc-view', 'ablation-view'];

interface Box {
  text: string;
  axis: number;
  l: number;
  t: number;
  r: number;
  b: number;
}

/** Problems with the axis labels of every chart canvas inside `testId`, measured in the page. */
async function labelProblems(page: Page, testId: string): Promise<{ problems: string[]; labels: number }> {
  return byId(page, testId).evaluate((root) => {
    const problems: string[] = [];
    let labels = 0;
    // The canvas charts (ChartCanvas.tsx, LineCanvas.tsx) write every text they drew, with its box, to data-drawn:
    // the same checks on those boxes, against the canvas; and the canvas must have been drawn at
    // the width it is shown at (a resize redraws it).
    const canvases = [...root.querySelectorAll('canvas[data-drawn]')].filter(
      (c) => c.getBoundingClientRect().width > 60,
    );
    canvases.forEach((canvas, ci) => {
      const box = canvas.getBoundingClientRect();
      const drawn = JSON.parse(canvas.getAttribute('data-drawn')!) as {
        width: number;
        height: number;
        labels: { text: string; axis: string; l: number; t: number; r: number; b: number }[];
      };
      const where = (text: string) => `canvas #${ci + 1}: "${text}"`;
      if (Math.abs(drawn.width - box.width) > 1 || Math.abs(drawn.height - box.height) > 1)
        problems.push(
          `canvas #${ci + 1} was drawn at ${drawn.width}×${drawn.height} but shows at ${box.width.toFixed(0)}×${box.height.toFixed(0)}`,
        );
      const items: Box[] = drawn.labels
        .filter((i) => i.text.trim())
        .map((i) => ({ ...i, text: i.text.trim(), axis: i.axis === 'x' ? 0 : i.axis === 'y' ? 1 : -1 }));
      labels += items.length;
      for (const i of items) {
        if (i.l < -1 || i.r > drawn.width + 1 || i.t < -1 || i.b > drawn.height + 1)
          problems.push(
            `${where(i.text)} is clipped: [${i.l.toFixed(0)}, ${i.r.toFixed(0)}]×[${i.t.toFixed(0)}, ${i.b.toFixed(0)}] outside the canvas ${drawn.width}×${drawn.height}`,
          );
        if (/e[-+]\d|\d\.\d{6,}/.test(i.text)) problems.push(`${where(i.text)} shows float noise`);
      }
      for (let a = 0; a < items.length; a++)
        for (let b = a + 1; b < items.length; b++) {
          const x = Math.min(items[a].r, items[b].r) - Math.max(items[a].l, items[b].l);
          const y = Math.min(items[a].b, items[b].b) - Math.max(items[a].t, items[b].t);
          if (x > 0.5 && y > 0.5)
            problems.push(
              `${where(items[a].text)} and "${items[b].text}" overlap (${x.toFixed(1)}×${y.toFixed(1)} px)`,
            );
        }
      const byAxis = new Map<number, string[]>();
      for (const i of items) if (i.axis >= 0) byAxis.set(i.axis, [...(byAxis.get(i.axis) ?? []), i.text]);
      for (const [axis, texts] of byAxis)
        if (new Set(texts).size !== texts.length)
          problems.push(`canvas #${ci + 1} axis ${axis + 1} repeats a label: ${texts.join(', ')}`);
    });
    if (!canvases.length) problems.push('no chart drawn');
    return { problems, labels };
  });
}

/** What the first canvas inside `testId` drew (its data-drawn attribute), or null. */
async function drawnOf(
  page: Page,
  testId: string,
): Promise<{
  series?: { label: string; points: [number, number][] }[];
  bars?: { category: string; key: string; value: number }[];
} | null> {
  const text = await byId(page, testId).locator('canvas[data-drawn]').first().getAttribute('data-drawn');
  return text ? JSON.parse(text) : null;
}

/**
 * "Export PNG" of a results view: a PNG twice the chart's width (the export's scale) whose pixels
 * include the chart's drawing — at least 1000 pixels of the first series' blue (#0072B2), far more
 * than its legend swatch alone (about 200).
 */
async function checkPng(page: Page, id: string): Promise<string> {
  const { download: dl } = await download(page, `export-png-${id}`);
  const path = await dl.path();
  assert(path, `export-png-${id}: no file`);
  const bytes = readFileSync(path);
  assertEqual(bytes.subarray(1, 4).toString('latin1'), 'PNG', `export-png-${id}: PNG signature`);
  const w = bytes.readUInt32BE(16);
  const h = bytes.readUInt32BE(20);
  const chartW = await byId(page, `${id}-view`)
    .locator('canvas[data-drawn]')
    .evaluate((c) => c.getBoundingClientRect().width);
  assert(w >= 2 * chartW, `export-png-${id}: ${w} px wide, the chart is ${chartW} px (×2 expected)`);
  const blue = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4)
      if (Math.abs(d[i]! - 0x00) < 24 && Math.abs(d[i + 1]! - 0x72) < 24 && Math.abs(d[i + 2]! - 0xb2) < 24) n++;
    return n;
  }, bytes.toString('base64'));
  assert(blue >= 1000, `export-png-${id}: only ${blue} pixels of the chart's blue; the chart is missing from the PNG`);
  return `export-png-${id}: ${w}×${h} px, ${blue} blue pixels`;
}

test('axis labels never clip or collide, at 420 px and at 1440 px', async ({ page, app }) => {
  test.setTimeout(budget(budget(120_000)));
  mkdirSync(SHOTS, { recursive: true });
  await page.setViewportSize({ width: 1440, height: 1000 });
  await openApp(page, urlWith(app.url, tinyConfig({ epochs: 1, testRates: [0, 1] }), workBackend()));
  await startJob(page, 'ablation');
  await waitStatus(page, ['running', 'done'], budget(15_000));
  await waitStatus(page, 'done', budget(90_000));
  await waitFor(
    'four settings in the ablation table',
    async () => {
      const rows = await byId(page, ID.ablationTable).locator('tbody:not(.paper-rows) tr:not(.row-missing)').count();
      return rows === 4;
    },
    budget(10_000),
  );

  // The results views are canvases too (AuilcCanvas, AblationCanvas): they drew the finished job's
  // four settings, each tested at the two rates.
  await waitFor(
    'the AUILC and ablation charts drew four settings',
    async () => {
      const auilc = await drawnOf(page, 'auilc-view');
      const ablation = await drawnOf(page, 'ablation-view');
      return auilc?.series?.length === 4 && (ablation?.bars ?? []).filter((b) => b.key !== 'paper').length === 4;
    },
    budget(10_000),
  );
  const auilc = (await drawnOf(page, 'auilc-view'))!;
  for (const s of auilc.series!)
    assertEqual(s.points.map((p) => p[0]).join(','), '0,1', `AUILC curve "${s.label}": the rates it was drawn at`);
  const ablation = (await drawnOf(page, 'ablation-view'))!;
  assertEqual(
    [...new Set(ablation.bars!.filter((b) => b.key !== 'paper').map((b) => b.category))].length,
    4,
    'ablation settings with a bar of this app',
  );

  // Their tooltips follow the keys: End on the focused AUILC chart reads out the last rate's values.
  await byId(page, 'auilc-canvas').focus();
  await page.keyboard.press('End');
  const tip = page.getByTestId('auilc-view').getByRole('status');
  await waitFor(
    'the AUILC tooltip at the last rate',
    async () => (await tip.count()) === 1 && /missing rate 1\.0/.test(await tip.innerText()),
    budget(5_000),
  );
  await page.keyboard.press('Escape');
  await byId(page, 'ablation-canvas').focus();
  await page.keyboard.press('Home');
  const barTip = page.getByTestId('ablation-view').getByRole('status');
  await waitFor(
    'the ablation tooltip at the first setting',
    async () => (await barTip.count()) === 1 && /all branches/.test(await barTip.innerText()),
    budget(5_000),
  );
  await page.keyboard.press('Escape');

  const report: string[] = [];
  for (const width of [1440, 420]) {
    await page.setViewportSize({ width, height: 1000 });
    // ResponsiveContainer measures on resize: wait until every chart has redrawn at the new width.
    await page.waitForTimeout(600);
    const wide = await page.evaluate(() => {
      const w = document.documentElement.clientWidth;
      // The outermost elements that reach past the viewport (their parent does not).
      const out: string[] = [];
      for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect().right;
        const p = el.parentElement?.getBoundingClientRect().right ?? 0;
        if (r > w + 1 && p <= w + 1 && out.length < 5)
          out.push(
            `${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]}[${el.getAttribute('data-testid') ?? ''}] → ${r.toFixed(0)} px`,
          );
      }
      return { scroll: document.documentElement.scrollWidth, out };
    });
    assert(
      wide.scroll <= width + 1,
      `the page scrolls sideways at ${width} px (${wide.scroll} px wide): ${wide.out.join('; ')}`,
    );
    for (const id of CHARTS) {
      const { problems, labels } = await labelProblems(page, id);
      report.push(`${width} px ${id}: ${labels} labels, ${problems.length} problems`);
      await byId(page, id).screenshot({ path: `${SHOTS}/${id}-${width}.png` });
      assert(labels >= 4, `${id} at ${width} px: only ${labels} axis labels found; the check would see nothing`);
      assertEqual(problems.length, 0, `${id} at ${width} px: ${problems.slice(0, 6).join('; ')}`);
    }
    if (width === 1440) for (const id of ['auilc', 'ablation']) report.push(await checkPng(page, id));
    await byId(page, 'panel-runs').screenshot({ path: `${SHOTS}/runs-${width}.png` });
    await page.screenshot({ path: `${SHOTS}/page-${width}.png`, fullPage: true });
  }
  app.log(report.join('\n'));
});
