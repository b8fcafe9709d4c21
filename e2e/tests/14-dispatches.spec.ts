/**
 * GPU dispatches per training step, counted where tfjs-webgpu hands work to the device
 * (GPUComputePassEncoder.dispatchWorkgroups, src/worker/dispatchCounter.ts) by the browser
 * benchmark's page (bench/browser/), for the tiny model on the webgpu backend (SwiftShader's
 * adapter without a GPU). The count must stay under a generous bound — today's figure × 1.5 — so a
 * change that brings back per-time-step (or per-parameter) ops is caught, whatever the speed of
 * the machine. The figure is printed with the test.
 *
 * The page is built with its own Vite config into a temporary folder and served on the app's
 * origin through a route (/__bench/), so the app's build and the origin guard are left alone.
 * Cheap on purpose: batch 2, one training step (the first, which also compiles every program), no
 * inference; the count depends little on the batch size (tiny: 721 here, 765 per step at batch 24).
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { budget, test } from '../fixtures.ts';
import { assert } from '../checks.ts';
import { buildBench, runBenchInPage } from '../../bench/browser/serve.ts';

/**
 * Dispatches of the tiny model's first training step at MOSI's aligned shapes, measured with
 * `npm run bench:browser -- --backend webgpu --model tiny --batch 2 --warmup 0 --steps 1 --infer 0` (tfjs 4.22,
 * fused WebGPU scans, attention, dropout, LayerNorm and BatchNorm each one program backward, Adam,
 * Linear layers with one-program backward, residual Linear–dropout–adds, cross and reconstruction
 * projections, the memory gate, L_gen: 4,564 with the scans alone, 1,516 before the one-program
 * backwards). Lower it when the count drops for good.
 */
const TODAY = Number(process.env.E2E_DISPATCHES_TODAY ?? 721);
const BOUND = Math.ceil(TODAY * 1.5);

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.json': 'application/json',
};

test('a tiny training step on WebGPU stays under the dispatch bound', async ({ page, context, app }) => {
  test.setTimeout(budget(180_000));
  const bench = await buildBench();
  try {
    const prefix = `${app.origin}/__bench/`;
    await context.route(`${prefix}**`, async (route) => {
      const rel = decodeURIComponent(new URL(route.request().url()).pathname.slice('/__bench/'.length)) || 'index.html';
      const file = normalize(join(bench.dir, rel));
      if (!file.startsWith(bench.dir) || !existsSync(file) || !statSync(file).isFile()) {
        await route.fulfill({ status: 404, body: 'not found' });
        return;
      }
      await route.fulfill({
        status: 200,
        contentType: TYPES[extname(file)] ?? 'application/octet-stream',
        body: readFileSync(file),
      });
    });
    const t0 = Date.now();
    const r = await runBenchInPage(
      page,
      prefix,
      { backend: 'webgpu', model: 'tiny', shape: 'aligned', batch: 2, warmup: 0, steps: 1, infer: 0 },
      { timeoutMs: budget(150_000), log: (s) => console.log(`  ${s}`) },
    );
    const n = r.dispatchesPerTrainStep;
    app.figure('GPU dispatches per training step (tiny, aligned, webgpu)', n ?? NaN, 'dispatches');
    app.figure('kernels per training step (tiny, aligned, webgpu)', r.kernelsPerTrainStep, 'kernels');
    app.log(
      `adapter ${r.adapter}; hooks ${r.hooks.join(', ')}; step ${(r.trainMs / 1000).toFixed(1)} s; ` +
        `${((Date.now() - t0) / 1000).toFixed(1)} s in all; bound ${BOUND} (today ${TODAY} × 1.5)`,
    );
    assert(r.backend === 'webgpu' && r.hooks.includes('webgpu'), `expected the webgpu hook, got ${r.hooks.join(', ')}`);
    assert(n !== null && n > 0, `no GPU dispatch was counted (${n}): the counter did not see tfjs's compute passes`);
    assert(
      n < BOUND,
      `${n} GPU dispatches per training step, over the bound ${BOUND} (today's ${TODAY} × 1.5): ` +
        'something now runs per time step or per parameter again',
    );
    assert(Number.isFinite(r.losses[0]) && r.losses[0] > 0, `the step's loss is ${r.losses[0]}`);
  } finally {
    bench.dispose();
  }
});
