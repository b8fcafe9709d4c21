import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from './tf.ts';
import { initNodeBackend } from './backend.ts';
import { MT19937 } from './random.ts';
import { ParamStore } from './model/params.ts';
import { BiRNN, type Cell } from './model/recurrent.ts';
import { setWasmScanEnabled, setWasmScanSimd, wasmScanActive } from './wasmRecurrent.ts';

/**
 * The wasm scan kernels (the whole loop over time in one kernel each way) against recurrent.ts's
 * op-by-op scan on the same backend: outputs, ∂x and every weight gradient, with padded lengths
 * and two layers, with the SIMD product and with the JavaScript one.
 */

function relL2(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-12);
}

interface Run {
  out: Float32Array;
  dx: Float32Array;
  grads: Float32Array[];
}

function run(cell: Cell, IN: number, H: number, B: number, L: number, len: Int32Array): Run {
  const p = new ParamStore(new MT19937(5));
  const rnn = new BiRNN(p, 'rnn', cell, IN, H, 2);
  const rng = new MT19937(9);
  const randn = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const x = tf.tensor3d(randn(B * L * IN), [B, L, IN]);
  const W = tf.tensor3d(randn(B * L * 2 * H), [B, L, 2 * H]);
  const vars = p.trainable();
  try {
    return tf.tidy(() => {
      const loss = (xx: tf.Tensor) => tf.sum(tf.mul(rnn.forward(xx as tf.Tensor3D, len), W)) as tf.Scalar;
      const out = rnn.forward(x, len).dataSync() as Float32Array;
      const dx = tf.grad(loss)(x).dataSync() as Float32Array;
      const g = tf.variableGrads(() => loss(x), vars).grads;
      return { out, dx, grads: vars.map((v) => g[v.name].dataSync() as Float32Array) };
    });
  } finally {
    tf.dispose([x, W]);
    p.dispose();
  }
}

describe('wasm recurrent scan kernels', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });
  afterAll(() => {
    setWasmScanEnabled(true);
    setWasmScanSimd(true);
  });

  const cases: [Cell, number, number, number, number, number[]][] = [
    ['gru', 7, 5, 5, 9, [9, 4, 1, 7, 9]],
    ['lstm', 7, 5, 5, 9, [9, 4, 1, 7, 9]],
    ['gru', 3, 1, 3, 6, [6, 2, 5]], // W = 2: the product below SIMD's 4 columns, in JavaScript
    ['lstm', 3, 1, 3, 6, [6, 2, 5]],
  ];
  for (const [cell, IN, H, B, L, lens] of cases) {
    for (const simd of [true, false]) {
      it(`${cell}: in ${IN}, hidden ${H}, 2 layers, B ${B}, L ${L}, lengths [${lens}], ${simd ? 'SIMD' : 'JavaScript'} product: equals the op scan`, () => {
        const len = Int32Array.from(lens);
        setWasmScanSimd(simd);
        setWasmScanEnabled(true);
        expect(wasmScanActive()).toBe(true);
        const before = tf.memory().numTensors;
        const fused = run(cell, IN, H, B, L, len);
        expect(tf.memory().numTensors).toBe(before);
        setWasmScanEnabled(false);
        expect(wasmScanActive()).toBe(false);
        const ops = run(cell, IN, H, B, L, len);
        setWasmScanEnabled(true);
        expect(relL2(fused.out, ops.out)).toBeLessThan(1e-5);
        expect(relL2(fused.dx, ops.dx)).toBeLessThan(1e-5);
        expect(fused.grads.length).toBe(16);
        fused.grads.forEach((g, i) => expect(relL2(g, ops.grads[i]), `weight ${i}`).toBeLessThan(1e-5));
        // Zero beyond each length, as pack_padded_sequence gives.
        for (let b = 0; b < B; b++)
          for (let t = len[b]; t < L; t++)
            for (let k = 0; k < 2 * H; k++) expect(fused.out[(b * L + t) * 2 * H + k]).toBe(0);
      });
    }
  }

  it('is deterministic: the same inputs give the same bits', () => {
    const len = Int32Array.from([9, 4, 1, 7, 9]);
    const a = run('gru', 7, 5, 5, 9, len),
      b = run('gru', 7, 5, 5, 9, len);
    expect(a.out).toEqual(b.out);
    a.grads.forEach((g, i) => expect(g).toEqual(b.grads[i]));
  });
});
