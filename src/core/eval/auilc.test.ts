import { describe, expect, it } from 'vitest';
import { auilc } from './auilc.ts';
import { DEFAULT_TEST_RATES } from '../config/config.ts';

describe('auilc (paper eq. 20)', () => {
  it('hand-checked trapezoids, with a null counted as 0', () => {
    // r = 0, 0.5, 1.0; x = 0.8, 0.4, null (→ 0)
    // ½(0.8 + 0.4)·0.5 = 0.3;  ½(0.4 + 0)·0.5 = 0.1;  total 0.4, one null counted.
    const res = auilc([0, 0.5, 1], [0.8, 0.4, null]);
    expect(Math.abs(res.value - 0.4)).toBeLessThanOrEqual(1e-12);
    expect(res.nullsAsZero).toBe(1);
  });

  it('uneven grid', () => {
    // ½(1 + 0.5)·0.1 = 0.075;  ½(0.5 + 0.25)·0.2 = 0.075;  total 0.15
    expect(Math.abs(auilc([0, 0.1, 0.3], [1, 0.5, 0.25]).value - 0.15)).toBeLessThanOrEqual(1e-12);
  });

  it('includeOne = false drops the final r = 1.0 point (and its null)', () => {
    // only ½(0.8 + 0.4)·0.5 = 0.3 remains
    const res = auilc([0, 0.5, 1], [0.8, 0.4, null], false);
    expect(Math.abs(res.value - 0.3)).toBeLessThanOrEqual(1e-12);
    expect(res.nullsAsZero).toBe(0);
    // a grid that does not end at 1.0 is kept whole
    expect(auilc([0, 0.5], [1, 1], false).value).toBe(0.5);
  });

  it('a constant curve over the default grid has area = the constant', () => {
    const res = auilc(
      DEFAULT_TEST_RATES,
      DEFAULT_TEST_RATES.map(() => 0.5),
    );
    expect(Math.abs(res.value - 0.5)).toBeLessThanOrEqual(1e-12);
    const dropped = auilc(
      DEFAULT_TEST_RATES,
      DEFAULT_TEST_RATES.map(() => 0.5),
      false,
    );
    expect(Math.abs(dropped.value - 0.45)).toBeLessThanOrEqual(1e-12);
  });

  it('validates its input', () => {
    expect(() => auilc([0, 0.5, 0.4], [1, 1, 1])).toThrow(/strictly ascending/);
    expect(() => auilc([0, 0], [1, 1])).toThrow(/strictly ascending/);
    expect(() => auilc([0], [1])).toThrow(/at least 2/);
    expect(() => auilc([0, 1], [1, 1], false)).toThrow(/at least 2 .* after dropping r = 1.0/);
    expect(() => auilc([0, 1], [1])).toThrow(/2 rates but 1 values/);
    expect(() => auilc([0, 1], [1, NaN])).toThrow(/use null/);
  });
});
