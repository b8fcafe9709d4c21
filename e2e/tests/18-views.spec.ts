/**
 * The "Look inside" views (issue 11 items 2–4) after the Quick demo on wasm: every heatmap must show
 * the numbers the worker computed for the same sample (read off the 'inspected' message the page
 * received), not merely exist; the worker's own paths must agree with each other (the sample's
 * prediction in the reconstruction pass, the robustness pass and the test-set ranking are three
 * separate batched forward passes); hub attention rows sum to 1; picking by error follows the
 * ranking. Screenshots of each view go to /tmp/h/shots/ for the README.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { budget, test } from '../fixtures.ts';
import { assert, waitFor } from '../checks.ts';
import { byId, ID, openApp, waitStatus } from '../app.ts';
import type { InspectResult } from '../../src/worker/protocol.ts';

const SHOTS = '/tmp/h/shots';
const MODS = ['t', 'a', 'v'] as const;

/** Keeps every 'inspected' answer the page receives from its worker (after the app's own handling). */
const INSPECT_LOG = `(() => {
  const got = [];
  Object.defineProperty(window, '__e2eInspected', { value: got, configurable: true });
  const Native = window.Worker;
  if (!Native) return;
  window.Worker = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => { if (e.data && e.data.type === 'inspected') got.push(e.data); });
    }
  };
})();`;

type Inspected = { requestId: number; result: InspectResult | null; error?: string };

async function lastInspected(page: Page): Promise<Inspected> {
  const all = await page.evaluate(() => (window as unknown as { __e2eInspected: Inspected[] }).__e2eInspected);
  assert(all.length > 0, 'the page received no inspected message');
  return all[all.length - 1];
}

async function waitInspected(page: Page, sample?: number): Promise<InspectResult> {
  await waitFor(
    'the views to be computed',
    async () => {
      const el = byId(page, 'inspect-status');
      const st = await el.getAttribute('data-status');
      if (st === 'error') throw new Error(`inspect failed: ${await el.innerText()}`);
      const s = await el.getAttribute('data-sample');
      return st === 'ready' && (sample === undefined || s === String(sample)) ? true : null;
    },
    budget(30_000),
    50,
  );
  const msg = await lastInspected(page);
  assert(msg.result, `the worker answered with an error: ${msg.error}`);
  return msg.result;
}

function statsOf(v: ArrayLike<number>): { min: number; max: number; sum: number } {
  let min = Infinity,
    max = -Infinity,
    sum = 0;
  for (let i = 0; i < v.length; i++) {
    min = Math.min(min, v[i]);
    max = Math.max(max, v[i]);
    sum += v[i];
  }
  return { min, max, sum };
}

async function drawn(page: Page, testId: string) {
  const c = byId(page, testId).locator('canvas[role=img]');
  const num = async (a: string) => Number(await c.getAttribute(`data-${a}`));
  return {
    rows: await num('rows'),
    cols: await num('cols'),
    min: await num('min'),
    max: await num('max'),
    sum: await num('sum'),
    marked: await num('marked'),
    label: (await c.getAttribute('aria-label')) ?? '',
  };
}

function close(a: number, b: number, tol: number, what: string): void {
  assert(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: drawn ${a}, worker ${b}`);
}

test('reconstruction, hub attention and the sample inspector show the worker’s values', async ({ page, app }) => {
  test.setTimeout(budget(240_000));
  mkdirSync(SHOTS, { recursive: true });
  await page.addInitScript(INSPECT_LOG);
  await openApp(page, `${app.url}?backend=wasm`, budget(60_000));
  await byId(page, ID.preset('quick-demo')).click();
  await waitStatus(page, 'running', budget(30_000));
  await waitStatus(page, 'done', budget(150_000));

  const t0 = await page.evaluate(() => performance.now());
  await byId(page, 'inspect-go').click();
  const r = await waitInspected(page, 0);
  const shownMs = (await page.evaluate(() => performance.now())) - t0;
  app.figure('views (with the test-set ranking): click → shown', shownMs / 1000, 's');
  app.figure('views: worker compute time', r.ms / 1000, 's');
  app.log(
    `test set: ${r.n} samples; first answer ${Math.round(r.ms)} ms in the worker, ${Math.round(shownMs)} ms to the page`,
  );
  assert(r.ranking, 'the first answer should carry the test-set ranking');
  assert(shownMs <= budget(4_000), `the views took ${Math.round(shownMs)} ms to appear`);

  // The worker's three passes agree on the sample's prediction.
  const rob = r.robustness;
  const at = rob.rates.indexOf(r.rate);
  close(rob.preds[at], r.reconstruction.pred, 1e-4, 'seed-0 prediction vs the reconstruction pass');
  close(rob.preds[rob.rates.indexOf(0)], r.ranking.pred0[r.sample], 1e-4, 'r = 0 prediction vs the ranking pass');

  // Reconstruction view: each map's drawn values are the sample's clean / masked / X̂ features.
  await byId(page, 'tab-recon').click();
  const longBefore = await page.evaluate(() => performance.now());
  for (const m of MODS) {
    const s = r.reconstruction.modalities[m];
    const dropped = s.dropped.reduce((a, b) => a + b, 0);
    for (const [kind, values] of [
      ['clean', s.clean],
      ['masked', s.masked],
      ['recon', s.recon!],
    ] as const) {
      const d = await drawn(page, `recon-${m}-${kind}`);
      const w = statsOf(values);
      assert(d.rows === s.D && d.cols === s.L, `recon-${m}-${kind} is ${d.rows} × ${d.cols}, expected ${s.D} × ${s.L}`);
      close(d.sum, w.sum, 1e-4, `recon-${m}-${kind} sum`);
      close(d.min, w.min, 1e-5, `recon-${m}-${kind} min`);
      close(d.max, w.max, 1e-5, `recon-${m}-${kind} max`);
      assert(d.marked === dropped, `recon-${m}-${kind} marks ${d.marked} dropped steps, the worker dropped ${dropped}`);
    }
    const rc = statsOf(s.recon!);
    assert(rc.sum !== statsOf(s.clean).sum, `X̂_${m} equals the clean features: not a reconstruction`);
  }
  assert(
    MODS.some((m) => r.reconstruction.modalities[m].dropped.some((x) => x === 1)),
    `nothing dropped at rate ${r.rate}`,
  );
  await byId(page, 'recon-curve').waitFor();
  await byId(page, 'look-inside').screenshot({ path: `${SHOTS}/reconstruction.png` });

  // Hub attention: head-mean rows sum to 1, so each map's drawn sum is its number of query rows.
  await byId(page, 'tab-hub').click();
  const att = r.attention!;
  assert(att.maps.length >= 3, `${att.maps.length} hub attention maps`);
  for (const map of att.maps) {
    const cols = map.L + map.k;
    const rows = map.hubTokens.length;
    const mean = new Float32Array(rows * cols);
    for (let h = 0; h < map.heads; h++)
      for (let i = 0; i < rows * cols; i++) mean[i] += map.probs[h * rows * cols + i] / map.heads;
    const d = await drawn(page, `hub-${map.modality}-layer${map.layer}`);
    const w = statsOf(mean);
    assert(d.rows === rows && d.cols === cols, `hub ${map.name}: ${d.rows} × ${d.cols}, expected ${rows} × ${cols}`);
    close(d.sum, w.sum, 1e-4, `hub ${map.name} sum`);
    close(d.sum, rows, 1e-3, `hub ${map.name}: rows summing to 1`);
    close(d.max, w.max, 1e-5, `hub ${map.name} max`);
  }
  await byId(page, 'look-inside').screenshot({ path: `${SHOTS}/hub-attention.png` });

  // Sample inspector: label, prediction, dropped steps by rate.
  await byId(page, 'tab-sample').click();
  const fmt = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(2);
  assert(
    (await byId(page, 'sample-label').innerText()).trim() === fmt(rob.label),
    'the label shown is not the sample’s',
  );
  assert(
    (await byId(page, 'sample-pred').innerText()).trim() === fmt(r.reconstruction.pred),
    'the prediction shown is not the worker’s',
  );
  for (const m of MODS) {
    const d = await drawn(page, `drops-${m}`);
    close(
      d.sum,
      rob.dropped[m].reduce((a, b) => a + b, 0),
      0,
      `drops-${m} sum`,
    );
  }
  await byId(page, 'sample-curve').waitFor();
  await byId(page, 'look-inside').screenshot({ path: `${SHOTS}/sample-inspector.png` });
  const longest = await page.evaluate(
    (since) =>
      ((window as unknown as { __e2eLongTasks?: { start: number; duration: number }[] }).__e2eLongTasks ?? [])
        .filter((t) => t.start >= since)
        .reduce((m, t) => Math.max(m, t.duration), 0),
    longBefore,
  );
  app.figure('views: longest main-thread task while switching views', longest, 'ms');

  // Pick by error: the worker's ranking decides which sample comes next.
  const order = Array.from(r.ranking.byError);
  const pos = order.indexOf(r.sample);
  const next = order[pos >= 0 && pos < order.length - 1 && pos < 20 ? pos + 1 : 0];
  const t1 = await page.evaluate(() => performance.now());
  await byId(page, 'inspect-worst').click();
  const r2 = await waitInspected(page, next);
  app.figure('views (ranking kept): click → shown', ((await page.evaluate(() => performance.now())) - t1) / 1000, 's');
  assert(r2.sample === next, `picked sample ${r2.sample}, the ranking says ${next}`);
  assert(
    (await byId(page, 'sample-index').innerText()).startsWith(`${next} `),
    'the inspector does not show the picked sample',
  );
  close(
    r2.robustness.preds[r2.robustness.rates.indexOf(0)],
    r.ranking.pred0[next],
    1e-4,
    'picked sample r = 0 prediction',
  );
});
