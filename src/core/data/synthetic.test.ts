import { describe, expect, it } from 'vitest';
import { DEFAULT_KNOBS, type SyntheticPresetName } from '../config/config.ts';
import { labelHistogram, makeSynthetic, SYNTHETIC_PRESETS } from './synthetic.ts';
import { SPLITS, type Dataset, type Split } from './types.ts';
import { validateDataset } from './validate.ts';

const MODS = ['t', 'a', 'v'] as const;

/** Typed-array equality by bytes: vitest's deep equality is far too slow for millions of values. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function bytes(ds: Dataset): Uint8Array[] {
  return SPLITS.flatMap((s) => [
    ...MODS.map((m) => new Uint8Array(ds[s].x[m].buffer)),
    ...MODS.map((m) => new Uint8Array(ds[s].len[m].buffer)),
    new Uint8Array(ds[s].y.buffer),
  ]);
}

/** Per-sample mean over the valid positions of modality `mi`, plus a bias column. */
function meanFeatures(s: Split, ds: Dataset, mi: number): Float64Array[] {
  const m = MODS[mi];
  const L = ds.lens[mi];
  const D = ds.dims[mi];
  return Array.from({ length: s.n }, (_, i) => {
    const f = new Float64Array(D + 1);
    f[D] = 1;
    const len = s.len[m][i];
    for (let t = 0; t < len; t++) for (let d = 0; d < D; d++) f[d] += s.x[m][(i * L + t) * D + d] / len;
    return f;
  });
}

/** Ridge least squares by Gauss–Jordan on the normal equations (bias unpenalised). */
function ridgeFit(X: Float64Array[], y: Float32Array, lambda: number): Float64Array {
  const P = X[0].length;
  const A = Array.from({ length: P }, () => new Float64Array(P + 1));
  X.forEach((x, i) => {
    for (let a = 0; a < P; a++) {
      for (let b = 0; b < P; b++) A[a][b] += x[a] * x[b];
      A[a][P] += x[a] * y[i];
    }
  });
  for (let a = 0; a < P - 1; a++) A[a][a] += lambda;
  for (let c = 0; c < P; c++) {
    for (let r = 0; r < P; r++) {
      if (r === c) continue;
      const f = A[r][c] / A[c][c];
      for (let k = c; k <= P; k++) A[r][k] -= f * A[c][k];
    }
  }
  return Float64Array.from({ length: P }, (_, a) => A[a][P] / A[a][a]);
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Test-split correlation of a linear fit of the label on the mean of one modality (FC(m) in miniature). */
function linearCorr(ds: Dataset, mi: number): number {
  const w = ridgeFit(meanFeatures(ds.train, ds, mi), ds.train.y, 1);
  const pred = meanFeatures(ds.test, ds, mi).map((x) => x.reduce((s, v, k) => s + v * w[k], 0));
  return pearson(pred, ds.test.y);
}

describe('makeSynthetic', () => {
  it('is byte-identical for the same seed and differs for another', () => {
    for (const preset of ['tiny', 'small'] as const) {
      const a = bytes(makeSynthetic(preset, 42));
      const same = bytes(makeSynthetic(preset, 42));
      expect(a.every((arr, k) => sameBytes(arr, same[k]))).toBe(true);
      const b = bytes(makeSynthetic(preset, 43));
      expect(a.map((arr, k) => sameBytes(arr, b[k]))).toEqual(a.map(() => false));
    }
  });

  for (const preset of Object.keys(SYNTHETIC_PRESETS) as SyntheticPresetName[]) {
    it(`${preset}: sizes, lengths, zero padding, labels, validation`, () => {
      const p = SYNTHETIC_PRESETS[preset];
      const ds = makeSynthetic(preset, 7);
      expect(ds.source).toBe(`synthetic:${preset}`);
      expect(ds.textIsBert).toBe(false);
      expect(ds.textUnk).toBeNull();
      expect(ds.lens).toEqual(p.lens);
      expect(ds.dims).toEqual(p.dims);
      expect(() => validateDataset(ds)).not.toThrow();
      for (const s of SPLITS) {
        const split = ds[s];
        expect(split.n).toBe(p[s]);
        MODS.forEach((m, mi) => {
          const L = p.lens[mi];
          const D = p.dims[mi];
          expect(split.x[m].length).toBe(p[s] * L * D);
          let minLen = L;
          let maxLen = 0;
          for (let i = 0; i < split.n; i++) {
            const len = split.len[m][i];
            minLen = Math.min(minLen, len);
            maxLen = Math.max(maxLen, len);
            expect(len).toBeGreaterThanOrEqual(Math.max(1, Math.floor(L / 2)));
            expect(len).toBeLessThanOrEqual(L);
            // padding is exactly zero, and the last valid frame is not
            expect(split.x[m].subarray((i * L + len) * D, (i + 1) * L * D).every((v) => v === 0)).toBe(true);
            expect(split.x[m].subarray((i * L + len - 1) * D, (i * L + len) * D).some((v) => v !== 0)).toBe(true);
          }
          expect(maxLen).toBeGreaterThan(minLen); // lengths vary
        });
        const y = Array.from(split.y);
        expect(y.every((v) => v >= -3 && v <= 3)).toBe(true);
        expect(y.some((v) => v === 0)).toBe(true);
        expect(y.some((v) => Math.abs(v % 1) === 0.5)).toBe(true);
        expect(y.some((v) => v > 0) && y.some((v) => v < 0)).toBe(true);
      }
    });
  }

  it('has zeros and exact halves in every split across many seeds (tiny, the smallest splits)', () => {
    for (let seed = 0; seed < 40; seed++) {
      const ds = makeSynthetic('tiny', seed);
      for (const s of SPLITS) {
        const y = Array.from(ds[s].y);
        expect(y.some((v) => v === 0)).toBe(true);
        expect(y.some((v) => Math.abs(v % 1) === 0.5)).toBe(true);
      }
    }
  });

  it('text carries clearly more linear signal than audio or vision', () => {
    for (const seed of [1, 2]) {
      const ds = makeSynthetic('small', seed);
      const [t, a, v] = [0, 1, 2].map((mi) => linearCorr(ds, mi));
      expect(t).toBeGreaterThan(0.4);
      expect(t).toBeGreaterThan(a + 0.2);
      expect(t).toBeGreaterThan(v + 0.2);
    }
  });

  it('signal knobs change features only; labels stay; interaction changes labels', () => {
    const base = makeSynthetic('tiny', 5);
    const quiet = makeSynthetic('tiny', 5, {
      ...DEFAULT_KNOBS,
      textSignal: 0,
      audioSignal: 2,
      visionSignal: 0.5,
      noise: 0.3,
    });
    for (const s of SPLITS) {
      expect(quiet[s].y).toEqual(base[s].y);
      expect(quiet[s].len.t).toEqual(base[s].len.t);
      expect(quiet[s].x.a).not.toEqual(base[s].x.a);
    }
    expect(makeSynthetic('tiny', 5, { ...DEFAULT_KNOBS, interaction: 0 }).train.y).not.toEqual(base.train.y);
    const silent = makeSynthetic('tiny', 5, { ...DEFAULT_KNOBS, audioSignal: 0, noise: 0 });
    expect(silent.train.x.a.every((v) => v === 0)).toBe(true);
  });

  it('without text signal, text loses its edge', () => {
    const ds = makeSynthetic('small', 1, { ...DEFAULT_KNOBS, textSignal: 0 });
    expect(Math.abs(linearCorr(ds, 0))).toBeLessThan(0.2);
  });

  it('rejects unknown presets and bad knobs', () => {
    expect(() => makeSynthetic('huge' as SyntheticPresetName, 1)).toThrow(/unknown synthetic preset/);
    expect(() => makeSynthetic('tiny', 1, { ...DEFAULT_KNOBS, noise: -1 })).toThrow(/noise/);
  });
});

describe('labelHistogram', () => {
  it('counts rounded classes −3..3, halves to even as Acc-7 does', () => {
    const y = Float32Array.from([-3, -2.5, -0.5, 0.5, 1.5, 2.5, 3, 0.49, NaN, 7]);
    expect(Array.from(labelHistogram(y))).toEqual([1, 1, 0, 3, 0, 2, 2]);
    expect(Array.from(labelHistogram(y, 5))).toEqual([2, 0, 3, 0, 4]);
  });
});

describe('the shared-content knob', () => {
  it('adds one trajectory all modalities show at the same moments, and changes nothing else', () => {
    const off = { ...DEFAULT_KNOBS, audioSignal: 0, visionSignal: 0, noise: 0 };
    const base = makeSynthetic('small', 3, off);
    const ds = makeSynthetic('small', 3, { ...off, shared: 1 });
    expect(base.train.x.a.every((v) => v === 0)).toBe(true);
    for (const s of SPLITS) {
      expect(ds[s].y).toEqual(base[s].y);
      expect(ds[s].len.a).toEqual(base[s].len.a);
    }
    // Audio and vision now hold only the trajectory, each along a direction of its own of length
    // √D: at equal lengths (small: 20 / 20 / 20), frame t of both has the same |u(τ)| per √D.
    const { x, len, n } = ds.train;
    const [, La, Lv] = SYNTHETIC_PRESETS.small.lens;
    const [, Da, Dv] = SYNTHETIC_PRESETS.small.dims;
    const norm = (arr: Float32Array, off0: number, D: number) =>
      Math.hypot(...Array.from(arr.subarray(off0, off0 + D)));
    let compared = 0;
    let energy = 0;
    for (let i = 0; i < n; i++) {
      if (len.a[i] !== len.v[i]) continue;
      for (let t = 0; t < La; t++) {
        const na = norm(x.a, (i * La + t) * Da, Da) / Math.sqrt(Da);
        const nv = norm(x.v, (i * Lv + t) * Dv, Dv) / Math.sqrt(Dv);
        if (t >= len.a[i]) {
          expect(na).toBe(0); // padding stays zero
          continue;
        }
        expect(na).toBeCloseTo(nv, 4);
        energy += na;
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(1000);
    expect(energy / compared).toBeGreaterThan(0.5); // the trajectory is really there
  });

  it('is smooth in time: neighbouring frames share most of it', () => {
    const off = { ...DEFAULT_KNOBS, audioSignal: 0, visionSignal: 0, noise: 0, shared: 1 };
    const { x, len, n } = makeSynthetic('small', 4, off).train;
    const [, La] = SYNTHETIC_PRESETS.small.lens;
    const [, Da] = SYNTHETIC_PRESETS.small.dims;
    // Projections of consecutive frames onto one fixed direction are strongly correlated.
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let t = 0; t + 1 < len.a[i]; t++) {
        a.push(x.a[(i * La + t) * Da]);
        b.push(x.a[(i * La + t + 1) * Da]);
      }
    }
    const mean = (v: number[]) => v.reduce((s, q) => s + q, 0) / v.length;
    const ma = mean(a);
    const mb = mean(b);
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let k = 0; k < a.length; k++) {
      sab += (a[k] - ma) * (b[k] - mb);
      saa += (a[k] - ma) ** 2;
      sbb += (b[k] - mb) ** 2;
    }
    expect(sab / Math.sqrt(saa * sbb)).toBeGreaterThan(0.6); // independent frames would give ≈ 0
  });
});
