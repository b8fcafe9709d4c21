import { describe, expect, it } from 'vitest';
import { StepRate, StepThrottle } from './pacing.ts';

describe('worker step pacing', () => {
  it('throttles step messages to one per interval but always lets the forced (last) one through', () => {
    let t = 0;
    const th = new StepThrottle(50, () => t);
    const sent: number[] = [];
    for (let step = 1; step <= 100; step++) {
      t = step * 10; // a step every 10 ms → 100 steps/s
      if (th.shouldSend(step === 100)) sent.push(step);
    }
    expect(sent.length).toBeLessThanOrEqual(21);
    expect(sent.length).toBeGreaterThanOrEqual(19);
    expect(sent.at(-1)).toBe(100);
    expect(sent[0]).toBe(1);
  });

  it('estimates steps per second over a window, restarting each epoch and after a pause', () => {
    let t = 0;
    const r = new StepRate(5, () => t);
    expect(r.tick(1)).toBe(0);
    for (let s = 2; s <= 10; s++) {
      t += 250; // 4 steps/s
      expect(r.tick(s)).toBeCloseTo(4);
    }
    t += 5000; // validation between epochs: not step time, the estimate carries over
    expect(r.tick(1)).toBeCloseTo(4);
    t += 100;
    expect(r.tick(2)).toBeCloseTo(10);
    r.reset(); // resumed after a long pause
    t += 60_000;
    expect(r.tick(3)).toBeCloseTo(10);
    t += 500;
    expect(r.tick(4)).toBeCloseTo(2);
  });
});
