import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../tf.ts';
import { initNodeBackend } from '../backend.ts';
import { modelPreset, MODALITIES, type Branches } from '../config/config.ts';
import { MT19937 } from '../random.ts';
import type { ByModality } from '../data/types.ts';
import { MFMBNet } from './mfmb.ts';
import { decodeTensor, type FixtureTensor } from './fixture.ts';
import { mfmbLoss } from '../train/loss.ts';
import { DEFAULT_FUSED_MIN_MAP, setFusedAttentionMinMap } from '../wasmAttention.ts';

/**
 * Parity with the PyTorch reference (shared/reference, fixture written by
 * scripts/make_parity_fixture.py): same weights and inputs → same outputs, losses and gradients.
 */
const fx = JSON.parse(readFileSync(new URL('./__fixtures__/parity_tiny.json', import.meta.url), 'utf8'));
const SETTINGS = ['all_on', 'macro_off', 'micro_off', 'recon_off'] as const;

function build(branches: Branches, setting: (typeof SETTINGS)[number], zeroDropout: boolean): MFMBNet {
  const c = fx.config;
  const model = new MFMBNet(
    modelPreset('tiny', {
      dims: c.dims,
      lens: c.lens,
      branches,
      ...(zeroDropout
        ? {
            textDropout: 0,
            dropout: 0,
            attnDropout: [0, 0, 0],
            selfAttnDropout: 0,
            fusionDropout: 0,
            headDropout: 0,
            macroDropout: 0,
          }
        : {}),
    }),
    999,
  );
  const own: Record<string, FixtureTensor> = fx.settings[setting].own_weights;
  for (const name of fx.settings[setting].state_names as string[]) {
    const t: FixtureTensor = own[name] ?? fx.weights[name];
    model.params.load(name, t.shape, decodeTensor(t), true);
  }
  expect(model.params.entries.size).toBe(fx.settings[setting].state_names.length);
  return model;
}

function inputs() {
  const B: number = fx.B;
  const x = {} as ByModality<tf.Tensor3D>,
    clean = {} as ByModality<tf.Tensor3D>,
    drop = {} as ByModality<tf.Tensor2D>;
  const len = {} as ByModality<Int32Array>;
  MODALITIES.forEach((m, i) => {
    const L = fx.lens[i],
      D = fx.dims[i];
    x[m] = tf.tensor3d(decodeTensor(fx.inputs.x[m]), [B, L, D]);
    clean[m] = tf.tensor3d(decodeTensor(fx.inputs.clean[m]), [B, L, D]);
    drop[m] = tf.tensor2d(decodeTensor(fx.inputs.drop[m]), [B, L]);
    len[m] = Int32Array.from(fx.inputs.lengths[m]);
  });
  return { x, clean, drop, len, y: tf.tensor1d(decodeTensor(fx.inputs.y)) };
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string) {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = 1e-4 * Math.max(1, Math.abs(want[i]));
    if (!(Math.abs(got[i] - want[i]) <= tol)) throw new Error(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

function absL2(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

function relL2(got: Float32Array, want: Float32Array): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-12);
}

// Both attention paths on wasm: op by op (these maps are small) and the fused op (forced for every map).
for (const fused of [false, true])
  describe(`parity with the PyTorch reference (tiny, D 16/5/20, L 8/12/10, padded)${fused ? ', fused attention' : ''}`, () => {
    beforeAll(async () => {
      await initNodeBackend('wasm');
      setFusedAttentionMinMap(fused ? 0 : DEFAULT_FUSED_MIN_MAP);
    });
    afterAll(() => setFusedAttentionMinMap(DEFAULT_FUSED_MIN_MAP));

    for (const setting of SETTINGS) {
      const s = fx.settings[setting];
      it(`${setting}: eval output`, () => {
        const model = build(s.branches, setting, false);
        const inp = inputs();
        const pred = tf.tidy(() =>
          model.forward({ x: inp.x, len: inp.len }, { training: false, rng: new MT19937(1) }).pred.dataSync(),
        );
        expectClose(pred, decodeTensor(s.eval.pred), `${setting} eval pred`);
        model.params.dispose();
      });

      it(`${setting}: train-mode loss and gradients`, () => {
        const model = build(s.branches, setting, true);
        const inp = inputs();
        const names = model.params.trainableNames();
        const vars = model.params.trainable();
        const { value, grads } = tf.variableGrads(() => {
          const out = model.forward({ x: inp.x, len: inp.len }, { training: true, rng: new MT19937(1) });
          return mfmbLoss(out, inp.y, [5, 2, 20], inp.clean, inp.drop, true).total;
        }, vars);
        expectClose([value.dataSync()[0]], [s.train.loss], `${setting} loss`);
        const checked = Object.keys(s.train.grads);
        expect(checked.length).toBeGreaterThan(5);
        for (const name of checked) {
          const v = vars[names.indexOf(name)];
          expect(v, name).toBeDefined();
          const want = decodeTensor(s.train.grads[name]);
          // Compare in PyTorch layout: our [in, out] Linear weights are transposed.
          const layout = model.params.entries.get(name)!.layout;
          const got = toTorchLayout(grads[v.name].dataSync() as Float32Array, layout, s.train.grads[name].shape);
          const err = relL2(got, want);
          // A few gradients are analytically (near) zero: the head's BatchNorm removes any per-feature
          // shift or scale of H_f, so the last hub LayerNorm's gradients vanish, and the time map's bias
          // shifts all features of a token equally, which the next LayerNorm removes. Both sides then
          // hold float32 noise, so an absolute floor far below typical gradient norms (~1e-2) applies.
          const tiny = absL2(got, want) <= 1e-6;
          if (!(err <= 1e-3 || tiny)) throw new Error(`${setting} grad ${name}: relative L2 error ${err}`);
        }
        // BatchNorm running statistics after one train-mode forward (momentum 0.1, unbiased variance).
        for (const [name, t] of Object.entries(s.train.bn_running_after as Record<string, FixtureTensor>)) {
          if (!model.params.entries.has(name)) continue;
          expectClose(model.params.get(name).dataSync(), decodeTensor(t), `${setting} ${name}`);
        }
        tf.dispose([value, grads]);
        model.params.dispose();
      });
    }
  });

function toTorchLayout(data: Float32Array, layout: string, torchShape: number[]): Float32Array {
  if (layout === 'linear') {
    const [o, i] = torchShape;
    const out = new Float32Array(o * i);
    for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) out[r * i + c] = data[c * o + r];
    return out;
  }
  if (layout === 'conv1d') {
    const [o, i, k] = torchShape;
    const out = new Float32Array(o * i * k);
    for (let a = 0; a < o; a++)
      for (let c = 0; c < i; c++) for (let j = 0; j < k; j++) out[(a * i + c) * k + j] = data[(j * i + c) * o + a];
    return out;
  }
  return data;
}
