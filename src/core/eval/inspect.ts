/**
 * Looking inside a trained model, for one split (the test split in the app): what the
 * reconstruction branch makes of a masked sample (X̂_m next to the clean and masked features), how
 * the coarse hub H_ker attends over each modality's time steps in the hub transformers, and how
 * one sample's prediction moves with the missing rate. Everything runs in eval mode, batched, and
 * returns plain typed arrays (the worker posts them to the page as they are).
 *
 * Masks follow PROTOCOL.md: mask seed 0 is the protocol's own (config.missing.maskSeeds, drawn once
 * per split by planMissing, so the sample's mask at a rate is the one the test metrics used); mask
 * seeds k > 0 shift every modality's seed by k · MASK_SEED_STRIDE to give other, equally likely masks.
 */
import * as tf from '../tf.ts';
import { MODALITIES, type Modality, type PerModality, type RunConfig } from '../config/config.ts';
import { maskedBatch, planMissing, type SplitMaskPlan } from '../data/masking.ts';
import type { Batch, ByModality, Dataset, Split } from '../data/types.ts';
import type { Model } from '../model/model.ts';
import { MT19937 } from '../random.ts';
import { batchTensors, ratesFor } from '../train/trainer.ts';

/** Mask seed k uses maskSeeds[m] + k · this (a prime, so no two (modality, k) pairs share a stream). */
export const MASK_SEED_STRIDE = 104729;

/** The rows of a batched pass (the trainer's evaluation uses ≥ 32; inference alone affords more). */
const INFER_BATCH = 128;

export interface ModalitySample {
  L: number;
  D: number;
  len: number; // valid time steps (the rest is padding)
  clean: Float32Array; // [L, D] the features before masking (the L_gen target)
  masked: Float32Array; // [L, D] what the model saw
  recon: Float32Array | null; // [L, D] X̂_m (null when the reconstruction branch is off)
  dropped: Uint8Array; // [L] 1 = a real position the simulation dropped
}

export interface ReconstructionView {
  index: number;
  rate: number;
  label: number;
  pred: number;
  modalities: ByModality<ModalitySample>;
}

/** Mean squared reconstruction error on the dropped positions only, per modality and rate. */
export interface ReconErrorCurve {
  rates: number[];
  samples: number; // the first `samples` rows of the split (a fixed subset)
  mse: ByModality<(number | null)[]>; // null where nothing was dropped
  dropped: ByModality<number[]>; // dropped positions counted
}

/** One hub transformer layer's attention, hub tokens as queries. */
export interface HubAttentionMap {
  name: string; // `macro.hub_tf.${m}.layer${i}`
  modality: Modality;
  stage: number; // position in the waterfall (config.hubOrder)
  layer: number;
  heads: number;
  hubTokens: number[]; // which hub tokens are the query rows (the last layer of the last stage keeps one)
  L: number; // keys 0..L−1 are the modality's time steps, L..L+k−1 the hub tokens
  k: number;
  probs: Float32Array; // [heads, hubTokens.length, L + k]: softmax rows, each sums to 1
}

export interface HubAttentionView {
  index: number;
  rate: number;
  order: Modality[];
  maps: HubAttentionMap[];
  len: ByModality<number>;
  dropped: ByModality<Uint8Array>; // [L_m] as in ReconstructionView
  /** The hub sees a learned map of this modality onto L_t steps (unequal lengths), not its frames. */
  mapped: ByModality<boolean>;
}

export interface SampleRobustness {
  index: number;
  label: number;
  rates: number[];
  seeds: number; // mask seeds 0..seeds−1
  preds: Float32Array; // [seeds, rates]
  mean: Float32Array; // [rates]
  std: Float32Array; // [rates] population σ over the seeds
  dropped: ByModality<Uint8Array>; // [rates, L_m] with mask seed 0
  len: ByModality<number>;
}

export interface SplitRanking {
  rateHigh: number;
  pred0: Float32Array; // [n] at r = 0
  predHigh: Float32Array; // [n] at rateHigh, mask seed 0
  absError: Float32Array; // |pred0 − y|
  sensitivity: Float32Array; // |predHigh − pred0|
  byError: Int32Array; // row indices, largest error first
  bySensitivity: Int32Array; // row indices, most sensitive first
}

export interface ForwardOut {
  pred: Float32Array; // [B]
  recon: ByModality<Float32Array> | null; // [B, L_m, D_m]
}

/** A prediction as one number: the regression output, or the class (−1/0/1) for 3-class heads. */
function predValue(p: Float32Array, b: number, classes: number): number {
  if (classes === 1) return p[b];
  let best = 0;
  for (let c = 1; c < classes; c++) if (p[b * classes + c] > p[b * classes + best]) best = c;
  return best - 1;
}

function concatBatches(parts: Batch[], ds: Dataset): Batch {
  const size = parts.reduce((s, p) => s + p.size, 0);
  const out: Batch = {
    size,
    x: {} as ByModality<Float32Array>,
    clean: {} as ByModality<Float32Array>,
    drop: {} as ByModality<Float32Array>,
    len: {} as ByModality<Int32Array>,
    y: new Float32Array(size),
  };
  MODALITIES.forEach((m, i) => {
    const row = ds.lens[i] * ds.dims[i];
    out.x[m] = new Float32Array(size * row);
    out.clean[m] = new Float32Array(size * row);
    out.drop[m] = new Float32Array(size * ds.lens[i]);
    out.len[m] = new Int32Array(size);
  });
  let b = 0;
  for (const p of parts) {
    MODALITIES.forEach((m, i) => {
      out.x[m].set(p.x[m], b * ds.lens[i] * ds.dims[i]);
      out.clean[m].set(p.clean[m], b * ds.lens[i] * ds.dims[i]);
      out.drop[m].set(p.drop[m], b * ds.lens[i]);
      out.len[m].set(p.len[m], b);
    });
    out.y.set(p.y, b);
    b += p.size;
  }
  return out;
}

export class Inspector {
  private readonly plans = new Map<number, SplitMaskPlan>();

  constructor(
    readonly model: Model,
    readonly ds: Dataset,
    readonly split: Split,
    readonly cfg: RunConfig,
  ) {}

  /** The mask plan of mask seed k (0 = the protocol's). */
  plan(k: number): SplitMaskPlan {
    let p = this.plans.get(k);
    if (!p) {
      const seeds = this.cfg.missing.maskSeeds.map((s) => (s + k * MASK_SEED_STRIDE) >>> 0) as PerModality<number>;
      p = planMissing(this.split, this.ds, { ...this.cfg.missing, maskSeeds: seeds });
      this.plans.set(k, p);
    }
    return p;
  }

  batch(rows: ArrayLike<number>, rate: number, seed = 0): Batch {
    this.checkRow(rows);
    return maskedBatch(this.split, this.plan(seed), rows, ratesFor(rate, this.cfg), this.ds);
  }

  private checkRow(rows: ArrayLike<number>): void {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (!Number.isInteger(r) || r < 0 || r >= this.split.n)
        throw new Error(`sample ${r} is outside 0..${this.split.n - 1}`);
    }
  }

  /** One eval-mode pass over a built batch; `capture` receives every attention map (see Ctx.capture). */
  async forward(b: Batch, capture?: (name: string, probs: tf.Tensor4D) => void, withRecon = true): Promise<ForwardOut> {
    const ctx = { training: false, rng: new MT19937(0), capture };
    const kept = tf.tidy(() => {
      const t = batchTensors(b, this.ds, false);
      const out = this.model.forward(t.input, ctx);
      const recon = withRecon && out.recon ? MODALITIES.map((m) => out.recon![m]) : [];
      return [out.pred, ...recon];
    });
    try {
      const raw = (await kept[0].data()) as Float32Array;
      const classes = this.model.config.numClasses;
      const pred = new Float32Array(b.size);
      for (let i = 0; i < b.size; i++) pred[i] = predValue(raw, i, classes);
      let recon: ByModality<Float32Array> | null = null;
      if (kept.length > 1) {
        recon = {} as ByModality<Float32Array>;
        for (const [i, m] of MODALITIES.entries()) recon[m] = (await kept[i + 1].data()) as Float32Array;
      }
      return { pred, recon };
    } finally {
      tf.dispose(kept);
    }
  }

  /** Predictions for many (row, rate, seed) triples in batches of INFER_BATCH. */
  private async predictMany(items: { row: number; rate: number; seed: number }[]): Promise<Float32Array> {
    const out = new Float32Array(items.length);
    for (let s = 0; s < items.length; s += INFER_BATCH) {
      const chunk = items.slice(s, s + INFER_BATCH);
      // Rows sharing (rate, seed) are gathered in one maskedBatch call.
      const groups = new Map<string, number[]>();
      chunk.forEach((it, i) => {
        const key = `${it.rate}|${it.seed}`;
        (groups.get(key) ?? groups.set(key, []).get(key)!).push(i);
      });
      const order: number[] = [];
      const parts: Batch[] = [];
      for (const idx of groups.values()) {
        const { rate, seed } = chunk[idx[0]];
        parts.push(
          this.batch(
            idx.map((i) => chunk[i].row),
            rate,
            seed,
          ),
        );
        order.push(...idx);
      }
      const { pred } = await this.forward(
        parts.length === 1 ? parts[0] : concatBatches(parts, this.ds),
        undefined,
        false,
      );
      order.forEach((i, j) => (out[s + i] = pred[j]));
    }
    return out;
  }

  async reconstruction(index: number, rate: number): Promise<ReconstructionView> {
    const b = this.batch([index], rate);
    const out = await this.forward(b);
    const modalities = {} as ByModality<ModalitySample>;
    MODALITIES.forEach((m, i) => {
      const L = this.ds.lens[i];
      modalities[m] = {
        L,
        D: this.ds.dims[i],
        len: b.len[m][0],
        clean: b.clean[m],
        masked: b.x[m],
        recon: out.recon ? out.recon[m] : null,
        dropped: Uint8Array.from(b.drop[m]),
      };
    });
    return { index, rate, label: b.y[0], pred: out.pred[0], modalities };
  }

  /** MSE of X̂ against the clean features on dropped positions, over the first `maxSamples` rows. */
  async reconErrorCurve(rates: number[], maxSamples = 128): Promise<ReconErrorCurve | null> {
    if (!this.model.config.branches.recon || this.model.config.arch !== 'mfmb') return null;
    const n = Math.min(maxSamples, this.split.n);
    const mse = { t: [], a: [], v: [] } as ByModality<(number | null)[]>;
    const dropped = { t: [], a: [], v: [] } as ByModality<number[]>;
    for (const rate of rates) {
      const sum = { t: 0, a: 0, v: 0 };
      const count = { t: 0, a: 0, v: 0 };
      for (let s = 0; s < n; s += INFER_BATCH) {
        const rows = Array.from({ length: Math.min(INFER_BATCH, n - s) }, (_, i) => s + i);
        const b = this.batch(rows, rate);
        const { recon } = await this.forward(b);
        if (!recon) return null;
        MODALITIES.forEach((m, i) => {
          const D = this.ds.dims[i];
          const drop = b.drop[m];
          for (let p = 0; p < drop.length; p++) {
            if (!drop[p]) continue;
            count[m]++;
            for (let d = 0; d < D; d++) {
              const e = recon[m][p * D + d] - b.clean[m][p * D + d];
              sum[m] += e * e;
            }
          }
        });
      }
      MODALITIES.forEach((m, i) => {
        mse[m].push(count[m] ? sum[m] / (count[m] * this.ds.dims[i]) : null);
        dropped[m].push(count[m]);
      });
    }
    return { rates: [...rates], samples: n, mse, dropped };
  }

  /** The hub tokens' attention in every hub transformer layer (null when the macro stream is off). */
  async hubAttention(index: number, rate: number): Promise<HubAttentionView | null> {
    const c = this.model.config;
    if (c.arch !== 'mfmb' || !c.branches.macro) return null;
    const b = this.batch([index], rate);
    const caught: { name: string; probs: tf.Tensor4D }[] = [];
    try {
      await this.forward(
        b,
        (name, probs) => {
          if (name.startsWith('macro.hub_tf.')) caught.push({ name, probs: tf.keep(probs) });
        },
        false,
      );
      const order = [...c.hubOrder] as Modality[];
      const k = c.hubK;
      const maps: HubAttentionMap[] = [];
      for (const { name, probs } of caught) {
        const match = /^macro\.hub_tf\.([tav])\.layer(\d+)$/.exec(name);
        if (!match) continue;
        const m = match[1] as Modality;
        const layer = Number(match[2]);
        const [, heads, Lq, Lk] = probs.shape;
        const L = Lk - k;
        // Lq = L + k (every position queries), k (only the hub leaves the stage) or 1 (the last hub token).
        const rows = Lq === L + k ? k : Lq;
        const hubTokens = Array.from({ length: rows }, (_, j) => k - rows + j);
        const all = (await probs.data()) as Float32Array; // [1, heads, Lq, Lk]
        const out = new Float32Array(heads * rows * Lk);
        for (let h = 0; h < heads; h++)
          out.set(all.subarray((h * Lq + Lq - rows) * Lk, (h * Lq + Lq) * Lk), h * rows * Lk);
        maps.push({ name, modality: m, stage: order.indexOf(m), layer, heads, hubTokens, L, k, probs: out });
      }
      maps.sort((x, y) => x.stage - y.stage || x.layer - y.layer);
      const len = {} as ByModality<number>;
      const dropped = {} as ByModality<Uint8Array>;
      const mapped = {} as ByModality<boolean>;
      MODALITIES.forEach((m, i) => {
        len[m] = b.len[m][0];
        dropped[m] = Uint8Array.from(b.drop[m]);
        mapped[m] = i > 0 && c.lens[i] !== c.lens[0];
      });
      return { index, rate, order, maps, len, dropped, mapped };
    } finally {
      tf.dispose(caught.map((x) => x.probs));
    }
  }

  /** One sample's prediction at every rate under `seeds` masks (seed 0 = the protocol's), in one pass. */
  async robustness(index: number, rates: number[], seeds: number): Promise<SampleRobustness> {
    const items: { row: number; rate: number; seed: number }[] = [];
    for (let s = 0; s < seeds; s++) for (const rate of rates) items.push({ row: index, rate, seed: s });
    const preds = await this.predictMany(items); // [seeds, rates]
    const R = rates.length;
    const mean = new Float32Array(R);
    const std = new Float32Array(R);
    for (let r = 0; r < R; r++) {
      let s1 = 0;
      for (let s = 0; s < seeds; s++) s1 += preds[s * R + r];
      const mu = s1 / seeds;
      let s2 = 0;
      for (let s = 0; s < seeds; s++) s2 += (preds[s * R + r] - mu) ** 2;
      mean[r] = mu;
      std[r] = Math.sqrt(s2 / seeds);
    }
    const dropped = {} as ByModality<Uint8Array>;
    const len = {} as ByModality<number>;
    MODALITIES.forEach((m, i) => {
      const L = this.ds.lens[i];
      dropped[m] = new Uint8Array(R * L);
      len[m] = this.split.len[m][index];
    });
    rates.forEach((rate, r) => {
      const b = this.batch([index], rate);
      MODALITIES.forEach((m, i) => dropped[m].set(b.drop[m], r * this.ds.lens[i]));
    });
    return { index, label: this.split.y[index], rates: [...rates], seeds, preds, mean, std, dropped, len };
  }

  /** Every row's error at r = 0 and its shift at rateHigh: two batched passes over the split. */
  async ranking(rateHigh: number): Promise<SplitRanking> {
    const n = this.split.n;
    const items = (rate: number) => Array.from({ length: n }, (_, row) => ({ row, rate, seed: 0 }));
    const pred0 = await this.predictMany(items(0));
    const predHigh = await this.predictMany(items(rateHigh));
    const absError = new Float32Array(n);
    const sensitivity = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      absError[i] = Math.abs(pred0[i] - this.split.y[i]);
      sensitivity[i] = Math.abs(predHigh[i] - pred0[i]);
    }
    const desc = (v: Float32Array) => Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => v[b] - v[a] || a - b);
    return {
      rateHigh,
      pred0,
      predHigh,
      absError,
      sensitivity,
      byError: desc(absError),
      bySensitivity: desc(sensitivity),
    };
  }
}
