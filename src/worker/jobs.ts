/**
 * Training jobs ('start', 'pause', 'resume', 'stop') and 'describe': one job at a time, run by the
 * core's experiment runner; its events become progress messages, its trained weights go to
 * weights.ts, and whatever finished is reported even when the job fails.
 */
import { sameBranches, table5Settings, type RunConfig } from '../core/config/config.ts';
import { modelConfigFor, runExperiment, type ExperimentEvent, type ModelSetting } from '../core/eval/experiment.ts';
import {
  datasetBlockOf,
  makeResultsFile,
  type DatasetInfo,
  type ResultsFile,
  type RunResult,
} from '../core/eval/results.ts';
import { buildModel } from '../core/model/build.ts';
import { errorText } from './backend.ts';
import { abortEstimates, estimateIdle } from './estimate.ts';
import { datasetFor, summarize } from './datasets.ts';
import { ensureBackend } from './device.ts';
import { StepRate, StepThrottle } from './pacing.ts';
import { post, postError, yieldToEventLoop } from './port.ts';
import type { BackendName, ToWorker } from './protocol.ts';
import { TOOL_VERSION } from './version.ts';
import { recordWeights } from './weights.ts';

export interface Job {
  id: string;
  abort: AbortController;
  gate: { promise: Promise<void>; release(): void } | null; // set while paused
  rate: StepRate;
  stopMessage?: string;
}

let job: Job | null = null;

export function runningJob(): Job | null {
  return job;
}

export function stopJob(j: Job, message?: string): void {
  if (message && !j.stopMessage) j.stopMessage = message;
  j.abort.abort();
  j.gate?.release();
  j.gate = null;
}

export async function startJob(msg: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  if (job) {
    postError(`a job (${job.id}) is already running in the worker; stop it first`, { jobId: msg.jobId });
    return;
  }
  const j: Job = { id: msg.jobId, abort: new AbortController(), gate: null, rate: new StepRate() };
  job = j;
  const runs: RunResult[] = [];
  let backend: BackendName = 'cpu';
  let info: DatasetInfo | null = null;
  const config: RunConfig = msg.config;
  try {
    if (!msg.settings.length) throw new Error('nothing to run: the job has no model settings');
    abortEstimates(); // a preset's timing run must not share the device with the job:
    await estimateIdle(); // it stops at its next step
    post({ type: 'stage', jobId: j.id, stage: 'starting-backend' });
    backend = await ensureBackend();
    const ds = datasetFor(config.data);
    info = datasetBlockOf(ds);
    const throttle = new StepThrottle(50);
    // The job's first step builds the graphs (on WebGPU: compiles the shaders, up to a minute).
    let compiled = false;

    const onEvent = (e: ExperimentEvent): void => {
      const index = e.run.index;
      if (e.kind === 'run-start') {
        j.rate.reset();
        throttle.reset();
        if (compiled) post({ type: 'stage', jobId: j.id, stage: 'training' });
        post({
          type: 'run-start',
          jobId: j.id,
          index,
          total: e.run.total,
          setting: e.run.setting,
          seed: e.run.seed,
          trainRate: e.run.trainRate,
          params: e.params,
        });
      } else if (e.kind === 'step') {
        const s = e.step;
        if (!compiled) {
          compiled = true;
          post({ type: 'stage', jobId: j.id, stage: 'training' });
        }
        const sps = j.rate.tick(s.step);
        const last = s.step === s.stepsPerEpoch;
        if (throttle.shouldSend(last)) {
          post({
            type: 'step',
            jobId: j.id,
            index,
            epoch: s.epoch,
            step: s.step,
            stepsPerEpoch: s.stepsPerEpoch,
            loss: s.loss,
            stepsPerSecond: sps,
            terms: s.terms,
          });
        }
      } else if (e.kind === 'epoch') {
        post({ type: 'epoch', jobId: j.id, index, record: e.record });
      } else if (e.kind === 'stage') {
        post({ type: 'stage', jobId: j.id, stage: e.stage, ...(e.rate !== undefined ? { rate: e.rate } : {}) });
      } else if (e.kind === 'test') {
        post({ type: 'test-rate', jobId: j.id, index, rate: e.rate, metrics: e.metrics });
      } else {
        runs.push(e.result);
        post({ type: 'run-end', jobId: j.id, index, result: e.result });
      }
    };

    const beforeStep = async (): Promise<void> => {
      await yieldToEventLoop();
      if (!compiled) post({ type: 'stage', jobId: j.id, stage: 'compiling' });
      let waited = false;
      while (j.gate) {
        waited = true;
        await j.gate.promise;
      }
      if (waited) j.rate.reset();
    };

    let result = await runExperiment({
      config,
      dataset: ds,
      settings: msg.settings,
      signal: j.abort.signal,
      onEvent,
      beforeStep,
      onTrained: recordWeights(j.id),
      resume: msg.resume,
      onCheckpoint: (run, ckpt) => {
        const transfer = [ckpt.params.buffer, ckpt.adam.m.buffer, ckpt.adam.v.buffer, ckpt.rng.mt.buffer];
        if (ckpt.best) transfer.push(ckpt.best.buffer);
        post(
          { type: 'checkpoint', jobId: j.id, index: run.index, setting: run.setting, seed: run.seed, checkpoint: ckpt },
          transfer as ArrayBuffer[],
        );
        // The next step follows at once; the page shows 'training' again from there.
        post({ type: 'stage', jobId: j.id, stage: 'training' });
      },
    });
    // The trainer words every abort as the user's; say so when the worker stopped the job itself.
    if (j.stopMessage) result = result.map((r) => (r.stopReason === 'aborted' ? { ...r, message: j.stopMessage } : r));
    const file = makeResultsFile({ backend, dataset: info, config, runs: result, toolVersion: TOOL_VERSION });
    const aborted = j.abort.signal.aborted;
    post({ type: 'done', jobId: j.id, results: file, aborted });
  } catch (e) {
    let partial: ResultsFile | undefined;
    if (info && runs.length) {
      try {
        partial = makeResultsFile({ backend, dataset: info, config, runs, toolVersion: TOOL_VERSION });
      } catch {
        partial = undefined;
      }
    }
    postError(`training failed: ${errorText(e)}`, { jobId: j.id, recoverable: true, results: partial });
  } finally {
    if (job === j) job = null;
  }
}

export function pauseJob(): void {
  if (!job) return postError('nothing to pause: no job is running');
  if (!job.gate) {
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    job.gate = { promise, release };
  }
  post({ type: 'paused', jobId: job.id });
}

export function resumeJob(): void {
  if (!job) return postError('nothing to resume: no job is running');
  const g = job.gate;
  job.gate = null;
  g?.release();
  post({ type: 'resumed', jobId: job.id });
}

/** The data's summary and the parameter counts of the four Table-5 settings, for the panels. */
export async function describe(config: RunConfig): Promise<void> {
  await ensureBackend();
  const ds = datasetFor(config.data);
  // The four Table-5 settings (the panel's table) plus the config's own setting when it is another
  // combination or a baseline, so the panel always shows a computed count for what will train.
  const settings: ModelSetting[] = table5Settings();
  const own: ModelSetting = { arch: config.model.arch, branches: { ...config.model.branches } };
  if (!settings.some((s) => s.arch === own.arch && sameBranches(s.branches, own.branches))) settings.push(own);
  const params = settings.map((setting) => {
    const model = buildModel(modelConfigFor(config.model, setting, ds), 111);
    try {
      const c = model.params.count();
      return { arch: setting.arch, branches: setting.branches, total: c.total, byBlock: c.byBlock };
    } finally {
      model.params.dispose();
    }
  });
  post({ type: 'described', dataset: summarize(ds), params });
}
