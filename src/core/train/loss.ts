import * as tf from '../tf.ts';
import { MODALITIES, type PerModality } from '../config/config.ts';
import type { ByModality } from '../data/types.ts';
import type { ModelOutput } from '../model/model.ts';
import { customOp } from '../model/ops.ts';
import { KERNEL_SMOOTH_L1, KERNEL_SMOOTH_L1_GRAD, webgpuKernelActive } from '../model/webgpu/select.ts';

/**
 * The objective (eqs. 17–19): L = L_task + Σ_m α_m · L_gen^m with L_task = mean |ŷ − y| and
 * L_gen^m = SmoothL1(β = 1) over the elements of dropped real positions in the whole batch, divided
 * by (dropped positions × D_m + 1e-4).
 */
export interface LossParts {
  total: tf.Scalar;
  task: tf.Scalar;
  gen: ByModality<tf.Scalar> | null;
  /** α_m · L_gen^m, the addends of the total after L_task (total = task + Σ weighted, in t, a, v order). */
  weighted: ByModality<tf.Scalar> | null;
}

/**
 * The terms as one vector [total, L_task, α_t·L_gen^t, α_a·L_gen^a, α_v·L_gen^v] (the gen entries
 * only when L_gen is in the objective), so a caller reads them all in the same single read-back.
 */
export function lossTermsVector(parts: LossParts): tf.Tensor1D {
  const w = parts.weighted;
  return tf.stack(w ? [parts.total, parts.task, w.t, w.a, w.v] : [parts.total, parts.task]) as tf.Tensor1D; // [5] or [2]
}

/** A read-back of lossTermsVector as named numbers (gen terms null when L_gen was not in the objective). */
export function termsFromVector(v: ArrayLike<number>): {
  total: number;
  task: number;
  genText: number | null;
  genAudio: number | null;
  genVision: number | null;
} {
  const gen = v.length >= 5;
  return {
    total: v[0],
    task: v[1],
    genText: gen ? v[2] : null,
    genAudio: gen ? v[3] : null,
    genVision: gen ? v[4] : null,
  };
}

export function mfmbLoss(
  out: ModelOutput,
  y: tf.Tensor1D,
  alpha: PerModality<number>,
  clean: ByModality<tf.Tensor3D> | null,
  drop: ByModality<tf.Tensor2D> | null,
  withGen: boolean,
): LossParts {
  const task = tf.mean(tf.abs(tf.sub(tf.reshape(out.pred, [-1]), y))) as tf.Scalar;
  if (!withGen || !out.recon || !clean || !drop) return { total: task, task, gen: null, weighted: null };
  let total: tf.Scalar = task;
  const gen = {} as ByModality<tf.Scalar>;
  const weighted = {} as ByModality<tf.Scalar>;
  const fused = webgpuKernelActive('loss', KERNEL_SMOOTH_L1);
  MODALITIES.forEach((m, i) => {
    const xh = out.recon![m];
    if (fused && xh.dtype === 'float32') {
      gen[m] = smoothL1Fused(xh, clean[m], drop[m]);
      weighted[m] = tf.mul(gen[m], alpha[i]) as tf.Scalar;
      total = tf.add(total, weighted[m]) as tf.Scalar;
      return;
    }
    const D = xh.shape[2];
    const M = tf.expandDims(drop[m], 2); // [B, L, 1]
    const diff = tf.abs(tf.mul(tf.sub(xh, clean[m]), M));
    // SmoothL1 without a branch: with q = min(|d|, 1), 0.5·q² + (|d| − q) equals 0.5·d² below 1 and |d| − 0.5 above.
    const q = tf.minimum(diff, 1);
    const sl1 = tf.sum(tf.add(tf.mul(tf.square(q), 0.5), tf.sub(diff, q)));
    gen[m] = tf.div(sl1, tf.add(tf.mul(tf.sum(M), D), 1e-4)) as tf.Scalar;
    weighted[m] = tf.mul(gen[m], alpha[i]) as tf.Scalar;
    total = tf.add(total, weighted[m]) as tf.Scalar;
  });
  return { total, task, gen, weighted };
}

/** L_gen^m on webgpu: one program forward (with the denominator kept) and one backward. */
function smoothL1Fused(xh: tf.Tensor3D, clean: tf.Tensor3D, drop: tf.Tensor2D): tf.Scalar {
  const run = (inputs: tf.NamedTensorMap, kernel: string) => tf.engine().runKernel(kernel, inputs);
  return customOp((t: tf.Tensor, save: tf.GradSaveFunc) => {
    const [gen, den] = run({ xh: t, cl: clean, m: drop }, KERNEL_SMOOTH_L1) as tf.Tensor[];
    save([t, den]);
    return {
      value: gen as tf.Scalar,
      gradFunc: (dy: tf.Tensor, [st, sden]: tf.Tensor[]) => [
        run({ dy, xh: st, cl: clean, m: drop, den: sden }, KERNEL_SMOOTH_L1_GRAD) as tf.Tensor,
      ],
    };
  })(xh);
}
