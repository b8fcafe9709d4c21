import { describe, expect, it } from 'vitest';
import { defaultRunConfig, type MissingConfig, type PerModality } from '../config/config.ts';
import { MT19937 } from '../random.ts';
import fixture from './__fixtures__/numpy_masks.json';
import { drawUniforms, featureStd, maskedBatch, maskSplit, NOISE_SEED_OFFSET, planMissing } from './masking.ts';
import type { Dataset, Split } from './types.ts';

const MODS = ['t', 'a', 'v'] as const;

function missing(over: Partial<MissingConfig> = {}): MissingConfig {
  return { ...defaultRunConfig().missing, ...over };
}

/** A split whose every real value is distinct and non-zero, so any replacement is visible. */
function makeSplit(lengths: number[], lens: PerModality<number>, dims: PerModality<number>, y0 = 0): Split {
  const n = lengths.length;
  const x = {} as Split['x'];
  const len = {} as Split['len'];
  MODS.forEach((m, mi) => {
    const L = lens[mi];
    const D = dims[mi];
    const a = new Float32Array(n * L * D);
    const l = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      l[i] = Math.max(1, Math.round((lengths[i] * L) / lens[0]));
      for (let t = 0; t < l[i]; t++)
        for (let d = 0; d < D; d++) a[(i * L + t) * D + d] = 1 + mi * 1000 + i + 0.01 * t + 0.001 * d;
    }
    x[m] = a;
    len[m] = l;
  });
  const y = Float32Array.from(lengths, (_, i) => ((i + y0) % 7) - 3);
  return { n, x, len, y };
}

function makeDataset(
  split: Split,
  lens: PerModality<number>,
  dims: PerModality<number>,
  extra: Partial<Dataset> = {},
): Dataset {
  return {
    source: 'test',
    dims,
    lens,
    textIsBert: false,
    textUnk: null,
    train: split,
    valid: split,
    test: split,
    ...extra,
  };
}

const FIX_LENS: PerModality<number> = [fixture.L, fixture.L, fixture.L];
const FIX_DIMS: PerModality<number> = [3, 2, 2];
const fixSplit = makeSplit(fixture.lengths, FIX_LENS, FIX_DIMS);

function frameFixture(seed: number, rate: number, keepEnds: boolean): number[] {
  const f = fixture.frame.find((e) => e.seed === seed && e.rate === rate && e.keepEnds === keepEnds);
  if (!f) throw new Error(`no fixture for ${seed} ${rate} ${keepEnds}`);
  return f.drop;
}

describe('uniforms match numpy RandomState.random_sample', () => {
  it('bit for bit for each fixture seed and shape', () => {
    for (const s of fixture.samples) {
      const [rows, cols] = s.shape.length === 2 ? s.shape : [s.shape[0], 1];
      expect(Array.from(drawUniforms(rows, cols, s.seed))).toEqual(s.values);
    }
  });

  it('across regenerations of the 624-word state', () => {
    const { seed, count, indices, values } = fixture.longSample;
    const u = drawUniforms(1, count, seed);
    expect(indices.map((k) => u[k])).toEqual(values);
  });

  it('noise stream equals numpy standard_normal from mask seed + 7919', () => {
    for (const nz of fixture.noise) {
      expect(nz.noiseSeed).toBe(nz.seed + NOISE_SEED_OFFSET);
      const rng = new MT19937(nz.noiseSeed);
      expect(nz.values.map(() => rng.normal())).toEqual(nz.values);
    }
  });
});

describe('frame-level masks match numpy', () => {
  for (const rate of [0, 0.3, 0.7, 1]) {
    for (const textIsBert of [false, true]) {
      it(`rate ${rate}, textIsBert ${textIsBert}`, () => {
        for (const tSeed of fixture.maskSeeds) {
          const ds = makeDataset(fixSplit, FIX_LENS, FIX_DIMS, { textIsBert });
          const plan = planMissing(fixSplit, ds, missing({ maskSeeds: [tSeed, 1111, 11111] }));
          const ms = maskSplit(fixSplit, plan, [rate, rate, rate], ds);
          expect(Array.from(ms.drop.t)).toEqual(frameFixture(tSeed, rate, textIsBert));
          expect(Array.from(ms.drop.a)).toEqual(frameFixture(1111, rate, false));
          expect(Array.from(ms.drop.v)).toEqual(frameFixture(11111, rate, false));
        }
      });
    }
  }

  it('cfg.textIsBert alone turns on the kept ends', () => {
    const ds = makeDataset(fixSplit, FIX_LENS, FIX_DIMS);
    const plan = planMissing(fixSplit, ds, missing({ textIsBert: true }));
    expect(Array.from(maskSplit(fixSplit, plan, [0.7, 0.7, 0.7], ds).drop.t)).toEqual(frameFixture(111, 0.7, true));
  });

  it('a gathered batch carries the rows of the split masks', () => {
    const ds = makeDataset(fixSplit, FIX_LENS, FIX_DIMS);
    const plan = planMissing(fixSplit, ds, missing());
    const rows = [4, 0, 2];
    const b = maskedBatch(fixSplit, plan, rows, [0.3, 0.7, 0.3], ds);
    const L = fixture.L;
    const want = {
      t: frameFixture(111, 0.3, false),
      a: frameFixture(1111, 0.7, false),
      v: frameFixture(11111, 0.3, false),
    };
    for (const m of MODS) {
      expect(Array.from(b.drop[m])).toEqual(rows.flatMap((r) => want[m].slice(r * L, (r + 1) * L)));
      expect(Array.from(b.len[m])).toEqual(rows.map((r) => fixSplit.len[m][r]));
    }
    expect(Array.from(b.y)).toEqual(rows.map((r) => fixSplit.y[r]));
    expect(b.size).toBe(3);
  });
});

describe('modality-level masks match numpy', () => {
  for (const entry of fixture.modality) {
    it(`rate ${entry.rate}`, () => {
      const ds = makeDataset(fixSplit, FIX_LENS, FIX_DIMS);
      const plan = planMissing(fixSplit, ds, missing({ level: 'modality' }));
      const ms = maskSplit(fixSplit, plan, [entry.rate, entry.rate, entry.rate], ds);
      const L = fixture.L;
      MODS.forEach((m, mi) => {
        for (let i = 0; i < fixture.n; i++) {
          const dropped = entry.dropped[mi * fixture.n + i];
          for (let t = 0; t < L; t++) expect(ms.drop[m][i * L + t]).toBe(dropped && t < fixSplit.len[m][i] ? 1 : 0);
        }
      });
    });
  }

  it('keeps text when all three would drop', () => {
    const ds = makeDataset(fixSplit, FIX_LENS, FIX_DIMS);
    const plan = planMissing(fixSplit, ds, missing({ level: 'modality' }));
    const ms = maskSplit(fixSplit, plan, [1, 1, 1], ds);
    expect(ms.drop.t.every((v) => v === 0)).toBe(true);
    expect(Array.from(ms.x.t)).toEqual(Array.from(fixSplit.x.t));
    expect(ms.x.a.every((v) => v === 0)).toBe(true);
    expect(ms.x.v.every((v) => v === 0)).toBe(true);
  });
});

describe('masking behaviour on a larger split', () => {
  const lens: PerModality<number> = [50, 50, 50];
  const dims: PerModality<number> = [4, 3, 5];
  const rng = new MT19937(5);
  const lengths = Array.from({ length: 400 }, () => 1 + rng.int(50));
  lengths[0] = 1;
  lengths[1] = 2;
  const split = makeSplit(lengths, lens, dims);
  const ds = makeDataset(split, lens, dims);

  it('drops a share r of the real positions and nothing beyond the length', () => {
    const plan = planMissing(split, ds, missing());
    for (const r of [0.1, 0.5, 0.9]) {
      const ms = maskSplit(split, plan, [r, r, r], ds);
      for (const m of MODS) {
        let real = 0;
        let dropped = 0;
        for (let i = 0; i < split.n; i++) {
          for (let t = 0; t < 50; t++) {
            const dr = ms.drop[m][i * 50 + t];
            if (t >= split.len[m][i]) expect(dr).toBe(0);
            else {
              real++;
              dropped += dr;
            }
          }
        }
        expect(Math.abs(dropped / real - r)).toBeLessThan(0.02);
      }
    }
  });

  it('every text position can drop unless the text is BERT tokens', () => {
    const plain = maskSplit(split, planMissing(split, ds, missing()), [1, 1, 1], ds);
    for (let i = 0; i < split.n; i++) for (let t = 0; t < split.len.t[i]; t++) expect(plain.drop.t[i * 50 + t]).toBe(1);
    const bertDs = makeDataset(split, lens, dims, { textIsBert: true });
    const bert = maskSplit(split, planMissing(split, bertDs, missing()), [1, 1, 1], bertDs);
    for (let i = 0; i < split.n; i++) {
      const len = split.len.t[i];
      for (let t = 0; t < len; t++) expect(bert.drop.t[i * 50 + t]).toBe(t === 0 || t === len - 1 ? 0 : 1);
    }
    // length 1: its one position is [CLS] and [SEP] at once, so it is kept.
    expect(bert.drop.t[0]).toBe(0);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const a = maskSplit(split, planMissing(split, ds, missing()), [0.5, 0.5, 0.5], ds);
    const b = maskSplit(split, planMissing(split, ds, missing()), [0.5, 0.5, 0.5], ds);
    const c = maskSplit(split, planMissing(split, ds, missing({ maskSeeds: [112, 1112, 11112] })), [0.5, 0.5, 0.5], ds);
    for (const m of MODS) {
      expect(a.drop[m]).toEqual(b.drop[m]);
      expect(a.drop[m]).not.toEqual(c.drop[m]);
    }
  });

  it('restarts the same seeds for every split, and masks nest across rates', () => {
    const small = makeSplit(lengths.slice(0, 30), lens, dims);
    const p1 = planMissing(split, ds, missing());
    const p2 = planMissing(small, ds, missing());
    for (const m of MODS) expect(p2.u[m]).toEqual(p1.u[m].subarray(0, 30 * 50));
    const lo = maskSplit(split, p1, [0.3, 0.3, 0.3], ds);
    const hi = maskSplit(split, p1, [0.6, 0.6, 0.6], ds);
    for (const m of MODS) for (let k = 0; k < lo.drop[m].length; k++) if (lo.drop[m][k]) expect(hi.drop[m][k]).toBe(1);
  });

  it('fills dropped text with textUnk (else zeros), audio/vision with zeros, keeps the rest and the clean copy', () => {
    const unk = Float32Array.from([9, -9, 0.5, 7]);
    for (const textUnk of [unk, null]) {
      const dsu = makeDataset(split, lens, dims, { textUnk });
      const plan = planMissing(split, dsu, missing());
      const rows = Array.from({ length: 40 }, (_, k) => (k * 7) % split.n);
      const b = maskedBatch(split, plan, rows, [0.5, 0.5, 0.5], dsu);
      MODS.forEach((m, mi) => {
        const D = dims[mi];
        rows.forEach((row, bi) => {
          for (let t = 0; t < 50; t++) {
            const src = split.x[m].subarray((row * 50 + t) * D, (row * 50 + t + 1) * D);
            const got = b.x[m].subarray((bi * 50 + t) * D, (bi * 50 + t + 1) * D);
            expect(b.clean[m].subarray((bi * 50 + t) * D, (bi * 50 + t + 1) * D)).toEqual(src);
            if (b.drop[m][bi * 50 + t] === 1) expect(got).toEqual(m === 't' && textUnk ? textUnk : new Float32Array(D));
            else expect(got).toEqual(src);
          }
        });
      });
    }
  });

  it('maskSplit returns the original arrays as clean', () => {
    const ms = maskSplit(split, planMissing(split, ds, missing()), [0.5, 0.5, 0.5], ds);
    for (const m of MODS) expect(ms.clean[m]).toBe(split.x[m]);
    expect(ms.y).toBe(split.y);
  });

  it('noise replacement: N(0, σ_train·scale) from mask seed + 7919, text still zeros', () => {
    const trainStd = featureStd(split, ds);
    const plan = planMissing(split, ds, missing({ replace: 'noise', noiseScale: 0.5 }), trainStd);
    expect(plan.noise).not.toBeNull();
    const rngA = new MT19937(1111 + NOISE_SEED_OFFSET);
    const first = Array.from({ length: 6 }, (_, k) => Math.fround(rngA.normal() * trainStd.a[k % 3] * 0.5));
    expect(Array.from(plan.noise!.a.subarray(0, 6))).toEqual(first);
    // Same as the default (computed from ds.train) when trainStd is not passed.
    expect(planMissing(split, ds, missing({ replace: 'noise', noiseScale: 0.5 })).noise!.v).toEqual(plan.noise!.v);

    const ms = maskSplit(split, plan, [0.5, 0.5, 0.5], ds);
    let sumSq = 0;
    let count = 0;
    MODS.forEach((m, mi) => {
      const D = dims[mi];
      for (let p = 0; p < split.n * 50; p++) {
        if (!ms.drop[m][p]) continue;
        const got = ms.x[m].subarray(p * D, (p + 1) * D);
        if (m === 't') expect(got).toEqual(new Float32Array(D));
        else {
          expect(got).toEqual(plan.noise![m].subarray(p * D, (p + 1) * D));
          if (m === 'a') {
            sumSq += (got[0] / (trainStd.a[0] * 0.5)) ** 2;
            count++;
          }
        }
      }
    });
    expect(Math.abs(sumSq / count - 1)).toBeLessThan(0.1);
  });

  it('featureStd is the population σ over valid positions', () => {
    const s = makeSplit([2, 1], [2, 2, 2], [1, 1, 1]);
    s.x.a.set([1, 3, 5, 999]); // row 1 has length 1: 999 is padding and must not count
    const std = featureStd(s, makeDataset(s, [2, 2, 2], [1, 1, 1]));
    expect(std.a[0]).toBeCloseTo(Math.sqrt(8 / 3), 6);
  });

  it('rejects bad rates, rows and plans', () => {
    const plan = planMissing(split, ds, missing());
    expect(() => maskedBatch(split, plan, [0], [1.5, 0, 0], ds)).toThrow(/rate/);
    expect(() => maskedBatch(split, plan, [400], [0.5, 0.5, 0.5], ds)).toThrow(/row 400/);
    expect(() => maskSplit(fixSplit, plan, [0.5, 0.5, 0.5], ds)).toThrow(/400 samples/);
  });
});
