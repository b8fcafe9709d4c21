/**
 * Trained weights out of the worker and back in. The experiment runner hands each finished run's
 * checkpoint to the hook recordWeights() builds (ExperimentSpec.onTrained); it is read back
 * asynchronously (a synchronous read is slow on WebGPU) and kept, for the most recent job only,
 * until 'export-weights' asks for it. 'evaluate-weights' loads weights into a fresh model and tests it.
 */
import * as tf from '../core/tf.ts';
import type { RunConfig } from '../core/config/config.ts';
import { planMissing } from '../core/data/masking.ts';
import { modelConfigFor, type ModelSetting, type RunLabel, type TrainedCheckpoint } from '../core/eval/experiment.ts';
import { datasetBlockOf, makeResultsFile, type RatedMetrics, type RunResult } from '../core/eval/results.ts';
import { buildModel } from '../core/model/build.ts';
import { evaluate, ratesFor } from '../core/train/trainer.ts';
import { errorText } from './backend.ts';
import { datasetFor } from './datasets.ts';
import { ensureBackend } from './device.ts';
import { post, postError, yieldToEventLoop } from './port.ts';
import type { ToWorker } from './protocol.ts';
import { TOOL_VERSION } from './version.ts';

export interface TrainedWeights {
  names: string[]; // PyTorch state-dict names, in model order
  shapes: number[][];
  ready: Promise<Float32Array[]>; // the values, once read back from the device
  setting: ModelSetting;
  seed: number;
}

/** Trained weights of the most recent job's runs, by run index. */
let lastWeights: { jobId: string; runs: Map<number, TrainedWeights> } | null = null;

/** Reads a checkpoint back without blocking and frees its tensors either way. */
export function readCheckpoint(checkpoint: TrainedCheckpoint, setting: ModelSetting, seed: number): TrainedWeights {
  const names = [...checkpoint.keys()];
  const tensors = [...checkpoint.values()];
  const ready = (async () => {
    try {
      const out: Float32Array[] = [];
      for (const t of tensors) out.push((await t.data()) as Float32Array);
      return out;
    } finally {
      tf.dispose(tensors);
    }
  })();
  return { names, shapes: tensors.map((t) => [...t.shape]), ready, setting, seed };
}

/** Forgets the previous job's weights and returns the hook that keeps this job's (ExperimentSpec.onTrained). */
export function recordWeights(jobId: string): (run: RunLabel, checkpoint: TrainedCheckpoint) => void {
  lastWeights?.runs.clear();
  const mine = { jobId, runs: new Map<number, TrainedWeights>() };
  lastWeights = mine;
  return (run, checkpoint) => {
    const w = readCheckpoint(checkpoint, run.setting, run.seed);
    mine.runs.set(run.index, w);
    void w.ready.catch(() => mine.runs.delete(run.index));
  };
}

/** The held weights of run `index` (default: the last finished) of job `jobId` (default: the most recent job). */
export function heldWeights(
  jobId?: string,
  index?: number,
): { jobId: string; index: number; weights: TrainedWeights } | null {
  const held = lastWeights && (jobId === undefined || jobId === lastWeights.jobId) ? lastWeights : null;
  if (!held || held.runs.size === 0) return null;
  const i = index ?? Math.max(...held.runs.keys());
  const weights = held.runs.get(i);
  return weights ? { jobId: held.jobId, index: i, weights } : null;
}

export function exportWeights(msg: Extract<ToWorker, { type: 'export-weights' }>): Promise<void> | void {
  const held = lastWeights && (msg.jobId === undefined || msg.jobId === lastWeights.jobId) ? lastWeights : null;
  if (!held || held.runs.size === 0) {
    return postError(
      'no trained weights to export: the worker keeps the weights of the most recent job only, until the page is reloaded',
      { jobId: msg.jobId, requestId: msg.requestId },
    );
  }
  const index = msg.index ?? Math.max(...held.runs.keys());
  const w = held.runs.get(index);
  if (!w)
    return postError(`no trained weights for run ${index + 1} of this job (it did not finish)`, {
      jobId: msg.jobId,
      requestId: msg.requestId,
    });
  return w.ready.then(
    (values) => {
      const total = values.reduce((s, v) => s + v.length, 0);
      const data = new Float32Array(total);
      let off = 0;
      for (const v of values) {
        data.set(v, off);
        off += v.length;
      }
      post(
        {
          type: 'weights',
          requestId: msg.requestId,
          jobId: held.jobId,
          index,
          setting: w.setting,
          seed: w.seed,
          names: w.names,
          shapes: w.shapes,
          data: data.buffer,
        },
        [data.buffer],
      );
    },
    (e) =>
      postError(`could not read the trained weights: ${errorText(e)}`, { jobId: msg.jobId, requestId: msg.requestId }),
  );
}

/** Builds msg.setting, loads the weights and tests it; answered like a one-run job (run-start, run-end, done). */
export async function evaluateWeights(
  msg: Extract<ToWorker, { type: 'evaluate-weights' }>,
  jobRunning: boolean,
): Promise<void> {
  if (jobRunning)
    return postError('a job is running; stop it before evaluating imported weights', { jobId: msg.jobId });
  const config: RunConfig = msg.config;
  try {
    const backend = await ensureBackend();
    const ds = datasetFor(config.data);
    const info = datasetBlockOf(ds);
    const modelCfg = modelConfigFor(config.model, msg.setting, ds);
    const model = buildModel(modelCfg, msg.seed);
    try {
      const have = [...model.params.entries.keys()];
      const missing = have.filter((n) => !msg.names.includes(n));
      const extra = msg.names.filter((n) => !have.includes(n));
      if (missing.length || extra.length) {
        throw new Error(
          'the weights do not fit this model' +
            (missing.length
              ? `; missing ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ` and ${missing.length - 4} more` : ''}`
              : '') +
            (extra.length
              ? `; unknown ${extra.slice(0, 4).join(', ')}${extra.length > 4 ? ` and ${extra.length - 4} more` : ''}`
              : '') +
            ' (use the config saved with the weights)',
        );
      }
      const flat = new Float32Array(msg.data);
      let off = 0;
      msg.names.forEach((name, i) => {
        const n = msg.shapes[i].reduce((a, b) => a * b, 1);
        if (off + n > flat.length) throw new Error(`the weights file is truncated at ${name}`);
        model.params.load(name, msg.shapes[i], flat.subarray(off, off + n), false);
        off += n;
      });
      if (off !== flat.length)
        throw new Error(`the weights file holds ${flat.length - off} values more than its names and shapes describe`);
      const params = model.params.count().total;
      const setting: ModelSetting = { arch: msg.setting.arch, branches: { ...msg.setting.branches } };
      const trainRate = config.missing.protocol === 'per-rate' ? null : config.missing.trainRate;
      post({
        type: 'run-start',
        jobId: msg.jobId,
        index: 0,
        total: 1,
        setting,
        seed: msg.seed,
        trainRate: config.missing.trainRate,
        params,
      });
      const plan = planMissing(ds.test, ds, config.missing);
      const test: RatedMetrics[] = [];
      for (const rate of config.missing.testRates) {
        await yieldToEventLoop();
        test.push({
          rate,
          metrics: (await evaluate(model, ds, ds.test, plan, ratesFor(rate, config), config)).metrics,
        });
      }
      const result: RunResult = {
        arch: setting.arch,
        branches: setting.branches,
        seed: msg.seed,
        trainRate,
        params,
        epochs: [],
        bestEpoch: null,
        stopReason: 'max-epochs',
        test,
        message: 'evaluated from imported weights (no training in this app)',
      };
      post({ type: 'run-end', jobId: msg.jobId, index: 0, result });
      const file = makeResultsFile({ backend, dataset: info, config, runs: [result], toolVersion: TOOL_VERSION });
      post({ type: 'done', jobId: msg.jobId, results: file, aborted: false });
    } finally {
      model.params.dispose();
    }
  } catch (e) {
    postError(`could not evaluate the imported weights: ${errorText(e)}`, { jobId: msg.jobId, recoverable: true });
  }
}
