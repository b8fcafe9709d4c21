import * as tf from '../tf.ts';
import type { MT19937 } from '../random.ts';
import type { ParamStore } from './params.ts';
import { dropoutMask, fusedKernelsActive, KERNEL_DROPOUT } from '../wasmAttention.ts';
import { KERNEL_WASM_DENSE, KERNEL_WASM_DENSE_GRAD, wasmDenseActive } from '../wasmDense.ts';
import { KERNEL_WASM_LAYER_NORM, KERNEL_WASM_LAYER_NORM_GRAD, wasmNormActive } from '../wasmNorm.ts';
import {
  KERNEL_BATCH_NORM,
  KERNEL_BATCH_NORM_GRAD,
  KERNEL_CROSS_PROJ,
  KERNEL_CROSS_PROJ_GRAD,
  KERNEL_DENSE_GRAD,
  KERNEL_DENSE_RESIDUAL,
  KERNEL_DROP_ADD,
  KERNEL_LAYER_NORM,
  KERNEL_LAYER_NORM_GRAD,
  KERNEL_QKV,
  KERNEL_QKV_GRAD,
  webgpuFused,
  webgpuKernelActive,
} from './webgpu/select.ts';

/**
 * Small building blocks shared by every block of the model. Two tfjs-on-wasm facts shape them
 * (ENVIRONMENT.md): matMul is fast only as a plain 2-D call without transpose flags, and tfjs's own
 * matMul gradient uses those flags — so `mm`/`bmm` carry hand-written gradients with explicit
 * transposes, and every Linear is applied as one 2-D matMul over the flattened leading axes.
 *
 * WebGPU is the exception: its matMul shader reads either layout, so a flag costs nothing there while
 * a Transpose is a dispatch of its own. On webgpu the gradients use the flags, and a Linear is tfjs's
 * fused matMul (bias and ReLU inside the same program) with a hand-written backward.
 */

/** Forward-pass state: train/eval mode and the run's generator for dropout seeds. */
export interface Ctx {
  training: boolean;
  rng: MT19937;
  /**
   * Inspection only (eval mode): every attention op hands its softmax maps [B, h, Lq, Lk] here, named
   * `${encoder}.layer${i}` (e.g. `macro.hub_tf.t.layer0`). The tensors belong to the caller's tidy:
   * keep what must outlive it. Setting it forces the op-by-op path (the fused kernels keep no maps).
   */
  capture?: (name: string, probs: tf.Tensor4D) => void;
}

/** tf.customGrad with a signature TypeScript can check (its own typing mixes tensors and `save`). */
export function customOp<T extends tf.Tensor>(
  f: (...args: never[]) => { value: T; gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor[] },
): (...inputs: tf.Tensor[]) => T {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => T;
}

/** True where matMul's transpose flags are free (webgpu, unless the `dense` switch is off for an A/B). */
function flagsFree(): boolean {
  return webgpuFused.dense && tf.getBackend() === 'webgpu';
}

export const mm = customOp((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as tf.Tensor2D[];
      if (flagsFree()) return [tf.matMul(dy, sb, false, true), tf.matMul(sa, dy, true, false)];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy as tf.Tensor2D)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** Batched matMul [n, p, q] × [n, q, r] with a flag-free gradient (flags on webgpu). */
export const bmm = customOp((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as tf.Tensor3D[];
      if (flagsFree()) return [tf.matMul(dy, sb, false, true), tf.matMul(sa, dy, true, false)];
      return [
        tf.matMul(dy as tf.Tensor3D, tf.transpose(sb, [0, 2, 1])),
        tf.matMul(tf.transpose(sa, [0, 2, 1]), dy as tf.Tensor3D),
      ];
    },
  };
}) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/**
 * a [N, in] × b [in, out] (+ bias [out]) (then ReLU) on webgpu: one fused-matMul dispatch forward,
 * and one program backward (`MfmbDenseGrad`: ∂a, ∂b and ∂bias together).
 */
function fusedDense(a: tf.Tensor2D, b: tf.Tensor2D, bias: tf.Tensor | null, relu: boolean): tf.Tensor2D {
  const [N, inF] = a.shape;
  const outF = b.shape[1];
  const attrs = { transposeA: false, transposeB: false, activation: relu ? 'relu' : 'linear', leakyreluAlpha: 0 };
  // Called as a kernel, not through tf.fused.matMul, which falls back to separate ops when ReLU is
  // fused while a gradient is being recorded; the backward below is our own.
  const run = (x: tf.Tensor, w: tf.Tensor, bs: tf.Tensor | null) => {
    const inputs: tf.NamedTensorMap = { a: tf.reshape(x, [1, N, inF]), b: tf.reshape(w, [1, inF, outF]) };
    if (bs) inputs.bias = bs;
    const y = tf.engine().runKernel('_FusedMatMul', inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    return tf.reshape(y, [N, outF]); // [N, out]
  };
  const back = (dy: tf.Tensor, [sx, sw, sy]: tf.Tensor[]): tf.Tensor[] => {
    if (tf.getKernel(KERNEL_DENSE_GRAD, 'webgpu')) {
      // ∂x, ∂W and ∂b (through the ReLU) from one program.
      const inputs: tf.NamedTensorMap = { dy, x: sx, w: sw };
      if (relu) inputs.y = sy;
      return tf
        .engine()
        .runKernel(KERNEL_DENSE_GRAD, inputs, { relu, bias: !!bias } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    }
    let dz = dy as tf.Tensor2D; // [N, out]
    if (relu) dz = tf.mul(dy, tf.step(sy)) as tf.Tensor2D;
    const grads: tf.Tensor[] = [
      tf.matMul(dz, sw as tf.Tensor2D, false, true), // [N, in]
      tf.matMul(sx as tf.Tensor2D, dz, true, false), // [in, out]
    ];
    if (bias) grads.push(tf.sum(dz, 0)); // [out]
    return grads;
  };
  const keep = (x: tf.Tensor, w: tf.Tensor, y: tf.Tensor) => (relu ? [x, w, y] : [x, w]);
  if (bias)
    return customOp((x: tf.Tensor, w: tf.Tensor, bs: tf.Tensor, save: tf.GradSaveFunc) => {
      const y = run(x, w, bs);
      save(keep(x, w, y));
      return { value: y, gradFunc: back };
    })(a, b, bias) as tf.Tensor2D;
  return customOp((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
    const y = run(x, w, null);
    save(keep(x, w, y));
    return { value: y, gradFunc: back };
  })(a, b) as tf.Tensor2D;
}

/** True where a cross-attention's projections run as one program (`crossProjection`). */
export function crossProjActive(): boolean {
  return flagsFree() && webgpuKernelActive('attention', KERNEL_CROSS_PROJ);
}

/**
 * A cross-attention's q and k|v projections from the packed in-projection (inW [w, 3w], inB [3w]) as
 * one flat buffer P = [q (B·Lq·w) | k|v (B·Lk·2w)] for the attention kernels, which read both parts by
 * offset (webgpu only: see crossProjActive). One program forward, one backward.
 */
export function crossProjection(x: tf.Tensor3D, kv: tf.Tensor3D, inW: tf.Tensor, inB: tf.Tensor): tf.Tensor1D {
  const w = x.shape[2];
  return customOp((tx: tf.Tensor, tkv: tf.Tensor, tw: tf.Tensor, tb: tf.Tensor, save: tf.GradSaveFunc) => {
    const x2 = tf.reshape(tx, [-1, w]); // [N1, w]
    const kv2 = tf.reshape(tkv, [-1, w]); // [N2, w]
    save([x2, kv2, tw]);
    return {
      value: tf.engine().runKernel(KERNEL_CROSS_PROJ, { x: x2, kv: kv2, w: tw, b: tb }) as tf.Tensor1D,
      gradFunc: (dp: tf.Tensor, [sx, skv, sw]: tf.Tensor[]) => {
        const [dx, dkv, dw, db] = tf
          .engine()
          .runKernel(KERNEL_CROSS_PROJ_GRAD, { dp, x: sx, kv: skv, w: sw }) as tf.Tensor[];
        return [tf.reshape(dx, tx.shape), tf.reshape(dkv, tkv.shape), dw, db];
      },
    };
  })(x, kv, inW, inB);
}

/** True where three bias-free projections of one input run as one program (`qkvProjection`). */
export function qkvActive(): boolean {
  return flagsFree() && webgpuKernelActive('attention', KERNEL_QKV);
}

/** x [B, L, w] → [B, L, 3w] = [x·Wq | x·Wk | x·Wv] (bias-free), one program each way (webgpu only). */
export function qkvProjection(x: tf.Tensor3D, wq: tf.Tensor, wk: tf.Tensor, wv: tf.Tensor): tf.Tensor3D {
  const [B, L, w] = x.shape;
  return customOp((tx: tf.Tensor, a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, save: tf.GradSaveFunc) => {
    const x2 = tf.reshape(tx, [-1, w]); // [N, w]
    save([x2, a, b, c]);
    const P = tf.engine().runKernel(KERNEL_QKV, { x: x2, wq: a, wk: b, wv: c }) as tf.Tensor;
    return {
      value: tf.reshape(P, [B, L, 3 * w]),
      gradFunc: (dp: tf.Tensor, [sx, sa, sb, sc]: tf.Tensor[]) => {
        const [dx, ...dw] = tf.engine().runKernel(KERNEL_QKV_GRAD, {
          dp: tf.reshape(dp, [-1, 3 * w]),
          x: sx,
          wq: sa,
          wk: sb,
          wv: sc,
        }) as tf.Tensor[];
        return [tf.reshape(dx, tx.shape), ...dw];
      },
    };
  })(x, wq, wk, wv) as tf.Tensor3D;
}

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

/** x [..., in] → [..., out] as one 2-D matMul; `relu` applies ReLU to the result. */
export function linear(l: Linear, x: tf.Tensor, act: 'linear' | 'relu' = 'linear'): tf.Tensor {
  return applyDense(x, l.w, l.b, act);
}

export function applyDense(
  x: tf.Tensor,
  w: tf.Tensor,
  b: tf.Tensor | null,
  act: 'linear' | 'relu' = 'linear',
): tf.Tensor {
  const inF = x.shape[x.rank - 1];
  const lead = x.shape.slice(0, -1);
  const x2 = x.rank === 2 ? (x as tf.Tensor2D) : (tf.reshape(x, [-1, inF]) as tf.Tensor2D); // [N, in]
  let y: tf.Tensor;
  if (x.dtype === 'float32' && flagsFree() && tf.getKernel('_FusedMatMul', 'webgpu')) {
    y = fusedDense(x2, w as tf.Tensor2D, b, act === 'relu');
  } else if (x.dtype === 'float32' && w.dtype === 'float32' && (!b || b.dtype === 'float32') && wasmDenseActive()) {
    y = wasmDense(x2, w as tf.Tensor2D, b, act === 'relu');
  } else {
    y = mm(x2, w as tf.Tensor2D);
    if (b) y = tf.add(y, b);
    if (act === 'relu') y = tf.relu(y);
  }
  return x.rank === 2 ? y : tf.reshape(y, [...lead, w.shape[1] as number]);
}

/** a [N, in] × b [in, out] (+ bias) (then ReLU) on wasm: one kernel forward, one backward (wasmDense.ts). */
function wasmDense(a: tf.Tensor2D, b: tf.Tensor2D, bias: tf.Tensor | null, relu: boolean): tf.Tensor2D {
  const attrs = { relu, bias: !!bias } as unknown as tf.NamedAttrMap;
  const back = (dy: tf.Tensor, [sx, sw, sy]: tf.Tensor[]): tf.Tensor[] => {
    const inputs: tf.NamedTensorMap = { dy, x: sx, w: sw };
    if (relu) inputs.y = sy;
    return tf.engine().runKernel(KERNEL_WASM_DENSE_GRAD, inputs, attrs) as tf.Tensor[];
  };
  const forward = (x: tf.Tensor, w: tf.Tensor, bs: tf.Tensor | null, save: tf.GradSaveFunc) => {
    const inputs: tf.NamedTensorMap = { x, w };
    if (bs) inputs.b = bs;
    const y = tf.engine().runKernel(KERNEL_WASM_DENSE, inputs, attrs) as tf.Tensor2D;
    save(relu ? [x, w, y] : [x, w]);
    return { value: y, gradFunc: back };
  };
  if (bias)
    return customOp((x: tf.Tensor, w: tf.Tensor, bs: tf.Tensor, save: tf.GradSaveFunc) => forward(x, w, bs, save))(
      a,
      b,
      bias,
    ) as tf.Tensor2D;
  return customOp((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => forward(x, w, null, save))(
    a,
    b,
  ) as tf.Tensor2D;
}

export interface Norm {
  g: tf.Variable | null;
  b: tf.Variable | null;
}

export function createLayerNorm(p: ParamStore, name: string, width: number): Norm {
  return { g: p.constant(`${name}.weight`, [width], 1), b: p.constant(`${name}.bias`, [width], 0) };
}

/**
 * LayerNorm over the last axis. On WebGPU one fused program forward (keeping each row's mean and
 * rstd) and one backward (webgpu/kernels.ts) instead of ~8 and ~25 small kernels; on wasm likewise
 * one kernel each way (wasmNorm.ts); the same arithmetic op by op elsewhere.
 */
export function layerNorm(n: Norm, x: tf.Tensor, eps = 1e-5): tf.Tensor {
  if (n.g && n.b && x.dtype === 'float32' && webgpuKernelActive('layerNorm', KERNEL_LAYER_NORM)) {
    const w = x.shape[x.rank - 1];
    const shape = x.shape;
    const run = (inputs: tf.NamedTensorMap, kernel: string) =>
      tf.engine().runKernel(kernel, inputs, { eps } as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
    return customOp((t: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
      const x2 = tf.reshape(t, [-1, w]); // [N, w]
      const [y, st] = run({ x: x2, g, b }, KERNEL_LAYER_NORM) as tf.Tensor[]; // [N, w], [N, 2] row (mean, rstd)
      save([x2, g, st]);
      return {
        value: tf.reshape(y, shape),
        gradFunc: (dy: tf.Tensor, [sx, sg, sst]: tf.Tensor[]) => {
          const [dx, dg, db] = run(
            { dy: tf.reshape(dy, [-1, w]), x: sx, g: sg, st: sst },
            KERNEL_LAYER_NORM_GRAD,
          ) as tf.Tensor[];
          return [tf.reshape(dx, shape), dg, db];
        },
      };
    })(x, n.g, n.b);
  }
  if (n.g && n.b && x.dtype === 'float32' && wasmNormActive()) {
    // wasm: one kernel forward (keeping each row's mean and rstd) and one backward (wasmNorm.ts).
    const w = x.shape[x.rank - 1];
    const shape = x.shape;
    return customOp((t: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
      const x2 = tf.reshape(t, [-1, w]); // [N, w]
      const attrs = { eps } as unknown as tf.NamedAttrMap;
      const [y, st] = tf.engine().runKernel(KERNEL_WASM_LAYER_NORM, { x: x2, g, b }, attrs) as tf.Tensor[];
      save([x2, g, st]);
      return {
        value: tf.reshape(y, shape),
        gradFunc: (dy: tf.Tensor, [sx, sg, sst]: tf.Tensor[]) => {
          const inputs = { dy: tf.reshape(dy, [-1, w]), x: sx, g: sg, st: sst };
          const [dx, dg, db] = tf.engine().runKernel(KERNEL_WASM_LAYER_NORM_GRAD, inputs) as tf.Tensor[];
          return [tf.reshape(dx, shape), dg, db];
        },
      };
    })(x, n.g, n.b);
  }
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
  if (training && x.dtype === 'float32' && webgpuKernelActive('batchNorm', KERNEL_BATCH_NORM))
    return batchNormFused(bn, x, eps);
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
 * Training-mode BatchNorm on webgpu: one program forward (batch statistics, y, and the running
 * statistics' new values, assigned here as the op path does) and one backward.
 */
function batchNormFused(bn: BatchNorm, x: tf.Tensor, eps: number): tf.Tensor {
  const [B, C] = x.shape;
  const W = x.rank === 3 ? (x.shape[2] as number) : 1;
  const count = x.size / C;
  const attrs = { eps, varFactor: 0.1 * (count > 1 ? count / (count - 1) : 1) } as unknown as tf.NamedAttrMap;
  const run = (inputs: tf.NamedTensorMap, kernel: string, a: tf.NamedAttrMap = {}) =>
    tf.engine().runKernel(kernel, inputs, a) as tf.Tensor[];
  const forward = (t: tf.Tensor, save: tf.GradSaveFunc, g?: tf.Tensor, b?: tf.Tensor) => {
    const x3 = tf.reshape(t, [B, C, W]); // [B, C, W]
    const inputs: tf.NamedTensorMap = { x: x3, rm: bn.runningMean, rv: bn.runningVar };
    if (g && b) Object.assign(inputs, { g, b });
    const [y, st, rm, rv] = run(inputs, KERNEL_BATCH_NORM, attrs); // st [mean | rstd] per channel
    bn.runningMean.assign(rm);
    bn.runningVar.assign(rv);
    save(g ? [x3, st, g] : [x3, st]);
    return {
      value: tf.reshape(y, t.shape),
      gradFunc: (dy: tf.Tensor, [sx, sst, sg]: tf.Tensor[]) => {
        const ins: tf.NamedTensorMap = { dy: tf.reshape(dy, [B, C, W]), x: sx, st: sst };
        if (sg) ins.g = sg;
        const [dx, ...rest] = run(ins, KERNEL_BATCH_NORM_GRAD);
        return [tf.reshape(dx, t.shape), ...rest];
      },
    };
  };
  if (bn.g && bn.b)
    return customOp((t: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => forward(t, save, g, b))(
      x,
      bn.g,
      bn.b,
    );
  return customOp((t: tf.Tensor, save: tf.GradSaveFunc) => forward(t, save))(x);
}

/**
 * Inverted dropout with a counter-based mask: element i is kept iff a hash of (seed, i) clears the
 * rate (wasmAttention.ts), the seed being one draw of the run's generator. On wasm and WebGPU the
 * mask is drawn inside a kernel and never stored (the backward pass is the same kernel on dy); other
 * backends multiply by the same mask built in JavaScript.
 */
export function dropout(x: tf.Tensor, rate: number, ctx: Ctx): tf.Tensor {
  if (!ctx.training || rate <= 0) return x;
  return dropoutSeeded(x, rate, ctx.rng.childSeed());
}

/** Dropout with a given seed (element i of x's flat layout kept iff the hash of (seed, i) clears the rate). */
export function dropoutSeeded(
  x: tf.Tensor,
  rate: number,
  seed: number,
  fused = fusedKernelsActive() || webgpuKernelActive('dropout', KERNEL_DROPOUT),
): tf.Tensor {
  if (x.dtype === 'float32' && fused) {
    const run = (t: tf.Tensor) => tf.engine().runKernel(KERNEL_DROPOUT, { x: t }, { rate, seed }) as tf.Tensor;
    return customOp((t: tf.Tensor) => ({ value: run(t), gradFunc: (dy: tf.Tensor) => [run(dy)] }))(x);
  }
  return tf.mul(x, tf.tensor(dropoutMask(x.size, rate, seed), x.shape, 'float32'));
}

/**
 * dropout(x·scale + c) with c a constant (the encoder's embedding: scaled input plus positions). On
 * webgpu one program each way (`MfmbDropAdd`) instead of Multiply, Add and dropout forward and
 * dropout and Multiply backward; the same mask (element i of x's flat layout) either way.
 */
export function scaleAddDropout(x: tf.Tensor, scale: number, c: tf.Tensor, rate: number, ctx: Ctx): tf.Tensor {
  const drop = ctx.training && rate > 0;
  if (x.dtype === 'float32' && webgpuKernelActive('dropAdd', KERNEL_DROP_ADD)) {
    const seed = drop ? ctx.rng.childSeed() : 0;
    const r = drop ? rate : 0;
    return customOp((t: tf.Tensor) => ({
      value: runDropAdd({ x: t, c }, 'inner', scale, r, seed),
      gradFunc: (dy: tf.Tensor) => [runDropAdd({ x: dy }, 'grad', scale, r, seed)],
    }))(x);
  }
  return dropout(tf.add(tf.mul(x, scale), c), rate, ctx);
}

/** h + dropout(a) (a residual connection). On webgpu one program forward and one backward (∂a). */
export function addDropout(h: tf.Tensor, a: tf.Tensor, rate: number, ctx: Ctx): tf.Tensor {
  const drop = ctx.training && rate > 0;
  if (h.dtype === 'float32' && a.dtype === 'float32' && webgpuKernelActive('dropAdd', KERNEL_DROP_ADD)) {
    const seed = drop ? ctx.rng.childSeed() : 0;
    const r = drop ? rate : 0;
    return customOp((th: tf.Tensor, ta: tf.Tensor) => ({
      value: runDropAdd({ x: ta, c: th }, 'outer', 1, r, seed),
      // ∂h is dy itself, as a new tensor on the same buffer (as tfjs's Add gradient): the tape disposes
      // gradients it accumulates, and dy may be another input's gradient too.
      gradFunc: (dy: tf.Tensor) => [tf.reshape(dy, dy.shape), runDropAdd({ x: dy }, 'grad', 1, r, seed)],
    }))(h, a);
  }
  return tf.add(h, dropout(a, rate, ctx));
}

/**
 * h + dropout(x·W + b): a residual branch's last Linear layer with its dropout and the add. On webgpu
 * one program forward (`MfmbDenseResidual`) and, backward, the masked gradient (`MfmbDropAdd`) and
 * the Linear backward (`MfmbDenseGrad`; ∂h is dy itself); elsewhere `linear` then `addDropout`. The same seed is drawn at the same point either way, so the masks agree.
 */
export function residualLinear(h: tf.Tensor, l: Linear, x: tf.Tensor, rate: number, ctx: Ctx): tf.Tensor {
  if (!(
    h.dtype === 'float32' &&
    x.dtype === 'float32' &&
    l.b &&
    flagsFree() &&
    webgpuKernelActive('dropAdd', KERNEL_DENSE_RESIDUAL)
  ))
    return addDropout(h, linear(l, x), rate, ctx);
  const drop = ctx.training && rate > 0;
  const seed = drop ? ctx.rng.childSeed() : 0;
  const r = drop ? rate : 0;
  const inF = x.shape[x.rank - 1];
  const outF = l.w.shape[1] as number;
  const attrs = { rate: r, seed };
  return customOp((th: tf.Tensor, tx: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const x2 = tf.reshape(tx, [-1, inF]); // [N, in]
    const c2 = tf.reshape(th, [-1, outF]); // [N, out]
    save([x2, w]);
    const y = tf.engine().runKernel(KERNEL_DENSE_RESIDUAL, { x: x2, w, b, c: c2 }, attrs as unknown as tf.NamedAttrMap);
    return {
      value: tf.reshape(y as tf.Tensor, th.shape),
      gradFunc: (dy: tf.Tensor, [sx, sw]: tf.Tensor[]) => {
        // The masked gradient is drawn once (the hash per element), then the Linear backward reads it:
        // the backward program reads each ∂z element many times.
        const dz = r > 0 ? runDropAdd({ x: dy }, 'grad', 1, r, seed) : dy;
        const [dx, dw, db] = tf
          .engine()
          .runKernel(KERNEL_DENSE_GRAD, { dy: tf.reshape(dz, [-1, outF]), x: sx, w: sw }, {
            relu: false,
            bias: true,
          } as unknown as tf.NamedAttrMap) as tf.Tensor[];
        return [tf.reshape(dy, dy.shape), tf.reshape(dx, tx.shape), dw, db];
      },
    };
  })(h, x, l.w, l.b);
}

function runDropAdd(inputs: tf.NamedTensorMap, mode: string, scale: number, rate: number, seed: number): tf.Tensor {
  return tf
    .engine()
    .runKernel(KERNEL_DROP_ADD, inputs, { mode, scale, rate, seed } as unknown as tf.NamedAttrMap) as tf.Tensor;
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
