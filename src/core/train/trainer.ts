import * as tf from '../tf.ts';
import { MODALITIES, type PerModality, type RunConfig } from '../config/config.ts';
import type { Batch, ByModality, Dataset, Split } from '../data/types.ts';
import { maskedBatch, type SplitMaskPlan } from '../data/masking.ts';
import { batchRows } from '../data/batching.ts';
import { MT19937, type MT19937State } from '../random.ts';
import type { Model, ModelInput } from '../model/model.ts';
import { ParamStore } from '../model/params.ts';
import { computeMetrics, type Metrics } from '../eval/metrics.ts';
import type { EpochRecord, LossTerms, StopReason } from '../eval/results.ts';
import { lossTermsVector, mfmbLoss, termsFromVector } from './loss.ts';
import { Adam, type AdamState } from './adam.ts';
import { variableGradsFreeing } from './grads.ts';
import { EarlyStopping, type EarlyStoppingState } from './earlyStopping.ts';

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
  terms: LossTerms; // L_task and α_m·L_gen^m of this step; they sum to loss
}

/** Sample-weighted sums of the loss terms over an epoch (divided by the samples at the end, as the loss). */
class TermsMean {
  private sums = [0, 0, 0, 0];
  private seen = 0;
  private genSeen = 0;
  add(t: LossTerms, weight: number): void {
    this.sums[0] += (t.task ?? 0) * weight;
    this.seen += weight;
    if (t.genText === null || t.genAudio === null || t.genVision === null) return;
    this.sums[1] += t.genText * weight;
    this.sums[2] += t.genAudio * weight;
    this.sums[3] += t.genVision * weight;
    this.genSeen += weight;
  }
  mean(): LossTerms {
    const g = (k: number) => (this.genSeen > 0 ? this.sums[k] / this.genSeen : null);
    return { task: this.seen > 0 ? this.sums[0] / this.seen : null, genText: g(1), genAudio: g(2), genVision: g(3) };
  }
}

/**
 * Everything needed to continue a run exactly where it was at the end of an epoch: a fresh model
 * given this (TrainJob.resume) trains on as if never stopped, bit for bit on the same backend.
 * Plain arrays only, so it can be transferred to the page and stored in IndexedDB.
 */
export interface TrainCheckpoint {
  format: typeof CHECKPOINT_FORMAT;
  epoch: number; // epochs finished
  names: string[]; // every parameter (trainable and not: BatchNorm statistics too), model order
  shapes: number[][];
  params: Float32Array; // the current values, flat in `names` order
  best: Float32Array | null; // the best epoch's values, same layout (null: no epoch improved yet)
  bestEpoch: number | null; // 1-based
  adam: AdamState; // moments, step counts, lr (with its plateau decays)
  rng: MT19937State; // the run's generator: shuffling, training rates, dropout seeds
  stopper: EarlyStoppingState;
  epochs: EpochRecord[];
  stopReason: StopReason | null; // this epoch ended training (early stop, max epochs); null: it goes on
}

export const CHECKPOINT_FORMAT = 'mfmb-train-checkpoint/1';

/** What the trainer is busy with between steps, for a front end's progress line. */
export type TrainStage = 'validating' | 'checkpoint';

export interface TrainCallbacks {
  onStep?(info: StepInfo): void;
  onEpoch?(record: EpochRecord): void;
  /** At the end of every finished epoch, after early stopping and the lr decay have been applied. */
  onCheckpoint?(ckpt: TrainCheckpoint): void;
  onStage?(stage: TrainStage): void;
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
  /** Continue from this checkpoint (the model is freshly built; its weights are replaced). */
  resume?: TrainCheckpoint;
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
  let best: Map<string, tf.Tensor>;
  let stopReason: StopReason = 'max-epochs';
  let message: string | undefined;
  const grid = cfg.missing.testRates;
  let firstEpoch = 0;
  let finished = false; // a resumed checkpoint whose run had already ended training
  if (job.resume) {
    const r = job.resume;
    try {
      loadFlat(model, r.names, r.shapes, r.params);
      if (r.best) checkLayout(model, r.names, r.shapes, r.best);
      opt.importState(r.adam);
      rng.setState(r.rng);
      stopper.importState(r.stopper);
    } catch (e) {
      opt.dispose();
      throw new Error(`the checkpoint does not fit this run: ${(e as Error).message}`, { cause: e });
    }
    epochs.push(...r.epochs.map((e) => structuredClone(e)));
    firstEpoch = r.epoch;
    if (r.stopReason !== null) {
      finished = true;
      stopReason = r.stopReason;
    }
    best = r.best ? flatToTensors(r.names, r.shapes, r.best) : model.params.checkpoint();
  } else {
    // Best weights stay on the device. A checkpoint exists from the start (replaced on each
    // improvement) so the tensor count is the same at every step of the run.
    best = model.params.checkpoint();
  }

  try {
    outer: for (let epoch = firstEpoch; !finished && epoch < tc.epochs; epoch++) {
      const t0 = performance.now();
      const withGen = epoch >= tc.reconWarmupEpochs;
      const batches = batchRows(ds.train.n, tc.batchSize, rng);
      let lossSum = 0;
      let seen = 0;
      const trainTerms = new TermsMean();
      for (let s = 0; s < batches.length; s++) {
        await cb.beforeStep?.();
        if (signal?.aborted) {
          stopReason = 'aborted';
          message = 'stopped by the user';
          break outer;
        }
        const rate = job.trainRate === 'random' ? grid[rng.int(grid.length)] : job.trainRate;
        const batch = maskedBatch(ds.train, job.plans.train, batches[s], ratesFor(rate, cfg), ds);
        const { loss: lossValue, terms } = await trainStepWithTerms(model, opt, batch, ds, cfg, withGen, ctx, vars);
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
        trainTerms.add(terms, batch.size);
        cb.onStep?.({ epoch: epoch + 1, step: s + 1, stepsPerEpoch: batches.length, loss: lossValue, terms });
      }
      cb.onStage?.('validating');
      const v = await evaluate(model, ds, ds.valid, job.plans.valid, ratesFor(job.validRate, cfg), cfg, { withGen });
      const record: EpochRecord = {
        epoch: epoch + 1,
        trainLoss: lossSum / seen,
        validLoss: v.loss,
        lr: opt.lr,
        seconds: (performance.now() - t0) / 1000,
        valid: v.metrics,
        trainTerms: trainTerms.mean(),
        ...(v.terms ? { validTerms: v.terms } : {}),
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
      const ends: StopReason | null = stop ? 'early-stop' : epoch + 1 >= tc.epochs ? 'max-epochs' : null;
      if (cb.onCheckpoint) {
        cb.onStage?.('checkpoint');
        cb.onCheckpoint(await readCheckpoint(model, opt, rng, stopper, best, epochs, ends));
      }
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

/** Every parameter's values flattened in model order, read asynchronously (no tensor outlives it). */
async function readFlat(tensors: tf.Tensor[]): Promise<Float32Array> {
  const out = new Float32Array(tensors.reduce((n, t) => n + t.size, 0));
  let off = 0;
  for (const t of tensors) {
    out.set((await t.data()) as Float32Array, off);
    off += t.size;
  }
  return out;
}

async function readCheckpoint(
  model: Model,
  opt: Adam,
  rng: MT19937,
  stopper: EarlyStopping,
  best: Map<string, tf.Tensor>,
  epochs: EpochRecord[],
  stopReason: StopReason | null,
): Promise<TrainCheckpoint> {
  const entries = [...model.params.entries];
  const params = await readFlat(entries.map(([, e]) => e.variable));
  const hasBest = stopper.bestEpoch >= 0;
  return {
    format: CHECKPOINT_FORMAT,
    epoch: epochs.length,
    names: entries.map(([n]) => n),
    shapes: entries.map(([, e]) => [...e.variable.shape]),
    params,
    best: hasBest ? await readFlat(entries.map(([n]) => best.get(n)!)) : null,
    bestEpoch: hasBest ? stopper.bestEpoch + 1 : null,
    adam: await opt.exportState(),
    rng: rng.getState(),
    stopper: stopper.exportState(),
    epochs: epochs.map((e) => structuredClone(e)),
    stopReason,
  };
}

function checkLayout(model: Model, names: string[], shapes: number[][], flat: Float32Array): void {
  const have = [...model.params.entries.keys()];
  if (names.length !== have.length || names.some((n, i) => n !== have[i]))
    throw new Error(`its ${names.length} parameters are not this model's ${have.length}`);
  const total = shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
  if (total !== flat.length) throw new Error(`${flat.length} values for shapes that hold ${total}`);
}

/** Loads flat values (checkpoint layout) into the model's parameters. */
function loadFlat(model: Model, names: string[], shapes: number[][], flat: Float32Array): void {
  checkLayout(model, names, shapes, flat);
  let off = 0;
  names.forEach((name, i) => {
    const n = shapes[i].reduce((a, b) => a * b, 1);
    model.params.load(name, shapes[i], flat.subarray(off, off + n), false);
    off += n;
  });
}

/** Flat values → a device checkpoint map (as ParamStore.checkpoint makes), kept out of any tidy. */
function flatToTensors(names: string[], shapes: number[][], flat: Float32Array): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  let off = 0;
  names.forEach((name, i) => {
    const n = shapes[i].reduce((a, b) => a * b, 1);
    out.set(name, tf.keep(tf.tensor(flat.slice(off, off + n), shapes[i], 'float32')));
    off += n;
  });
  return out;
}

/**
 * One optimisation step; returns the loss and its terms (L_task, α_m·L_gen^m), all read back in one
 * read before the update so a NaN never reaches the weights. Reads are asynchronous (`data()`):
 * WebGPU's synchronous read is slow and, on some setups, returns zeros.
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
  return (await trainStepWithTerms(model, opt, batch, ds, cfg, withGen, ctx, vars)).loss;
}

/** trainStep that also returns the loss terms (the training loop's step). */
export async function trainStepWithTerms(
  model: Model,
  opt: Adam,
  batch: Batch,
  ds: Dataset,
  cfg: RunConfig,
  withGen: boolean,
  ctx: { training: boolean; rng: MT19937 },
  vars: tf.Variable[],
): Promise<{ loss: number; terms: LossTerms }> {
  const { readout, grads } = tf.tidy(() => {
    const t = batchTensors(batch, ds, usesGen(model, withGen));
    const kept: { terms?: tf.Tensor1D } = {};
    const { grads } = variableGradsFreeing(() => {
      const out = model.forward(t.input, ctx);
      const parts = mfmbLoss(out, t.y, cfg.train.alpha, t.clean, t.drop, withGen);
      // Kept past the forward scope; off the path to the total, so it costs no gradient.
      kept.terms = tf.keep(lossTermsVector(parts)); // [5] or [2]: total first
      return parts.total;
    }, vars);
    const readout = tf.clone(kept.terms!);
    tf.dispose(kept.terms!); // kept tensors escape every tidy: free it by hand
    return { readout, grads };
  });
  try {
    const { total, ...terms } = termsFromVector(await readout.data());
    if (Number.isFinite(total)) opt.step(grads);
    return { loss: total, terms };
  } finally {
    tf.dispose([readout, grads]);
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
): Promise<{ pred: Float32Array; loss: number | null; terms: LossTerms | null; metrics: Metrics }> {
  const ctx = { training: false, rng: new MT19937(0) };
  const pred = new Float32Array(split.n);
  let lossSum = 0;
  const terms = new TermsMean();
  let offset = 0;
  for (const rows of batchRows(split.n, Math.max(cfg.train.batchSize, 32), null)) {
    const batch = maskedBatch(split, plan, rows, rates, ds);
    const kept = tf.tidy(() => {
      const t = batchTensors(batch, ds, objective !== null && usesGen(model, objective.withGen));
      const out = model.forward(t.input, ctx);
      return objective
        ? [out.pred, lossTermsVector(mfmbLoss(out, t.y, cfg.train.alpha, t.clean, t.drop, objective.withGen))]
        : [out.pred];
    });
    const [p, l] = kept;
    try {
      pred.set((await p.data()) as Float32Array, offset);
      if (l) {
        const { total, ...parts } = termsFromVector(await l.data());
        lossSum += total * rows.length;
        terms.add(parts, rows.length);
      }
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
    terms: objective ? terms.mean() : null,
    metrics: computeMetrics(pred, split.y, { f1Order: cfg.eval.f1Order }),
  };
}
