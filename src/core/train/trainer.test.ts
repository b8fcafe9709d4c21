import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../tf.ts';
import { initNodeBackend } from '../backend.ts';
import { defaultRunConfig, modelPreset, type RunConfig } from '../config/config.ts';
import { makeSynthetic } from '../data/synthetic.ts';
import { planSplits } from '../data/masking.ts';
import type { Dataset } from '../data/types.ts';
import { buildModel } from '../model/build.ts';
import type { Model } from '../model/model.ts';
import { train, type StepInfo, type TrainCallbacks, type TrainOutcome } from './trainer.ts';

/**
 * The training loop on the synthetic 'tiny' dataset (120 train / 30 valid samples, L 8/12/10) with
 * the tiny model and batch 8, i.e. 15 steps per epoch. PROTOCOL.md "Training" and MODEL.md ("a
 * training step leaves tf.memory().numTensors unchanged").
 */

const ds: Dataset = makeSynthetic('tiny', 7);

function config(over: Partial<RunConfig['train']> = {}): RunConfig {
  const cfg = defaultRunConfig();
  cfg.model = modelPreset('tiny', { dims: ds.dims, lens: ds.lens });
  cfg.train = { ...cfg.train, batchSize: 8, epochs: 2, ...over };
  return cfg;
}

function plansFor(cfg: RunConfig, data: Dataset = ds) {
  return planSplits(data, cfg.missing);
}

async function runTraining(
  cfg: RunConfig,
  opts: { data?: Dataset; callbacks?: TrainCallbacks; signal?: AbortSignal; model?: Model } = {},
): Promise<{ out: TrainOutcome; model: Model }> {
  const data = opts.data ?? ds;
  const model = opts.model ?? buildModel(cfg.model, 111);
  const out = await train({
    model,
    dataset: data,
    config: cfg,
    seed: 111,
    plans: plansFor(cfg, data),
    trainRate: 0.3,
    validRate: 0.3,
    signal: opts.signal,
    callbacks: opts.callbacks,
  });
  return { out, model };
}

function allFinite(m: Map<string, Float32Array>): boolean {
  for (const v of m.values()) for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}

describe('train()', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('a training step leaves tf.memory().numTensors unchanged; dispose returns to the count before the build', async () => {
    // reconWarmupEpochs 1: epoch 1 (global steps 1–15) trains without L_gen, epoch 2 (16–30) with it,
    // so the two regimes run different graphs and the optimiser sees a different gradient set (the
    // recon branch gets no gradient in epoch 1; Adam caches one mask tensor for that pattern at step
    // 1). Within a regime every step must end at the same count: compare steps 2 and 15 (warm-up) and
    // 17 and 30 (with L_gen). Nothing is created per regime after step 1 either, so step 2 and 20
    // must agree too.
    const cfg = config({ epochs: 2, reconWarmupEpochs: 1 });
    const before = tf.memory().numTensors;
    const model = buildModel(cfg.model, 111);
    const counts: number[] = [];
    const { out } = await runTraining(cfg, { model, callbacks: { onStep: () => counts.push(tf.memory().numTensors) } });
    expect(out.stopReason).toBe('max-epochs');
    expect(counts.length).toBe(30);
    expect(counts[14]).toBe(counts[1]); // steps 2 and 15: warm-up
    expect(counts[29]).toBe(counts[16]); // steps 17 and 30: with L_gen
    expect(counts[19]).toBe(counts[1]); // steps 2 and 20
    expect(new Set(counts.slice(1)).size).toBe(1);
    model.params.dispose();
    // Everything the model and the run created is gone once the weights are disposed.
    expect(tf.memory().numTensors, 'tensors left after train() and model.params.dispose()').toBe(before);
  });

  it('reduces the training loss over a few epochs, and two runs with the same config and seed agree exactly', async () => {
    // L_gen from the start (warm-up 0) so every epoch's loss is the same objective.
    const cfg = config({ epochs: 3, reconWarmupEpochs: 0 });
    const a = await runTraining(cfg);
    const b = await runTraining(cfg);
    const lossesA = a.out.epochs.map((e) => e.trainLoss!);
    expect(lossesA.length).toBe(3);
    expect(lossesA.every(Number.isFinite)).toBe(true);
    expect(lossesA[2]).toBeLessThan(lossesA[0]);
    // Determinism: identical records (bar wall-clock seconds) and identical final weights.
    const strip = (o: TrainOutcome) => o.epochs.map(({ seconds: _s, ...rest }) => rest);
    expect(strip(b.out)).toEqual(strip(a.out));
    expect(b.out.bestEpoch).toBe(a.out.bestEpoch);
    const wa = a.model.params.snapshot(),
      wb = b.model.params.snapshot();
    for (const [name, v] of wa) expect(wb.get(name), name).toEqual(v);
    a.model.params.dispose();
    b.model.params.dispose();
  });

  it('reports L_task and α_m·L_gen^m per step and per epoch; they sum to the step, train and valid losses', async () => {
    const cfg = config({ epochs: 2, reconWarmupEpochs: 1 });
    const steps: StepInfo[] = [];
    const { out, model } = await runTraining(cfg, { callbacks: { onStep: (s) => steps.push(s) } });
    model.params.dispose();
    const close = (a: number, b: number) =>
      expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(b)));
    const sum = (t: StepInfo['terms']) => t.task! + (t.genText ?? 0) + (t.genAudio ?? 0) + (t.genVision ?? 0);
    expect(steps.length).toBe(2 * 15);
    for (const s of steps) {
      close(sum(s.terms), s.loss);
      // Epoch 1 is the warm-up: L_task alone; from epoch 2 all three gen terms, each positive.
      if (s.epoch === 1) expect([s.terms.genText, s.terms.genAudio, s.terms.genVision]).toEqual([null, null, null]);
      else for (const g of [s.terms.genText, s.terms.genAudio, s.terms.genVision]) expect(g).toBeGreaterThan(0);
    }
    // Epoch means: batch-size-weighted over the epoch's steps, like trainLoss (the last batch is smaller).
    for (const e of out.epochs) {
      const own = steps.filter((s) => s.epoch === e.epoch);
      const sizes = own.map((_, i) => (i === own.length - 1 ? 120 - 8 * (own.length - 1) : 8));
      const mean = (f: (s: StepInfo) => number) => own.reduce((a, s, i) => a + f(s) * sizes[i], 0) / 120;
      close(
        e.trainTerms!.task!,
        mean((s) => s.terms.task!),
      );
      close(sum(e.trainTerms!), e.trainLoss!);
      close(sum(e.validTerms!), e.validLoss!);
      if (e.epoch > 1)
        close(
          e.trainTerms!.genVision!,
          mean((s) => s.terms.genVision!),
        );
    }
    expect(out.epochs[0].validTerms!.genText).toBeNull();
    expect(out.epochs[1].validTerms!.genText).toBeGreaterThan(0);
  });

  it('an AbortSignal aborted from onStep stops the run with stopReason "aborted"', async () => {
    const cfg = config({ epochs: 5 });
    const ctl = new AbortController();
    const steps: StepInfo[] = [];
    const epochs: number[] = [];
    const { out, model } = await runTraining(cfg, {
      signal: ctl.signal,
      callbacks: {
        onStep: (s) => {
          steps.push(s);
          if (steps.length === 3) ctl.abort();
        },
        onEpoch: (e) => epochs.push(e.epoch),
      },
    });
    expect(out.stopReason).toBe('aborted');
    expect(out.message).toBeTruthy();
    expect(steps.length).toBe(3); // checked before every step: no step after the abort
    expect(steps.map((s) => [s.epoch, s.step])).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
    expect(steps[0].stepsPerEpoch).toBe(15);
    expect(epochs).toEqual([]);
    expect(out.epochs).toEqual([]);
    expect(out.bestEpoch).toBeNull();
    model.params.dispose();
  });

  it('a NaN loss after epoch 1 stops with "non-finite-loss" and restores the best (epoch-1) weights', async () => {
    // A copy of the dataset whose training labels turn NaN once epoch 1 has been validated.
    const data: Dataset = { ...ds, train: { ...ds.train, y: ds.train.y.slice() } };
    const cfg = config({ epochs: 4 });
    const saved: { atEpoch1?: Map<string, Float32Array> } = {};
    const steps: StepInfo[] = [];
    const model = buildModel(cfg.model, 111);
    const { out } = await runTraining(cfg, {
      data,
      model,
      callbacks: {
        onStep: (s) => steps.push(s),
        onEpoch: (e) => {
          if (e.epoch === 1) {
            saved.atEpoch1 = model.params.snapshot(); // epoch 1 is the best so far by construction (first finite MAE)
            data.train.y.fill(NaN);
          }
        },
      },
    });
    expect(out.stopReason).toBe('non-finite-loss');
    expect(out.message).toMatch(/epoch 2, step 1/);
    expect(out.message).toMatch(/kept the best weights \(epoch 1\)/);
    expect(out.epochs.length).toBe(1);
    expect(out.bestEpoch).toBe(1);
    expect(steps.length).toBe(15); // the NaN step is not reported as a step
    const final = model.params.snapshot();
    expect(allFinite(final)).toBe(true);
    expect(saved.atEpoch1).toBeDefined();
    for (const [name, v] of saved.atEpoch1!) expect(final.get(name), name).toEqual(v);
    model.params.dispose();
  });

  it('a NaN loss at the very first step stops with "non-finite-loss" and leaves the weights as initialised', async () => {
    const data: Dataset = { ...ds, train: { ...ds.train, y: ds.train.y.slice().fill(NaN) } };
    const cfg = config({ epochs: 2 });
    const model = buildModel(cfg.model, 111);
    const initial = model.params.snapshot();
    const trainable = new Set(model.params.trainableNames());
    const { out } = await runTraining(cfg, { data, model });
    expect(out.stopReason).toBe('non-finite-loss');
    expect(out.message).toMatch(/epoch 1, step 1/);
    expect(out.epochs).toEqual([]);
    expect(out.bestEpoch).toBeNull();
    const final = model.params.snapshot();
    expect(allFinite(final)).toBe(true);
    // No optimiser step ran. (BatchNorm running statistics, not trainable, may have moved in the forward pass.)
    for (const name of trainable) expect(final.get(name), name).toEqual(initial.get(name));
    model.params.dispose();
  });
});
