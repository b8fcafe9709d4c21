import * as tf from '../tf.ts';
import { MODALITIES, type PerModality, type RunConfig } from '../config/config.ts';
import type { Batch, ByModality, Dataset, Split } from '../data/types.ts';
import { maskedBatch, type SplitMaskPlan } from '../data/masking.ts';
import { batchRows } from '../data/batching.ts';
import { MT19937 } from '../random.ts';
import type { Model, ModelInput } from '../model/model.ts';
import { ParamStore } from '../model/params.ts';
import { computeMetrics, type Metrics } from '../eval/metrics.ts';
import type { EpochRecord, StopReason } from '../eval/results.ts';
import { mfmbLoss } from './loss.ts';
import { Adam } from './adam.ts';
import { variableGradsFreeing } from './grads.ts';
import { EarlyStopping } from './earlyStopping.ts';

/**
 * The training loop (PROTOCOL.md "Training"): seeded shuffling each epoch, Adam with clipping and
 * weight decay, L_gen from `reconWarmupEpochs` on, validation every epoch on valid MAE with
 * best-weights restore, early stopping, plateau lr decay, a max-epochs cap, an AbortSignal, and
 * progress callbacks for the CLI and the worker. Async so a front end can pause, abort and redraw
 * between steps; it never holds tensors across an await.
 */

export interface StepInfo {
  epoch: number; // 1-based
  step: number; // 1-based within the epoch
  stepsPerEpoch: number;
  loss: number;
}

export interface TrainCallbacks {
  onStep?(info: StepInfo): void;
  onEpoch?(record: EpochRecord): void;
  /** Awaited before every step: a front end pauses here (and yields to its event loop). */
  beforeStep?(): Promise<void> | void;
}

export interface TrainJob {
  model: Model;
  dataset: Dataset;
  config: RunConfig;
  seed: number; // run seed: shuffling and dropout (initialisation already happened in the model)
  plans: { train: SplitMaskPlan; valid: SplitMaskPlan };
  trainRate: number | 'random'; // 'random': a rate per batch from config.missing.testRates
  validRate: number;
  signal?: AbortSignal;
  callbacks?: TrainCallbacks;
}

export interface TrainOutcome {
  epochs: EpochRecord[];
  bestEpoch: number | null; // 1-based
  stopReason: StopReason;
  message?: string;
}

export function ratesFor(rate: number, cfg: RunConfig): PerModality<number> {
  return cfg.missing.perModalityRates ? [...cfg.missing.perModalityRates] : [rate, rate, rate];
}

/**
 * Plain arrays → tensors (call inside a tidy). The reconstruction targets (clean features and drop
 * masks) are uploaded only when the loss will use them (`targets`): they are as big as the inputs.
 */
export function batchTensors(b: Batch, ds: Dataset, targets = true) {
  const x = {} as ByModality<tf.Tensor3D>;
  const clean = targets ? ({} as ByModality<tf.Tensor3D>) : null;
  const drop = targets ? ({} as ByModality<tf.Tensor2D>) : null;
  MODALITIES.forEach((m, i) => {
    x[m] = tf.tensor3d(b.x[m], [b.size, ds.lens[i], ds.dims[i]]);
    if (clean && drop) {
      clean[m] = tf.tensor3d(b.clean[m], [b.size, ds.lens[i], ds.dims[i]]);
      drop[m] = tf.tensor2d(b.drop[m], [b.size, ds.lens[i]]);
    }
  });
  return { input: { x, len: b.len } as ModelInput, clean, drop, y: tf.tensor1d(b.y) };
}

/** Does the objective include L_gen (so the batch needs reconstruction targets)? */
function usesGen(model: Model, withGen: boolean): boolean {
  return withGen && model.config.branches.recon;
}

export async function train(job: TrainJob): Promise<TrainOutcome> {
  const { model, dataset: ds, config: cfg, signal, callbacks: cb = {} } = job;
  const tc = cfg.train;
  if (model.config.numClasses !== 1) throw new Error('training supports regression (numClasses 1) only for now');
  const rng = new MT19937(job.seed);
  const ctx = { training: true, rng };
  const vars = model.params.trainable();
  const opt = new Adam(vars, tc.lr, tc.weightDecay, tc.clipValue);
  const stopper = new EarlyStopping(tc.patience, tc.plateauPatience, tc.plateauFactor);
  const epochs: EpochRecord[] = [];
  // Best weights stay on the device. A checkpoint exists from the start (replaced on each
  // improvement) so the tensor count is the same at every step of the run.
  let best: Map<string, tf.Tensor> = model.params.checkpoint();
  let stopReason: StopReason = 'max-epochs';
  let message: string | undefined;
  const grid = cfg.missing.testRates;

  try {
    outer: for (let epoch = 0; epoch < tc.epochs; epoch++) {
      const t0 = performance.now();
      const withGen = epoch >= tc.reconWarmupEpochs;
      const batches = batchRows(ds.train.n, tc.batchSize, rng);
      let lossSum = 0;
      let seen = 0;
      for (let s = 0; s < batches.length; s++) {
        await cb.beforeStep?.();
        if (signal?.aborted) {
          stopReason = 'aborted';
          message = 'stopped by the user';
          break outer;
        }
        const rate = job.trainRate === 'random' ? grid[rng.int(grid.length)] : job.trainRate;
        const batch = maskedBatch(ds.train, job.plans.train, batches[s], ratesFor(rate, cfg), ds);
        const lossValue = await trainStep(model, opt, batch, ds, cfg, withGen, ctx, vars);
        if (!Number.isFinite(lossValue)) {
          stopReason = 'non-finite-loss';
          message =
            `the training loss became ${lossValue} at epoch ${epoch + 1}, step ${s + 1}; ` +
            (stopper.bestEpoch >= 0
              ? `kept the best weights (epoch ${stopper.bestEpoch + 1})`
              : 'no epoch had finished, so no weights were kept') +
            '. Try a lower learning rate or check the data for extreme values.';
          break outer;
        }
        lossSum += lossValue * batch.size;
        seen += batch.size;
        cb.onStep?.({ epoch: epoch + 1, step: s + 1, stepsPerEpoch: batches.length, loss: lossValue });
      }
      const v = await evaluate(model, ds, ds.valid, job.plans.valid, ratesFor(job.validRate, cfg), cfg, { withGen });
      const record: EpochRecord = {
        epoch: epoch + 1,
        trainLoss: lossSum / seen,
        validLoss: v.loss,
        lr: opt.lr,
        seconds: (performance.now() - t0) / 1000,
        valid: v.metrics,
      };
      epochs.push(record);
      cb.onEpoch?.(record);
      const mae = v.metrics.mae ?? Infinity;
      const { improved, stop, lrScale } = stopper.update(epoch, mae);
      if (improved) {
        ParamStore.disposeCheckpoint(best);
        best = model.params.checkpoint();
      }
      opt.lr *= lrScale;
      if (stop) {
        stopReason = 'early-stop';
        break;
      }
    }
  } finally {
    opt.dispose();
  }
  if (stopper.bestEpoch >= 0) model.params.restoreCheckpoint(best);
  ParamStore.disposeCheckpoint(best);
  return { epochs, bestEpoch: stopper.bestEpoch >= 0 ? stopper.bestEpoch + 1 : null, stopReason, message };
}

/**
 * One optimisation step; returns the loss, read back before the update so a NaN never reaches the
 * weights. Reads are asynchronous (`data()`): WebGPU's synchronous read is slow and, on some setups,
 * returns zeros.
 */
export async function trainStep(
  model: Model,
  opt: Adam,
  batch: Batch,
  ds: Dataset,
  cfg: RunConfig,
  withGen: boolean,
  ctx: { training: boolean; rng: MT19937 },
  vars: tf.Variable[],
): Promise<number> {
  const { loss, grads } = tf.tidy(() => {
    const t = batchTensors(batch, ds, usesGen(model, withGen));
    const { value, grads } = variableGradsFreeing(() => {
      const out = model.forward(t.input, ctx);
      return mfmbLoss(out, t.y, cfg.train.alpha, t.clean, t.drop, withGen).total;
    }, vars);
    return { loss: value, grads };
  });
  try {
    const value = (await loss.data())[0];
    if (Number.isFinite(value)) opt.step(grads);
    return value;
  } finally {
    tf.dispose([loss, grads]);
  }
}

/**
 * Eval-mode predictions and metrics over a whole split masked at `rates`; with `objective`, also the
 * training objective (validation). Test evaluation skips it: it only needs the predictions.
 */
export async function evaluate(
  model: Model,
  ds: Dataset,
  split: Split,
  plan: SplitMaskPlan,
  rates: PerModality<number>,
  cfg: RunConfig,
  objective: { withGen: boolean } | null = null,
): Promise<{ pred: Float32Array; loss: number | null; metrics: Metrics }> {
  const ctx = { training: false, rng: new MT19937(0) };
  const pred = new Float32Array(split.n);
  let lossSum = 0;
  let offset = 0;
  for (const rows of batchRows(split.n, Math.max(cfg.train.batchSize, 32), null)) {
    const batch = maskedBatch(split, plan, rows, rates, ds);
    const kept = tf.tidy(() => {
      const t = batchTensors(batch, ds, objective !== null && usesGen(model, objective.withGen));
      const out = model.forward(t.input, ctx);
      return objective
        ? [out.pred, mfmbLoss(out, t.y, cfg.train.alpha, t.clean, t.drop, objective.withGen).total]
        : [out.pred];
    });
    const [p, l] = kept;
    try {
      pred.set((await p.data()) as Float32Array, offset);
      if (l) lossSum += (await l.data())[0] * rows.length;
    } finally {
      tf.dispose(kept);
    }
    offset += rows.length;
  }
  if (pred.some((v) => !Number.isFinite(v))) {
    throw new Error('the model produced non-finite predictions (NaN or Inf); the weights have diverged');
  }
  return {
    pred,
    loss: objective ? lossSum / split.n : null,
    metrics: computeMetrics(pred, split.y, { f1Order: cfg.eval.f1Order }),
  };
}
