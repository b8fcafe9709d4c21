import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../core/tf.ts';
import { collapseReverse, installReverseShim, uninstallReverseShim } from './reverseShim.ts';

/** Reference: reverse `dims` of a row-major array of `shape`, index by index. */
function reverseRef(data: number[], shape: number[], dims: number[]): number[] {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  return data.map((_, flat) => {
    let src = 0;
    shape.forEach((n, ax) => {
      const i = Math.floor(flat / strides[ax]) % n;
      src += (dims.includes(ax) ? n - 1 - i : i) * strides[ax];
    });
    return data[src];
  });
}

describe('reverse of rank > 4 on the GPU backends (shim)', () => {
  it('collapses adjacent axes with the same flag', () => {
    expect(collapseReverse([2, 5, 3, 1, 4], [1])).toEqual({ shape: [2, 5, 12], dims: [1] });
    expect(collapseReverse([6, 2, 3, 1, 4], [0])).toEqual({ shape: [6, 24], dims: [0] });
    expect(collapseReverse([1, 2, 3, 4, 5], [1, 2])).toEqual({ shape: [6, 20], dims: [0] });
    expect(collapseReverse([2, 1, 3], [1])).toEqual({ shape: [6], dims: [] });
    expect(collapseReverse([2, 3, 4, 5, 6, 7], [0, 2, 4])).toEqual({ shape: [2, 3, 4, 5, 6, 7], dims: [0, 2, 4] });
  });

  beforeAll(async () => {
    await tf.setBackend('cpu');
    expect(installReverseShim('cpu')).toBe(true);
  });
  afterAll(() => uninstallReverseShim('cpu'));

  it.each([
    [[2, 5, 3, 1, 4], [1]],
    [[3, 2, 2, 1, 3], [0]],
    [[2, 3, 2, 2, 2, 2], [1, 2]],
    [[2, 3, 2, 2, 2], [0, 2, 4]], // not reducible to rank 4: falls back to the backend's kernel
  ])('gives the reference result for shape %j, dims %j (forward and gradient), leaking nothing', (shape, dims) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Array.from({ length: n }, (_, i) => i);
    const before = tf.memory().numTensors;
    const [out, grad] = tf.tidy(() => {
      const x = tf.tensor(data, shape);
      const w = tf.tensor(data.map((v) => v * 0.5 + 1), shape);
      const g = tf.grad((t: tf.Tensor) => tf.reverse(t, dims).mul(w).sum())(x);
      return [Array.from(tf.reverse(x, dims).dataSync()), Array.from(g.dataSync())];
    });
    expect(out).toEqual(reverseRef(data, shape, dims));
    // d/dx sum(reverse(x) * w) = reverse(w)
    expect(grad).toEqual(reverseRef(data.map((v) => v * 0.5 + 1), shape, dims));
    expect(tf.memory().numTensors).toBe(before);
  });
});
