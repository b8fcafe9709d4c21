/**
 * The fused WebGPU scans of the bidirectional GRU and LSTM (src/core/model/webgpu/scan.ts) against the
 * op-by-op path, in Chromium on the webgpu backend (SwiftShader's adapter without a GPU): the
 * BiRNN's output and its gradients (input and every weight) must agree to 1e-4, and the fused path
 * must need far fewer compute dispatches (counted at GPUComputePassEncoder.dispatchWorkgroups).
 *
 * The page is a small entry (e2e/pages/fused-rnn.ts) bundled here with esbuild and served on the
 * app's origin through a route, so the app's build is left alone.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { budget, test } from '../fixtures.ts';
import { assert } from '../checks.ts';
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import type { FusedRnnCase, FusedRnnResult, ParityResult } from '../pages/fused-rnn.ts';

const ENTRY = fileURLToPath(new URL('../pages/fused-rnn.ts', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../src/core/model/__fixtures__/parity_tiny.json', import.meta.url));

/** Bundles the page entry and serves it (and the parity fixture) under `${origin}/__e2e-fused-rnn/`. */
async function openPage(page: Page, origin: string): Promise<void> {
  const bundle = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'warning',
  });
  const js = bundle.outputFiles[0].text;
  const base = `${origin}/__e2e-fused-rnn/`;
  await page.route(`${base}**`, (route) => {
    const url = route.request().url();
    if (url.endsWith('.js')) return route.fulfill({ contentType: 'text/javascript', body: js });
    if (url.endsWith('.json'))
      return route.fulfill({ contentType: 'application/json', body: readFileSync(FIXTURE, 'utf8') });
    return route.fulfill({
      contentType: 'text/html',
      body: '<!doctype html><meta charset="utf-8"><title>fused rnn</title><script type="module" src="./page.js"></script>',
    });
  });
  await page.goto(`${base}index.html`);
  await page.waitForFunction(() => (globalThis as { __fusedRnnReady?: boolean }).__fusedRnnReady === true, null, {
    timeout: budget(60_000),
  });
}

const CASES: FusedRnnCase[] = [
  // Small: two layers, one sequence shorter than the batch's length.
  { cell: 'gru', inF: 5, hidden: 3, layers: 2, B: 2, L: 5, len: [5, 3] },
  // The tiny preset's vision stream (hidden 10) over 50 steps, lengths from full to one step.
  { cell: 'gru', inF: 12, hidden: 10, layers: 1, B: 4, L: 50, len: [50, 31, 1, 17] },
  // A state wider than one workgroup (2h = 300 > 256 threads).
  { cell: 'gru', inF: 7, hidden: 150, layers: 1, B: 2, L: 6, len: [6, 4] },
  // The LSTM (the paper's cell) likewise.
  { cell: 'lstm', inF: 5, hidden: 3, layers: 2, B: 2, L: 5, len: [5, 3] },
  { cell: 'lstm', inF: 12, hidden: 10, layers: 1, B: 4, L: 50, len: [50, 31, 1, 17] },
];

test('fused WebGPU GRU/LSTM scans match the op-by-op path (values and gradients, 1e-4) with fewer dispatches', async ({
  page,
  app,
}) => {
  test.setTimeout(budget(240_000));
  await openPage(page, app.origin);

  for (const c of CASES) {
    const r = await page.evaluate(
      (c) => (globalThis as unknown as { __fusedRnn: (c: FusedRnnCase) => Promise<FusedRnnResult> }).__fusedRnn(c),
      c,
    );
    const label = `${c.cell} in ${c.inF}, hidden ${c.hidden}, ${c.layers} layer(s), B ${c.B}, L ${c.L}`;
    app.log(
      `${label}: max |Δout| ${r.maxOutDiff.toExponential(2)}, max rel |Δgrad| ${r.maxGradDiff.toExponential(2)}; ` +
        `dispatches forward ${r.fused.forwardDispatches} fused vs ${r.ops.forwardDispatches} op by op, ` +
        `forward + backward ${r.fused.stepDispatches} vs ${r.ops.stepDispatches}`,
    );
    assert(r.backend === 'webgpu', `${label}: ran on ${r.backend}, expected webgpu`);
    assert(r.fused.out.length === c.B * c.L * 2 * c.hidden, `${label}: output has ${r.fused.out.length} values`);
    assert(r.maxOutDiff <= 1e-4, `${label}: outputs differ by ${r.maxOutDiff}`);
    assert(r.maxGradDiff <= 1e-4, `${label}: gradients differ by ${r.maxGradDiff} (tensors ${r.names.join(', ')})`);
    assert(
      r.fused.stepDispatches < r.ops.stepDispatches,
      `${label}: the fused path used ${r.fused.stepDispatches} dispatches, the op path ${r.ops.stepDispatches}`,
    );
  }
});

test('the PyTorch parity fixture still matches on webgpu with the fused scan (all branches on)', async ({
  page,
  app,
}) => {
  test.setTimeout(budget(180_000));
  await openPage(page, app.origin);
  const r = await page.evaluate(() =>
    (globalThis as unknown as { __fusedParity: (url: string, setting: string) => Promise<ParityResult> }).__fusedParity(
      './parity_tiny.json',
      'all_on',
    ),
  );
  const rnn = r.grads.filter((g) => g.name.startsWith('micro.rnn.'));
  app.log(
    `parity on ${r.backend}: pred ${r.predMaxErr.toExponential(2)}, loss ${r.lossErr.toExponential(2)}, ` +
      `recurrent grads max rel L2 ${Math.max(...rnn.map((g) => g.relL2)).toExponential(2)} (${rnn.length} tensors)`,
  );
  assert(r.backend === 'webgpu', `ran on ${r.backend}, expected webgpu`);
  assert(r.predMaxErr <= 1e-4, `eval prediction differs from PyTorch's by ${r.predMaxErr}`);
  assert(r.lossErr <= 1e-4, `train loss differs from PyTorch's by ${r.lossErr}`);
  assert(rnn.length > 0, 'the fixture holds no recurrent gradients');
  // As src/core/model/parity.test.ts: relative L2 ≤ 1e-3, or both sides float32 noise (absolute ≤ 1e-6).
  for (const g of r.grads)
    assert(g.relL2 <= 1e-3 || g.absL2 <= 1e-6, `grad ${g.name}: relative L2 error ${g.relL2} (absolute ${g.absL2})`);
});
