import type { RunConfig } from '../config/config.ts';
import { batchRows } from '../data/batching.ts';

/**
 * How long an experiment will take on this device, from a measured step time — so a preset button
 * can say "≈ 40 s here" instead of a guess written for someone else's machine. It counts exactly
 * the steps runExperiment() does: every run (setting × seed × training rate) trains up to
 * `epochs` epochs of training steps, validates once per epoch, then tests at each of its rates.
 * Early stopping can end a run after `patience` epochs without improvement, so the figure is an
 * upper bound, with the soonest possible finish beside it.
 */
export interface StepTiming {
  trainMs: number; // one optimisation step at cfg.train.batchSize (forward + backward + Adam)
  inferMs: number; // one eval-mode forward pass of `inferBatch` samples
  inferBatch: number;
}

export interface SplitSizes {
  train: number;
  valid: number;
  test: number;
}

export interface DurationEstimate {
  runs: number;
  trainSteps: number; // upper bound: every run trains all its epochs
  inferBatches: number; // validation and test batches, upper bound
  seconds: number; // upper bound
  soonestSeconds: number; // every run early-stopped at the first chance (patience + 1 epochs)
}

function batches(n: number, batchSize: number): number {
  return n > 0 ? batchRows(n, batchSize, null).length : 0;
}

export function estimateDuration(
  cfg: RunConfig,
  settings: number,
  sizes: SplitSizes,
  timing: StepTiming,
): DurationEstimate {
  const perRate = cfg.missing.protocol === 'per-rate';
  const runs = settings * cfg.train.seeds.length * (perRate ? cfg.missing.testRates.length : 1);
  const testRates = perRate ? 1 : cfg.missing.testRates.length;
  // Eval batches are max(batch, 32) samples (trainer.evaluate); inferMs is scaled to that size.
  const evalBatch = Math.max(cfg.train.batchSize, 32);
  const inferMs = timing.inferMs * (evalBatch / Math.max(1, timing.inferBatch));
  const trainPerEpoch = batches(sizes.train, cfg.train.batchSize);
  const validPerEpoch = batches(sizes.valid, evalBatch);
  const testPerRun = testRates * batches(sizes.test, evalBatch);
  const runMs = (epochs: number) =>
    epochs * (trainPerEpoch * timing.trainMs + validPerEpoch * inferMs) + testPerRun * inferMs;
  const epochs = cfg.train.epochs;
  const soonest = Math.min(epochs, cfg.train.patience + 1);
  return {
    runs,
    trainSteps: runs * epochs * trainPerEpoch,
    inferBatches: runs * (epochs * validPerEpoch + testPerRun),
    seconds: (runs * runMs(epochs)) / 1000,
    soonestSeconds: (runs * runMs(soonest)) / 1000,
  };
}

/** "≈ 40 s", "≈ 3 min", "≈ 1.2 h": rounded the way a person would say it. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 1) return '< 1 s';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const min = seconds / 60;
  if (min < 90) return `${Math.round(min)} min`;
  const h = min / 60;
  return `${h < 10 ? h.toFixed(1) : Math.round(h)} h`;
}
