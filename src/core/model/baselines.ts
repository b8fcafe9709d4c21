import * as tf from '../tf.ts';
import { MODALITIES, type Modality, type ModelConfig } from '../config/config.ts';
import { MT19937 } from '../random.ts';
import { ParamStore } from './params.ts';
import { createLinear, linear, validMask, type Ctx, type Linear } from './ops.ts';
import type { Model, ModelInput, ModelOutput } from './model.ts';

/**
 * The paper's Table-2 baselines: FC(m) = mean of X_m over valid positions → Linear(D_m → 128) →
 * ReLU → Linear(128 → 1); Concat = the three means concatenated → the same FC.
 */
export class Baseline implements Model {
  readonly params: ParamStore;
  private readonly mods: Modality[];
  private readonly fc1: Linear;
  private readonly fc2: Linear;
  static readonly HIDDEN = 128;

  constructor(
    readonly config: ModelConfig,
    seed: number,
  ) {
    this.params = new ParamStore(new MT19937(seed));
    const arch = config.arch;
    if (arch === 'mfmb') throw new Error('Baseline built with arch "mfmb"');
    this.mods = arch === 'concat' ? [...MODALITIES] : [arch.slice(3) as Modality];
    const inF = this.mods.reduce((s, m) => s + config.dims[MODALITIES.indexOf(m)], 0);
    this.fc1 = createLinear(this.params, 'fc.0', inF, Baseline.HIDDEN);
    this.fc2 = createLinear(this.params, 'fc.2', Baseline.HIDDEN, config.numClasses);
  }

  forward(input: ModelInput, _ctx: Ctx): ModelOutput {
    const means = this.mods.map((m) => {
      const x = input.x[m];
      const [B, L] = x.shape;
      const valid = tf.tensor3d(validMask(input.len[m], L), [B, L, 1]);
      return tf.div(tf.sum(tf.mul(x, valid), 1), tf.sum(valid, 1)); // [B, D_m]
    });
    const h = means.length === 1 ? means[0] : tf.concat(means, 1);
    return { pred: linear(this.fc2, tf.relu(linear(this.fc1, h))) as tf.Tensor2D, recon: null };
  }
}
