/** Small hand-made runs for the summary, results-file and table tests. */

import type { Architecture, Branches } from '../../config/config.ts';
import type { Metrics } from '../metrics.ts';
import type { RunResult } from '../results.ts';

export const ALL: Branches = { macro: true, micro: true, recon: true };
export const NO_MACRO: Branches = { macro: false, micro: true, recon: true };

/** Every metric set to `v`, except those overridden. */
export function metricsOf(v: number, over: Partial<Metrics> = {}): Metrics {
  return { mae: v, corr: v, acc7: v, acc5: v, acc2_has0: v, acc2_non0: v, f1_has0: v, f1_non0: v, ...over };
}

export function run(opts: {
  seed: number;
  branches?: Branches;
  arch?: Architecture;
  trainRate?: number | 'random' | null;
  test: [number, Metrics][];
}): RunResult {
  return {
    arch: opts.arch ?? 'mfmb',
    branches: opts.branches ?? ALL,
    seed: opts.seed,
    trainRate: opts.trainRate === undefined ? 0.3 : opts.trainRate,
    params: 1234,
    epochs: [
      { epoch: 1, trainLoss: 1.5, validLoss: 1.25, lr: 0.002, seconds: 0.5, valid: metricsOf(0.5) },
      { epoch: 2, trainLoss: 1.25, validLoss: 1.0, lr: 0.002, seconds: 0.5, valid: metricsOf(0.6, { corr: null }) },
    ],
    bestEpoch: 2,
    stopReason: 'max-epochs',
    test: opts.test.map(([rate, metrics]) => ({ rate, metrics })),
  };
}
