import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '../tf.ts';
import { initNodeBackend } from '../backend.ts';
import { defaultRunConfig, modelPreset, type RunConfig } from '../config/config.ts';
import { makeSynthetic } from '../data/synthetic.ts';
import { ParamStore } from '../model/params.ts';
import { runExperiment, type TrainedCheckpoint } from './experiment.ts';

// Trained weights come out of the runner through onTrained, not by searching tfjs's variables.
const ds = makeSynthetic('tiny', 7);

function config(): RunConfig {
  const cfg = defaultRunConfig();
  cfg.model = modelPreset('tiny', { dims: ds.dims, lens: ds.lens });
  cfg.train = { ...cfg.train, batchSize: 8, epochs: 1, seeds: [111] };
  cfg.missing = { ...cfg.missing, testRates: [0, 0.5] };
  return cfg;
}

const ALL = { macro: true, micro: true, recon: true };

describe('runExperiment onTrained', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });
  afterEach(() => vi.restoreAllMocks());

  it("hands over each run's trained weights: the model's parameters as tested, owned by the caller", async () => {
    // What the model holds when the runner is done with it: read just before it is disposed.
    const atDispose: Map<string, Float32Array>[] = [];
    const dispose = ParamStore.prototype.dispose;
    vi.spyOn(ParamStore.prototype, 'dispose').mockImplementation(function (this: ParamStore) {
      atDispose.push(this.snapshot());
      dispose.call(this);
    });
    const before = tf.memory().numTensors;
    const got: { index: number; seed: number; cp: TrainedCheckpoint }[] = [];
    const order: string[] = [];
    const results = await runExperiment({
      config: config(),
      dataset: ds,
      settings: [
        { arch: 'mfmb', branches: ALL },
        { arch: 'mfmb', branches: { ...ALL, recon: false } },
      ],
      onTrained: (run, cp) => {
        order.push(`trained ${run.index}`);
        got.push({ index: run.index, seed: run.seed, cp });
      },
      onEvent: (e) => {
        if (e.kind === 'run-end') order.push(`run-end ${e.run.index}`);
      },
    });
    expect(results).toHaveLength(2);
    expect(order).toEqual(['trained 0', 'run-end 0', 'trained 1', 'run-end 1']);
    expect(atDispose).toHaveLength(2);
    for (const { index, cp } of got) {
      const want = atDispose[index];
      expect([...cp.keys()]).toEqual([...want.keys()]); // every parameter, in model order
      for (const [name, t] of cp) expect(t.dataSync()).toEqual(want.get(name));
    }
    expect([...got[1].cp.keys()].some((n) => n.startsWith('recon.'))).toBe(false); // each run its own model
    // The checkpoints are the only tensors left, and freeing them gets back to where we started.
    for (const { cp } of got) ParamStore.disposeCheckpoint(cp);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('makes no copy without the hook', async () => {
    const before = tf.memory().numTensors;
    await runExperiment({ config: config(), dataset: ds, settings: [{ arch: 'mfmb', branches: ALL }] });
    expect(tf.memory().numTensors).toBe(before);
  });
});
