/**
 * The training worker: a dedicated module worker that owns tfjs and runs the same core as the CLI.
 * The page starts it with
 *   new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module' })
 * and talks to it only through the messages of ./protocol.ts. Every failure is answered with an
 * 'error' message; the worker stays usable afterwards.
 */
import * as tf from '../core/tf.ts';
import pkg from '../../package.json';
import { TABLE5_SETTINGS, type RunConfig } from '../core/config/config.ts';
import { modelConfigFor, runExperiment, type ExperimentEvent, type ModelSetting } from '../core/eval/experiment.ts';
import { datasetBlockOf, makeResultsFile, type DatasetInfo, type RatedMetrics, type ResultsFile, type RunResult } from '../core/eval/results.ts';
import { buildModel } from '../core/model/build.ts';
import { planMissing } from '../core/data/masking.ts';
import { evaluate, ratesFor } from '../core/train/trainer.ts';
import { selectBackend, errorText } from './backend.ts';
import { datasetFor, setLoadedFile, summarize } from './datasets.ts';
import { FileLoadError, loadFeatureFile, toLoadError } from '../core/data/files/load.ts';
import { blobSource } from '../core/data/files/source.ts';
import { StepRate, StepThrottle } from './pacing.ts';
import { captureStart, captureEnd, type CapturedWeights } from './weights.ts';
import type { BackendName, FromWorker, ToWorker } from './protocol.ts';

const TOOL_VERSION: string = (pkg as { version: string }).version;

type Scope = { postMessage(msg: unknown, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<ToWorker>) => void) | null };
const scope = self as unknown as Scope;

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(msg, transfer);
}

function postError(
  message: string,
  extra: { jobId?: string; requestId?: number; recoverable?: boolean; results?: ResultsFile; backendLost?: BackendName } = {},
): void {
  post({ ...extra, type: 'error', message, recoverable: extra.recoverable ?? true });
}

// ----------------------------------------------------------------------------- backend

let backendName: BackendName | null = null;
let requestedBackend: BackendName | 'auto' = 'auto';
/** Inits run one after another (tf.setBackend calls must not interleave). */
let backendChain: Promise<unknown> = Promise.resolve();
let pendingInits = 0;

function initBackend(requested: BackendName | 'auto'): Promise<BackendName> {
  requestedBackend = requested;
  pendingInits++;
  const run = backendChain
    .catch(() => undefined)
    .then(async () => {
      try {
        const choice = await selectBackend(requested, onDeviceLost);
        backendName = choice.name;
        post({ type: 'backend', name: choice.name, tried: choice.tried });
        return choice.name;
      } catch (e) {
        backendName = null;
        throw e;
      }
    })
    .finally(() => {
      pendingInits--;
    });
  backendChain = run;
  return run;
}

/** The backend to compute on: waits for pending inits, or selects one if none is active. */
async function ensureBackend(): Promise<BackendName> {
  if (pendingInits > 0) await backendChain.catch(() => undefined);
  if (backendName) return backendName;
  return initBackend(requestedBackend);
}

function onDeviceLost(message: string): void {
  backendName = null;
  postError(message, { jobId: job?.id, recoverable: true, backendLost: 'webgpu' });
  // The running job cannot continue on a dead device: stop it; it reports what finished.
  if (job) stopJob(job, `stopped: ${message}`);
}

// ----------------------------------------------------------------------------- jobs

interface Job {
  id: string;
  abort: AbortController;
  gate: { promise: Promise<void>; release(): void } | null;
  rate: StepRate;
  stopMessage?: string;
}

let job: Job | null = null;

/** Trained weights of the most recent job's runs, by run index (kept for 'export-weights'). */
let lastWeights: { jobId: string; runs: Map<number, CapturedWeights> } | null = null;

function stopJob(j: Job, message?: string): void {
  if (message && !j.stopMessage) j.stopMessage = message;
  j.abort.abort();
  j.gate?.release();
  j.gate = null;
}

/**
 * Lets queued messages (pause, stop) run between steps. A message-channel task, not setTimeout(0):
 * nested timers are clamped to ~4 ms, a cost on every training step.
 */
function yieldToEventLoop(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  return new Promise((r) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      r();
    };
    port2.postMessage(null);
  });
}

async function startJob(msg: Extract<ToWorker, { type: 'start' }>): Promise<void> {
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
    backend = await ensureBackend();
    const ds = datasetFor(config.data);
    info = datasetBlockOf(ds);
    const throttle = new StepThrottle(50);
    lastWeights?.runs.clear();
    lastWeights = { jobId: j.id, runs: new Map() };
    const weights = lastWeights;
    let captured: string[] = [];

    const onEvent = (e: ExperimentEvent): void => {
      const index = e.run.index;
      if (e.kind === 'run-start') {
        j.rate.reset();
        throttle.reset();
        captured = captureStart();
        post({ type: 'run-start', jobId: j.id, index, total: e.run.total, setting: e.run.setting, seed: e.run.seed, trainRate: e.run.trainRate, params: e.params });
      } else if (e.kind === 'step') {
        const s = e.step;
        const sps = j.rate.tick(s.step);
        const last = s.step === s.stepsPerEpoch;
        if (throttle.shouldSend(last)) {
          post({ type: 'step', jobId: j.id, index, epoch: s.epoch, step: s.step, stepsPerEpoch: s.stepsPerEpoch, loss: s.loss, stepsPerSecond: sps });
        }
      } else if (e.kind === 'epoch') {
        post({ type: 'epoch', jobId: j.id, index, record: e.record });
      } else {
        runs.push(e.result);
        const w = captureEnd(captured, e.result.params);
        if (w) {
          weights.runs.set(index, { ...w, setting: e.run.setting, seed: e.run.seed });
          void w.ready.catch(() => weights.runs.delete(index));
        }
        post({ type: 'run-end', jobId: j.id, index, result: e.result });
      }
    };

    const beforeStep = async (): Promise<void> => {
      await yieldToEventLoop();
      let waited = false;
      while (j.gate) {
        waited = true;
        await j.gate.promise;
      }
      if (waited) j.rate.reset();
    };

    let result = await runExperiment({ config, dataset: ds, settings: msg.settings, signal: j.abort.signal, onEvent, beforeStep });
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

function pauseJob(): void {
  if (!job) return postError('nothing to pause: no job is running');
  if (!job.gate) {
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    job.gate = { promise, release };
  }
  post({ type: 'paused', jobId: job.id });
}

function resumeJob(): void {
  if (!job) return postError('nothing to resume: no job is running');
  const g = job.gate;
  job.gate = null;
  g?.release();
  post({ type: 'resumed', jobId: job.id });
}

// ----------------------------------------------------------------------------- describe

async function describe(config: RunConfig): Promise<void> {
  await ensureBackend();
  const ds = datasetFor(config.data);
  const params = TABLE5_SETTINGS.map(({ branches }) => {
    const model = buildModel(modelConfigFor(config.model, { arch: 'mfmb', branches }, ds), 111);
    try {
      const c = model.params.count();
      return { branches: { ...branches }, total: c.total, byBlock: c.byBlock };
    } finally {
      model.params.dispose();
    }
  });
  post({ type: 'described', dataset: summarize(ds), params });
}

// ----------------------------------------------------------------------------- weights

function exportWeights(msg: Extract<ToWorker, { type: 'export-weights' }>): Promise<void> | void {
  const runs = lastWeights && (msg.jobId === undefined || msg.jobId === lastWeights.jobId) ? lastWeights.runs : null;
  if (!runs || runs.size === 0) {
    return postError(
      'no trained weights to export: the worker keeps the weights of the most recent job only, until the page is reloaded',
      { jobId: msg.jobId, requestId: msg.requestId },
    );
  }
  const index = msg.index ?? Math.max(...runs.keys());
  const w = runs.get(index);
  if (!w) return postError(`no trained weights for run ${index + 1} of this job (it did not finish)`, { jobId: msg.jobId, requestId: msg.requestId });
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
        { type: 'weights', requestId: msg.requestId, jobId: lastWeights!.jobId, index, setting: w.setting!, seed: w.seed!, names: w.names, shapes: w.shapes, data: data.buffer },
        [data.buffer],
      );
    },
    (e) => postError(`could not read the trained weights: ${errorText(e)}`, { jobId: msg.jobId, requestId: msg.requestId }),
  );
}

async function evaluateWeights(msg: Extract<ToWorker, { type: 'evaluate-weights' }>): Promise<void> {
  if (job) return postError('a job is running; stop it before evaluating imported weights', { jobId: msg.jobId });
  const config = msg.config;
  let backend: BackendName = 'cpu';
  try {
    backend = await ensureBackend();
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
            (missing.length ? `; missing ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ` and ${missing.length - 4} more` : ''}` : '') +
            (extra.length ? `; unknown ${extra.slice(0, 4).join(', ')}${extra.length > 4 ? ` and ${extra.length - 4} more` : ''}` : '') +
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
      if (off !== flat.length) throw new Error(`the weights file holds ${flat.length - off} values more than its names and shapes describe`);
      const params = model.params.count().total;
      const setting: ModelSetting = { arch: msg.setting.arch, branches: { ...msg.setting.branches } };
      const trainRate = config.missing.protocol === 'per-rate' ? null : config.missing.trainRate;
      post({ type: 'run-start', jobId: msg.jobId, index: 0, total: 1, setting, seed: msg.seed, trainRate: config.missing.trainRate, params });
      const plan = planMissing(ds.test, ds, config.missing);
      const test: RatedMetrics[] = [];
      for (const rate of config.missing.testRates) {
        await yieldToEventLoop();
        test.push({ rate, metrics: (await evaluate(model, ds, ds.test, plan, ratesFor(rate, config), config)).metrics });
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

// ----------------------------------------------------------------------------- feature files

/** The load in progress (one at a time); its AbortController is what 'cancel-load' pulls. */
let fileLoad: { requestId: number; abort: AbortController } | null = null;

async function loadFile(msg: Extract<ToWorker, { type: 'load-file' }>): Promise<void> {
  const fail = (e: FileLoadError) => post({ type: 'file-error', requestId: msg.requestId, message: e.message, kind: e.kind, maxSubset: e.maxSubset });
  if (job) return fail(new FileLoadError(`${msg.name}: a job is running; stop it before loading a file`, 'invalid', msg.name));
  if (fileLoad) fileLoad.abort.abort(); // a newer request replaces an unfinished one
  const mine = { requestId: msg.requestId, abort: new AbortController() };
  fileLoad = mine;
  let last = 0;
  try {
    const { dataset, summary } = await loadFeatureFile(blobSource(msg.file, msg.name), {
      subset: msg.subset,
      maxBytes: msg.maxBytes,
      standardize: msg.standardize,
      signal: mine.abort.signal,
      onProgress: (p) => {
        const now = performance.now();
        if (now - last < 100 && p.stage !== 'done') return; // ~10 messages a second keep the bar smooth
        last = now;
        post({ type: 'load-progress', requestId: msg.requestId, ...p });
      },
    });
    // Only a complete, validated dataset replaces the previous one.
    setLoadedFile({ dataset, summary });
    post({ type: 'file-loaded', requestId: msg.requestId, summary, dataset: summarize(dataset) });
  } catch (e) {
    fail(toLoadError(msg.name, e));
  } finally {
    if (fileLoad === mine) fileLoad = null;
  }
}

// ----------------------------------------------------------------------------- dispatch

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'init':
      if (job) return postError('a job is running: stop it before switching the backend');
      try {
        await initBackend(msg.backend);
      } catch (e) {
        postError(errorText(e), { recoverable: true });
      }
      return;
    case 'describe':
      try {
        await describe(msg.config);
      } catch (e) {
        postError(`could not describe the data and model: ${errorText(e)}`);
      }
      return;
    case 'start':
      return startJob(msg);
    case 'pause':
      return pauseJob();
    case 'resume':
      return resumeJob();
    case 'stop':
      if (job) stopJob(job);
      return;
    case 'memory': {
      await ensureBackend(); // tf.memory() on no backend would try to pick one itself
      const m = tf.memory();
      post({ type: 'memory', numTensors: m.numTensors, numBytes: m.numBytes });
      return;
    }
    case 'export-weights':
      return exportWeights(msg);
    case 'evaluate-weights':
      return evaluateWeights(msg);
    case 'load-file':
      return loadFile(msg);
    case 'cancel-load':
      if (fileLoad?.requestId === msg.requestId) fileLoad.abort.abort();
      return;
    default:
      postError(`unknown message type ${JSON.stringify((msg as { type?: unknown }).type)}`);
  }
}

scope.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  if (typeof msg !== 'object' || msg === null || typeof (msg as { type?: unknown }).type !== 'string') {
    postError('the worker received a malformed message');
    return;
  }
  handle(msg).catch((err: unknown) => postError(`worker error while handling "${msg.type}": ${errorText(err)}`, { recoverable: true }));
};

// Errors that escape every handler (e.g. a rejected promise inside tfjs): report, stay alive.
(self as unknown as { addEventListener?: typeof addEventListener }).addEventListener?.('unhandledrejection', (e: PromiseRejectionEvent) => {
  e.preventDefault();
  postError(`worker error: ${errorText(e.reason)}`, { recoverable: true });
});
