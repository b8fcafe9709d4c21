import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../tf.ts';
import { initNodeBackend } from '../backend.ts';
import { defaultRunConfig, MODALITIES, modelPreset, type RunConfig } from '../config/config.ts';
import { maskedBatch, planMissing } from '../data/masking.ts';
import { makeSynthetic } from '../data/synthetic.ts';
import type { Dataset } from '../data/types.ts';
import { buildModel } from '../model/build.ts';
import type { Model } from '../model/model.ts';
import { MT19937 } from '../random.ts';
import { batchTensors, ratesFor } from '../train/trainer.ts';
import { modelConfigFor } from './experiment.ts';
import { Inspector } from './inspect.ts';

/**
 * The inspector against independent computations: a direct forward pass of the whole test split
 * masked as the protocol does (planMissing + maskedBatch), read at the inspected row. An untrained
 * tiny model is enough: the checks are about which numbers are reported, not how good they are.
 * synthetic:tiny has unequal lengths (8/12/10), so audio and vision reach the hub through the time
 * maps and text through its own frames (with padding).
 */

let ds: Dataset;
let cfg: RunConfig;
let model: Model;

beforeAll(async () => {
  await initNodeBackend('wasm');
  ds = makeSynthetic('tiny', 5);
  cfg = defaultRunConfig();
  cfg.model = modelPreset('tiny');
  cfg.missing.testRates = [0, 0.3, 0.6, 0.9];
  model = buildModel(
    modelConfigFor(cfg.model, { arch: 'mfmb', branches: { macro: true, micro: true, recon: true } }, ds),
    17,
  );
});

/** The whole test split at `rate` (mask seed 0), through the model in one batch. */
function direct(rate: number): { pred: Float32Array; recon: Record<string, Float32Array> } {
  const plan = planMissing(ds.test, ds, cfg.missing);
  const rows = Array.from({ length: ds.test.n }, (_, i) => i);
  const b = maskedBatch(ds.test, plan, rows, ratesFor(rate, cfg), ds);
  return tf.tidy(() => {
    const t = batchTensors(b, ds, false);
    const out = model.forward(t.input, { training: false, rng: new MT19937(0) });
    const recon: Record<string, Float32Array> = {};
    for (const m of MODALITIES) recon[m] = out.recon![m].dataSync() as Float32Array;
    return { pred: out.pred.dataSync() as Float32Array, recon };
  });
}

/** A test row whose text is shorter than L_t, so the text hub has padded keys. */
function paddedRow(): number {
  for (let i = 0; i < ds.test.n; i++) if (ds.test.len.t[i] < ds.lens[0] - 1) return i;
  throw new Error('synthetic:tiny has no padded test sample');
}

describe('Inspector', () => {
  it('reports the same predictions as a direct forward pass, at every rate and in the ranking', async () => {
    const ins = new Inspector(model, ds, ds.test, cfg);
    const idx = paddedRow();
    const rob = await ins.robustness(idx, cfg.missing.testRates, 3);
    const R = cfg.missing.testRates.length;
    cfg.missing.testRates.forEach((rate, r) => {
      expect(rob.preds[r]).toBeCloseTo(direct(rate).pred[idx], 4); // mask seed 0 = the protocol's mask
    });
    // Other mask seeds give other masks, so at a high rate the predictions spread.
    expect(rob.std[R - 1]).toBeGreaterThan(0);
    expect(rob.std[0]).toBeCloseTo(0, 6); // nothing dropped at r = 0, whatever the seed
    expect(rob.label).toBe(ds.test.y[idx]);

    const rank = await ins.ranking(0.6);
    const d0 = direct(0).pred;
    const d6 = direct(0.6).pred;
    for (let i = 0; i < ds.test.n; i++) {
      expect(rank.pred0[i]).toBeCloseTo(d0[i], 4);
      expect(rank.predHigh[i]).toBeCloseTo(d6[i], 4);
      expect(rank.absError[i]).toBeCloseTo(Math.abs(d0[i] - ds.test.y[i]), 4);
    }
    for (let j = 1; j < ds.test.n; j++) {
      expect(rank.absError[rank.byError[j - 1]]).toBeGreaterThanOrEqual(rank.absError[rank.byError[j]]);
      expect(rank.sensitivity[rank.bySensitivity[j - 1]]).toBeGreaterThanOrEqual(
        rank.sensitivity[rank.bySensitivity[j]],
      );
    }
  });

  it("returns the sample's X̂ exactly as ModelOutput.recon, with its clean and masked features", async () => {
    const ins = new Inspector(model, ds, ds.test, cfg);
    const idx = paddedRow();
    const view = await ins.reconstruction(idx, 0.6);
    const d = direct(0.6);
    MODALITIES.forEach((m, i) => {
      const row = ds.lens[i] * ds.dims[i];
      const s = view.modalities[m];
      const want = d.recon[m].subarray(idx * row, (idx + 1) * row);
      expect(s.recon!.length).toBe(row);
      for (let p = 0; p < row; p++) expect(s.recon![p]).toBeCloseTo(want[p], 4);
      expect(Array.from(s.clean)).toEqual(Array.from(ds.test.x[m].subarray(idx * row, (idx + 1) * row)));
      // Dropped positions are zero in the masked input (replace 'zero'), the rest is the clean value.
      for (let t = 0; t < ds.lens[i]; t++)
        for (let f = 0; f < ds.dims[i]; f++) {
          const p = t * ds.dims[i] + f;
          expect(s.masked[p]).toBe(s.dropped[t] ? 0 : s.clean[p]);
        }
      for (let t = s.len; t < ds.lens[i]; t++) expect(s.dropped[t]).toBe(0); // padding is never "dropped"
    });
    expect(view.pred).toBeCloseTo(d.pred[idx], 4);
    expect(MODALITIES.some((m) => view.modalities[m].dropped.some((x) => x === 1))).toBe(true);
  });

  it('computes the reconstruction error on dropped positions only', async () => {
    const ins = new Inspector(model, ds, ds.test, cfg);
    const curve = (await ins.reconErrorCurve([0, 0.6], 20))!;
    expect(curve.mse.t[0]).toBeNull(); // nothing dropped at r = 0
    const plan = planMissing(ds.test, ds, cfg.missing);
    const rows = Array.from({ length: 20 }, (_, i) => i);
    const b = maskedBatch(ds.test, plan, rows, ratesFor(0.6, cfg), ds);
    const recon = tf.tidy(() => {
      const out = model.forward(batchTensors(b, ds, false).input, { training: false, rng: new MT19937(0) });
      return MODALITIES.map((m) => out.recon![m].dataSync() as Float32Array);
    });
    MODALITIES.forEach((m, i) => {
      const D = ds.dims[i];
      let sum = 0,
        n = 0;
      b.drop[m].forEach((dr, p) => {
        if (!dr) return;
        n++;
        for (let f = 0; f < D; f++) sum += (recon[i][p * D + f] - b.clean[m][p * D + f]) ** 2;
      });
      expect(curve.dropped[m][1]).toBe(n);
      expect(curve.mse[m][1]).toBeCloseTo(sum / (n * D), 5);
    });
  });

  it('captures hub attention maps that sum to 1 over the valid keys and are 0 on padding', async () => {
    const ins = new Inspector(model, ds, ds.test, cfg);
    const idx = paddedRow();
    const view = (await ins.hubAttention(idx, 0.3))!;
    const c = model.config;
    expect(view.maps.length).toBe(3 * c.hubLayers);
    expect(view.order).toEqual([...c.hubOrder]);
    let paddedChecked = 0;
    for (const map of view.maps) {
      const Lk = map.L + map.k;
      expect(map.probs.length).toBe(map.heads * map.hubTokens.length * Lk);
      const len = view.mapped[map.modality] ? map.L : view.len[map.modality];
      for (let h = 0; h < map.heads; h++)
        for (let q = 0; q < map.hubTokens.length; q++) {
          const row = map.probs.subarray((h * map.hubTokens.length + q) * Lk, (h * map.hubTokens.length + q + 1) * Lk);
          let sum = 0;
          row.forEach((v, j) => {
            expect(v).toBeGreaterThanOrEqual(0);
            if (j >= len && j < map.L) {
              expect(v).toBe(0);
              paddedChecked++;
            }
            sum += v;
          });
          expect(sum).toBeCloseTo(1, 5);
        }
    }
    expect(paddedChecked).toBeGreaterThan(0);
    // The last stage's last layer keeps only the last hub token (the one H_f is read from).
    const last = view.maps[view.maps.length - 1];
    expect(last.hubTokens).toEqual([c.hubK - 1]);
    expect(view.mapped).toEqual({ t: false, a: true, v: true });
  });

  it('capturing maps leaves the prediction unchanged', async () => {
    const ins = new Inspector(model, ds, ds.test, cfg);
    const b = ins.batch([0, 1, 2, 3], 0.3);
    const plain = await ins.forward(b);
    let calls = 0;
    const caught = await ins.forward(b, () => calls++);
    expect(calls).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) expect(caught.pred[i]).toBeCloseTo(plain.pred[i], 4);
  });

  it('refuses a sample outside the split', async () => {
    const ins = new Inspector(model, ds, ds.test, cfg);
    await expect(ins.reconstruction(ds.test.n, 0)).rejects.toThrow(/outside/);
  });
});
