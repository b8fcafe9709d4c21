import { describe, expect, it } from 'vitest';
import { MT19937 } from '../random.ts';
import { batchRows } from './batching.ts';

const sizes = (bs: Int32Array[]) => bs.map((b) => b.length);

function coversOnce(bs: Int32Array[], n: number): boolean {
  const all = bs.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
  return all.length === n && all.every((v, i) => v === i);
}

describe('batchRows', () => {
  it('keeps order without an rng and keeps the last short batch', () => {
    const bs = batchRows(50, 24, null);
    expect(sizes(bs)).toEqual([24, 24, 2]);
    expect(Array.from(bs[2])).toEqual([48, 49]);
    expect(coversOnce(bs, 50)).toBe(true);
  });

  it('joins a one-sample tail to the batch before it (BatchNorm cannot normalise 1)', () => {
    expect(sizes(batchRows(49, 24, null))).toEqual([24, 25]);
    expect(sizes(batchRows(25, 24, new MT19937(1)))).toEqual([25]);
    expect(coversOnce(batchRows(49, 24, new MT19937(3)), 49)).toBe(true);
  });

  it('leaves a lone batch alone, even of one sample', () => {
    expect(sizes(batchRows(1, 24, null))).toEqual([1]);
    expect(sizes(batchRows(10, 24, null))).toEqual([10]);
    expect(batchRows(0, 24, null)).toEqual([]);
    expect(sizes(batchRows(48, 24, null))).toEqual([24, 24]);
  });

  it('covers every row exactly once when shuffled, deterministically per seed', () => {
    for (const n of [1284, 229, 686, 30]) {
      const a = batchRows(n, 24, new MT19937(111));
      expect(coversOnce(a, n)).toBe(true);
      expect(a).toEqual(batchRows(n, 24, new MT19937(111)));
      expect(a).not.toEqual(batchRows(n, 24, new MT19937(1111)));
      expect(a.every((b) => b.length >= 2)).toBe(true);
    }
  });

  it('shuffles afresh on each call with the same rng (one permutation per epoch)', () => {
    const rng = new MT19937(7);
    expect(batchRows(100, 24, rng)).not.toEqual(batchRows(100, 24, rng));
  });

  it('rejects a bad batch size', () => {
    expect(() => batchRows(10, 0, null)).toThrow(/batch size/);
  });
});
