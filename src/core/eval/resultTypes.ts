/**
 * The records inside a results file (shared/spec/RESULTS.md): runs and their summaries over seeds.
 * Types only, so the summariser (summary.ts) and the file's builder and parser (results.ts) share
 * them without importing each other.
 */
import type { Architecture, Branches } from '../config/config.ts';
import type { MetricKey, Metrics } from './metrics.ts';

export type StopReason = 'early-stop' | 'max-epochs' | 'aborted' | 'non-finite-loss';

export interface EpochRecord {
  epoch: number; // numbered from 1, in files and on screen
  // null when the loss was not finite (the run then stops with 'non-finite-loss'); JSON has no NaN.
  trainLoss: number | null;
  validLoss: number | null;
  lr: number;
  seconds: number;
  valid: Metrics;
}

export interface RatedMetrics {
  rate: number;
  metrics: Metrics;
}

export interface RunResult {
  // Not in RESULTS.md's example: added so the Table-2 baselines fit the same file. Files without it
  // are read as 'mfmb', the only model the spec's example describes.
  arch: Architecture;
  branches: Branches;
  seed: number;
  // The training rate of the train-once protocol ('random' = drawn per batch); null = no single
  // training rate (per-rate protocol, where each run trains at the rate it is tested at).
  trainRate: number | 'random' | null;
  params: number;
  epochs: EpochRecord[];
  bestEpoch: number | null; // 1-based; null when no epoch finished
  stopReason: StopReason;
  test: RatedMetrics[]; // ascending rates
  message?: string; // why it stopped, for 'aborted' and 'non-finite-loss'
}

export interface MeanStd {
  mean: number | null;
  std: number | null;
}

export interface AuilcSummary extends MeanStd {
  nullsAsZero: number; // null points counted as 0, summed over seeds (RESULTS.md's flag; 0 = none)
}

/** 'per-rate' gathers runs that each trained at their own test rate into one curve. */
export type SummaryTrainRate = number | 'random' | 'per-rate';

export interface SummaryRow {
  arch: Architecture; // our addition, as in RunResult
  branches: Branches;
  trainRate: SummaryTrainRate; // our addition: keeps a sweep over training rates apart
  seeds: number[]; // our addition: the seeds that contributed test results
  perRate: { rate: number; mean: Metrics; std: Metrics }[];
  auilc: Record<MetricKey, AuilcSummary>;
}
