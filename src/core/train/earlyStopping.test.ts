import { describe, expect, it } from 'vitest';
import { EarlyStopping } from './earlyStopping.ts';

/**
 * Early stopping on valid MAE (stop once `patience` epochs pass without improvement, i.e. exactly
 * when epoch − bestEpoch ≥ patience) and the plateau decay (lr × factor when the bad-epoch count
 * exceeds plateauPatience, then the count restarts), PROTOCOL.md "Training".
 */

function replay(es: EarlyStopping, maes: number[]) {
  return maes.map((mae, epoch) => ({ ...es.update(epoch, mae), best: es.best, bestEpoch: es.bestEpoch }));
}

describe('EarlyStopping', () => {
  it('tracks the best MAE and epoch; an equal MAE is not an improvement', () => {
    const es = new EarlyStopping(10, 10, 0.1);
    const r = replay(es, [1.0, 0.9, 0.9, 0.95, 0.8]);
    expect(r.map((x) => x.improved)).toEqual([true, true, false, false, true]);
    expect(r.map((x) => x.bestEpoch)).toEqual([0, 1, 1, 1, 4]);
    expect(r.map((x) => x.best)).toEqual([1.0, 0.9, 0.9, 0.9, 0.8]);
    expect(r.every((x) => !x.stop)).toBe(true);
  });

  it('stops exactly when epoch − bestEpoch ≥ patience', () => {
    for (const patience of [1, 2, 3, 6]) {
      const es = new EarlyStopping(patience, 100, 0.1);
      // Improves at epochs 0 and 1, never again.
      const maes = [1.0, 0.5, ...Array.from({ length: patience + 3 }, () => 0.7)];
      const r = replay(es, maes);
      const firstStop = r.findIndex((x) => x.stop);
      expect(firstStop, `patience ${patience}`).toBe(1 + patience);
      r.forEach((x, epoch) => expect(x.stop, `patience ${patience}, epoch ${epoch}`).toBe(epoch - 1 >= patience));
    }
  });

  it('patience 1: stops at the first epoch that does not improve', () => {
    const es = new EarlyStopping(1, 100, 0.1);
    const r = replay(es, [3, 2, 1, 1.5]);
    expect(r.map((x) => x.stop)).toEqual([false, false, false, true]);
  });

  it('an improvement resets the stop countdown', () => {
    const es = new EarlyStopping(3, 100, 0.1);
    const r = replay(es, [1.0, 1.1, 1.2, 0.9, 1.0, 1.0, 1.0]);
    expect(r.map((x) => x.stop)).toEqual([false, false, false, false, false, false, true]);
    expect(es.bestEpoch).toBe(3);
  });

  it('plateau: lrScale = factor when the bad-epoch count exceeds plateauPatience, then the count restarts', () => {
    const es = new EarlyStopping(100, 2, 0.1);
    // Bad epochs 1..7 after the best at epoch 0: counts 1, 2, 3 → decay (reset), 1, 2, 3 → decay, 1.
    const r = replay(es, [1, 2, 2, 2, 2, 2, 2, 2]);
    expect(r.map((x) => x.lrScale)).toEqual([1, 1, 1, 0.1, 1, 1, 0.1, 1]);
  });

  it('plateau: an improvement resets the bad-epoch count', () => {
    const es = new EarlyStopping(100, 1, 0.5);
    const r = replay(es, [1.0, 1.1, 0.9, 1.0, 1.0, 0.8, 0.85, 0.85, 0.85]);
    // After 0.9 at epoch 2 the count restarts; after 0.8 at epoch 5 again.
    expect(r.map((x) => x.lrScale)).toEqual([1, 1, 1, 1, 0.5, 1, 1, 0.5, 1]);
  });

  it('the released defaults (patience 6, plateau 5, factor 0.1): decay and stop both at the 6th bad epoch', () => {
    const es = new EarlyStopping(6, 5, 0.1);
    const r = replay(es, [1.0, 0.9, 1, 1, 1, 1, 1, 1]);
    expect(r.map((x) => x.lrScale)).toEqual([1, 1, 1, 1, 1, 1, 1, 0.1]);
    expect(r.map((x) => x.stop)).toEqual([false, false, false, false, false, false, false, true]);
  });

  it('a non-finite MAE never counts as an improvement', () => {
    const es = new EarlyStopping(2, 100, 0.1);
    const r = replay(es, [1.0, NaN, Infinity]);
    expect(r.map((x) => x.improved)).toEqual([true, false, false]);
    expect(r[2].stop).toBe(true);
    expect(es.best).toBe(1.0);
  });
});
