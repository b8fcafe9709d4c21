import { describe, expect, it } from 'vitest';
import { defaultRunConfig } from '../config/config.ts';
import { estimateDuration, formatDuration } from './estimate.ts';

describe('estimateDuration', () => {
  const timing = { trainMs: 100, inferMs: 20, inferBatch: 32 };

  it('counts the steps runExperiment runs under train-once', () => {
    const c = defaultRunConfig();
    c.missing.protocol = 'train-once';
    c.missing.testRates = [0, 0.5, 1];
    c.train.epochs = 10;
    c.train.patience = 3;
    c.train.batchSize = 24;
    c.train.seeds = [1, 2];
    // 100 train samples at 24 → 5 batches (24, 24, 24, 24, 4); valid 40 at 32 → 2 batches;
    // test 65 at 32 → 2 batches (32, 33: a last batch under 2 samples joins the one before).
    const e = estimateDuration(c, 2, { train: 100, valid: 40, test: 65 }, timing);
    expect(e.runs).toBe(4);
    expect(e.trainSteps).toBe(4 * 10 * 5);
    expect(e.inferBatches).toBe(4 * (10 * 2 + 3 * 2));
    // Per run: 10 · (5·100 + 2·20) + 3·2·20 = 5400 + 120 ms.
    expect(e.seconds).toBeCloseTo((4 * 5520) / 1000, 9);
    // Soonest: patience + 1 = 4 epochs.
    expect(e.soonestSeconds).toBeCloseTo((4 * (4 * 540 + 120)) / 1000, 9);
  });

  it('per-rate trains one model per rate and tests each at its own rate', () => {
    const c = defaultRunConfig();
    c.missing.protocol = 'per-rate';
    c.missing.testRates = [0, 0.3, 0.6, 0.9];
    c.train.epochs = 2;
    c.train.patience = 5;
    c.train.batchSize = 32;
    c.train.seeds = [7];
    const e = estimateDuration(c, 1, { train: 64, valid: 32, test: 32 }, { trainMs: 10, inferMs: 5, inferBatch: 32 });
    expect(e.runs).toBe(4);
    expect(e.trainSteps).toBe(4 * 2 * 2);
    expect(e.inferBatches).toBe(4 * (2 * 1 + 1));
    expect(e.seconds).toBeCloseTo((4 * (2 * (2 * 10 + 5) + 5)) / 1000, 9);
    expect(e.soonestSeconds).toBe(e.seconds); // patience ≥ epochs: no early finish possible
  });

  it('scales the measured inference time to the eval batch size', () => {
    const c = defaultRunConfig();
    c.missing.protocol = 'train-once';
    c.missing.testRates = [0];
    c.train.epochs = 1;
    c.train.batchSize = 64;
    c.train.seeds = [1];
    const e = estimateDuration(c, 1, { train: 0, valid: 0, test: 64 }, { trainMs: 0, inferMs: 8, inferBatch: 16 });
    expect(e.seconds).toBeCloseTo(0.032, 9); // one batch of 64 at 8 ms per 16
  });
});

describe('formatDuration', () => {
  it('rounds as a person would say it', () => {
    expect(formatDuration(0.4)).toBe('< 1 s');
    expect(formatDuration(42.4)).toBe('42 s');
    expect(formatDuration(200)).toBe('3 min');
    expect(formatDuration(3 * 3600)).toBe('3.0 h');
    expect(formatDuration(NaN)).toBe('—');
  });
});
