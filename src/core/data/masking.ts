/**
 * The missing-data simulation of PROTOCOL.md ("random missing"), split in two so that any rate is
 * cheap at batch time:
 *  - planMissing draws everything random once per split — the uniforms u (numpy's legacy
 *    `RandomState(maskSeeds[m]).random_sample`) and, for replace 'noise', the Gaussian fill. None of
 *    it depends on the rate, exactly as in the released code where the rate only enters `u <= r`.
 *  - maskedBatch / maskSplit apply `u <= r` for the rates asked for.
 * Because the uniforms are fixed per (split, seed), masks are static across epochs and nested across
 * rates: whatever drops at r also drops at every r' > r.
 */
import { MODALITIES, type MissingConfig, type Modality, type PerModality } from '../config/config.ts';
import { MT19937 } from '../random.ts';
import type { Batch, ByModality, Dataset, MaskedSplit, Split } from './types.ts';

/**
 * Noise for replace 'noise' comes from its own stream so it never shifts the mask uniforms:
 * `MT19937((maskSeeds[m] + NOISE_SEED_OFFSET) mod 2^32)`, standard normals in row-major order over
 * [n, L_m, D_m] (padding positions included, so a value's draw does not depend on the lengths) —
 * i.e. numpy's `RandomState(seed + 7919).standard_normal((n, L, D))` — times σ_d · noiseScale.
 */
export const NOISE_SEED_OFFSET = 7919;

/** numpy `RandomState(seed).random_sample((rows, cols))`, row-major. */
export function drawUniforms(rows: number, cols: number, seed: number): Float64Array {
  return new MT19937(seed).randomSample(rows * cols);
}

/** Per-feature σ of audio and vision, the scale of the 'noise' replacement. */
export interface FeatureStd {
  a: Float32Array;
  v: Float32Array;
}

/** Everything random about masking one split; the rate is applied later. */
export interface SplitMaskPlan {
  n: number;
  level: MissingConfig['level'];
  /** Frame level: [n, L_m] row-major. Modality level: [n], one uniform per sample. */
  u: ByModality<Float64Array>;
  /** Keep the first and last valid text position ([CLS]/[SEP]). */
  textIsBert: boolean;
  /** [D_t] fill for a dropped text position; null → zeros. */
  textUnk: Float32Array | null;
  /** replace 'noise' only: [n, L_m, D_m] fill for dropped audio / vision frames. */
  noise: { a: Float32Array; v: Float32Array } | null;
}

/** Population σ over the valid positions of `split`, per feature dim (call it on the train split). */
export function featureStd(split: Split, ds: Dataset): FeatureStd {
  return { a: stdOverValid(split, ds, 'a'), v: stdOverValid(split, ds, 'v') };
}

function stdOverValid(split: Split, ds: Dataset, m: 'a' | 'v'): Float32Array {
  return Float32Array.from(momentsOverValid(split, ds, m).std);
}

/** Per-feature mean and population σ over the valid positions of one modality of `split` (zeros if none). */
export function momentsOverValid(split: Split, ds: Dataset, m: Modality): { mean: Float64Array; std: Float64Array } {
  const i = MODALITIES.indexOf(m);
  const L = ds.lens[i];
  const D = ds.dims[i];
  const x = split.x[m];
  const mean = new Float64Array(D);
  const sumSq = new Float64Array(D);
  let count = 0;
  // Two passes (mean, then squared deviations) keep precision for features with a large offset.
  for (let s = 0; s < split.n; s++) {
    const len = split.len[m][s];
    for (let t = 0; t < len; t++) {
      const off = (s * L + t) * D;
      for (let d = 0; d < D; d++) mean[d] += x[off + d];
    }
    count += len;
  }
  const std = new Float64Array(D);
  if (count === 0) return { mean, std };
  for (let d = 0; d < D; d++) mean[d] /= count;
  for (let s = 0; s < split.n; s++) {
    const len = split.len[m][s];
    for (let t = 0; t < len; t++) {
      const off = (s * L + t) * D;
      for (let d = 0; d < D; d++) {
        const dev = x[off + d] - mean[d];
        sumSq[d] += dev * dev;
      }
    }
  }
  for (let d = 0; d < D; d++) std[d] = Math.sqrt(sumSq[d] / count);
  return { mean, std };
}

/**
 * Draws the uniforms (and noise) for one split. Every split restarts the same seeds, as the code
 * does. `trainStd` defaults to `featureStd(ds.train, ds)`; pass it to avoid recomputing per split.
 */
export function planMissing(split: Split, ds: Dataset, cfg: MissingConfig, trainStd?: FeatureStd): SplitMaskPlan {
  const u = {} as ByModality<Float64Array>;
  MODALITIES.forEach((m, i) => {
    const seed = cfg.maskSeeds[i];
    u[m] = cfg.level === 'frame' ? drawUniforms(split.n, ds.lens[i], seed) : drawUniforms(split.n, 1, seed);
  });
  let noise: SplitMaskPlan['noise'] = null;
  if (cfg.replace === 'noise') {
    const std = trainStd ?? featureStd(ds.train, ds);
    noise = {
      a: drawNoise(split.n, ds.lens[1], ds.dims[1], cfg.maskSeeds[1], std.a, cfg.noiseScale),
      v: drawNoise(split.n, ds.lens[2], ds.dims[2], cfg.maskSeeds[2], std.v, cfg.noiseScale),
    };
  }
  return {
    n: split.n,
    level: cfg.level,
    u,
    // Either the data says its text rows are BERT tokens or the user does (PROTOCOL.md).
    textIsBert: ds.textIsBert || cfg.textIsBert,
    textUnk: ds.textUnk,
    noise,
  };
}

/** The plans of all three splits; the train σ (for noise) is computed once, and only for noise. */
export function planSplits(ds: Dataset, cfg: MissingConfig): Record<'train' | 'valid' | 'test', SplitMaskPlan> {
  const std = cfg.replace === 'noise' ? featureStd(ds.train, ds) : undefined;
  return {
    train: planMissing(ds.train, ds, cfg, std),
    valid: planMissing(ds.valid, ds, cfg, std),
    test: planMissing(ds.test, ds, cfg, std),
  };
}

function drawNoise(n: number, L: number, D: number, maskSeed: number, std: Float32Array, scale: number): Float32Array {
  const rng = new MT19937((maskSeed + NOISE_SEED_OFFSET) >>> 0);
  const out = new Float32Array(n * L * D);
  for (let p = 0; p < n * L; p++) {
    const off = p * D;
    for (let d = 0; d < D; d++) out[off + d] = rng.normal() * std[d] * scale;
  }
  return out;
}

/** The masked view of some rows; `drop` is Float32 for the loss or Uint8 for storage. */
interface MaskTarget {
  x: ByModality<Float32Array>;
  drop: ByModality<Float32Array | Uint8Array>;
}

/**
 * Modality level: is modality m of sample `row` dropped at these rates? When all three would go,
 * text stays, so no sample is left with nothing.
 */
function modalityDropped(plan: SplitMaskPlan, row: number, rates: PerModality<number>): [boolean, boolean, boolean] {
  const a = plan.u.a[row] <= rates[1];
  const v = plan.u.v[row] <= rates[2];
  const t = plan.u.t[row] <= rates[0] && !(a && v);
  return [t, a, v];
}

function checkRates(rates: PerModality<number>): void {
  for (const r of rates) {
    if (!(r >= 0 && r <= 1)) throw new Error(`missing rate must be within [0, 1], got ${r}`);
  }
}

/** Writes the masked features and drop flags of `rows` into `out` (which already holds the clean rows). */
function applyMasks(
  split: Split,
  plan: SplitMaskPlan,
  rows: ArrayLike<number>,
  rates: PerModality<number>,
  ds: Dataset,
  out: MaskTarget,
): void {
  const B = rows.length;
  MODALITIES.forEach((m, mi) => {
    const L = ds.lens[mi];
    const D = ds.dims[mi];
    const x = out.x[m];
    const drop = out.drop[m];
    const u = plan.u[m];
    const r = rates[mi];
    const keepEnds = m === 't' && plan.textIsBert;
    const fill = m === 't' ? plan.textUnk : null;
    const noise = m === 'a' ? (plan.noise?.a ?? null) : m === 'v' ? (plan.noise?.v ?? null) : null;
    for (let b = 0; b < B; b++) {
      const row = rows[b];
      const len = split.len[m][row];
      const whole = plan.level === 'modality' ? modalityDropped(plan, row, rates)[mi] : false;
      for (let t = 0; t < len; t++) {
        if (keepEnds && (t === 0 || t === len - 1)) continue;
        const dropped = plan.level === 'frame' ? u[row * L + t] <= r : whole;
        if (!dropped) continue;
        drop[b * L + t] = 1;
        const dst = (b * L + t) * D;
        if (fill) x.set(fill, dst);
        else if (noise) x.set(noise.subarray((row * L + t) * D, (row * L + t + 1) * D), dst);
        else x.fill(0, dst, dst + D);
      }
    }
  });
}

function checkPlan(split: Split, plan: SplitMaskPlan, rows: ArrayLike<number>): void {
  if (plan.n !== split.n) throw new Error(`mask plan is for ${plan.n} samples but the split has ${split.n}`);
  for (let b = 0; b < rows.length; b++) {
    const row = rows[b];
    if (!Number.isInteger(row) || row < 0 || row >= split.n)
      throw new Error(`batch row ${row} is outside 0..${split.n - 1}`);
  }
}

/** Gathers `rows` of the split and masks them at `rates` (t, a, v). */
export function maskedBatch(
  split: Split,
  plan: SplitMaskPlan,
  rows: ArrayLike<number>,
  rates: PerModality<number>,
  ds: Dataset,
): Batch {
  checkRates(rates);
  checkPlan(split, plan, rows);
  const B = rows.length;
  const clean = {} as ByModality<Float32Array>;
  const x = {} as ByModality<Float32Array>;
  const drop = {} as ByModality<Float32Array>;
  const len = {} as ByModality<Int32Array>;
  MODALITIES.forEach((m, mi) => {
    const row = ds.lens[mi] * ds.dims[mi];
    const c = new Float32Array(B * row);
    const l = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      c.set(split.x[m].subarray(rows[b] * row, (rows[b] + 1) * row), b * row);
      l[b] = split.len[m][rows[b]];
    }
    clean[m] = c;
    x[m] = c.slice();
    drop[m] = new Float32Array(B * ds.lens[mi]);
    len[m] = l;
  });
  const y = new Float32Array(B);
  for (let b = 0; b < B; b++) y[b] = split.y[rows[b]];
  applyMasks(split, plan, rows, rates, ds, { x, drop });
  return { size: B, x, clean, drop, len, y };
}

/**
 * The whole split masked at `rates`. To spare memory (mosi-shape text alone is ~200 MB), `clean`,
 * `len` and `y` are the split's own arrays, not copies: treat them as read-only.
 */
export function maskSplit(split: Split, plan: SplitMaskPlan, rates: PerModality<number>, ds: Dataset): MaskedSplit {
  checkRates(rates);
  const rows = new Int32Array(split.n);
  for (let i = 0; i < split.n; i++) rows[i] = i;
  checkPlan(split, plan, rows);
  const x = { t: split.x.t.slice(), a: split.x.a.slice(), v: split.x.v.slice() };
  const drop = {
    t: new Uint8Array(split.n * ds.lens[0]),
    a: new Uint8Array(split.n * ds.lens[1]),
    v: new Uint8Array(split.n * ds.lens[2]),
  };
  applyMasks(split, plan, rows, rates, ds, { x, drop });
  return { n: split.n, x, clean: split.x, drop, len: split.len, y: split.y };
}
