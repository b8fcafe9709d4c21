import { describe, expect, it } from 'vitest';
import { featureMoments, standardizeFeatures } from './standardize.ts';
import type { Dataset, Split } from './types.ts';

/** One modality layout for all three: L = 2, D = 2. */
function split(rows: number[][][], lens: number[], y: number[]): Split {
  const x = new Float32Array(rows.flat(2));
  return {
    n: rows.length,
    x: { t: x.slice(), a: x.slice(), v: x.slice() },
    len: { t: Int32Array.from(lens), a: Int32Array.from(lens), v: Int32Array.from(lens) },
    y: Float32Array.from(y),
  };
}

const ds = (): Dataset => ({
  source: 'test',
  dims: [2, 2, 2],
  lens: [2, 2, 2],
  textIsBert: false,
  textUnk: Float32Array.from([4, 10]),
  // train: valid positions (1, 10), (3, 10), (5, 10) → mean (3, 10), σ (√(8/3), 0 → 1); the padded row is ignored
  train: split(
    [
      [
        [1, 10],
        [3, 10],
      ],
      [
        [5, 10],
        [99, 99],
      ],
    ],
    [2, 1],
    [0, 1],
  ),
  valid: split(
    [
      [
        [3, 10],
        [0, 0],
      ],
    ],
    [1],
    [0],
  ),
  test: split(
    [
      [
        [7, 12],
        [6, 6],
      ],
    ],
    [2],
    [1],
  ),
});

describe('standardizing feature files', () => {
  it('uses the train split’s valid positions only, σ = 1 for constant features', () => {
    const m = featureMoments(ds());
    expect(Array.from(m.a.mean)).toEqual([3, 10]);
    expect(m.a.std[0]).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect(m.a.std[1]).toBe(1);
  });

  it('z-scores valid positions of every split, leaves padding, moves text_unk the same way', () => {
    const d = ds();
    standardizeFeatures(d);
    const s = Math.sqrt(8 / 3);
    expect(Array.from(d.train.x.v)).toEqual(Array.from(Float32Array.from([-2 / s, 0, 0, 0, 2 / s, 0, 99, 99])));
    expect(Array.from(d.valid.x.a)).toEqual([0, 0, 0, 0]);
    expect(Array.from(d.test.x.t)).toEqual(Array.from(Float32Array.from([4 / s, 2, 3 / s, -4])));
    expect(Array.from(d.textUnk!)).toEqual(Array.from(Float32Array.from([1 / s, 0])));
  });
});
