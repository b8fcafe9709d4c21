/**
 * Worker → store: each FromWorker message updates the slices. Messages about a job other than the
 * current one are ignored (a late message after a stop, say). An 'error' never wipes state: it sets
 * a notice and, when it ends the current job, marks that job failed with what it had.
 */
import type { FromWorker } from '../worker/protocol.ts';
import { estimateEta, estimateEtaMin, failJob, isActive, smoothRate } from './slices/job.ts';
import { errorNotice, infoNotice } from './slices/notice.ts';
import { initMessage, rememberChoice } from './slices/backend.ts';
import type { GetState, Runtime, SetState } from './runtime.ts';
import type { LiveProgress, StoredJob } from './types.ts';

/** Points kept for the live loss chart; beyond this the series is thinned to every other point. */
export const MAX_LOSS_POINTS = 2000;

const BACKEND_LABEL: Record<string, string> = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'wasm', cpu: 'cpu' };

export function handleWorkerMessage(msg: FromWorker, set: SetState, get: GetState, rt: Runtime): void {
  if (typeof msg !== 'object' || msg === null || typeof (msg as { type?: unknown }).type !== 'string') return;
  const isCurrent = (jobId: string) => get().currentJobId === jobId;
  const updateJob = (id: string, fn: (j: StoredJob) => StoredJob) =>
    set((s) => ({ jobs: s.jobs.map((j) => (j.id === id ? fn(j) : j)) }));
  const updateProgress = (fn: (p: LiveProgress) => LiveProgress) =>
    set((s) => (s.progress ? { progress: fn(s.progress) } : {}));
  const patienceOf = (jobId: string) => get().jobs.find((j) => j.id === jobId)?.config.train.patience;

  switch (msg.type) {
    case 'backend': {
      const requested = get().backend.requested;
      set((s) => {
        // wasm and auto describe the previous backend: dropped unless this message brings new ones.
        const { wasm: _wasm, auto: _auto, ...rest } = s.backend;
        void _wasm;
        void _auto;
        return {
          backend: {
            ...rest,
            active: msg.name,
            tried: msg.tried,
            ...(msg.wasm ? { wasm: msg.wasm } : {}),
            ...(msg.auto ? { auto: msg.auto } : {}),
          },
        };
      });
      if (msg.auto && !msg.auto.remembered) rememberChoice(msg.auto.fingerprint, msg.name, msg.auto.reason);
      if (requested !== 'auto' && requested !== msg.name) {
        const why = msg.tried.find((t) => t.name === requested)?.reason ?? 'it failed';
        set(
          infoNotice(
            `${BACKEND_LABEL[requested]} could not be used (${why}); running on ${BACKEND_LABEL[msg.name]} instead.`,
          ),
        );
      }
      return;
    }
    case 'described':
      set({ dataset: msg.dataset, paramCounts: msg.params });
      return;
    case 'load-progress':
      if (get().fileLoad.requestId !== msg.requestId || get().fileLoad.status !== 'reading') return;
      set((s) => ({
        fileLoad: {
          ...s.fileLoad,
          progress: { bytesRead: msg.bytesRead, totalBytes: msg.totalBytes, stage: msg.stage },
        },
      }));
      return;
    case 'file-loaded':
      if (get().fileLoad.requestId !== msg.requestId) return;
      set((s) => ({
        fileLoad: {
          ...s.fileLoad,
          status: 'loaded',
          progress: null,
          error: null,
          summary: msg.summary,
          activeFile: s.fileLoad.file,
        },
        dataset: msg.dataset,
      }));
      get().selectLoadedFile();
      return;
    case 'file-error': {
      if (get().fileLoad.requestId !== msg.requestId) return;
      const cancelled = msg.kind === 'cancelled';
      set((s) => ({
        fileLoad: {
          ...s.fileLoad,
          status: cancelled ? 'cancelled' : 'failed',
          progress: null,
          error: { message: msg.message, kind: msg.kind, maxSubset: msg.maxSubset },
        },
      }));
      return;
    }
    case 'run-start': {
      if (!isCurrent(msg.jobId)) return;
      const job = get().jobs.find((j) => j.id === msg.jobId);
      const maxEpochs = job?.config.train.epochs ?? get().progress?.maxEpochs ?? 0;
      // A resumed run starts from its checkpoint's epochs (already in the job's history).
      const done = job ? job.epochs.filter((e) => e.index === msg.index).map((e) => e.record) : [];
      const best = bestEpochOf(done);
      updateProgress((p) => {
        const next: LiveProgress = {
          ...p,
          runIndex: msg.index,
          runTotal: msg.total,
          setting: msg.setting,
          seed: msg.seed,
          epoch: done.length,
          step: 0,
          maxEpochs,
          bestEpoch: best,
          losses: [],
        };
        return withEta(next, job?.config.train.patience);
      });
      return;
    }
    case 'stage': {
      if (!isCurrent(msg.jobId)) return;
      updateProgress((p) => {
        const next: LiveProgress = { ...p, stage: msg.stage };
        if (msg.rate !== undefined) next.stageRate = msg.rate;
        else delete next.stageRate;
        return next;
      });
      return;
    }
    case 'test-rate': {
      if (!get().jobs.some((j) => j.id === msg.jobId)) return;
      updateJob(msg.jobId, (j) => ({
        ...j,
        tests: [...(j.tests ?? []), { index: msg.index, rate: msg.rate, metrics: msg.metrics }],
      }));
      rt.saveJob(msg.jobId, true);
      return;
    }
    case 'step': {
      if (!isCurrent(msg.jobId)) return;
      updateProgress((p) => {
        const x = (msg.epoch - 1) * msg.stepsPerEpoch + msg.step;
        let losses = [
          ...p.losses,
          msg.terms ? { step: x, loss: msg.loss, terms: msg.terms } : { step: x, loss: msg.loss },
        ];
        if (losses.length > MAX_LOSS_POINTS) losses = losses.filter((_, i) => i % 2 === 0 || i === losses.length - 1);
        const next: LiveProgress = {
          ...p,
          runIndex: msg.index,
          epoch: msg.epoch,
          step: msg.step,
          stepsPerEpoch: msg.stepsPerEpoch,
          stepsPerSecond: smoothRate(p.runIndex === msg.index ? p.stepsPerSecond : 0, msg.stepsPerSecond),
          losses,
        };
        return withEta(next, patienceOf(msg.jobId));
      });
      return;
    }
    case 'epoch': {
      if (!get().jobs.some((j) => j.id === msg.jobId)) return;
      updateJob(msg.jobId, (j) => ({ ...j, epochs: [...j.epochs, { index: msg.index, record: msg.record }] }));
      if (isCurrent(msg.jobId)) {
        const job = get().jobs.find((j) => j.id === msg.jobId)!;
        const best = bestEpochOf(job.epochs.filter((e) => e.index === msg.index).map((e) => e.record));
        updateProgress((p) => withEta({ ...p, bestEpoch: best }, job.config.train.patience));
      }
      rt.saveJob(msg.jobId);
      return;
    }
    case 'run-end': {
      if (!get().jobs.some((j) => j.id === msg.jobId)) return;
      updateJob(msg.jobId, (j) => ({ ...j, runs: [...j.runs, msg.result] }));
      // At once: a reload right after must not lose a finished run (Resume starts after it).
      rt.saveJob(msg.jobId, true);
      return;
    }
    case 'done': {
      if (!get().jobs.some((j) => j.id === msg.jobId)) return;
      const job = get().jobs.find((j) => j.id === msg.jobId)!;
      const total = get().progress?.runTotal ?? msg.results.runs.length;
      const finished = msg.results.runs.filter((r) => r.stopReason !== 'aborted').length;
      const cut = msg.results.runs.some((r) => r.stopReason === 'aborted');
      const summary = `${finished} of ${total} run${total === 1 ? '' : 's'} finished${cut ? '; the run that was cut off is kept with its best epoch so far' : ''}`;
      updateJob(msg.jobId, (j) => ({
        ...j,
        status: msg.aborted ? 'aborted' : 'done',
        runs: msg.results.runs,
        results: msg.results,
        message: msg.aborted ? (job.message ?? `stopped: ${summary}`) : j.message,
      }));
      if (isCurrent(msg.jobId)) {
        set({ status: 'done' });
        updateProgress((p) => {
          const next: LiveProgress = { ...p, etaSeconds: msg.aborted ? null : 0, etaMinSeconds: null };
          delete next.stage;
          delete next.stageRate;
          return next;
        });
        if (msg.aborted) set(infoNotice(`Stopped: ${summary}.`));
      }
      rt.saveJob(msg.jobId, true);
      afterJob(rt, get);
      return;
    }
    case 'paused':
      if (isCurrent(msg.jobId) && get().status === 'running') set({ status: 'paused' });
      return;
    case 'resumed':
      if (isCurrent(msg.jobId) && get().status === 'paused') set({ status: 'running' });
      return;
    case 'memory':
      set({ memory: { numTensors: msg.numTensors, numBytes: msg.numBytes } });
      return;
    case 'weights':
      rt.answerWeights(msg.requestId, msg);
      return;
    case 'error': {
      set(errorNotice(msg.message));
      if (msg.requestId !== undefined) rt.answerWeights(msg.requestId, null);
      if (msg.backendLost) {
        set((s) => ({ backend: { ...s.backend, active: null } }));
        // The job on the dead backend is being stopped and will report 'done'; re-init after it.
        if (isActive(get().status)) rt.reinitAfterJob = true;
        else rt.post(initMessage(get().backend.requested));
      } else if (msg.jobId && isCurrent(msg.jobId) && isActive(get().status)) {
        // The job ended with this error: keep what it had, plus the worker's partial results.
        if (msg.results) {
          const partial = msg.results;
          updateJob(msg.jobId, (j) => ({ ...j, runs: partial.runs, results: partial }));
        }
        failJob(set, rt, msg.jobId, msg.message);
        afterJob(rt, get);
      }
      if (!msg.recoverable) {
        rt.dropWorker();
        const s = get();
        if (s.currentJobId && isActive(s.status)) failJob(set, rt, s.currentJobId, msg.message);
      }
      return;
    }
    default:
      return;
  }
}

/** The epoch (1-based) with the lowest valid MAE so far, as early stopping counts it; null before one. */
function bestEpochOf(records: { epoch: number; valid: { mae: number | null } }[]): number | null {
  let best: number | null = null;
  let mae = Infinity;
  for (const r of records) {
    const m = r.valid.mae ?? Infinity;
    if (m < mae) {
      mae = m;
      best = r.epoch;
    }
  }
  return best;
}

function withEta(p: LiveProgress, patience: number | undefined): LiveProgress {
  return {
    ...p,
    etaSeconds: estimateEta(p),
    etaMinSeconds: patience === undefined ? null : estimateEtaMin(p, patience),
  };
}

function afterJob(rt: Runtime, get: GetState): void {
  if (rt.reinitAfterJob) {
    rt.reinitAfterJob = false;
    rt.post(initMessage(get().backend.requested));
  }
}

/** The worker itself failed (script error, crash): it is dropped and restarted on next use. */
export function handleWorkerCrash(message: string, set: SetState, get: GetState, rt: Runtime): void {
  const text = `The training worker stopped unexpectedly: ${message}. It will be restarted on the next action.`;
  set({ ...errorNotice(text), backend: { ...get().backend, active: null } });
  const s = get();
  if (s.currentJobId && isActive(s.status)) failJob(set, rt, s.currentJobId, text);
}
