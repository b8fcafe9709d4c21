import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../tf.ts';
import { initNodeBackend } from '../backend.ts';
import {
  MODALITIES,
  modelPreset,
  TABLE5_SETTINGS,
  type Branches,
  type ModelConfig,
  type ModelPresetName,
  type PerModality,
} from '../config/config.ts';
import type { ByModality } from '../data/types.ts';
import { MT19937 } from '../random.ts';
import { mfmbLoss } from '../train/loss.ts';
import { buildModel } from './build.ts';
import { Micro } from './micro.ts';
import type { Model, ModelInput } from './model.ts';
import { ParamStore } from './params.ts';
import { BiRNN, type Cell } from './recurrent.ts';

/**
 * MODEL.md "What a correct implementation shows": output shapes for every branch combination and
 * unequal lengths, padding invariance, gradients reaching every enabled branch, no variables for a
 * disabled one, the parameter-count table, and the hand-written BPTT of the recurrent encoder.
 * Small dims (16/5/20) and lengths (8/12/10, unequal so the macro time maps exist) keep it fast.
 */

const DIMS: PerModality<number> = [16, 5, 20];
const LENS: PerModality<number> = [8, 12, 10];
const ALL_ON: Branches = { macro: true, micro: true, recon: true };

beforeAll(async () => {
  await initNodeBackend('wasm');
});

// ---------------------------------------------------------------- helpers

/** Raw inputs as plain arrays: real positions ~N(0, 1), padding zero. */
interface Raw {
  B: number;
  dims: PerModality<number>;
  lens: PerModality<number>;
  x: ByModality<Float32Array>;
  len: ByModality<Int32Array>;
}

/** Per-sample lengths: the first sample full, the others shorter (down to 1). */
function lengthsFor(B: number, lens: PerModality<number>): ByModality<Int32Array> {
  const out = {} as ByModality<Int32Array>;
  MODALITIES.forEach((m, i) => {
    const L = lens[i];
    out[m] = Int32Array.from({ length: B }, (_, b) =>
      b === 0 ? L : Math.max(1, L - 2 - Math.floor(((L - 1) * b) / B)),
    );
    if (B > 2) out[m][B - 1] = 1 + i; // a very short sample in every modality
  });
  return out;
}

function randomRaw(seed: number, B: number, dims = DIMS, lens = LENS, len = lengthsFor(B, lens)): Raw {
  const rng = new MT19937(seed);
  const x = {} as ByModality<Float32Array>;
  MODALITIES.forEach((m, i) => {
    const L = lens[i],
      D = dims[i];
    const a = new Float32Array(B * L * D);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < len[m][b]; t++) for (let d = 0; d < D; d++) a[(b * L + t) * D + d] = rng.normal();
    x[m] = a;
  });
  return { B, dims, lens, x, len };
}

/** A copy with large random values written into every padding position (t ≥ len[b]) of every modality. */
function withGarbage(raw: Raw, seed: number): Raw {
  const rng = new MT19937(seed);
  const x = {} as ByModality<Float32Array>;
  let written = 0;
  MODALITIES.forEach((m, i) => {
    const L = raw.lens[i],
      D = raw.dims[i];
    const a = raw.x[m].slice();
    for (let b = 0; b < raw.B; b++) {
      for (let t = raw.len[m][b]; t < L; t++) {
        for (let d = 0; d < D; d++) a[(b * L + t) * D + d] = rng.uniform(-50, 50);
        written++;
      }
    }
    x[m] = a;
  });
  expect(written).toBeGreaterThan(0);
  return { ...raw, x };
}

function toInput(raw: Raw): ModelInput {
  const x = {} as ByModality<tf.Tensor3D>;
  MODALITIES.forEach((m, i) => (x[m] = tf.tensor3d(raw.x[m], [raw.B, raw.lens[i], raw.dims[i]])));
  return { x, len: raw.len };
}

interface Run {
  predShape: number[];
  pred: Float32Array;
  recon: ByModality<{ shape: number[]; data: Float32Array }> | null;
}

function run(model: Model, raw: Raw, training = false, seed = 1): Run {
  let result: Run | null = null;
  tf.tidy(() => {
    const out = model.forward(toInput(raw), { training, rng: new MT19937(seed) });
    let recon: Run['recon'] = null;
    if (out.recon) {
      recon = {} as NonNullable<Run['recon']>;
      for (const m of MODALITIES)
        recon[m] = { shape: out.recon[m].shape, data: out.recon[m].dataSync() as Float32Array };
    }
    result = { predShape: out.pred.shape, pred: out.pred.dataSync() as Float32Array, recon };
  });
  return result!;
}

function tinyConfig(over: Partial<ModelConfig> = {}, preset: ModelPresetName = 'tiny'): ModelConfig {
  return modelPreset(preset, { dims: DIMS, lens: LENS, ...over });
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function namesWithPrefix(model: Model, prefix: string): string[] {
  return [...model.params.entries.keys()].filter((n) => n.startsWith(prefix + '.'));
}

const BLOCK_OF_BRANCH = { macro: 'macro', micro: 'micro', recon: 'recon' } as const;

// ---------------------------------------------------------------- shapes

describe('MFMB-Net output shapes', () => {
  const combos: Branches[] = [];
  for (const macro of [true, false])
    for (const micro of [true, false])
      for (const recon of [true, false]) {
        if (macro || micro) combos.push({ macro, micro, recon });
      }

  for (const branches of combos) {
    it(`branches macro=${branches.macro} micro=${branches.micro} recon=${branches.recon}: pred [B,1], recon [B,L_m,D_m] or null, no variables for a disabled branch`, () => {
      const B = 3;
      const model = buildModel(tinyConfig({ branches }), 7);
      const raw = randomRaw(1, B);
      for (const training of [false, true]) {
        const out = run(model, raw, training);
        expect(out.predShape).toEqual([B, 1]);
        expect(allFinite(out.pred)).toBe(true);
        if (branches.recon) {
          expect(out.recon).not.toBeNull();
          MODALITIES.forEach((m, i) => {
            expect(out.recon![m].shape).toEqual([B, LENS[i], DIMS[i]]);
            expect(allFinite(out.recon![m].data)).toBe(true);
          });
        } else {
          expect(out.recon).toBeNull();
        }
      }
      const byBlock = model.params.count().byBlock;
      for (const key of ['macro', 'micro', 'recon'] as const) {
        const block = BLOCK_OF_BRANCH[key];
        if (branches[key]) {
          expect(namesWithPrefix(model, block).length, block).toBeGreaterThan(0);
          expect(byBlock[block], block).toBeGreaterThan(0);
        } else {
          expect(namesWithPrefix(model, block), block).toEqual([]);
          expect(byBlock[block], block).toBeUndefined();
        }
      }
      model.params.dispose();
    });
  }

  it('macro and micro both off is rejected with a clear error (recon on or off)', () => {
    for (const recon of [true, false]) {
      expect(() => buildModel(tinyConfig({ branches: { macro: false, micro: false, recon } }), 1)).toThrow(
        /at least one fusion stream/,
      );
    }
  });

  for (const preset of ['tiny', 'small', 'base'] as const) {
    it(`preset ${preset} (dims 16/5/20, L 6/6/6, B 3, lengths < L) gives a finite [3,1]`, () => {
      const lens: PerModality<number> = [6, 6, 6];
      const model = buildModel(modelPreset(preset, { dims: DIMS, lens }), 3);
      const out = run(model, randomRaw(2, 3, DIMS, lens));
      expect(out.predShape).toEqual([3, 1]);
      expect(allFinite(out.pred)).toBe(true);
      model.params.dispose();
    });
  }

  const variants: [string, Partial<ModelConfig>][] = [
    ['cell lstm', { cell: 'lstm' }],
    ['alignment sequential', { alignment: 'sequential' }],
    ['hubOrder avt', { hubOrder: 'avt' }],
    ['hubInit zeros', { hubInit: 'zeros' }],
    ['mixer off', { mixer: false }],
    ['causalMask on', { causalMask: true }],
  ];
  it('every option variant runs, gives a finite [B,1] and changes the output (unequal L, lengths < L)', () => {
    const B = 3;
    const raw = randomRaw(3, B);
    const base = buildModel(tinyConfig(), 11);
    const ref = run(base, raw);
    base.params.dispose();
    for (const [label, over] of variants) {
      const model = buildModel(tinyConfig(over), 11);
      const out = run(model, raw);
      expect(out.predShape, label).toEqual([B, 1]);
      expect(allFinite(out.pred), label).toBe(true);
      expect(maxAbsDiff(out.pred, ref.pred), label).toBeGreaterThan(1e-6);
      model.params.dispose();
    }
  });

  it('hubInit zeros holds the hub as a non-trainable buffer; learned makes it a parameter', () => {
    const zeros = buildModel(tinyConfig({ hubInit: 'zeros' }), 1);
    const learned = buildModel(tinyConfig({ hubInit: 'learned' }), 1);
    expect(zeros.params.entries.get('macro.hub')!.trainable).toBe(false);
    expect(zeros.params.trainableNames()).not.toContain('macro.hub');
    expect(learned.params.trainableNames()).toContain('macro.hub');
    expect(learned.params.count().total - zeros.params.count().total).toBe(learned.config.hubK * 3 * learned.config.d);
    zeros.params.dispose();
    learned.params.dispose();
  });

  it('an input whose length does not match the config is rejected', () => {
    const model = buildModel(tinyConfig(), 1);
    const raw = randomRaw(1, 2, DIMS, [8, 11, 10]);
    expect(() => run(model, raw)).toThrow(/does not match/);
    model.params.dispose();
  });
});

// ---------------------------------------------------------------- padding

describe('padding never changes the output', () => {
  const cases: [string, Partial<ModelConfig>][] = [
    ['gru', { cell: 'gru' }],
    ['lstm', { cell: 'lstm' }],
    [
      'lstm, sequential, causal, zero hub, no mixer',
      { cell: 'lstm', alignment: 'sequential', causalMask: true, hubInit: 'zeros', mixer: false },
    ],
  ];
  for (const [label, over] of cases) {
    it(`${label}: garbage in every padding position (L 8/12/10, time-mapped a and v) leaves pred and the real recon positions unchanged`, () => {
      const B = 4;
      const model = buildModel(tinyConfig({ branches: ALL_ON, ...over }), 21);
      const raw = randomRaw(5, B);
      const clean = run(model, raw);
      const dirty = run(model, withGarbage(raw, 99));
      expect(allFinite(clean.pred)).toBe(true);
      expect(maxAbsDiff(dirty.pred, clean.pred)).toBeLessThanOrEqual(1e-5);
      // X̂_m at real positions feeds L_gen, so it must not see the padding either.
      MODALITIES.forEach((m, i) => {
        const L = LENS[i],
          D = DIMS[i];
        for (let b = 0; b < B; b++) {
          const n = raw.len[m][b];
          const a = clean.recon![m].data.subarray(b * L * D, (b * L + n) * D);
          const d = dirty.recon![m].data.subarray(b * L * D, (b * L + n) * D);
          expect(maxAbsDiff(d, a), `recon ${m} sample ${b}`).toBeLessThanOrEqual(1e-5);
        }
      });
      model.params.dispose();
    });
  }
});

// ---------------------------------------------------------------- gradients

describe('every enabled branch receives a finite, non-zero gradient under the full loss', () => {
  for (const setting of TABLE5_SETTINGS) {
    it(setting.label, () => {
      const B = 4;
      const model = buildModel(tinyConfig({ branches: setting.branches }), 31);
      const raw = randomRaw(8, B);
      const rng = new MT19937(77);
      // Drop ~40% of the real positions of every modality (at least one each): zero them in x, flag them in drop.
      const masked = { ...raw, x: {} as ByModality<Float32Array> };
      const dropArr = {} as ByModality<Float32Array>;
      MODALITIES.forEach((m, i) => {
        const L = LENS[i],
          D = DIMS[i];
        const x = raw.x[m].slice();
        const dr = new Float32Array(B * L);
        for (let b = 0; b < B; b++) {
          for (let t = 0; t < raw.len[m][b]; t++) {
            if (rng.random() < 0.4 || (b === 0 && t === 0)) {
              dr[b * L + t] = 1;
              x.fill(0, (b * L + t) * D, (b * L + t + 1) * D);
            }
          }
        }
        masked.x[m] = x;
        dropArr[m] = dr;
      });
      const names = model.params.trainableNames();
      const vars = model.params.trainable();
      const sq = new Map<string, number>(); // squared gradient norm per block
      let allGradsFinite = true;
      tf.tidy(() => {
        const input = toInput(masked);
        const clean = {} as ByModality<tf.Tensor3D>;
        const drop = {} as ByModality<tf.Tensor2D>;
        MODALITIES.forEach((m, i) => {
          clean[m] = tf.tensor3d(raw.x[m], [B, LENS[i], DIMS[i]]);
          drop[m] = tf.tensor2d(dropArr[m], [B, LENS[i]]);
        });
        const y = tf.tensor1d([1.5, -2, 0.3, 2.8]);
        const { value, grads } = tf.variableGrads(() => {
          const out = model.forward(input, { training: true, rng: new MT19937(3) });
          const loss = mfmbLoss(out, y, [5, 2, 20], clean, drop, true);
          expect(loss.gen === null).toBe(!setting.branches.recon);
          return loss.total;
        }, vars);
        expect(Number.isFinite(value.dataSync()[0])).toBe(true);
        names.forEach((name, i) => {
          const g = grads[vars[i].name];
          const block = name.split('.')[0];
          let s = 0;
          if (g) {
            const d = g.dataSync();
            if (!allFinite(d)) allGradsFinite = false;
            for (let k = 0; k < d.length; k++) s += d[k] * d[k];
          }
          sq.set(block, (sq.get(block) ?? 0) + s);
        });
      });
      expect(allGradsFinite).toBe(true);
      const enabled = [
        'proj',
        'hpa',
        'head',
        ...(['macro', 'micro', 'recon'] as const).filter((k) => setting.branches[k]),
      ];
      for (const block of enabled) {
        const norm = Math.sqrt(sq.get(block) ?? 0);
        expect(Number.isFinite(norm), block).toBe(true);
        expect(norm, block).toBeGreaterThan(1e-8);
      }
      for (const block of (['macro', 'micro', 'recon'] as const).filter((k) => !setting.branches[k])) {
        expect(namesWithPrefix(model, block), block).toEqual([]);
        expect(sq.has(block), block).toBe(false);
      }
      model.params.dispose();
    });
  }
});

// ---------------------------------------------------------------- parameter counts

describe('parameter counts (MOSI dims 768/5/20)', () => {
  const ALIGNED: PerModality<number> = [50, 50, 50];
  const UNALIGNED: PerModality<number> = [50, 375, 500];
  // MODEL.md's table: all on / macro off / micro off / recon off (= TABLE5_SETTINGS order).
  const TABLE: Record<ModelPresetName, number[]> = {
    base: [3_236_663, 862_643, 2_870_460, 3_067_030],
    small: [1_152_917, 389_285, 1_033_642, 1_032_604],
    tiny: [185_593, 87_673, 169_710, 140_592],
  };
  const TIME_MAPS = 375 * 50 + 50 + 500 * 50 + 50; // Linear(375→50) + Linear(500→50)

  function counts(preset: ModelPresetName, lens: PerModality<number>) {
    return TABLE5_SETTINGS.map((s) => {
      const m = buildModel(modelPreset(preset, { dims: [768, 5, 20], lens, branches: s.branches }), 1);
      const c = m.params.count();
      const cfg = m.config;
      m.params.dispose();
      return { ...c, cfg, branches: s.branches };
    });
  }

  for (const preset of ['base', 'small', 'tiny'] as const) {
    it(`${preset}: aligned and unaligned totals; the settings differ exactly by the disabled blocks`, () => {
      TABLE5_SETTINGS.forEach((s, i) =>
        expect(s.branches).toEqual(
          [ALL_ON, { ...ALL_ON, macro: false }, { ...ALL_ON, micro: false }, { ...ALL_ON, recon: false }][i],
        ),
      );
      expect(TIME_MAPS).toBe(43_850);
      const aligned = counts(preset, ALIGNED);
      expect(aligned.map((c) => c.total)).toEqual(TABLE[preset]);
      const unaligned = counts(preset, UNALIGNED);
      expect(unaligned.map((c) => c.total)).toEqual(
        TABLE[preset].map((n, i) => n + (TABLE5_SETTINGS[i].branches.macro ? TIME_MAPS : 0)),
      );

      for (const set of [aligned, unaligned]) {
        const [all, ...offs] = set;
        const cfg = all.cfg;
        // Feature widths the head sees from each stream.
        const width = { macro: 3 * cfg.d, micro: Micro.outWidth(cfg), recon: 0 };
        for (const off of offs) {
          const disabled = (['macro', 'micro', 'recon'] as const).find((k) => !off.branches[k])!;
          expect(off.byBlock[disabled]).toBeUndefined();
          // Head: BatchNorm weight+bias (2 per feature) and head.1 weight rows (headHidden per feature).
          const headDiff = all.byBlock.head - off.byBlock.head;
          expect(headDiff, disabled).toBe((2 + cfg.headHidden) * width[disabled]);
          expect(all.total - off.total, disabled).toBe(all.byBlock[disabled] + headDiff);
          // Every other block is untouched.
          for (const block of Object.keys(all.byBlock)) {
            if (block === disabled || block === 'head') continue;
            expect(off.byBlock[block], `${disabled} off: ${block}`).toBe(all.byBlock[block]);
          }
          expect(Object.keys(off.byBlock).sort()).toEqual(
            Object.keys(all.byBlock)
              .filter((b) => b !== disabled)
              .sort(),
          );
        }
        expect(Object.keys(all.byBlock).sort()).toEqual(['head', 'hpa', 'macro', 'micro', 'proj', 'recon']);
      }
    });
  }
});

// ---------------------------------------------------------------- recurrent encoder

/**
 * An independent PyTorch-semantics BiRNN written with plain differentiable ops (tf.slice per step,
 * per sample, per direction; the backward direction starts at len−1; outputs zero beyond the
 * length, as pack_padded_sequence gives). tfjs's own autodiff supplies its gradient.
 */
function refBiRNN(
  p: ParamStore,
  name: string,
  cell: Cell,
  x: tf.Tensor3D,
  len: Int32Array,
  h: number,
  nLayers: number,
): tf.Tensor3D {
  const [B, L] = x.shape;
  let inp: tf.Tensor3D = x;
  for (let l = 0; l < nLayers; l++) {
    const samples: tf.Tensor2D[] = [];
    for (let b = 0; b < B; b++) {
      const xb = tf.reshape(tf.slice(inp, [b, 0, 0], [1, L, -1]), [L, -1]) as tf.Tensor2D;
      const direction = (sfx: string, order: number[]): Map<number, tf.Tensor2D> => {
        const wih = p.get(`${name}.weight_ih_l${l}${sfx}`) as tf.Tensor as tf.Tensor2D;
        const whh = p.get(`${name}.weight_hh_l${l}${sfx}`) as tf.Tensor as tf.Tensor2D;
        const bih = p.get(`${name}.bias_ih_l${l}${sfx}`);
        const bhh = p.get(`${name}.bias_hh_l${l}${sfx}`);
        let hs: tf.Tensor2D = tf.zeros([1, h]);
        let cs: tf.Tensor2D = tf.zeros([1, h]);
        const out = new Map<number, tf.Tensor2D>();
        for (const t of order) {
          const xt = tf.slice(xb, [t, 0], [1, -1]);
          const gi = tf.add(tf.matMul(xt, wih), bih);
          const gh = tf.add(tf.matMul(hs, whh), bhh);
          if (cell === 'gru') {
            const [ir, iz, inn] = tf.split(gi, 3, 1);
            const [hr, hz, hn] = tf.split(gh, 3, 1);
            const r = tf.sigmoid(tf.add(ir, hr));
            const z = tf.sigmoid(tf.add(iz, hz));
            const n = tf.tanh(tf.add(inn, tf.mul(r, hn)));
            hs = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, hs)) as tf.Tensor2D;
          } else {
            const [i, f, g, o] = tf.split(tf.add(gi, gh), 4, 1);
            cs = tf.add(tf.mul(tf.sigmoid(f), cs), tf.mul(tf.sigmoid(i), tf.tanh(g))) as tf.Tensor2D;
            hs = tf.mul(tf.sigmoid(o), tf.tanh(cs)) as tf.Tensor2D;
          }
          out.set(t, hs);
        }
        return out;
      };
      const n = len[b];
      const fwd = direction(
        '',
        Array.from({ length: n }, (_, t) => t),
      );
      const bwd = direction(
        '_reverse',
        Array.from({ length: n }, (_, t) => n - 1 - t),
      );
      const rows: tf.Tensor2D[] = [];
      for (let t = 0; t < L; t++)
        rows.push(t < n ? (tf.concat([fwd.get(t)!, bwd.get(t)!], 1) as tf.Tensor2D) : tf.zeros([1, 2 * h]));
      samples.push(tf.concat(rows, 0) as tf.Tensor2D);
    }
    inp = tf.stack(samples) as tf.Tensor3D;
  }
  return inp;
}

function randn(rng: MT19937, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

function relL2(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-12);
}

describe('BiRNN (custom-gradient scan) matches plain autodiff and finite differences', () => {
  const IN = 4,
    H = 3,
    LAYERS = 2,
    B = 2,
    L = 5;
  const len = Int32Array.from([5, 3]);

  for (const cell of ['gru', 'lstm'] as const) {
    it(`${cell}: in ${IN}, hidden ${H}, ${LAYERS} layers, B ${B}, L ${L}, lengths [5,3]`, () => {
      const p = new ParamStore(new MT19937(5));
      const rnn = new BiRNN(p, 'rnn', cell, IN, H, LAYERS);
      const rng = new MT19937(9);
      const xData = randn(rng, B * L * IN);
      const wData = randn(rng, B * L * 2 * H);
      const names = p.trainableNames();
      const vars = p.trainable();
      expect(names.length).toBe(LAYERS * 2 * 4);
      const W = tf.tensor3d(wData, [B, L, 2 * H]);
      const x0 = tf.tensor3d(xData, [B, L, IN]);
      const lossRnn = (x: tf.Tensor) => tf.sum(tf.mul(rnn.forward(x as tf.Tensor3D, len), W)) as tf.Scalar;
      const lossRef = (x: tf.Tensor) =>
        tf.sum(tf.mul(refBiRNN(p, 'rnn', cell, x as tf.Tensor3D, len, H, LAYERS), W)) as tf.Scalar;

      tf.tidy(() => {
        // Forward values, zero beyond each length.
        const out = rnn.forward(x0, len);
        expect(out.shape).toEqual([B, L, 2 * H]);
        const got = out.dataSync();
        const want = refBiRNN(p, 'rnn', cell, x0, len, H, LAYERS).dataSync();
        expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
        for (let t = len[1]; t < L; t++)
          for (let k = 0; k < 2 * H; k++) expect(Math.abs(got[(1 * L + t) * 2 * H + k])).toBe(0);

        // Gradient w.r.t. the input.
        const gx = tf.grad(lossRnn)(x0).dataSync();
        const gxRef = tf.grad(lossRef)(x0).dataSync();
        expect(relL2(gx, gxRef)).toBeLessThan(1e-4);
        for (let t = len[1]; t < L; t++)
          for (let k = 0; k < IN; k++) expect(Math.abs(gx[(1 * L + t) * IN + k])).toBe(0);

        // Gradients w.r.t. every weight (both layers, both directions, W_ih, W_hh, b_ih, b_hh).
        const g = tf.variableGrads(() => lossRnn(x0), vars).grads;
        const gRef = tf.variableGrads(() => lossRef(x0), vars).grads;
        names.forEach((name, i) => {
          const a = g[vars[i].name],
            r = gRef[vars[i].name];
          expect(a, name).toBeDefined();
          expect(relL2(a.dataSync(), r.dataSync()), name).toBeLessThan(1e-4);
        });

        // Central finite differences in float32 (eps 1e-2) on a few input elements and one recurrent weight.
        const f = (xs: Float32Array) => tf.tidy(() => lossRnn(tf.tensor3d(xs, [B, L, IN])).dataSync()[0]);
        const eps = 1e-2;
        for (const idx of [0, 7, 13, 1 * L * IN + 2 * IN + 1, B * L * IN - 1 - 2 * IN]) {
          const plus = xData.slice(),
            minus = xData.slice();
          plus[idx] += eps;
          minus[idx] -= eps;
          const fd = (f(plus) - f(minus)) / (2 * eps);
          expect(Math.abs(fd - gx[idx]) / Math.max(Math.abs(gx[idx]), 1e-2), `x[${idx}]`).toBeLessThan(2e-2);
        }
        const wName = 'rnn.weight_hh_l0_reverse';
        const wv = p.get(wName);
        const w0 = wv.dataSync().slice() as Float32Array;
        const gw = g[wv.name].dataSync();
        for (const idx of [0, 4]) {
          const at = (delta: number) => {
            const w = w0.slice();
            w[idx] += delta;
            wv.assign(tf.tensor(w, wv.shape));
            return f(xData);
          };
          const fd = (at(eps) - at(-eps)) / (2 * eps);
          wv.assign(tf.tensor(w0, wv.shape));
          expect(Math.abs(fd - gw[idx]) / Math.max(Math.abs(gw[idx]), 1e-2), `${wName}[${idx}]`).toBeLessThan(2e-2);
        }
      });
      tf.dispose([W, x0]);
      p.dispose();
    });
  }
});

// ---------------------------------------------------------------- baselines

describe('Table-2 baselines', () => {
  const D = [768, 5, 20];
  const expectedCount = {
    'fc-t': 768 * 128 + 128 + 128 + 1,
    'fc-a': 5 * 128 + 128 + 128 + 1,
    'fc-v': 20 * 128 + 128 + 128 + 1,
    concat: (768 + 5 + 20) * 128 + 128 + 128 + 1,
  } as const;
  for (const arch of ['fc-t', 'fc-a', 'fc-v', 'concat'] as const) {
    it(`${arch}: [B,1], parameter count, padding-invariant mean`, () => {
      const big = buildModel(modelPreset('tiny', { arch, dims: [768, 5, 20], lens: [50, 50, 50] }), 1);
      expect(big.params.count().total).toBe(expectedCount[arch]);
      expect(D[0]).toBe(768);
      big.params.dispose();

      const model = buildModel(tinyConfig({ arch }), 1);
      const raw = randomRaw(4, 3);
      const out = run(model, raw);
      expect(out.predShape).toEqual([3, 1]);
      expect(out.recon).toBeNull();
      expect(allFinite(out.pred)).toBe(true);
      expect(maxAbsDiff(run(model, withGarbage(raw, 5)).pred, out.pred)).toBeLessThanOrEqual(1e-5);
      model.params.dispose();
    });
  }

  it('fc-t sees only text: changing audio and vision leaves its output unchanged', () => {
    const model = buildModel(tinyConfig({ arch: 'fc-t' }), 1);
    const raw = randomRaw(4, 3);
    const other = randomRaw(6, 3);
    const mixed: Raw = { ...raw, x: { t: raw.x.t, a: other.x.a, v: other.x.v } };
    expect(maxAbsDiff(run(model, mixed).pred, run(model, raw).pred)).toBe(0);
    model.params.dispose();
  });
});

// ---------------------------------------------------------------- determinism

describe('initialisation is seeded', () => {
  function weights(seed: number, over: Partial<ModelConfig> = {}): Map<string, Float32Array> {
    const m = buildModel(tinyConfig(over), seed);
    const s = m.params.snapshot();
    m.params.dispose();
    return s;
  }

  it('same seed → identical weights; different seed → different weights', () => {
    const a = weights(111),
      b = weights(111),
      c = weights(112);
    expect([...a.keys()]).toEqual([...b.keys()]);
    let anyDiff = false;
    for (const [name, v] of a) {
      expect(b.get(name)!, name).toEqual(v);
      const w = c.get(name)!;
      if (maxAbsDiff(w, v) > 0) anyDiff = true;
    }
    expect(anyDiff).toBe(true);
    // Random (non-constant) weights differ, e.g. the text projection.
    expect(maxAbsDiff(c.get('proj.t.weight')!, a.get('proj.t.weight')!)).toBeGreaterThan(0);
  });

  it('same seed → identical eval outputs from two separately built models', () => {
    const raw = randomRaw(12, 3);
    const m1 = buildModel(tinyConfig(), 5),
      m2 = buildModel(tinyConfig(), 5);
    expect(run(m2, raw).pred).toEqual(run(m1, raw).pred);
    m1.params.dispose();
    m2.params.dispose();
  });
});
