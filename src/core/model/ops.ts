import * as tf from '../tf.ts';
import type { MT19937 } from '../random.ts';
import type { ParamStore } from './params.ts';
import { dropoutMask, fusedKernelsActive, KERNEL_DROPOUT } from '../wasmAttention.ts';

/**
 * Small building blocks shared by every block of the model. Two tfjs-on-wasm facts shape them
 * (ENVIRONMENT.md): matMul is fast only as a plain 2-D call without transpose flags, and tfjs's own
 * matMul gradient uses those flags — so `mm`/`bmm` carry hand-written gradients with explicit
 * transposes, and every Linear is applied as one 2-D matMul over the flattened leading axes.
 */

/** Forward-pass state: train/eval mode and the run's generator for dropout seeds. */
export interface Ctx {
  training: boolean;
  rng: MT19937;
}

/** tf.customGrad with a signature TypeScript can check (its own typing mixes tensors and `save`). */
export function customOp<T extends tf.Tensor>(
  f: (...args: never[]) => { value: T; gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor[] },
): (...inputs: tf.Tensor[]) => T {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => T;
}

export const mm = customOp((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as tf.Tensor2D[];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy as tf.Tensor2D)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** Batched matMul [n, p, q] × [n, q, r] with a flag-free gradient. */
export const bmm = customOp((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as tf.Tensor3D[];
      return [
        tf.matMul(dy as tf.Tensor3D, tf.transpose(sb, [0, 2, 1])),
        tf.matMul(tf.transpose(sa, [0, 2, 1]), dy as tf.Tensor3D),
      ];
    },
  };
}) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

export interface Linear {
  w: tf.Variable; // [in, out]
  b: tf.Variable | null; // [out]
}

export type LinearInit = 'torch' | 'xavier';

/** PyTorch's defaults: 'torch' = U(±1/√fan_in) for weight and bias; 'xavier' = Xavier-uniform weight, zero bias. */
export function createLinear(
  p: ParamStore,
  name: string,
  inF: number,
  outF: number,
  init: LinearInit = 'torch',
  bias = true,
): Linear {
  const bound = init === 'xavier' ? Math.sqrt(6 / (inF + outF)) : 1 / Math.sqrt(inF);
  const w = p.uniform(`${name}.weight`, [inF, outF], bound, 'linear');
  let b: tf.Variable | null = null;
  if (bias)
    b =
      init === 'xavier' ? p.constant(`${name}.bias`, [outF], 0) : p.uniform(`${name}.bias`, [outF], 1 / Math.sqrt(inF));
  return { w, b };
}

/** x [..., in] → [..., out] as one 2-D matMul. */
export function linear(l: Linear, x: tf.Tensor): tf.Tensor {
  return applyDense(x, l.w, l.b);
}

export function applyDense(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor {
  const inF = x.shape[x.rank - 1];
  const lead = x.shape.slice(0, -1);
  let y: tf.Tensor = mm(x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inF]), w as tf.Tensor2D);
  if (b) y = tf.add(y, b);
  return x.rank === 2 ? y : tf.reshape(y, [...lead, w.shape[1] as number]);
}

export interface Norm {
  g: tf.Variable | null;
  b: tf.Variable | null;
}

export function createLayerNorm(p: ParamStore, name: string, width: number): Norm {
  return { g: p.constant(`${name}.weight`, [width], 1), b: p.constant(`${name}.bias`, [width], 0) };
}

export function layerNorm(n: Norm, x: tf.Tensor, eps = 1e-5): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  if (n.g) y = tf.mul(y, n.g);
  if (n.b) y = tf.add(y, n.b);
  return y;
}

/** BatchNorm with PyTorch's conventions (momentum 0.1, unbiased running variance, ε 1e-5). */
export interface BatchNorm extends Norm {
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

export function createBatchNorm(p: ParamStore, name: string, channels: number, affine: boolean): BatchNorm {
  return {
    g: affine ? p.constant(`${name}.weight`, [channels], 1) : null,
    b: affine ? p.constant(`${name}.bias`, [channels], 0) : null,
    runningMean: p.constant(`${name}.running_mean`, [channels], 0, false),
    runningVar: p.constant(`${name}.running_var`, [channels], 1, false),
  };
}

/**
 * x [B, C] or [B, C, W] with channels on axis 1. Training uses batch statistics and updates the
 * running ones (a side effect outside the gradient path); eval uses the running ones.
 */
export function batchNorm(bn: BatchNorm, x: tf.Tensor, training: boolean, eps = 1e-5): tf.Tensor {
  const C = x.shape[1] as number;
  const statShape = x.rank === 3 ? [1, C, 1] : [1, C];
  const axes = x.rank === 3 ? [0, 2] : [0];
  let mean: tf.Tensor, variance: tf.Tensor;
  if (training) {
    ({ mean, variance } = tf.moments(x, axes, true));
    const count = x.size / C;
    const unbiased = count > 1 ? count / (count - 1) : 1;
    const m = mean,
      v = variance;
    tf.tidy(() => {
      bn.runningMean.assign(tf.add(tf.mul(bn.runningMean, 0.9), tf.mul(tf.reshape(m, [C]), 0.1)));
      bn.runningVar.assign(tf.add(tf.mul(bn.runningVar, 0.9), tf.mul(tf.reshape(v, [C]), 0.1 * unbiased)));
    });
  } else {
    mean = tf.reshape(bn.runningMean, statShape);
    variance = tf.reshape(bn.runningVar, statShape);
  }
  let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  if (bn.g) y = tf.mul(y, tf.reshape(bn.g, statShape));
  if (bn.b) y = tf.add(y, tf.reshape(bn.b, statShape));
  return y;
}

/**
 * Inverted dropout with a counter-based mask: element i is kept iff a hash of (seed, i) clears the
 * rate (wasmAttention.ts), the seed being one draw of the run's generator. On wasm the mask is drawn
 * inside a kernel and never stored (the backward pass is the same kernel on dy); other backends
 * multiply by the same mask built in JavaScript.
 */
export function dropout(x: tf.Tensor, rate: number, ctx: Ctx): tf.Tensor {
  if (!ctx.training || rate <= 0) return x;
  return dropoutSeeded(x, rate, ctx.rng.childSeed());
}

/** Dropout with a given seed (element i of x's flat layout kept iff the hash of (seed, i) clears the rate). */
export function dropoutSeeded(x: tf.Tensor, rate: number, seed: number, fused = fusedKernelsActive()): tf.Tensor {
  if (x.dtype === 'float32' && fused) {
    const run = (t: tf.Tensor) => tf.engine().runKernel(KERNEL_DROPOUT, { x: t }, { rate, seed }) as tf.Tensor;
    return customOp((t: tf.Tensor) => ({ value: run(t), gradFunc: (dy: tf.Tensor) => [run(dy)] }))(x);
  }
  return tf.mul(x, tf.tensor(dropoutMask(x.size, rate, seed), x.shape, 'float32'));
}

// ---------------------------------------------------------------- lengths, masks and positions (JS side)

/** [B, L] 1 on valid positions (t < len), 0 on padding. */
export function validMask(len: Int32Array, L: number): Float32Array {
  const out = new Float32Array(len.length * L);
  for (let b = 0; b < len.length; b++) out.fill(1, b * L, b * L + Math.min(len[b], L));
  return out;
}

/** Additive attention bias [B, 1, 1, Lk]: 0 for valid keys, a large negative for padding. */
export function keyBias(valid: Float32Array, B: number, Lk: number): tf.Tensor4D {
  const out = new Float32Array(valid.length);
  for (let i = 0; i < valid.length; i++) out[i] = valid[i] ? 0 : MASKED;
  return tf.tensor4d(out, [B, 1, 1, Lk]);
}

/**
 * Masked keys get this before the softmax. The reference fills float32's minimum; any value whose
 * exp underflows to 0 gives the same softmax, and an additive one stays finite under addition.
 */
export const MASKED = -1e9;

/** fairseq positions: 1..len on valid positions, 0 (the zero embedding) on padding. */
export function positions(len: Int32Array, L: number): Int32Array {
  const out = new Int32Array(len.length * L);
  for (let b = 0; b < len.length; b++) for (let t = 0; t < Math.min(len[b], L); t++) out[b * L + t] = t + 1;
  return out;
}

/**
 * fairseq sinusoidal embedding [B, L, w] for integer positions: [sin | cos] halves, freq_k =
 * 10000^(−k/(half−1)), a zero column for odd widths, position 0 → zeros. Rounded to float32 at the
 * same points as PyTorch so long sequences stay within parity tolerance.
 */
export function sinusoid(pos: Int32Array, B: number, L: number, w: number): tf.Tensor3D {
  const half = Math.floor(w / 2);
  const c = Math.fround(-(Math.log(10000) / (half - 1)));
  const freq = new Float32Array(half);
  for (let k = 0; k < half; k++) freq[k] = Math.fround(Math.exp(Math.fround(k * c)));
  const out = new Float32Array(B * L * w);
  for (let i = 0; i < B * L; i++) {
    const p = pos[i];
    if (p === 0) continue;
    const o = i * w;
    for (let k = 0; k < half; k++) {
      const ang = Math.fround(p * freq[k]);
      out[o + k] = Math.sin(ang);
      out[o + half + k] = Math.cos(ang);
    }
  }
  return tf.tensor3d(out, [B, L, w]);
}
