import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from './tf.ts';
import { initNodeBackend } from './backend.ts';
import { batchedMatMul } from './wasmMatMul.ts';
import { MT19937 } from './random.ts';

/** The replacement wasm kernels must give the stock results (computed here in float64 or on cpu). */
const rng = new MT19937(5);
const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

describe('wasm kernel replacements', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('batchedMatMul equals a float64 reference, shared operands included', () => {
    for (const [nb, M, K, N, aShared, bShared] of [
      [3, 7, 5, 17, false, false],
      [2, 4, 9, 16, true, false],
      [4, 5, 3, 20, false, true],
    ] as const) {
      const a = rand((aShared ? 1 : nb) * M * K),
        b = rand((bShared ? 1 : nb) * K * N),
        out = new Float32Array(nb * M * N);
      batchedMatMul(a, b, out, nb, M, K, N, aShared, bShared);
      for (let p = 0; p < nb; p++)
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) {
            let s = 0;
            for (let k = 0; k < K; k++)
              s += a[(aShared ? 0 : p * M * K) + i * K + k] * b[(bShared ? 0 : p * K * N) + k * N + j];
            expect(Math.abs(out[p * M * N + i * N + j] - s)).toBeLessThan(1e-4);
          }
    }
  });

  it('BatchMatMul, Slice, split and unstack on wasm match the cpu backend', async () => {
    const a = rand(6 * 9 * 7),
      b = rand(6 * 7 * 20),
      c = rand(5 * 6 * 7);
    const run = () =>
      tf.tidy(() => {
        const A = tf.tensor3d(a, [6, 9, 7]),
          Bt = tf.tensor3d(b, [6, 7, 20]),
          C = tf.tensor3d(c, [5, 6, 7]);
        return [
          tf.matMul(A, Bt), // batched, N ≥ 16: the JavaScript path
          tf.matMul(A, A, false, true), // transposed: the stock kernel
          tf.matMul(
            tf.reshape(A, [54, 7]) as tf.Tensor2D,
            tf.reshape(tf.slice(Bt, [0, 0, 0], [1, 7, 20]), [7, 20]) as tf.Tensor2D,
          ),
          tf.slice(C, [1, 2, 3], [3, 3, 4]), // non-contiguous slice
          ...tf.split(C, [2, 5], 2),
          ...tf.unstack(C, 1),
        ].map((t) => Array.from(t.dataSync()));
      });
    const wasm = run();
    await tf.setBackend('cpu');
    const cpu = run();
    await initNodeBackend('wasm');
    expect(wasm.length).toBe(cpu.length);
    wasm.forEach((w, i) => w.forEach((v, j) => expect(Math.abs(v - cpu[i][j])).toBeLessThan(1e-4)));
  });
});
