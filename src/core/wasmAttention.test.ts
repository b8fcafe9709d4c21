import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from './tf.ts';
import { initNodeBackend } from './backend.ts';
import { MODALITIES, modelPreset, type ModelConfig, type PerModality } from './config/config.ts';
import type { ByModality } from './data/types.ts';
import { MT19937 } from './random.ts';
import { mfmbLoss } from './train/loss.ts';
import { buildModel } from './model/build.ts';
import {
  DEFAULT_FUSED_BUDGET,
  DEFAULT_FUSED_MIN_MAP,
  dropoutMask,
  fusedAttentionFor,
  setFusedAttentionBudget,
  fusedKernelsActive,
  setFusedAttentionMinMap,
  setFusedKernelsEnabled,
} from './wasmAttention.ts';

/**
 * The fused wasm kernels (attention with a recomputing backward, in-kernel dropout, the sharing
 * Identity) against the op-by-op path on the same backend: same loss and gradients with dropout ON
 * (both draw the same counter-based masks), for self- and cross-attention, causal masks and padding.
 */

const DIMS: PerModality<number> = [16, 5, 20];

function lossAndGrads(cfg: ModelConfig, B = 3): { loss: number; grads: Map<string, Float32Array> } {
  const model = buildModel(cfg, 5);
  const rng = new MT19937(3);
  const randn = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  let result: { loss: number; grads: Map<string, Float32Array> } | null = null;
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
          Float32Array.from({ length: B * L }, (_, k) => (k % 3 === 0 ? 1 : 0)),
          [B, L],
        );
        len[m] = Int32Array.from({ length: B }, (_, b) => (b === 0 ? L : Math.max(1, L - 1 - 2 * b)));
      });
      const y = tf.tensor1d(randn(B));
      const vars = model.params.trainable();
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forward({ x, len }, { training: true, rng: new MT19937(1) });
        return mfmbLoss(out, y, [1, 1, 1], clean, drop, true).total;
      }, vars);
      result = {
        loss: value.dataSync()[0],
        grads: new Map(vars.map((v, i) => [String(i), grads[v.name].dataSync() as Float32Array])),
      };
    });
  } finally {
    model.params.dispose();
  }
  return result!;
}

describe('fused wasm attention and dropout', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
    setFusedAttentionMinMap(0); // every attention takes the fused op (these maps are small)
  });
  afterAll(() => {
    setFusedKernelsEnabled(true);
    setFusedAttentionMinMap(DEFAULT_FUSED_MIN_MAP);
  });

  it('large maps take the op path while the live tensors leave room, the fused op beyond', () => {
    setFusedAttentionMinMap(DEFAULT_FUSED_MIN_MAP);
    try {
      const live = tf.memory().numBytes;
      expect(live).toBeLessThan(2 ** 28);
      expect(fusedAttentionFor(DEFAULT_FUSED_MIN_MAP / 2)).toBe(false); // small: op path
      expect(fusedAttentionFor(DEFAULT_FUSED_MIN_MAP)).toBe(false); // large, 8 maps fit the 1.5 GiB budget
      expect(fusedAttentionFor(2 ** 26)).toBe(true); // 8 maps of 256 MB do not
      setFusedAttentionBudget(live + 8 * 4 * DEFAULT_FUSED_MIN_MAP - 1);
      expect(fusedAttentionFor(DEFAULT_FUSED_MIN_MAP)).toBe(true);
      setFusedAttentionBudget(0); // large maps always fused
      expect(fusedAttentionFor(DEFAULT_FUSED_MIN_MAP)).toBe(true);
      expect(fusedAttentionFor(DEFAULT_FUSED_MIN_MAP / 2)).toBe(false);
    } finally {
      setFusedAttentionBudget(DEFAULT_FUSED_BUDGET);
      setFusedAttentionMinMap(0);
    }
    expect(fusedAttentionFor(1)).toBe(true); // min 0: every map fused, whatever the budget
  });

  it('dropoutMask keeps about 1 − rate of the elements, scaled, and is a pure function of the seed', () => {
    const m = dropoutMask(100000, 0.3, 42);
    const kept = m.filter((v) => v > 0);
    expect(Math.abs(kept.length / m.length - 0.7)).toBeLessThan(0.01);
    expect(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6)).toBe(true);
    expect(dropoutMask(100000, 0.3, 42)).toEqual(m);
    expect(dropoutMask(100000, 0.3, 43)).not.toEqual(m);
  });

  for (const [name, opts] of [
    ['self and cross attention, unequal lengths', { lens: [8, 12, 10] as PerModality<number> }],
    [
      'causal, sequential alignment',
      { lens: [6, 9, 7] as PerModality<number>, causalMask: true, alignment: 'sequential' },
    ],
  ] as const) {
    it(`${name}: fused equals op by op (same masks) with dropout on`, async () => {
      const cfg = modelPreset('tiny', { dims: DIMS, lens: opts.lens });
      Object.assign(cfg, opts, {
        dropout: 0.2,
        attnDropout: [0.25, 0.3, 0.35],
        selfAttnDropout: 0.2,
        macroDropout: 0.15,
      });
      setFusedKernelsEnabled(true);
      expect(fusedKernelsActive()).toBe(true);
      const wasm = lossAndGrads(cfg);
      setFusedKernelsEnabled(false);
      expect(fusedKernelsActive()).toBe(false);
      const cpu = lossAndGrads(cfg);
      expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(cpu.loss)));
      for (const [k, g] of cpu.grads) {
        const w = wasm.grads.get(k)!;
        let num = 0,
          den = 0;
        for (let i = 0; i < g.length; i++) {
          num += (w[i] - g[i]) ** 2;
          den += g[i] ** 2;
        }
        // The floor: some gradients are analytically 0 (a LayerNorm bias that a later norm cancels) and
        // hold only rounding noise (~1e-8) on both paths.
        expect(Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-4), k).toBeLessThan(1e-3);
      }
    });
  }
});
