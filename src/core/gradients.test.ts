import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from './tf.ts';
import { initNodeBackend } from './backend.ts';
import { GRADIENTS } from './gradients.ts';
import { MODALITIES, modelPreset, type ModelConfig, type PerModality } from './config/config.ts';
import type { ByModality } from './data/types.ts';
import { MT19937 } from './random.ts';
import { mfmbLoss } from './train/loss.ts';
import { buildModel } from './model/build.ts';

/**
 * src/core/gradients.ts registers only the gradients training needs. One training step's gradient
 * (the trainer's variableGrads over forward + loss) for every architecture, branch setting and model
 * option must find a gradient for every kernel it backpropagates through (tfjs throws "gradient
 * function not found" otherwise), and every registered gradient must be used by one of them (so the
 * list does not keep dead weight in the worker's bundle).
 */

const DIMS: PerModality<number> = [16, 5, 20];
const UNEQUAL: PerModality<number> = [8, 12, 10]; // a and v get the macro time maps
const EQUAL: PerModality<number> = [6, 6, 6];

/** Not taped by any model (mm/bmm carry hand-written gradients); the tests' plain-autodiff references use it. */
const ONLY_FOR_TESTS = new Set(['BatchMatMul']);

const used = new Set<string>();

beforeAll(async () => {
  await initNodeBackend('wasm');
  // Record which gradients run: re-register each with a wrapper (public API only).
  for (const config of GRADIENTS) {
    tf.unregisterGradient(config.kernelName);
    tf.registerGradient({
      ...config,
      gradFunc: (dy, saved, attrs) => {
        used.add(config.kernelName);
        return config.gradFunc(dy, saved, attrs);
      },
    });
  }
});

afterAll(() => {
  for (const config of GRADIENTS) {
    tf.unregisterGradient(config.kernelName);
    tf.registerGradient(config);
  }
});

function trainingGradients(cfg: ModelConfig, B = 3): void {
  const model = buildModel(cfg, 5);
  const rng = new MT19937(3);
  const randn = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  try {
    tf.tidy(() => {
      const x = {} as ByModality<tf.Tensor3D>,
        clean = {} as ByModality<tf.Tensor3D>,
        drop = {} as ByModality<tf.Tensor2D>,
        len = {} as ByModality<Int32Array>;
      MODALITIES.forEach((m, i) => {
        const L = cfg.lens[i],
          D = cfg.dims[i];
        x[m] = tf.tensor3d(randn(B * L * D), [B, L, D]);
        clean[m] = tf.tensor3d(randn(B * L * D), [B, L, D]);
        drop[m] = tf.tensor2d(
          Float32Array.from({ length: B * L }, (_, k) => (k === 0 || rng.random() < 0.4 ? 1 : 0)),
          [B, L],
        );
        len[m] = Int32Array.from({ length: B }, (_, b) => (b === 0 ? L : Math.max(1, L - 1 - 2 * b)));
      });
      const y = tf.tensor1d(randn(B));
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forward({ x, len }, { training: true, rng: new MT19937(1) });
        return mfmbLoss(out, y, [1, 1, 1], clean, drop, true).total;
      }, model.params.trainable());
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      expect(Object.keys(grads).length).toBe(model.params.trainable().length);
    });
  } finally {
    model.params.dispose();
  }
}

const VARIANTS: [string, Partial<ModelConfig>][] = [
  ['all branches', {}],
  ['macro off', { branches: { macro: false, micro: true, recon: true } }],
  ['micro off', { branches: { macro: true, micro: false, recon: true } }],
  ['recon off', { branches: { macro: true, micro: true, recon: false } }],
  ['macro only', { branches: { macro: true, micro: false, recon: false } }],
  ['micro only', { branches: { macro: false, micro: true, recon: false } }],
  ['lstm', { cell: 'lstm' }],
  [
    'lstm, sequential, causal, zero hub, avt, no mixer',
    { cell: 'lstm', alignment: 'sequential', causalMask: true, hubInit: 'zeros', hubOrder: 'avt', mixer: false },
  ],
  ['no dropout', { dropout: 0, textDropout: 0, attnDropout: [0, 0, 0], selfAttnDropout: 0, fusionDropout: 0 }],
  ['macro and head dropout', { macroDropout: 0.1, headDropout: 0.1 }],
  ['reconHidden 7', { reconHidden: 7 }],
  ['baseline fc-t', { arch: 'fc-t' }],
  ['baseline fc-a', { arch: 'fc-a' }],
  ['baseline fc-v', { arch: 'fc-v' }],
  ['baseline concat', { arch: 'concat' }],
];

describe('registered gradients cover training', () => {
  it('the chained ops are not registered (they would put every op of tfjs-core in the worker bundle)', () => {
    expect((tf.Tensor.prototype as unknown as Record<string, unknown>).reshape).toBeUndefined();
    expect((tf.Tensor.prototype as unknown as Record<string, unknown>).add).toBeUndefined();
  });

  it('each gradient is registered once, by its kernel name', () => {
    const names = GRADIENTS.map((g) => g.kernelName);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(tf.getGradient(name), name).toBeDefined();
  });

  for (const [label, over] of VARIANTS) {
    it(`tiny, unequal lengths: ${label}`, () => {
      trainingGradients(modelPreset('tiny', { dims: DIMS, lens: UNEQUAL, ...over }));
    });
  }

  it('small (2 layers everywhere), equal lengths, batch of 1', () => {
    trainingGradients(modelPreset('small', { dims: DIMS, lens: EQUAL }), 1);
  });

  it('every registered gradient is needed by one of the steps above', () => {
    const unused = GRADIENTS.map((g) => g.kernelName).filter((n) => !used.has(n) && !ONLY_FOR_TESTS.has(n));
    expect(unused).toEqual([]);
  });
});
