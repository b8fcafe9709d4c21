import * as tf from '../tf.ts';
import { MODALITIES, type PerModality } from '../config/config.ts';
import type { ByModality } from '../data/types.ts';
import type { ModelOutput } from '../model/model.ts';

/**
 * The objective (eqs. 17–19): L = L_task + Σ_m α_m · L_gen^m with L_task = mean |ŷ − y| and
 * L_gen^m = SmoothL1(β = 1) over the elements of dropped real positions in the whole batch, divided
 * by (dropped positions × D_m + 1e-4).
 */
export interface LossParts {
  total: tf.Scalar;
  task: tf.Scalar;
  gen: ByModality<tf.Scalar> | null;
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
  if (!withGen || !out.recon || !clean || !drop) return { total: task, task, gen: null };
  let total: tf.Scalar = task;
  const gen = {} as ByModality<tf.Scalar>;
  MODALITIES.forEach((m, i) => {
    const xh = out.recon![m];
    const D = xh.shape[2];
    const M = tf.expandDims(drop[m], 2); // [B, L, 1]
    const diff = tf.abs(tf.mul(tf.sub(xh, clean[m]), M));
    // SmoothL1 without a branch: with q = min(|d|, 1), 0.5·q² + (|d| − q) equals 0.5·d² below 1 and |d| − 0.5 above.
    const q = tf.minimum(diff, 1);
    const sl1 = tf.sum(tf.add(tf.mul(tf.square(q), 0.5), tf.sub(diff, q)));
    gen[m] = tf.div(sl1, tf.add(tf.mul(tf.sum(M), D), 1e-4)) as tf.Scalar;
    total = tf.add(total, tf.mul(gen[m], alpha[i])) as tf.Scalar;
  });
  return { total, task, gen };
}
