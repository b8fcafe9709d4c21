import { describe, expect, it } from 'vitest';
import { integerTicks } from './LineCanvas.tsx';
import { shallowSame } from '../hooks.ts';

const chars = (s: string) => 7 * s.length; // a 7 px wide digit

describe('integerTicks', () => {
  it('gives integer ticks inside the range, at a nice step', () => {
    const t = integerTicks(1, 160, 400, chars);
    expect(t.every((x) => Number.isInteger(x) && x >= 1 && x <= 160)).toBe(true);
    const step = t[1] - t[0];
    expect([1, 2, 5, 10, 20, 25, 50, 100]).toContain(step);
    expect(t.slice(1).every((x, i) => x - t[i] === step)).toBe(true);
  });
  it('never puts labels closer than their width', () => {
    for (const width of [60, 120, 250, 600, 1200])
      for (const hi of [2, 8, 40, 160, 1000, 12345]) {
        const t = integerTicks(1, hi, width, chars);
        if (t.length < 2) continue;
        const px = ((t[1] - t[0]) * width) / (hi - 1);
        expect(px).toBeGreaterThanOrEqual(chars(String(hi)) + 14);
      }
  });
  it('is one tick for one point', () => {
    expect(integerTicks(3, 3, 300, chars)).toEqual([3]);
  });
  it('never shows fractions on a short range', () => {
    expect(integerTicks(1, 2, 500, chars)).toEqual([1, 2]);
  });
});

describe('shallowSame', () => {
  it('compares plain objects by their fields', () => {
    const jobs: unknown[] = [];
    expect(shallowSame({ a: 1, jobs }, { a: 1, jobs })).toBe(true);
    expect(shallowSame({ a: 1, jobs }, { a: 1, jobs: [] as unknown[] })).toBe(false);
    expect(shallowSame({ a: 1 }, { a: 1, b: undefined } as { a: number })).toBe(false);
    expect(shallowSame<unknown>(null, {})).toBe(false);
    expect(shallowSame(NaN, NaN)).toBe(true);
  });
});
