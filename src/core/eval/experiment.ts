import type * as tf from '../tf.ts';
import type { Architecture, Branches, ModelConfig, PerModality, RunConfig } from '../config/config.ts';
import type { Dataset } from '../data/types.ts';
import { planSplits } from '../data/masking.ts';
import { buildModel } from '../model/build.ts';
import {
  evaluate,
  ratesFor,
  train,
  type StepInfo,
  type TrainCallbacks,
  type TrainCheckpoint,
  type TrainStage,
} from '../train/trainer.ts';
import type { Metrics } from './metrics.ts';
import type { EpochRecord, RatedMetrics, RunResult } from './results.ts';

/**
 * An experiment = model settings × run seeds (× training rates under the per-rate protocol), each a
 * fresh model trained and tested as PROTOCOL.md describes:
 * - train-once: one model per (setting, seed), trained at the training rate (or a rate per batch
 *   drawn from the grid), then tested at every rate of the grid with the same weights;
 * - per-rate: one model per (setting, seed, rate), trained, validated and tested at that rate.
 * Masks depend only on the rate, the split and the mask seeds, so they are planned once.
 */
export interface ModelSetting {
  arch: Architecture;
  branches: Branches;
}

/** The config's model as one setting builds it, with the input sizes and lengths of the data. */
export function modelConfigFor(
  model: ModelConfig,
  setting: ModelSetting,
  data: { dims: PerModality<number>; lens: PerModality<number> },
): ModelConfig {
  return {
    ...model,
    arch: setting.arch,
    branches: { ...setting.branches },
    dims: [...data.dims],
    lens: [...data.lens],
  };
}

export interface RunLabel {
  index: number; // 0-based
  total: number;
  setting: ModelSetting;
  seed: number;
  trainRate: number | 'random';
}

export type ExperimentEvent =
  | { kind: 'run-start'; run: RunLabel; params: number }
  | { kind: 'step'; run: RunLabel; step: StepInfo }
  | { kind: 'epoch'; run: RunLabel; record: EpochRecord }
  | { kind: 'stage'; run: RunLabel; stage: TrainStage | 'testing'; rate?: number }
  // one test rate finished (so a run cut off while testing keeps the rates it had)
  | { kind: 'test'; run: RunLabel; rate: number; metrics: Metrics }
  | { kind: 'run-end'; run: RunLabel; result: RunResult };

/** Where a resumed experiment picks up: runs before `runIndex` finished (their results given). */
export interface ExperimentResume {
  runIndex: number;
  finished: RunResult[]; // runs 0 … runIndex − 1, in order
  checkpoint: TrainCheckpoint | null; // run `runIndex`'s last epoch checkpoint (null: start it afresh)
}

export interface ExperimentSpec {
  config: RunConfig;
  dataset: Dataset;
  settings: ModelSetting[];
  signal?: AbortSignal;
  onEvent?(e: ExperimentEvent): void;
  beforeStep?: TrainCallbacks['beforeStep'];
  /**
   * A run's trained weights (the best epoch's, restored by the trainer, as tested), by PyTorch
   * name in model order, called once per finished run just before its 'run-end' event. The model
   * is disposed right after, so this is the one place its weights can be had; the checkpoint stays
   * on the device (no read-back) and belongs to the callee, who must dispose it
   * (ParamStore.disposeCheckpoint). Without this hook no copy is made.
   */
  onTrained?(run: RunLabel, checkpoint: TrainedCheckpoint): void;
  /** Every finished epoch's resumable checkpoint (TrainCallbacks.onCheckpoint); without it none is read. */
  onCheckpoint?(run: RunLabel, ckpt: TrainCheckpoint): void;
  resume?: ExperimentResume;
}

/** Every parameter of a trained model (trainable and not: BatchNorm statistics too), by PyTorch name. */
export type TrainedCheckpoint = Map<string, tf.Tensor>;

/** Rate used for validation when training rates are drawn per batch: the grid's mean. */
export function validRateFor(cfg: RunConfig, trainRate: number | 'random'): number {
  if (trainRate !== 'random') return trainRate;
  const g = cfg.missing.testRates;
  return g.reduce((a, b) => a + b, 0) / g.length;
}

export async function runExperiment(spec: ExperimentSpec): Promise<RunResult[]> {
  const { config: cfg, dataset: ds } = spec;
  const plans = planSplits(ds, cfg.missing);
  const perRate = cfg.missing.protocol === 'per-rate';
  const trainRates: (number | 'random')[] = perRate ? [...cfg.missing.testRates] : [cfg.missing.trainRate];
  const jobs: RunLabel[] = [];
  for (const setting of spec.settings) {
    for (const seed of cfg.train.seeds) {
      for (const trainRate of trainRates) jobs.push({ index: jobs.length, total: 0, setting, seed, trainRate });
    }
  }
  jobs.forEach((j) => (j.total = jobs.length));

  const resume = spec.resume;
  if (resume) {
    if (!Number.isInteger(resume.runIndex) || resume.runIndex < 0 || resume.runIndex > jobs.length)
      throw new Error(`cannot resume at run ${resume.runIndex + 1}: the experiment has ${jobs.length} runs`);
    if (resume.finished.length !== resume.runIndex)
      throw new Error(`cannot resume at run ${resume.runIndex + 1} with ${resume.finished.length} finished runs`);
    resume.finished.forEach((r, i) => {
      const want = jobs[i];
      if (r.seed !== want.seed || r.arch !== want.setting.arch || r.trainRate !== want.trainRate)
        throw new Error(`finished run ${i + 1} (seed ${r.seed}) is not run ${i + 1} of this experiment`);
    });
  }
  const results: RunResult[] = resume ? [...resume.finished] : [];
  for (const run of jobs) {
    if (resume && run.index < resume.runIndex) continue;
    if (spec.signal?.aborted) break;
    const model = buildModel(modelConfigFor(cfg.model, run.setting, ds), run.seed);
    try {
      const params = model.params.count().total;
      spec.onEvent?.({ kind: 'run-start', run, params });
      const outcome = await train({
        model,
        dataset: ds,
        config: cfg,
        seed: run.seed,
        plans,
        trainRate: run.trainRate,
        validRate: validRateFor(cfg, run.trainRate),
        signal: spec.signal,
        resume: resume && run.index === resume.runIndex ? (resume.checkpoint ?? undefined) : undefined,
        callbacks: {
          beforeStep: spec.beforeStep,
          onStep: (step) => spec.onEvent?.({ kind: 'step', run, step }),
          onEpoch: (record) => spec.onEvent?.({ kind: 'epoch', run, record }),
          onStage: (stage) => spec.onEvent?.({ kind: 'stage', run, stage }),
          ...(spec.onCheckpoint ? { onCheckpoint: (ckpt: TrainCheckpoint) => spec.onCheckpoint!(run, ckpt) } : {}),
        },
      });
      const testRates = perRate ? [run.trainRate as number] : cfg.missing.testRates;
      const test: RatedMetrics[] = [];
      if (outcome.bestEpoch !== null) {
        for (const rate of testRates) {
          spec.onEvent?.({ kind: 'stage', run, stage: 'testing', rate });
          const metrics = (await evaluate(model, ds, ds.test, plans.test, ratesFor(rate, cfg), cfg)).metrics;
          test.push({ rate, metrics });
          spec.onEvent?.({ kind: 'test', run, rate, metrics });
        }
      }
      const result: RunResult = {
        arch: run.setting.arch,
        branches: { ...run.setting.branches },
        seed: run.seed,
        trainRate: run.trainRate,
        params,
        epochs: outcome.epochs,
        bestEpoch: outcome.bestEpoch,
        stopReason: outcome.stopReason,
        test,
        ...(outcome.message ? { message: outcome.message } : {}),
      };
      results.push(result);
      if (spec.onTrained) spec.onTrained(run, model.params.checkpoint());
      spec.onEvent?.({ kind: 'run-end', run, result });
    } finally {
      model.params.dispose();
    }
  }
  return results;
}
