import * as tf from '../tf.ts';
import type { RunConfig } from '../config/config.ts';
import type { Dataset } from '../data/types.ts';
import { maskedBatch, planMissing } from '../data/masking.ts';
import type { StepTiming } from '../eval/estimate.ts';
import { MT19937 } from '../random.ts';
import type { Model } from '../model/model.ts';
import { Adam } from './adam.ts';
import { batchTensors, trainStep } from './trainer.ts';

/**
 * Times this model on this device: one untimed training step (it compiles kernels / shaders), then
 * `steps` timed ones at the config's batch size, and the same for eval-mode forward passes of an
 * evaluation batch (max(batch, 32) samples, as trainer.evaluate reads them). The model's weights
 * change (it trains): call it on a throw-away model. Reads back with `data()`, so GPU work is
 * finished inside the timing.
 */
export async function measureStepTiming(
  model: Model,
  ds: Dataset,
  cfg: RunConfig,
  steps = 2,
  /** Awaited between steps: the worker yields to its message queue there, so a Cancel or Stop is never held up. */
  between: () => Promise<void> = () => Promise.resolve(),
): Promise<StepTiming> {
  const split = ds.train;
  const plan = planMissing(split, ds, cfg.missing);
  const rows = (n: number) => Array.from({ length: Math.min(n, split.n) }, (_, i) => i);
  const rate = typeof cfg.missing.trainRate === 'number' ? cfg.missing.trainRate : 0.5;
  const trainBatch = maskedBatch(split, plan, rows(cfg.train.batchSize), [rate, rate, rate], ds);
  const evalRows = rows(Math.max(cfg.train.batchSize, 32));
  const evalBatch = maskedBatch(split, plan, evalRows, [rate, rate, rate], ds);
  const vars = model.params.trainable();
  const opt = new Adam(vars, cfg.train.lr, cfg.train.weightDecay, cfg.train.clipValue);
  const ctx = { training: true, rng: new MT19937(1) };
  const evalCtx = { training: false, rng: new MT19937(0) };
  try {
    const timeIt = async (n: number, f: () => Promise<unknown>) => {
      await f();
      await between();
      let ms = 0;
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await f();
        ms += performance.now() - t0;
        await between();
      }
      return ms / n;
    };
    const trainMs = await timeIt(steps, () => trainStep(model, opt, trainBatch, ds, cfg, true, ctx, vars));
    const inferMs = await timeIt(steps, async () => {
      const pred = tf.tidy(() => model.forward(batchTensors(evalBatch, ds, false).input, evalCtx).pred);
      try {
        await pred.data();
      } finally {
        pred.dispose();
      }
    });
    // The batch may be smaller than asked when the split is; scale to the sizes the estimate assumes.
    return {
      trainMs: trainMs * (cfg.train.batchSize / trainBatch.size),
      inferMs,
      inferBatch: evalRows.length,
    };
  } finally {
    opt.dispose();
  }
}
