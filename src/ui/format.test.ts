import { describe, expect, it } from 'vitest';
import { niceAxis, tickFormat } from './format.ts';

describe('niceAxis', () => {
  it('puts an exact 0 among the ticks of a range that crosses zero (no 2.78e-17)', () => {
    const { ticks, domain } = niceAxis(-0.3, 0.45, true);
    expect(ticks).toContain(0);
    expect(ticks.every((t) => t === 0 || Math.abs(t) > 1e-9)).toBe(true);
    expect(domain[0]).toBeLessThanOrEqual(-0.3);
    expect(domain[1]).toBeGreaterThanOrEqual(0.45);
    expect(ticks[0]).toBe(domain[0]);
    expect(ticks[ticks.length - 1]).toBe(domain[1]);
  });

  it('gives evenly spaced, distinct ticks for a narrow range', () => {
    const { ticks } = niceAxis(1.021, 1.034, false);
    const steps = ticks.slice(1).map((t, i) => t - ticks[i]);
    for (const s of steps) expect(s).toBeCloseTo(steps[0], 12);
    expect(new Set(ticks).size).toBe(ticks.length);
  });
});

describe('tickFormat', () => {
  it('never gives two ticks the same label (validation MAE around 1.02–1.03)', () => {
    const { ticks } = niceAxis(1.021, 1.034, false);
    const f = tickFormat(ticks);
    const labels = ticks.map(f);
    expect(new Set(labels).size).toBe(labels.length);
    for (let i = 0; i < ticks.length; i++) expect(Number(labels[i])).toBeCloseTo(ticks[i], 12);
  });

  it('uses as few decimals as the step needs', () => {
    expect([0, 0.25, 0.5, 0.75, 1].map(tickFormat([0, 0.25, 0.5, 0.75, 1]))).toEqual([
      '0.00',
      '0.25',
      '0.50',
      '0.75',
      '1.00',
    ]);
    expect([0, 20, 40].map(tickFormat([0, 20, 40]))).toEqual(['0', '20', '40']);
    expect(tickFormat([-0.2, 0, 0.2])(-1e-17)).toBe('0.0');
  });
});
