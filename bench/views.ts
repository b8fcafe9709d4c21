/**
 * How long the "Look inside" views take on a real test set (`npm run bench:views`): the same calls
 * the worker makes for a first request (reconstruction, hub attention, the sample's robustness over
 * the test rates with 5 mask seeds, the reconstruction-error curve, and the ranking of every test
 * sample), in Node on wasm (1 thread), for the tiny and small models on the real CMU-MOSI file
 * (752 test samples) when ../shared/data has it, else on synthetic:mosi-shape's 686. The model is
 * freshly initialised: the views' cost does not depend on what it learned.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initNodeBackend } from '../src/core/backend.ts';
import { defaultRunConfig, DEFAULT_TEST_RATES, modelPreset } from '../src/core/config/config.ts';
import { loadFeatureFile } from '../src/core/data/files/load.ts';
import { makeSynthetic } from '../src/core/data/synthetic.ts';
import type { Dataset } from '../src/core/data/types.ts';
import { modelConfigFor } from '../src/core/eval/experiment.ts';
import { Inspector } from '../src/core/eval/inspect.ts';
import { buildModel } from '../src/core/model/build.ts';
import { nodeFileSource } from '../cli/fileSource.ts';

const MOSI = join(import.meta.dirname, '..', '..', 'shared', 'data', 'mosi-utterance', 'mosi_utterance_p4.pkl');

await initNodeBackend('wasm');
let ds: Dataset;
let source: string;
if (existsSync(MOSI)) {
  ds = (await loadFeatureFile(nodeFileSource(MOSI), { standardize: true })).dataset;
  source = 'CMU-MOSI (mosi_utterance_p4.pkl, standardised)';
} else {
  ds = makeSynthetic('mosi-shape', 1);
  source = 'synthetic:mosi-shape';
}
console.log(`${source}: ${ds.test.n} test samples; L ${ds.lens.join('/')}, D ${ds.dims.join('/')}`);
for (const preset of ['tiny', 'small'] as const) {
  const cfg = defaultRunConfig();
  cfg.model = modelPreset(preset);
  cfg.missing.testRates = [...DEFAULT_TEST_RATES];
  const model = buildModel(modelConfigFor(cfg.model, { arch: 'mfmb', branches: cfg.model.branches }, ds), 111);
  try {
    const ins = new Inspector(model, ds, ds.test, cfg);
    const t0 = performance.now();
    await ins.reconstruction(0, 0.5);
    await ins.hubAttention(0, 0.5);
    await ins.robustness(0, cfg.missing.testRates, 5);
    await ins.reconErrorCurve(cfg.missing.testRates, 128);
    const t1 = performance.now();
    await ins.ranking(0.7);
    const t2 = performance.now();
    console.log(
      `${preset}: first view ${((t2 - t0) / 1000).toFixed(2)} s (sample views ${((t1 - t0) / 1000).toFixed(2)} s + ranking of all ${ds.test.n} test samples ${((t2 - t1) / 1000).toFixed(2)} s)`,
    );
  } finally {
    model.params.dispose();
  }
}
