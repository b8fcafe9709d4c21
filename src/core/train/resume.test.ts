import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../tf.ts';
import { initNodeBackend } from '../backend.ts';
import { defaultRunConfig, modelPreset, type RunConfig } from '../config/config.ts';
import { makeSynthetic } from '../data/synthetic.ts';
import { planSplits } from '../data/masking.ts';
import type { Dataset } from '../data/types.ts';
import { buildModel } from '../model/build.ts';
import { runExperiment, type ModelSetting } from '../eval/experiment.ts';
import { evaluate, ratesFor, train, type TrainCheckpoint } from './trainer.ts';

/**
 * Resuming from an epoch checkpoint continues a run exactly: N epochs straight and k epochs +
 * checkpoint + a fresh model resumed for the rest give the same epoch records, test metrics and
 * weights, bit for bit (same backend). The config makes every piece of state matter: the
 * reconstruction warm-up (Adam's per-parameter step counts diverge), plateau lr decay, training
 * rates drawn per batch and dropout (the run's generator), early stopping.
 */

const ds: Dataset = makeSynthetic('tiny', 7);

function config(): RunConfig {
  const cfg = defaultRunConfig();
  cfg.model = modelPreset('tiny', { dims: ds.dims, lens: ds.lens });
  cfg.train = { ...cfg.train, batchSize: 16, epochs: 4, reconWarmupEpochs: 2, plateauPatience: 0, patience: 3 };
  return cfg;
}

/** structuredClone as IndexedDB and postMessage copy it: the checkpoint must survive that. */
const cloned = (c: TrainCheckpoint): TrainCheckpoint => structuredClone(c);

async function runOnce(cfg: RunConfig, opts: { stopAfter?: number; resume?: TrainCheckpoint } = {}) {
  const model = buildModel(cfg.model, 111);
  const plans = planSplits(ds, cfg.missing);
  const ckpts: TrainCheckpoint[] = [];
  const abort = new AbortController();
  const out = await train({
    model,
    dataset: ds,
    config: cfg,
    seed: 5,
    plans,
    trainRate: 'random',
    validRate: 0.3,
    signal: abort.signal,
    resume: opts.resume,
    callbacks: {
      onCheckpoint: (c) => {
        ckpts.push(cloned(c));
        if (opts.stopAfter !== undefined && c.epoch >= opts.stopAfter) abort.abort();
      },
    },
  });
  const test = (await evaluate(model, ds, ds.test, plans.test, ratesFor(0.5, cfg), cfg)).metrics;
  const weights = model.params.snapshot();
  model.params.dispose();
  return { out, ckpts, test, weights };
}

describe('resume from an epoch checkpoint', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('k epochs + checkpoint + fresh model resumed = N epochs straight, bit for bit', async () => {
    const cfg = config();
    const straight = await runOnce(cfg);
    expect(straight.out.epochs).toHaveLength(4);
    expect(straight.ckpts.map((c) => c.epoch)).toEqual([1, 2, 3, 4]);
    // The last epoch ends training (early stop or the cap) and says so; earlier ones do not.
    expect(straight.ckpts[3].stopReason).toBe(straight.out.stopReason);
    expect(straight.ckpts[1].stopReason).toBeNull();
    // The lr decayed at least once (plateauPatience 0), so the lr scale is part of what resumes.
    expect(new Set(straight.out.epochs.map((e) => e.lr)).size).toBeGreaterThan(1);

    const before = tf.memory().numTensors;
    const first = await runOnce(cfg, { stopAfter: 2 });
    expect(first.out.stopReason).toBe('aborted');
    const ckpt = first.ckpts[1];
    expect(ckpt.epoch).toBe(2);
    expect(ckpt.epochs).toHaveLength(2);
    const resumed = await runOnce(cfg, { resume: ckpt });
    expect(tf.memory().numTensors).toBe(before);

    expect(resumed.out.stopReason).toBe(straight.out.stopReason);
    expect(resumed.out.bestEpoch).toBe(straight.out.bestEpoch);
    const strip = (es: typeof straight.out.epochs) => es.map(({ seconds: _s, ...rest }) => rest);
    expect(strip(resumed.out.epochs)).toEqual(strip(straight.out.epochs));
    expect(resumed.test).toEqual(straight.test);
    for (const [name, v] of straight.weights) expect(resumed.weights.get(name), name).toEqual(v);
    // Its own later checkpoints equal the straight run's too (moments, step counts, generator).
    const a = resumed.ckpts[1];
    const b = straight.ckpts[3];
    expect(a.epoch).toBe(4);
    expect(a.params).toEqual(b.params);
    expect(a.best).toEqual(b.best);
    expect(a.adam).toEqual(b.adam);
    expect(a.rng).toEqual(b.rng);
    expect(a.stopper).toEqual(b.stopper);
  }, 120_000);

  it('a checkpoint of a run that had ended training skips to the end; a checkpoint of another model is refused', async () => {
    const cfg = config();
    cfg.train.epochs = 2;
    const straight = await runOnce(cfg);
    const last = straight.ckpts[1];
    expect(last.stopReason).toBe('max-epochs');
    const again = await runOnce(cfg, { resume: last });
    expect(again.ckpts).toHaveLength(0);
    expect(again.test).toEqual(straight.test);
    const bad = { ...last, names: last.names.slice(1), shapes: last.shapes.slice(1) };
    await expect(runOnce(cfg, { resume: bad })).rejects.toThrow(/does not fit this run/);
  }, 120_000);

  it('runExperiment resumes at run k with the finished runs passed in and reports each test rate', async () => {
    const cfg = config();
    cfg.train.epochs = 2;
    cfg.train.seeds = [1, 2];
    cfg.missing.testRates = [0, 0.5];
    const settings: ModelSetting[] = [{ arch: cfg.model.arch, branches: { ...cfg.model.branches } }];
    const tests: { index: number; rate: number }[] = [];
    const ckpts = new Map<number, TrainCheckpoint[]>();
    const full = await runExperiment({
      config: cfg,
      dataset: ds,
      settings,
      onEvent: (e) => {
        if (e.kind === 'test') tests.push({ index: e.run.index, rate: e.rate });
      },
      onCheckpoint: (run, c) => ckpts.set(run.index, [...(ckpts.get(run.index) ?? []), cloned(c)]),
    });
    expect(tests).toEqual([
      { index: 0, rate: 0 },
      { index: 0, rate: 0.5 },
      { index: 1, rate: 0 },
      { index: 1, rate: 0.5 },
    ]);
    const seen: number[] = [];
    const resumed = await runExperiment({
      config: cfg,
      dataset: ds,
      settings,
      resume: { runIndex: 1, finished: [full[0]], checkpoint: ckpts.get(1)![0] },
      onEvent: (e) => {
        if (e.kind === 'run-start') seen.push(e.run.index);
      },
    });
    expect(seen).toEqual([1]);
    const strip = (rs: typeof full) =>
      rs.map((r) => ({ ...r, epochs: r.epochs.map(({ seconds: _s, ...rest }) => rest) }));
    expect(strip(resumed)).toEqual(strip(full));
  }, 120_000);
});
