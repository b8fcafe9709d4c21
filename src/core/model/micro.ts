import * as tf from '../tf.ts';
import { MODALITIES, type Modality, type ModelConfig } from '../config/config.ts';
import type { ByModality } from '../data/types.ts';
import type { ParamStore } from './params.ts';
import type { SeqInfo } from './transformer.ts';
import { BiRNN } from './recurrent.ts';
import { KERNEL_MEMORY_GATE, KERNEL_MEMORY_GATE_GRAD, webgpuKernelActive } from './webgpu/select.ts';
import {
  applyDense,
  batchNorm,
  createBatchNorm,
  createLayerNorm,
  createLinear,
  customOp,
  dropout,
  layerNorm,
  linear,
  type BatchNorm,
  type Ctx,
  type Linear,
  type Norm,
} from './ops.ts';

/**
 * Micro-fusion stream (eqs. 8–13): per modality a bidirectional recurrent encoder, the memory-gated
 * network (memoryGatedNetwork) and a max over valid steps → U_m; then the coarse-to-fine module
 * (coarseToFineModule) stacks text with vision and text with audio.
 * Output H_fusion = [U_t, U_a, U_v, H_tv, H_ta].
 */
export class Micro {
  private readonly rnn = new Map<Modality, BiRNN>();
  private readonly gate = new Map<Modality, MemoryGate>();
  private readonly lin = new Map<Modality, Linear>();
  private readonly proj = new Map<Modality, Linear>();
  private readonly bn: BatchNorm; // one instance for both stacks, t-v first (as the code)
  private readonly mix = new Map<'tv' | 'ta', Mixer>();

  constructor(
    p: ParamStore,
    private readonly c: ModelConfig,
  ) {
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
    MODALITIES.forEach((m, i) =>
      this.lin.set(m, createLinear(p, `micro.lin.${m}`, w + 2 * c.rnnHidden[i], c.rnnHidden[i])),
    );
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
      const G = memoryGatedNetwork(R, this.gate.get(m)!); // [B, L, 2h]
      const u = tf.tanh(linear(this.lin.get(m)!, tf.concat([x, G], 2))); // [B, L, h] in (−1, 1)
      // Max over valid steps only: padding is pushed below tanh's range.
      const valid = tf.tensor3d(seq[m].valid, [B, L, 1]);
      const pooled = tf.max(tf.add(tf.mul(u, valid), tf.mul(tf.sub(valid, 1), 4)), 1) as tf.Tensor2D; // [B, h]
      U[m] = dropout(pooled, this.c.fusionDropout, ctx) as tf.Tensor2D;
    }
    const { tv, ta } = coarseToFineModule(U, this.proj, this.bn, this.mix, ctx.training);
    return tf.concat([U.t, U.a, U.v, tv, ta], 1) as tf.Tensor2D; // H_fusion [B, h_t + h_a + h_v + 4·common]
  }
}

/** The coarse-to-fine MLP of eq. 13 (W1, LN, W2), one per text-guided pair. */
export interface Mixer {
  fc1: Linear;
  ln: Norm;
  fc2: Linear;
}

/** The memory gate's Conv1d(2h → 1, kernel 3), stored as a [3·2h, 1] matrix over three shifted copies. */
export interface MemoryGate {
  w: tf.Variable;
  b: tf.Variable;
}

/**
 * Memory-gated network, MGN (paper eqs. 9–10): MGN = σ(Conv1d(tanh R)) and the gated features
 * tanh(R) ⊙ MGN, which filter out context a step's neighbours do not support. The paper writes an
 * FFN around the conv; the spec (§4) follows the reference code, whose gate is the conv's sigmoid.
 * The 'same'-padded kernel-3 conv over time is three shifted slices and one matMul, which is the
 * [3·2h, 1] layout the gate's weights are stored in.
 */
export function memoryGatedNetwork(R: tf.Tensor3D, gate: MemoryGate): tf.Tensor3D {
  if (R.dtype === 'float32' && webgpuKernelActive('memoryGate', KERNEL_MEMORY_GATE)) {
    // One program forward, two backward (webgpu/kernels.ts); the same arithmetic as below.
    const run = (inputs: tf.NamedTensorMap, kernel: string) => tf.engine().runKernel(kernel, inputs);
    return customOp((r: tf.Tensor, gw: tf.Tensor, gb: tf.Tensor, save: tf.GradSaveFunc) => {
      save([r, gw, gb]);
      return {
        value: run({ R: r, gw, gb }, KERNEL_MEMORY_GATE) as tf.Tensor3D,
        gradFunc: (dy: tf.Tensor, [sr, sw, sb]: tf.Tensor[]) =>
          run({ dy, R: sr, gw: sw, gb: sb }, KERNEL_MEMORY_GATE_GRAD) as tf.Tensor[],
      };
    })(R, gate.w, gate.b) as tf.Tensor3D;
  }
  const [B, L, W] = R.shape;
  const T = tf.tanh(R); // [B, L, 2h]
  const padded = tf.pad(T, [
    [0, 0],
    [1, 1],
    [0, 0],
  ]); // [B, L + 2, 2h]
  const shifted = tf.concat(
    [0, 1, 2].map((o) => tf.slice(padded, [0, o, 0], [B, L, W])),
    2,
  ); // [B, L, 3·2h]
  return tf.mul(T, tf.sigmoid(applyDense(shifted, gate.w, gate.b))) as tf.Tensor3D; // [B, L, 2h] ⊙ [B, L, 1]
}

/**
 * Coarse-to-fine fusion module (paper eqs. 11–13, Figure 3): text guides vision and audio. Each U_m
 * is projected to the common width; H_stack = stack(U_t, U_q) for q ∈ {v, a} (eq. 11); one shared
 * BatchNorm over the 2-slot axis gives the coarse interaction H_co (eq. 12), applied to t-v before
 * t-a because its running statistics see them in that order (as the reference code); the flattened
 * H_co goes through the MLP ReLU(W2 · LN(ReLU(W1 · H_co + b1)) + b2) (eq. 13) when the mixer is on.
 */
export function coarseToFineModule(
  U: ByModality<tf.Tensor2D>,
  proj: ReadonlyMap<Modality, Linear>,
  bn: BatchNorm,
  mix: ReadonlyMap<'tv' | 'ta', Mixer>,
  training: boolean,
): { tv: tf.Tensor2D; ta: tf.Tensor2D } {
  const p = {} as ByModality<tf.Tensor2D>;
  for (const m of MODALITIES) p[m] = linear(proj.get(m)!, U[m]) as tf.Tensor2D; // [B, common]
  const out = {} as { tv: tf.Tensor2D; ta: tf.Tensor2D };
  for (const [k, q] of [
    ['tv', 'v'],
    ['ta', 'a'],
  ] as const) {
    const stack = tf.stack([p.t, p[q]], 1); // H_stack [B, 2, common]
    const co = tf.reshape(batchNorm(bn, stack, training), [stack.shape[0], -1]) as tf.Tensor2D; // H_co [B, 2·common]
    const mixer = mix.get(k);
    out[k] = mixer
      ? (linear(mixer.fc2, layerNorm(mixer.ln, linear(mixer.fc1, co, 'relu')), 'relu') as tf.Tensor2D)
      : co; // H_k [B, 2·common]
  }
  return out;
}
