import { describe, expect, it } from 'vitest';
import { findWasmMemory, setSimdKernelsEnabled, setSimdNarrowTiles, simdKernels, simdModuleBytes } from './wasmSimd.ts';
import { MT19937 } from './random.ts';
import { dropoutKey, dropoutMask, dropThreshold } from './wasmAttention.ts';

/** The hand-assembled SIMD product against a float64 reference, on a memory of its own. */
describe('wasm SIMD product', () => {
  it('the module validates (shared and unshared memory imports)', () => {
    expect(WebAssembly.validate(simdModuleBytes(false))).toBe(true);
    expect(WebAssembly.validate(simdModuleBytes(true))).toBe(true);
  });

  for (const narrow of [false, true])
    it(`mm (${narrow ? '4' : '8'}-column tiles where N allows) equals a float64 reference at ragged sizes and writes nothing outside its output`, () => {
      setSimdNarrowTiles(narrow);
      try {
        checkMm();
      } finally {
        setSimdNarrowTiles(false);
      }
    });

  function checkMm(): void {
    const memory = new WebAssembly.Memory({ initial: 4 });
    const k = simdKernels(memory);
    expect(k).not.toBeNull();
    const f = new Float32Array(memory.buffer);
    const rng = new MT19937(7);
    for (const [M, K, N] of [
      [1, 1, 4],
      [3, 2, 5],
      [4, 4, 4],
      [5, 3, 7],
      [7, 13, 9],
      [50, 9, 50],
      [50, 50, 6],
      [6, 50, 36],
      [9, 11, 8],
      [5, 7, 13],
      [4, 3, 17],
    ]) {
      const a = 8,
        b = a + M * K + 3,
        o = b + K * N + 5;
      for (let i = 0; i < M * K; i++) f[a + i] = rng.normal();
      for (let i = 0; i < K * N; i++) f[b + i] = rng.normal();
      f.fill(NaN, o - 4, o + M * N + 8);
      k!.mm(4 * a, 4 * b, 4 * o, M, K, N);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0,
            mag = 0;
          for (let q = 0; q < K; q++) {
            s += f[a + i * K + q] * f[b + q * N + j];
            mag += Math.abs(f[a + i * K + q] * f[b + q * N + j]);
          }
          expect(Math.abs(f[o + i * N + j] - s), `${M}×${K}×${N} [${i},${j}]`).toBeLessThan(1e-6 * (mag + 1));
        }
      for (let i = o - 4; i < o; i++) expect(f[i]).toBeNaN();
      for (let i = o + M * N; i < o + M * N + 8; i++) expect(f[i]).toBeNaN();
    }
  }

  it('drop draws the same mask as dropoutMask and scales by the float32 1/(1 − rate): the values of x · mask', () => {
    const n = 4099;
    const memory = new WebAssembly.Memory({ initial: 1 });
    const k = simdKernels(memory)!;
    const f = new Float32Array(memory.buffer);
    const rng = new MT19937(11);
    for (let i = 0; i < n; i++) f[i] = rng.normal();
    for (const [rate, seed] of [
      [0.2, 12345],
      [0.5, 7],
      [0.9, 2 ** 31 - 1],
    ]) {
      const n4 = n & ~3;
      f.fill(NaN, n, 2 * n + 8);
      k.drop(0, 4 * n, n4, dropoutKey(seed) | 0, dropThreshold(rate) | 0, Math.fround(1 / (1 - rate)));
      const mask = dropoutMask(n, rate, seed);
      let kept = 0;
      for (let i = 0; i < n4; i++) {
        // === : a dropped negative element is +0 here and −0 in x · mask (equal values).
        expect(f[n + i] === Math.fround(f[i] * mask[i]), `element ${i}`).toBe(true);
        if (mask[i] !== 0) kept++;
      }
      expect(Math.abs(kept / n4 - (1 - rate))).toBeLessThan(0.03);
      for (let i = n + n4; i < 2 * n + 8; i++) expect(f[i]).toBeNaN(); // nothing past n4
    }
  });

  it('tr transposes blocks of 4×4 exactly, ragged sides included, and writes nothing else', () => {
    const memory = new WebAssembly.Memory({ initial: 4 });
    const k = simdKernels(memory)!;
    const f = new Float32Array(memory.buffer);
    for (const [nb, R, C] of [
      [1, 4, 4],
      [2, 5, 7],
      [3, 9, 54],
      [1, 6, 13],
    ]) {
      const n = nb * R * C,
        x = 8,
        o = x + n + 4;
      for (let i = 0; i < n; i++) f[x + i] = i + 0.5;
      f.fill(NaN, o - 4, o + n + 4);
      k.tr(4 * x, 4 * o, nb, R, C);
      for (let p = 0; p < nb; p++)
        for (let i = 0; i < R; i++)
          for (let j = 0; j < C; j++) expect(f[o + p * R * C + j * R + i]).toBe(f[x + p * R * C + i * C + j]);
      for (let i = o - 4; i < o; i++) expect(f[i]).toBeNaN();
      for (let i = o + n; i < o + n + 4; i++) expect(f[i]).toBeNaN();
    }
  });

  it('is off when switched off or without a memory', () => {
    expect(simdKernels(null)).toBeNull();
    expect(findWasmMemory(undefined)).toBeNull();
    setSimdKernelsEnabled(false);
    expect(simdKernels(new WebAssembly.Memory({ initial: 1 }))).toBeNull();
    setSimdKernelsEnabled(true);
  });
});
