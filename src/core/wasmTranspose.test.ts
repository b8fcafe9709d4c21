import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from './tf.ts';
import { initNodeBackend } from './backend.ts';
import { MT19937 } from './random.ts';
import { setFastTransposeEnabled, swapsLastTwo } from './wasmTranspose.ts';

/** The SIMD Transpose against the stock wasm kernel: the same values at ragged sizes, the rest untouched. */
describe('fast wasm Transpose', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('swapsLastTwo recognises only the swap of the last two axes', () => {
    expect(swapsLastTwo([1, 0])).toBe(true);
    expect(swapsLastTwo([0, 2, 1])).toBe(true);
    expect(swapsLastTwo([0, 1, 3, 2])).toBe(true);
    expect(swapsLastTwo([0, 1])).toBe(false);
    expect(swapsLastTwo([1, 0, 2])).toBe(false);
    expect(swapsLastTwo([0, 2, 1, 3])).toBe(false);
    expect(swapsLastTwo([2, 1, 0])).toBe(false);
  });

  it('gives the stock kernel values for 2-D, batched and other permutations', () => {
    const rng = new MT19937(3);
    const cases: [number[], number[]][] = [
      [
        [4, 4],
        [1, 0],
      ],
      [
        [5, 7],
        [1, 0],
      ],
      [
        [1200, 90],
        [1, 0],
      ],
      [
        [3, 9, 54],
        [0, 2, 1],
      ],
      [
        [2, 3, 6, 13],
        [0, 1, 3, 2],
      ],
      [
        [3, 2],
        [1, 0],
      ], // a side below 4: stock
      [
        [2, 5, 7],
        [1, 0, 2],
      ], // other permutation: stock
      [
        [2, 5, 7, 3],
        [0, 2, 1, 3],
      ],
    ];
    for (const [shape, perm] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(
        Float32Array.from({ length: n }, () => rng.normal()),
        shape,
      );
      const before = tf.memory().numTensors;
      setFastTransposeEnabled(true);
      const fast = tf.transpose(x, perm);
      setFastTransposeEnabled(false);
      const stock = tf.transpose(x, perm);
      setFastTransposeEnabled(true);
      expect(fast.shape).toEqual(stock.shape);
      expect(Array.from(fast.dataSync())).toEqual(Array.from(stock.dataSync()));
      tf.dispose([fast, stock]);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    }
  });
});
