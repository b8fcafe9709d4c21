import type * as tf from '../../tf.ts';
import {
  DROP_UNIFORMS,
  dropUniforms,
  flat,
  HASH,
  type KernelArgs,
  type Program,
  unpack,
  type WebGPUBackendLike,
} from './program.ts';

/**
 * Linear layers beyond tfjs's fused matMul: the one-program backward, the residual branch's last layer
 * with its dropout and add, and the attention projections (cross q | k|v, the reconstruction's q|k|v).
 */

// ------------------------------------------------------------------ Linear backward

/** What ops.ts passes to `MfmbDenseGrad`. */
export interface DenseGradAttrs {
  /** The forward applied ReLU: ∂z = dy where y > 0 (y is then an input). */
  relu: boolean;
  /** The layer has a bias: ∂b is returned too. */
  bias: boolean;
}

/**
 * A Linear layer's whole backward (y = act(x·W + b), x [N, in], W [in, out]) in one program, threads
 * by task: [0, N·in) one element of ∂x = ∂z·Wᵀ; then in·out elements of ∂W = xᵀ·∂z; then (bias)
 * out columns of ∂b = Σₙ ∂z. ∂z is dy, masked by y > 0 after a ReLU, read where it is needed (never
 * stored; a dropout's mask is applied before: its hash would be recomputed at every read). Output
 * packed [∂x | ∂W | ∂b].
 */
function denseGradProgram(N: number, inF: number, outF: number, relu: boolean, bias: boolean): Program {
  const vars = relu ? ['dy', 'x', 'w', 'y'] : ['dy', 'x', 'w'];
  const total = N * inF + inF * outF + (bias ? outF : 0);
  const dz = (i: string) => (relu ? `select(0.0, dy[${i}], y[${i}] > 0.0)` : `dy[${i}]`);
  return flat(
    `mfmbDenseGrad_${inF}_${outF}_${relu}_${bias}`,
    vars,
    [total],
    total,
    /* wgsl */ `
    const IN = ${inF}; const OUT = ${outF};
    fn main(index : i32) {
      let N = uniforms.xShape.x;
      let nx = N * IN;
      if (index < nx) {
        let n = index / IN;
        let i = index - n * IN;
        var acc = 0.0;
        for (var o = 0; o < OUT; o++) { acc += ${dz('n * OUT + o')} * w[i * OUT + o]; }
        result[index] = acc;
      } else if (index < nx + IN * OUT) {
        let k = index - nx;
        let i = k / OUT;
        let o = k - i * OUT;
        var acc = 0.0;
        for (var n = 0; n < N; n++) { acc += x[n * IN + i] * ${dz('n * OUT + o')}; }
        result[index] = acc;
      }${
        bias
          ? ` else if (index < nx + IN * OUT + OUT) {
        let o = index - nx - IN * OUT;
        var acc = 0.0;
        for (var n = 0; n < N; n++) { acc += ${dz('n * OUT + o')}; }
        result[index] = acc;
      }`
          : ''
      }
    }`,
  );
}

/** inputs dy [N, out], x [N, in], w [in, out], (relu) y [N, out] → [∂x, ∂W, (bias) ∂b]: one dispatch. */
export function denseGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const { relu, bias } = args.attrs as unknown as DenseGradAttrs;
  const backend = args.backend as WebGPUBackendLike;
  const { dy, x, w, y } = args.inputs as Record<string, tf.TensorInfo>;
  const [N, inF] = x.shape;
  const outF = w.shape[1];
  const ins = relu ? [dy, x, w, y] : [dy, x, w];
  const packed = backend.runWebGPUProgram(denseGradProgram(N, inF, outF, relu, bias), ins, 'float32');
  const shapes = [[N, inF], [inF, outF], ...(bias ? [[outF]] : [])];
  return unpack(backend, packed, shapes);
}

/** What ops.ts passes to `MfmbDenseResidual`. */
export interface DenseResidualAttrs {
  rate: number;
  seed: number;
}

/**
 * A residual branch's last Linear layer and the add: y = c + drop(x·W + b), x [N, in], W [in, out],
 * c [N, out], one thread per output element. The mask is element i of y's flat layout, as
 * `MfmbDropAdd` 'outer' on the layer's output.
 */
export function denseResidualKernel(args: KernelArgs): tf.TensorInfo {
  const { rate, seed } = args.attrs as unknown as DenseResidualAttrs;
  const backend = args.backend as WebGPUBackendLike;
  const { x, w, b, c } = args.inputs as Record<string, tf.TensorInfo>;
  const [N, inF] = x.shape;
  const outF = w.shape[1];
  const drop = rate > 0;
  const vars = b ? ['x', 'w', 'c', 'b'] : ['x', 'w', 'c'];
  const body = /* wgsl */ `
    ${HASH}
    const IN = ${inF}; const OUT = ${outF};
    fn main(index : i32) {
      if (index >= uniforms.size) { return; }
      let n = index / OUT;
      let o = index - n * OUT;
      var acc = 0.0;
      for (var i = 0; i < IN; i++) { acc += x[n * IN + i] * w[i * OUT + o]; }
      ${b ? 'acc += b[o];' : ''}
      result[index] = c[index] + ${drop ? 'select(0.0, acc * uniforms.ks, kept_(u32(index)))' : 'acc'};
    }`;
  const prog = flat(
    `mfmbDenseResid_${inF}_${outF}_${!!b}_${drop}`,
    vars,
    [N, outF],
    N * outF,
    body,
    DROP_UNIFORMS,
    true,
  );
  return backend.runWebGPUProgram(prog, b ? [x, w, c, b] : [x, w, c], 'float32', dropUniforms(rate, seed));
}

/**
 * A cross-attention's input projections into one buffer P = [q (N1·w) | k|v (N2·2w)]: q = x·W[:, :w] +
 * b[:w], k|v = x_kv·W[:, w:] + b[w:] (W the packed [w, 3w] q|k|v matrix), one thread per element.
 * The attention kernels read q and k|v from P by offsets; this replaces splitting W and b (four
 * slices) and two matMuls, and backward their concats.
 */
export function crossProjKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WebGPUBackendLike;
  const { x, kv, w, b } = args.inputs as Record<string, tf.TensorInfo>;
  const [N1, W] = x.shape;
  const N2 = kv.shape[0];
  const body = /* wgsl */ `
    const W_ = ${W}; const W3 = ${3 * W};
    fn main(index : i32) {
      let N1 = uniforms.xShape.x;
      let N2 = uniforms.kvShape.x;
      if (index < N1 * W_) {
        let n = index / W_;
        let o = index - n * W_;
        var acc = b[o];
        for (var i = 0; i < W_; i++) { acc += x[n * W_ + i] * w[i * W3 + o]; }
        result[index] = acc;
      } else if (index < N1 * W_ + N2 * 2 * W_) {
        let k = index - N1 * W_;
        let n = k / (2 * W_);
        let o = W_ + k - n * 2 * W_;
        var acc = b[o];
        for (var i = 0; i < W_; i++) { acc += kv[n * W_ + i] * w[i * W3 + o]; }
        result[index] = acc;
      }
    }`;
  const total = N1 * W + N2 * 2 * W;
  return backend.runWebGPUProgram(
    flat(`mfmbCrossProj_${W}`, ['x', 'kv', 'w', 'b'], [total], total, body),
    [x, kv, w, b],
    'float32',
  );
}

/** inputs dp (∂P), x [N1, w], kv [N2, w], w → [∂x, ∂x_kv, ∂W [w, 3w], ∂b [3w]]: one dispatch. */
export function crossProjGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGPUBackendLike;
  const { dp, x, kv, w } = args.inputs as Record<string, tf.TensorInfo>;
  const [N1, W] = x.shape;
  const N2 = kv.shape[0];
  const body = /* wgsl */ `
    const W_ = ${W}; const W2 = ${2 * W}; const W3 = ${3 * W};
    fn main(index : i32) {
      let N1 = uniforms.xShape.x;
      let N2 = uniforms.kvShape.x;
      let K0 = N1 * W_; // where ∂(k|v) starts in dp
      let a = N1 * W_;
      let bb = a + N2 * W_;
      let c = bb + W_ * W3;
      if (index < a) {
        let n = index / W_;
        let i = index - n * W_;
        var acc = 0.0;
        for (var o = 0; o < W_; o++) { acc += dp[n * W_ + o] * w[i * W3 + o]; }
        result[index] = acc;
      } else if (index < bb) {
        let k = index - a;
        let n = k / W_;
        let i = k - n * W_;
        var acc = 0.0;
        for (var o = 0; o < W2; o++) { acc += dp[K0 + n * W2 + o] * w[i * W3 + W_ + o]; }
        result[index] = acc;
      } else if (index < c) {
        let k = index - bb;
        let i = k / W3;
        let j = k - i * W3;
        var acc = 0.0;
        if (j < W_) {
          for (var n = 0; n < N1; n++) { acc += x[n * W_ + i] * dp[n * W_ + j]; }
        } else {
          for (var n = 0; n < N2; n++) { acc += kv[n * W_ + i] * dp[K0 + n * W2 + j - W_]; }
        }
        result[index] = acc;
      } else if (index < c + W3) {
        let j = index - c;
        var acc = 0.0;
        if (j < W_) {
          for (var n = 0; n < N1; n++) { acc += dp[n * W_ + j]; }
        } else {
          for (var n = 0; n < N2; n++) { acc += dp[K0 + n * W2 + j - W_]; }
        }
        result[index] = acc;
      }
    }`;
  const total = N1 * W + N2 * W + W * 3 * W + 3 * W;
  const packed = backend.runWebGPUProgram(
    flat(`mfmbCrossProjGrad_${W}`, ['dp', 'x', 'kv', 'w'], [total], total, body),
    [dp, x, kv, w],
    'float32',
  );
  return unpack(backend, packed, [[N1, W], [N2, W], [W, 3 * W], [3 * W]]);
}

/**
 * Three bias-free projections of one input into the self-attention layout P [N, 3w] (row n: q | k | v):
 * the reconstruction branch's q, k and v Linear layers (separate weights), one thread per element.
 */
export function qkvKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WebGPUBackendLike;
  const { x, wq, wk, wv } = args.inputs as Record<string, tf.TensorInfo>;
  const [N, W] = x.shape;
  const body = /* wgsl */ `
    const W_ = ${W}; const W3 = ${3 * W};
    fn main(index : i32) {
      if (index >= uniforms.size) { return; }
      let n = index / W3;
      let j = index - n * W3;
      let m = j / W_;
      let o = j - m * W_;
      var acc = 0.0;
      for (var i = 0; i < W_; i++) {
        let wt = select(select(wv[i * W_ + o], wk[i * W_ + o], m == 1), wq[i * W_ + o], m == 0);
        acc += x[n * W_ + i] * wt;
      }
      result[index] = acc;
    }`;
  return backend.runWebGPUProgram(
    flat(`mfmbQkv_${W}`, ['x', 'wq', 'wk', 'wv'], [N, 3 * W], N * 3 * W, body, undefined, true),
    [x, wq, wk, wv],
    'float32',
  );
}

/** inputs dp [N, 3w], x [N, w], wq, wk, wv → [∂x, ∂wq, ∂wk, ∂wv]: one dispatch. */
export function qkvGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGPUBackendLike;
  const { dp, x, wq, wk, wv } = args.inputs as Record<string, tf.TensorInfo>;
  const [N, W] = x.shape;
  const body = /* wgsl */ `
    const W_ = ${W}; const W3 = ${3 * W};
    fn main(index : i32) {
      let N = uniforms.xShape.x;
      if (index < N * W_) {
        let n = index / W_;
        let i = index - n * W_;
        var acc = 0.0;
        for (var o = 0; o < W_; o++) {
          acc += dp[n * W3 + o] * wq[i * W_ + o] + dp[n * W3 + W_ + o] * wk[i * W_ + o] + dp[n * W3 + 2 * W_ + o] * wv[i * W_ + o];
        }
        result[index] = acc;
      } else if (index < N * W_ + 3 * W_ * W_) {
        let k = index - N * W_;
        let m = k / (W_ * W_);
        let r = k - m * W_ * W_;
        let i = r / W_;
        let o = r - i * W_;
        var acc = 0.0;
        for (var n = 0; n < N; n++) { acc += x[n * W_ + i] * dp[n * W3 + m * W_ + o]; }
        result[index] = acc;
      }
    }`;
  const total = N * W + 3 * W * W;
  const packed = backend.runWebGPUProgram(
    flat(`mfmbQkvGrad_${W}`, ['dp', 'x', 'wq', 'wk', 'wv'], [total], total, body),
    [dp, x, wq, wk, wv],
    'float32',
  );
  return unpack(backend, packed, [
    [N, W],
    [W, W],
    [W, W],
    [W, W],
  ]);
}
