import { describe, expect, it } from 'vitest';
import { estimateEta, estimateEtaMin, smoothRate } from './job.ts';

/** The progress line's figures: the ETA range early stopping allows, and the smoothed rate. */
describe('ETA and rate', () => {
  const p = {
    runIndex: 0,
    runTotal: 2,
    epoch: 3, // in progress
    step: 5,
    stepsPerEpoch: 10,
    maxEpochs: 20,
    stepsPerSecond: 2,
    bestEpoch: 2,
  };

  it('at most: every run to the max-epochs cap', () => {
    // run 1: 200 − 25 done; run 2: 200.
    expect(estimateEta(p)).toBe((175 + 200) / 2);
  });

  it('at least: this run stops patience epochs after its best, later runs after epoch 1 + patience', () => {
    // patience 4: run 1 stops after epoch 6 (best 2 + 4) → 60 − 25 steps; run 2 after epoch 5 → 50.
    expect(estimateEtaMin(p, 4)).toBe((35 + 50) / 2);
    // No best epoch yet: the epoch in progress may be the best.
    expect(estimateEtaMin({ ...p, bestEpoch: null }, 4)).toBe((70 - 25 + 50) / 2);
    // Never beyond the cap, never below zero.
    expect(estimateEtaMin({ ...p, maxEpochs: 4 }, 10)).toBe((40 - 25 + 40) / 2);
    expect(estimateEtaMin(p, 4)!).toBeLessThanOrEqual(estimateEta(p)!);
    expect(estimateEtaMin({ ...p, stepsPerSecond: 0 }, 4)).toBeNull();
  });

  it('the rate is an exponential moving average: one slow report moves it a little', () => {
    expect(smoothRate(0, 0.04)).toBe(0.04); // the first report is taken as it is
    expect(smoothRate(2, 0)).toBe(2); // no figure: keep the last
    const after = smoothRate(2, 0.5);
    expect(after).toBeCloseTo(2 - 0.15 * 1.5, 12);
    let r = 2;
    for (let i = 0; i < 60; i++) r = smoothRate(r, 1);
    expect(r).toBeCloseTo(1, 3); // it follows a lasting change
  });
});
