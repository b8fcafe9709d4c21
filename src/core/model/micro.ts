import * as tf from '../tf.ts';
import { MODALITIES, type Modality, type ModelConfig } from '../config/config.ts';
import type { ByModality } from '../data/types.ts';
import type { ParamStore } from './params.ts';
import type { SeqInfo } from './transformer.ts';
import { BiRNN } from './recurrent.ts';
import {
  applyDense, batchNorm, createBatchNorm, createLayerNorm, createLinear, dropout, layerNorm, linear,
  type BatchNorm, type Ctx, type Linear, type Norm,
} from './ops.ts';

/**
 * Micro-fusion stream (eqs. 8–13): per modality a bidirectional recurrent encoder, the memory-gated
 * network and a max over valid steps → U_m; then the coarse-to-fine module stacks text with vision
 * and text with audio. Output H_fusion = [U_t, U_a, U_v, H_tv, H_ta].
 */
interface Mixer { fc1: Linear; ln: Norm; fc2: Linear }

export class Micro {
  private readonly rnn = new Map<Modality, BiRNN>();
  private readonly gate = new Map<Modality, { w: tf.Variable; b: tf.Variable }>();
  private readonly lin = new Map<Modality, Linear>();
  private readonly proj = new Map<Modality, Linear>();
  private readonly bn: BatchNorm; // one instance for both stacks, t-v first (as the code)
  private readonly mix = new Map<'tv' | 'ta', Mixer>();

  constructor(p: ParamStore, private readonly c: ModelConfig) {
    const w = 3 * c.d;
    MODALITIES.forEach((m, i) => {
      const h = c.rnnHidden[i];
      this.rnn.set(m, new BiRNN(p, `micro.rnn.${m}`, c.cell, w, h, c.rnnLayers));
    });
    MODALITIES.forEach((m, i) => {
      // Conv1d(2h → 1, kernel 3) stored as a [3·2h, 1] matrix over three shifted copies of the input.
      const fanIn = 2 * c.rnnHidden[i] * 3;
      this.gate.set(m, {
        w: p.uniform(`micro.gate.${m}.weight`, [fanIn, 1], 1 / Math.sqrt(fanIn), 'conv1d'),
        b: p.uniform(`micro.gate.${m}.bias`, [1], 1 / Math.sqrt(fanIn)),
      });
    });
    MODALITIES.forEach((m, i) => this.lin.set(m, createLinear(p, `micro.lin.${m}`, w + 2 * c.rnnHidden[i], c.rnnHidden[i])));
    MODALITIES.forEach((m, i) => this.proj.set(m, createLinear(p, `micro.proj.${m}`, c.rnnHidden[i], c.common)));
    this.bn = createBatchNorm(p, 'micro.bn', 2, false);
    if (c.mixer) {
      for (const k of ['tv', 'ta'] as const) {
        this.mix.set(k, {
          fc1: createLinear(p, `micro.mix.${k}.0`, 2 * c.common, c.mixerHidden),
          ln: createLayerNorm(p, `micro.mix.${k}.2`, c.mixerHidden),
          fc2: createLinear(p, `micro.mix.${k}.3`, c.mixerHidden, 2 * c.common),
        });
      }
    }
  }

  /** Width of H_fusion. */
  static outWidth(c: ModelConfig): number {
    return c.rnnHidden[0] + c.rnnHidden[1] + c.rnnHidden[2] + 4 * c.common;
  }

  forward(H: ByModality<tf.Tensor3D>, seq: ByModality<SeqInfo>, len: ByModality<Int32Array>, ctx: Ctx): tf.Tensor2D {
    const U = {} as ByModality<tf.Tensor2D>;
    for (const m of MODALITIES) {
      const x = H[m];
      const [B, L] = x.shape;
      const R = this.rnn.get(m)!.forward(x, len[m]); // [B, L, 2h], zero beyond the length
      let G = tf.tanh(R);
      // Memory gate (eqs. 9–10): 'same'-padded conv over time as shifted slices + one matMul.
      const padded = tf.pad(G, [[0, 0], [1, 1], [0, 0]]);
      const W = G.shape[2];
      const shifted = tf.concat([0, 1, 2].map((o) => padded.slice([0, o, 0], [B, L, W])), 2); // [B, L, 3·2h]
      const g = this.gate.get(m)!;
      G = G.mul(tf.sigmoid(applyDense(shifted, g.w, g.b)));
      const u = tf.tanh(linear(this.lin.get(m)!, tf.concat([x, G], 2))); // [B, L, h] in (−1, 1)
      // Max over valid steps only: padding is pushed below tanh's range.
      const valid = tf.tensor3d(seq[m].valid, [B, L, 1]);
      const pooled = u.mul(valid).add(valid.sub(1).mul(4)).max(1) as tf.Tensor2D;
      U[m] = dropout(pooled, this.c.fusionDropout, ctx) as tf.Tensor2D;
    }
    const p = {} as ByModality<tf.Tensor2D>;
    for (const m of MODALITIES) p[m] = linear(this.proj.get(m)!, U[m]) as tf.Tensor2D;
    const outs: tf.Tensor[] = [U.t, U.a, U.v];
    for (const [k, q] of [['tv', 'v'], ['ta', 'a']] as const) {
      const stack = tf.stack([p.t, p[q]], 1); // [B, 2, common]
      const s = batchNorm(this.bn, stack, ctx.training).reshape([stack.shape[0], -1]); // [B, 2·common]
      const mixer = this.mix.get(k);
      outs.push(mixer ? tf.relu(linear(mixer.fc2, layerNorm(mixer.ln, tf.relu(linear(mixer.fc1, s))))) : s);
    }
    return tf.concat(outs, 1) as tf.Tensor2D;
  }
}
