import type * as tf from '../../tf.ts';
import { f, flat, type KernelArgs, type Program, unpack, type WebGPUBackendLike } from './program.ts';

/** LayerNorm and training-mode BatchNorm: one program forward and one backward each. */

// ------------------------------------------------------------------ LayerNorm

/**
 * LayerNorm over the last axis, x as [N, w]: one thread per row, the two-pass moments of tf.moments
 * (mean, then the mean squared deviation), rs = rsqrt(var + eps).
 */
const LN_STATS = /* wgsl */ `
      var mean = 0.0;
      for (var c = 0; c < W_; c++) { mean += x[o + c]; }
      mean = mean / f32(W_);
      var vr = 0.0;
      for (var c = 0; c < W_; c++) { let e = x[o + c] - mean; vr += e * e; }
      let rs = inverseSqrt(vr / f32(W_) + EPS);`;

/**
 * Forward with the row statistics kept for the backward pass: one program writes the packed
 * [y (N·w) | (mean, rsqrt(var + eps)) per row (2N)], which buffer copies split into y and st.
 */
function lnForwardStatsProgram(N: number, w: number, eps: number): Program {
  return flat(
    `mfmbLnFwdSt_${w}_${eps}`,
    ['x', 'g', 'b'],
    [N * w + 2 * N],
    N,
    /* wgsl */ `
    const W_ = ${w}; const EPS = ${f(eps)};
    fn main(index : i32) {
      let N = uniforms.xShape.x;
      if (index >= N) { return; }
      let o = index * W_;
      ${LN_STATS}
      for (var c = 0; c < W_; c++) { result[o + c] = (x[o + c] - mean) * rs * g[c] + b[c]; }
      result[N * W_ + index * 2] = mean;
      result[N * W_ + index * 2 + 1] = rs;
    }`,
  );
}

/**
 * The whole backward in one program, threads by task: [0, N) one row of ∂x = rs·(ĝ − mean(ĝ) −
 * x̂·mean(ĝ ⊙ x̂)) with ĝ = dy ⊙ g; [N, N + w) one column of ∂g = Σₙ dy ⊙ x̂; [N + w, N + 2w) one
 * column of ∂b = Σₙ dy. Output packed [∂x (N·w) | ∂g (w) | ∂b (w)].
 */
function lnGradProgram(N: number, w: number): Program {
  return flat(
    `mfmbLnGrad_${w}`,
    ['x', 'g', 'dy', 'st'],
    [N * w + 2 * w],
    N + 2 * w,
    /* wgsl */ `
    const W_ = ${w};
    fn main(index : i32) {
      let N = uniforms.xShape.x;
      if (index < N) {
        let o = index * W_;
        let mean = st[index * 2];
        let rs = st[index * 2 + 1];
        var s1 = 0.0;
        var s2 = 0.0;
        for (var c = 0; c < W_; c++) {
          let gh = dy[o + c] * g[c];
          s1 += gh;
          s2 += gh * (x[o + c] - mean) * rs;
        }
        s1 = s1 / f32(W_);
        s2 = s2 / f32(W_);
        for (var c = 0; c < W_; c++) {
          result[o + c] = rs * (dy[o + c] * g[c] - s1 - (x[o + c] - mean) * rs * s2);
        }
      } else if (index < N + W_) {
        let c = index - N;
        var acc = 0.0;
        for (var n = 0; n < N; n++) { acc += dy[n * W_ + c] * (x[n * W_ + c] - st[n * 2]) * st[n * 2 + 1]; }
        result[N * W_ + c] = acc;
      } else if (index < N + 2 * W_) {
        let c = index - N - W_;
        var acc = 0.0;
        for (var n = 0; n < N; n++) { acc += dy[n * W_ + c]; }
        result[N * W_ + W_ + c] = acc;
      }
    }`,
  );
}

/** inputs x [N, w], g [w], b [w] → [y [N, w], st [N, 2]] (st for the backward pass): one dispatch. */
export function layerNormKernel(args: KernelArgs): tf.TensorInfo[] {
  const { eps } = args.attrs as unknown as { eps: number };
  const backend = args.backend as WebGPUBackendLike;
  const { x, g, b } = args.inputs as Record<string, tf.TensorInfo>;
  const [N, w] = x.shape;
  const packed = backend.runWebGPUProgram(lnForwardStatsProgram(N, w, eps), [x, g, b], 'float32');
  return unpack(backend, packed, [
    [N, w],
    [N, 2],
  ]);
}

/** inputs dy, x [N, w], g, st (the forward's) → [∂x, ∂g, ∂b]: one dispatch. */
export function layerNormGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGPUBackendLike;
  const { dy, x, g, st } = args.inputs as Record<string, tf.TensorInfo>;
  const [N, w] = x.shape;
  const packed = backend.runWebGPUProgram(lnGradProgram(N, w), [x, g, dy, st], 'float32');
  return unpack(backend, packed, [[N, w], [w], [w]]);
}

// ------------------------------------------------------------------ BatchNorm (training)

/** What ops.ts passes to `MfmbBatchNorm`. */
export interface BatchNormAttrs {
  eps: number;
  /** 0.1 · count/(count − 1): the running variance's factor (PyTorch keeps the unbiased variance). */
  varFactor: number;
}

/**
 * Training-mode BatchNorm over x [B, C, W] (channels on axis 1), one thread per channel: the batch
 * mean and (biased, two-pass) variance, y = (x − mean)·rsqrt(var + eps)(·g + b), and the running
 * statistics' update rm·0.9 + mean·0.1, rv·0.9 + var·varFactor. Output packed [y | mean | rstd | rm' | rv'].
 */
export function batchNormKernel(args: KernelArgs): tf.TensorInfo[] {
  const { eps, varFactor } = args.attrs as unknown as BatchNormAttrs;
  const backend = args.backend as WebGPUBackendLike;
  const { x, g, b, rm, rv } = args.inputs as Record<string, tf.TensorInfo>;
  const [B, C, W] = x.shape;
  const affine = !!g;
  const body = /* wgsl */ `
    const B_ = ${B}; const C_ = ${C}; const W_ = ${W}; const EPS = ${f(eps)};
    const N = B_ * W_; const Y = B_ * C_ * W_;
    fn main(index : i32) {
      if (index >= C_) { return; }
      let c = index;
      var mean = 0.0;
      for (var bb = 0; bb < B_; bb++) { for (var w = 0; w < W_; w++) { mean += x[(bb * C_ + c) * W_ + w]; } }
      mean = mean / f32(N);
      var vr = 0.0;
      for (var bb = 0; bb < B_; bb++) {
        for (var w = 0; w < W_; w++) { let e = x[(bb * C_ + c) * W_ + w] - mean; vr += e * e; }
      }
      vr = vr / f32(N);
      let rs = inverseSqrt(vr + EPS);
      for (var bb = 0; bb < B_; bb++) {
        for (var w = 0; w < W_; w++) {
          let i = (bb * C_ + c) * W_ + w;
          result[i] = ${affine ? '(x[i] - mean) * rs * g[c] + b[c]' : '(x[i] - mean) * rs'};
        }
      }
      result[Y + c] = mean;
      result[Y + C_ + c] = rs;
      result[Y + 2 * C_ + c] = rm[c] * ${f(0.9)} + mean * ${f(0.1)};
      result[Y + 3 * C_ + c] = rv[c] * ${f(0.9)} + vr * uniforms.vf;
    }`;
  const vars = affine ? ['x', 'rm', 'rv', 'g', 'b'] : ['x', 'rm', 'rv'];
  const n = B * C * W + 4 * C;
  const packed = backend.runWebGPUProgram(
    flat(`mfmbBatchNorm_${B}_${C}_${W}_${affine}_${eps}`, vars, [n], C, body, 'vf : f32,'),
    affine ? [x, rm, rv, g, b] : [x, rm, rv],
    'float32',
    [{ type: 'float32', data: [varFactor] }],
  );
  return unpack(backend, packed, [[B, C, W], [2 * C], [C], [C]]);
}

/**
 * inputs dy, x [B, C, W], st [mean | rstd] (the forward's), g (affine) → [∂x, (affine) ∂g, ∂b], one
 * thread per channel: ∂x = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)), ĝ = dy·g.
 */
export function batchNormGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGPUBackendLike;
  const { dy, x, st, g } = args.inputs as Record<string, tf.TensorInfo>;
  const [B, C, W] = x.shape;
  const affine = !!g;
  const body = /* wgsl */ `
    const B_ = ${B}; const C_ = ${C}; const W_ = ${W};
    const N = B_ * W_; const Y = B_ * C_ * W_;
    fn main(index : i32) {
      if (index >= C_) { return; }
      let c = index;
      let mean = st[c];
      let rs = st[C_ + c];
      let gc = ${affine ? 'g[c]' : '1.0'};
      var sdy = 0.0;
      var sdyx = 0.0;
      for (var bb = 0; bb < B_; bb++) {
        for (var w = 0; w < W_; w++) {
          let i = (bb * C_ + c) * W_ + w;
          sdy += dy[i];
          sdyx += dy[i] * (x[i] - mean) * rs;
        }
      }
      let m1 = sdy * gc / f32(N);
      let m2 = sdyx * gc / f32(N);
      for (var bb = 0; bb < B_; bb++) {
        for (var w = 0; w < W_; w++) {
          let i = (bb * C_ + c) * W_ + w;
          result[i] = rs * (dy[i] * gc - m1 - (x[i] - mean) * rs * m2);
        }
      }
      ${affine ? 'result[Y + c] = sdyx; result[Y + C_ + c] = sdy;' : ''}
    }`;
  const vars = affine ? ['dy', 'x', 'st', 'g'] : ['dy', 'x', 'st'];
  const n = B * C * W + (affine ? 2 * C : 0);
  const packed = backend.runWebGPUProgram(
    flat(`mfmbBatchNormGrad_${B}_${C}_${W}_${affine}`, vars, [n], C, body),
    affine ? [dy, x, st, g] : [dy, x, st],
    'float32',
  );
  return unpack(backend, packed, affine ? [[B, C, W], [C], [C]] : [[B, C, W]]);
}
