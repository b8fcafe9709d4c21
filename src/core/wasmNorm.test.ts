import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import * as tf from './tf.ts';
import { initNodeBackend } from './backend.ts';
import { MT19937 } from './random.ts';
import { layerNorm } from './model/ops.ts';
import { setWasmNormEnabled, wasmNormActive } from './wasmNorm.ts';

/** The wasm LayerNorm kernels must give the op path's values and gradients. */
const rng = new MT19937(7);
const rand = (n: number, scale = 1, shift = 0) => Float32Array.from({ length: n }, () => rng.normal() * scale + shift);

/** Worst per-tensor relative error ‖a − b‖ / ‖b‖. */
function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

describe('wasm LayerNorm kernels', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });
  afterAll(() => setWasmNormEnabled(true));

  for (const shape of [
    [4, 7, 30],
    [50, 9],
    [3, 5, 2, 64],
  ]) {
    it(`values and gradients equal the op path, x ${shape.join('×')}`, () => {
      const w = shape[shape.length - 1];
      const size = shape.reduce((p, q) => p * q, 1);
      // Rows with an offset and spread, so mean and variance both matter.
      const xv = rand(size, 2.5, 0.7),
        gv = rand(w, 0.5, 1),
        bv = rand(w, 0.3),
        rv = rand(size);
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor(xv, shape),
            g = tf.tensor1d(gv),
            b = tf.tensor1d(bv),
            r = tf.tensor(rv, shape);
          const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
            tf.sum(tf.mul(layerNorm({ g: gg as tf.Variable, b: bb as tf.Variable }, xx), r));
          const y = layerNorm({ g: g as unknown as tf.Variable, b: b as unknown as tf.Variable }, x);
          const grads = tf.grads(f)([x, g, b]);
          return [y, ...grads].map((t) => t.dataSync() as Float32Array);
        });
      setWasmNormEnabled(true);
      expect(wasmNormActive()).toBe(true);
      const before = tf.memory().numTensors;
      const fused = run();
      expect(tf.memory().numTensors).toBe(before);
      setWasmNormEnabled(false);
      expect(wasmNormActive()).toBe(false);
      const ops = run();
      setWasmNormEnabled(true);
      expect(fused.length).toBe(4);
      fused.forEach((v, i) => {
        expect(v.length).toBe(ops[i].length);
        expect(relErr(v, ops[i]), ['y', 'dx', 'dg', 'db'][i]).toBeLessThan(1e-5);
      });
    });
  }
});
