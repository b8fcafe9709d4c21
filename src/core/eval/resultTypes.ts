/**
 * The records inside a results file (shared/spec/RESULTS.md): runs and their summaries over seeds.
 * Types only, so the summariser (summary.ts) and the file's builder and parser (results.ts) share
 * them without importing each other.
 */
import type { Architecture, Branches } from '../config/config.ts';
import type { MetricKey, Metrics } from './metrics.ts';

export type StopReason = 'early-stop' | 'max-epochs' | 'aborted' | 'non-finite-loss';

/**
 * How a run ended, for summaries and tables (our addition to RESULTS.md; files without it derive it
 * from stopReason): 'finished' = trained to its own end (early stop, the epoch cap, or a non-finite
 * loss, which is a result of the config, as in the CLI), 'stopped' = cut off by the user (Stop,
 * stopReason 'aborted'), 'interrupted' = cut off by a reload or a lost tab, 'failed' = ended by an
 * error. Only finished runs count in a summary unless partial runs are asked for.
 */
export type RunStatus = 'finished' | 'stopped' | 'interrupted' | 'failed';

/**
 * The objective split into its terms (eqs. 17–19): L_task and each weighted α_m·L_gen^m, so that
 * task + genText + genAudio + genVision = the loss they come with. A gen term is null when L_gen is
 * not part of that objective (the reconstruction warm-up, or the recon branch off).
 */
export interface LossTerms {
  task: number | null;
  genText: number | null;
  genAudio: number | null;
  genVision: number | null;
}

export interface EpochRecord {
  epoch: number; // numbered from 1, in files and on screen
  // null when the loss was not finite (the run then stops with 'non-finite-loss'); JSON has no NaN.
  trainLoss: number | null;
  validLoss: number | null;
  lr: number;
  seconds: number;
  valid: Metrics;
  // Not in RESULTS.md's example (our addition, optional: files written before it still read): the
  // terms of trainLoss (sample-weighted mean over the epoch's steps, as trainLoss) and of validLoss.
  trainTerms?: LossTerms;
  validTerms?: LossTerms;
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
  // Our addition (see RunStatus); written by makeResultsFile, derived from stopReason when absent.
  status?: RunStatus;
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
  // Our additions (absent in older files): the runs of this row that did not finish (left out of
  // the figures unless `partial`), and `partial: true` when they were counted anyway.
  cutOff?: { seed: number; status: RunStatus }[];
  partial?: boolean;
  perRate: { rate: number; mean: Metrics; std: Metrics }[];
  auilc: Record<MetricKey, AuilcSummary>;
}
