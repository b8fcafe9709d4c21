/**
 * The fused WebGPU kernels (src/core/model/webgpu/kernels.ts: attention, dropout, LayerNorm, Adam,
 * Linear layers as fused matMuls with flag-based gradients, dropout–adds, the recurrent weights'
 * packing) against the op-by-op path, in Chromium on the webgpu backend (SwiftShader's adapter without a
 * GPU): the transformer encoder's output and gradients (input and every weight) with dropout on,
 * self- and cross-attention, padding and a causal mask, must agree to 1e-4 with the same dropout
 * masks; the whole tiny MFMB-Net's predictions, reconstructions and weight gradients likewise; Adam's parameters to 1e-6 after three steps (one with a missing gradient); each with fewer
 * compute dispatches.
 *
 * The page is a small entry (e2e/pages/fused-webgpu.ts) bundled here with esbuild and served on the
 * app's origin through a route, so the app's build is left alone.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { budget, test } from '../fixtures.ts';
import { assert } from '../checks.ts';
import type { Compared, EncoderCase, ModelCase } from '../pages/fused-webgpu.ts';

const ENTRY = fileURLToPath(new URL('../pages/fused-webgpu.ts', import.meta.url));

const CASES: EncoderCase[] = [
  // Self-attention (q, k, v packed), padding in one sequence, dropout everywhere.
  {
    width: 12,
    heads: 2,
    layers: 1,
    B: 2,
    Lq: 7,
    Lk: 0,
    lenQ: [7, 4],
    lenK: [],
    causal: false,
    drop: 0.1,
    attnDrop: 0.2,
  },
  // Cross-attention with keys of another length, two layers, several heads.
  {
    width: 16,
    heads: 4,
    layers: 2,
    B: 3,
    Lq: 5,
    Lk: 9,
    lenQ: [5, 5, 2],
    lenK: [9, 3, 6],
    causal: false,
    drop: 0.1,
    attnDrop: 0.1,
  },
  // A causal mask (the reconstruction's self-attention), no dropout.
  { width: 12, heads: 3, layers: 1, B: 2, Lq: 6, Lk: 0, lenQ: [6, 5], lenK: [], causal: true, drop: 0, attnDrop: 0 },
];

test('fused WebGPU attention, dropout, LayerNorm and Adam match the op-by-op path with fewer dispatches', async ({
  page,
  app,
}) => {
  test.setTimeout(budget(240_000));
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
  const base = `${app.origin}/__e2e-fused-webgpu/`;
  await page.route(`${base}**`, (route) =>
    route.request().url().endsWith('.js')
      ? route.fulfill({ contentType: 'text/javascript', body: js })
      : route.fulfill({
          contentType: 'text/html',
          body: '<!doctype html><meta charset="utf-8"><title>fused webgpu</title><script type="module" src="./page.js"></script>',
        }),
  );
  await page.goto(`${base}index.html`);
  await page.waitForFunction(() => (globalThis as { __fusedWebgpuReady?: boolean }).__fusedWebgpuReady === true, null, {
    timeout: budget(60_000),
  });

  for (const c of CASES) {
    const r = await page.evaluate(
      (c) => (globalThis as unknown as { __fusedEncoder: (c: EncoderCase) => Promise<Compared> }).__fusedEncoder(c),
      c,
    );
    const label = `encoder w ${c.width}, ${c.heads} heads, ${c.layers} layer(s), B ${c.B}, Lq ${c.Lq}, Lk ${c.Lk || 'self'}${c.causal ? ', causal' : ''}, dropout ${c.drop}/${c.attnDrop}`;
    app.log(
      `${label}: max |Δout| ${r.maxOutDiff.toExponential(2)}, max rel |Δgrad| ${r.maxGradDiff.toExponential(2)} (${r.worst}); ` +
        `dispatches (forward + backward + forward) ${r.dispatches.fused} fused vs ${r.dispatches.ops} op by op`,
    );
    assert(r.backend === 'webgpu', `${label}: ran on ${r.backend}, expected webgpu`);
    assert(r.maxOutDiff <= 1e-4, `${label}: outputs differ by ${r.maxOutDiff}`);
    assert(r.maxGradDiff <= 1e-4, `${label}: gradients differ by ${r.maxGradDiff} (worst ${r.worst})`);
    assert(
      r.dispatches.fused < r.dispatches.ops,
      `${label}: ${r.dispatches.fused} dispatches fused, ${r.dispatches.ops} op by op`,
    );
  }

  const mc: ModelCase = {
    B: 3,
    lens: [6, 5, 4],
    dims: [10, 5, 7],
    len: [
      [6, 3, 5],
      [5, 5, 2],
      [4, 1, 3],
    ],
  };
  const mr = await page.evaluate(
    (c) => (globalThis as unknown as { __fusedModel: (c: ModelCase) => Promise<Compared> }).__fusedModel(c),
    mc,
  );
  app.log(
    `tiny MFMB-Net, B 3, L 6/5/4: max |Δout| ${mr.maxOutDiff.toExponential(2)}, max rel |Δgrad| ${mr.maxGradDiff.toExponential(2)} (${mr.worst}); ` +
      `dispatches (forward + backward) ${mr.dispatches.fused} fused vs ${mr.dispatches.ops} op by op`,
  );
  assert(mr.backend === 'webgpu', `model ran on ${mr.backend}`);
  assert(mr.maxOutDiff <= 1e-4, `model: outputs differ by ${mr.maxOutDiff}`);
  assert(mr.maxGradDiff <= 1e-4, `model: gradients differ by ${mr.maxGradDiff} (worst ${mr.worst})`);
  assert(
    mr.dispatches.fused < mr.dispatches.ops,
    `model: ${mr.dispatches.fused} dispatches fused, ${mr.dispatches.ops} op by op`,
  );

  const a = await page.evaluate(() =>
    (globalThis as unknown as { __fusedAdam: () => Promise<Compared> }).__fusedAdam(),
  );
  app.log(
    `Adam, 3 steps: max rel |Δθ| ${a.maxOutDiff.toExponential(2)}; dispatches ${a.dispatches.fused} fused vs ${a.dispatches.ops} op by op`,
  );
  assert(a.backend === 'webgpu', `Adam ran on ${a.backend}`);
  assert(a.maxOutDiff <= 1e-6, `Adam: parameters differ by ${a.maxOutDiff} after the fused steps`);
  assert(
    a.dispatches.fused < a.dispatches.ops,
    `Adam: ${a.dispatches.fused} dispatches fused, ${a.dispatches.ops} op by op`,
  );
});
