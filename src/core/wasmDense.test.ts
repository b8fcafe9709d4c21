import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from './tf.ts';
import { initNodeBackend } from './backend.ts';
import { MT19937 } from './random.ts';
import { applyDense } from './model/ops.ts';
import { setWasmDenseEnabled, wasmDenseActive } from './wasmDense.ts';

/** The wasm Linear kernels must give the op path's values and gradients. */
const rng = new MT19937(11);
const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

/** Per-tensor relative error ‖a − b‖ / ‖b‖. */
function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

describe('wasm Linear kernels', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });
  afterAll(() => setWasmDenseEnabled(true));

  // [x shape, out, bias, act]: 3-D input, an inner dimension past the SIMD product's 96 (XNNPACK),
  // widths under 4 (the stock transpose and product), no bias.
  for (const [shape, out, bias, act] of [
    [[4, 7, 30], 12, true, 'relu'],
    [[130, 100], 9, true, 'linear'],
    [[9, 3], 5, false, 'relu'],
    [[6, 5, 8], 2, true, 'linear'],
    [[40, 16], 24, false, 'linear'],
  ] as const) {
    it(`values and gradients equal the op path: x ${shape.join('×')} → ${out}, bias ${bias}, ${act}`, () => {
      const inF = shape[shape.length - 1];
      const size = shape.reduce((p, q) => p * q, 1);
      const xv = rand(size),
        wv = rand(inF * out),
        bv = rand(out),
        rv = rand((size / inF) * out);
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor(xv, [...shape]),
            w = tf.tensor2d(wv, [inF, out]),
            b = tf.tensor1d(bv),
            r = tf.tensor(rv, [...shape.slice(0, -1), out]);
          const f = (xx: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) =>
            tf.sum(tf.mul(applyDense(xx, ww, bb ?? null, act), r));
          const y = applyDense(x, w, bias ? b : null, act);
          const grads = tf.grads(f)(bias ? [x, w, b] : [x, w]);
          return [y, ...grads].map((t) => t.dataSync() as Float32Array);
        });
      setWasmDenseEnabled(true);
      expect(wasmDenseActive()).toBe(true);
      const before = tf.memory().numTensors;
      const fused = run();
      expect(tf.memory().numTensors).toBe(before);
      setWasmDenseEnabled(false);
      expect(wasmDenseActive()).toBe(false);
      const ops = run();
      setWasmDenseEnabled(true);
      expect(fused.length).toBe(bias ? 4 : 3);
      fused.forEach((v, i) => {
        expect(v.length).toBe(ops[i].length);
        expect(relErr(v, ops[i]), ['y', 'dx', 'dw', 'db'][i]).toBeLessThan(1e-5);
      });
    });
  }
});
