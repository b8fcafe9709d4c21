import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../tf.ts';
import { initNodeBackend } from '../backend.ts';
import { MODALITIES, modelPreset } from '../config/config.ts';
import type { ByModality } from '../data/types.ts';
import { MT19937 } from '../random.ts';
import { buildModel } from '../model/build.ts';
import { mfmbLoss } from './loss.ts';
import { freeingGradsAvailable, variableGradsFreeing } from './grads.ts';

/** The freeing backward pass gives tf.variableGrads's results bit for bit and leaks nothing. */
describe('variableGradsFreeing', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('equals tf.variableGrads on a training step (dropout on), with no tensor left behind', () => {
    const cfg = modelPreset('tiny', { dims: [16, 5, 20], lens: [8, 12, 10] });
    const model = buildModel(cfg, 5);
    const vars = model.params.trainable();
    const rng = new MT19937(3);
    const B = 3;
    const data = MODALITIES.map((_, i) =>
      Float32Array.from({ length: B * cfg.lens[i] * cfg.dims[i] }, () => rng.normal()),
    );
    const y = Float32Array.from({ length: B }, () => rng.normal());
    const loss = () => {
      const x = {} as ByModality<tf.Tensor3D>,
        len = {} as ByModality<Int32Array>;
      MODALITIES.forEach((m, i) => {
        x[m] = tf.tensor3d(data[i], [B, cfg.lens[i], cfg.dims[i]]);
        len[m] = Int32Array.from({ length: B }, (_, b) => cfg.lens[i] - b);
      });
      const out = model.forward({ x, len }, { training: true, rng: new MT19937(1) });
      return mfmbLoss(out, tf.tensor1d(y), [1, 1, 1], null, null, false).total;
    };
    // Before any gradient in this process: the engine has no tape yet (the first-call case).
    expect(freeingGradsAvailable()).toBe(true);
    try {
      const before = tf.memory().numTensors;
      const a = variableGradsFreeing(loss, vars);
      const b = tf.variableGrads(loss, vars);
      expect(a.value.dataSync()[0]).toBe(b.value.dataSync()[0]);
      expect(Object.keys(a.grads).sort()).toEqual(Object.keys(b.grads).sort());
      for (const k of Object.keys(b.grads)) expect(a.grads[k].dataSync()).toEqual(b.grads[k].dataSync());
      tf.dispose([a.value, b.value, a.grads, b.grads]);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.params.dispose();
    }
  });
});
