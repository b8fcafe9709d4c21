import type * as tf from '../../tf.ts';
import { flat, type KernelArgs, unpack, type WebGPUBackendLike } from './program.ts';

/** The micro stream's memory gate (tanh, kernel-3 conv, sigmoid, product). */

// ------------------------------------------------------------------ memory gate (micro stream)

/** WGSL: s = b + Σₒ Σ_c tanh R[b, t+o−1, c]·w[o·W + c] over the zero-padded neighbours of row (b, t). */
const GATE_SCORE = /* wgsl */ `
    fn gateScore_(bi : i32, t : i32) -> f32 {
      var s = gb[0];
      for (var o = 0; o < 3; o++) {
        let tt = t + o - 1;
        if (tt < 0 || tt >= L_) { continue; }
        let base = (bi * L_ + tt) * W_;
        for (var c = 0; c < W_; c++) { s += tanh(R[base + c]) * gw[o * W_ + c]; }
      }
      return s;
    }`;

/** The memory gate's forward, G = tanh R ⊙ σ(conv(tanh R)) [B, L, W]: one thread per (b, t) row. */
export function memoryGateKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WebGPUBackendLike;
  const { R, gw, gb } = args.inputs as Record<string, tf.TensorInfo>;
  const [B, L, W] = R.shape;
  const body = /* wgsl */ `
    const L_ = ${L}; const W_ = ${W};
    ${GATE_SCORE}
    fn main(index : i32) {
      if (index >= ${B * L}) { return; }
      let g = 1.0 / (1.0 + exp(-gateScore_(index / L_, index % L_)));
      for (var c = 0; c < W_; c++) { result[index * W_ + c] = tanh(R[index * W_ + c]) * g; }
    }`;
  return backend.runWebGPUProgram(
    flat(`mfmbGate_${L}_${W}`, ['R', 'gw', 'gb'], [B, L, W], B * L, body),
    [R, gw, gb],
    'float32',
  );
}

/**
 * The memory gate's backward, two programs: per row (ds, g) with g = σ(s) and ds = g(1 − g)·Σ_c dG ⊙
 * tanh R; then packed [∂R | ∂w (3W) | ∂b]: ∂R = (dG·g + Σₒ ds(t−o+1)·w[o]) ⊙ (1 − tanh² R), ∂w[o, c] =
 * Σ ds(b, t)·tanh R[b, t+o−1, c], ∂b = Σ ds.
 */
export function memoryGateGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGPUBackendLike;
  const { dy, R, gw, gb } = args.inputs as Record<string, tf.TensorInfo>;
  const [B, L, W] = R.shape;
  const rows = B * L;
  const dsBody = /* wgsl */ `
    const L_ = ${L}; const W_ = ${W};
    ${GATE_SCORE}
    fn main(index : i32) {
      if (index >= ${rows}) { return; }
      let g = 1.0 / (1.0 + exp(-gateScore_(index / L_, index % L_)));
      var acc = 0.0;
      for (var c = 0; c < W_; c++) { acc += dy[index * W_ + c] * tanh(R[index * W_ + c]); }
      result[index * 2] = acc * g * (1.0 - g);
      result[index * 2 + 1] = g;
    }`;
  const dsg = backend.runWebGPUProgram(
    flat(`mfmbGateDs_${L}_${W}`, ['dy', 'R', 'gw', 'gb'], [rows, 2], rows, dsBody),
    [dy, R, gw, gb],
    'float32',
  );
  const total = rows * W + 3 * W + 1;
  const body = /* wgsl */ `
    const L_ = ${L}; const W_ = ${W}; const ROWS = ${rows};
    fn main(index : i32) {
      if (index < ROWS * W_) {
        let r = index / W_;
        let c = index - r * W_;
        let t = r % L_;
        let T = tanh(R[index]);
        var dT = dy[index] * dsg[r * 2 + 1];
        for (var o = 0; o < 3; o++) {
          let tt = t - o + 1;
          if (tt >= 0 && tt < L_) { dT += dsg[(r - o + 1) * 2] * gw[o * W_ + c]; }
        }
        result[index] = dT * (1.0 - T * T);
      } else if (index < ROWS * W_ + 3 * W_) {
        let k = index - ROWS * W_;
        let o = k / W_;
        let c = k - o * W_;
        var acc = 0.0;
        for (var r = 0; r < ROWS; r++) {
          let tt = r % L_ + o - 1;
          if (tt >= 0 && tt < L_) { acc += dsg[r * 2] * tanh(R[(r + o - 1) * W_ + c]); }
        }
        result[index] = acc;
      } else if (index == ROWS * W_ + 3 * W_) {
        var acc = 0.0;
        for (var r = 0; r < ROWS; r++) { acc += dsg[r * 2]; }
        result[index] = acc;
      }
    }`;
  const packed = backend.runWebGPUProgram(
    flat(`mfmbGateGrad_${L}_${W}`, ['dy', 'R', 'gw', 'dsg'], [total], total, body),
    [dy, R, gw, dsg],
    'float32',
  );
  backend.disposeData(dsg.dataId);
  return unpack(backend, packed, [[B, L, W], [3 * W, 1], [1]]);
}
