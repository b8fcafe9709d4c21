import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../tf.ts';
import { initNodeBackend } from '../backend.ts';
import { MODALITIES, type PerModality } from '../config/config.ts';
import type { ByModality } from '../data/types.ts';
import type { ModelOutput } from '../model/model.ts';
import { MT19937 } from '../random.ts';
import { lossTermsVector, mfmbLoss, termsFromVector } from './loss.ts';

/**
 * The objective's terms (eqs. 17–19) against a plain-JavaScript computation in float64: L_task is
 * the mean absolute error, each L_gen^m the SmoothL1 (β = 1) sum over the features of dropped
 * positions divided by (dropped positions × D_m + 1e-4); the reported weighted terms α_m·L_gen^m
 * and L_task add up to the total.
 */

const B = 4;
const LENS: PerModality<number> = [5, 7, 6];
const DIMS: PerModality<number> = [3, 2, 4];
const ALPHA: PerModality<number> = [5, 2, 20];

function smoothL1(d: number): number {
  const a = Math.abs(d);
  return a < 1 ? 0.5 * a * a : a - 0.5;
}

function fixture(seed: number) {
  const rng = new MT19937(seed);
  const randn = (n: number, sd = 1) => Float32Array.from({ length: n }, () => sd * rng.normal());
  const pred = randn(B);
  const y = randn(B);
  const recon = {} as ByModality<Float32Array>;
  const clean = {} as ByModality<Float32Array>;
  const drop = {} as ByModality<Float32Array>;
  MODALITIES.forEach((m, i) => {
    // sd 1.5: plenty of differences on both sides of SmoothL1's β = 1
    recon[m] = randn(B * LENS[i] * DIMS[i], 1.5);
    clean[m] = randn(B * LENS[i] * DIMS[i], 1.5);
    drop[m] = Float32Array.from({ length: B * LENS[i] }, () => (rng.random() < 0.4 ? 1 : 0));
  });
  return { pred, y, recon, clean, drop };
}

function expected(f: ReturnType<typeof fixture>) {
  let task = 0;
  for (let b = 0; b < B; b++) task += Math.abs(f.pred[b] - f.y[b]) / B;
  const gen = MODALITIES.map((m, i) => {
    let sum = 0;
    let dropped = 0;
    for (let p = 0; p < B * LENS[i]; p++) {
      if (f.drop[m][p] === 0) continue;
      dropped++;
      for (let d = 0; d < DIMS[i]; d++) sum += smoothL1(f.recon[m][p * DIMS[i] + d] - f.clean[m][p * DIMS[i] + d]);
    }
    return sum / (dropped * DIMS[i] + 1e-4);
  });
  return { task, gen };
}

function tensors(f: ReturnType<typeof fixture>) {
  const recon = {} as ByModality<tf.Tensor3D>;
  const clean = {} as ByModality<tf.Tensor3D>;
  const drop = {} as ByModality<tf.Tensor2D>;
  MODALITIES.forEach((m, i) => {
    recon[m] = tf.tensor3d(f.recon[m], [B, LENS[i], DIMS[i]]);
    clean[m] = tf.tensor3d(f.clean[m], [B, LENS[i], DIMS[i]]);
    drop[m] = tf.tensor2d(f.drop[m], [B, LENS[i]]);
  });
  const out = { pred: tf.tensor2d(f.pred, [B, 1]), recon } as unknown as ModelOutput;
  return { out, y: tf.tensor1d(f.y), clean, drop };
}

describe('mfmbLoss terms', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  for (const seed of [1, 2, 3]) {
    it(`L_task and α_m·L_gen^m equal a float64 computation and sum to the total (seed ${seed})`, () => {
      const f = fixture(seed);
      const want = expected(f);
      const got = tf.tidy(() => {
        const t = tensors(f);
        const parts = mfmbLoss(t.out, t.y, ALPHA, t.clean, t.drop, true);
        return Array.from(lossTermsVector(parts).dataSync());
      });
      expect(got).toHaveLength(5);
      const terms = termsFromVector(got);
      expect(terms.task).toBeCloseTo(want.task, 5);
      expect(terms.genText).toBeCloseTo(ALPHA[0] * want.gen[0], 4);
      expect(terms.genAudio).toBeCloseTo(ALPHA[1] * want.gen[1], 4);
      expect(terms.genVision).toBeCloseTo(ALPHA[2] * want.gen[2], 4);
      const sum = terms.task + terms.genText! + terms.genAudio! + terms.genVision!;
      expect(Math.abs(sum - terms.total)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(terms.total)));
      // The gen terms are not negligible here, so the sum check is not a check of L_task alone.
      expect(terms.genVision!).toBeGreaterThan(terms.task);
    });
  }

  it('without L_gen (warm-up) the total is L_task and the gen terms are null', () => {
    const f = fixture(4);
    const want = expected(f);
    const got = tf.tidy(() => {
      const t = tensors(f);
      return Array.from(lossTermsVector(mfmbLoss(t.out, t.y, ALPHA, t.clean, t.drop, false)).dataSync());
    });
    const terms = termsFromVector(got);
    expect(terms.total).toBe(terms.task);
    expect(terms.task).toBeCloseTo(want.task, 5);
    expect([terms.genText, terms.genAudio, terms.genVision]).toEqual([null, null, null]);
  });
});
