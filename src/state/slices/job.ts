/** Job slice: start / pause / resume / stop, and the live progress of the running job. */
import { table5Settings, validateModelConfig, type RunConfig } from '../../core/config/config.ts';
import type { ModelSetting } from '../../core/eval/experiment.ts';
import { datasetBlock } from '../../core/eval/results.ts';
import type { JobKind } from '../../worker/protocol.ts';
import { configError } from '../../core/config/validateConfig.ts';
import type { AppState, JobStatus, LiveProgress, StoredJob } from '../types.ts';
import type { GetState, Runtime, SetState } from '../runtime.ts';
import { errorNotice } from './notice.ts';
import { fileIdentity } from '../checkpoints.ts';

export type JobSlice = Pick<
  AppState,
  'status' | 'currentJobId' | 'progress' | 'startJob' | 'pause' | 'resume' | 'stop'
>;

export const isActive = (s: JobStatus): boolean => s === 'running' || s === 'paused' || s === 'stopping';

const KIND_LABEL: Record<JobKind, string> = { train: 'Training', sweep: 'Robustness sweep', ablation: 'Ablation' };

export function newJobId(): string {
  const c = globalThis.crypto as Crypto | undefined;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export function defaultJobName(kind: JobKind, cfg: RunConfig, when: Date): string {
  const hh = String(when.getHours()).padStart(2, '0');
  const mm = String(when.getMinutes()).padStart(2, '0');
  return `${KIND_LABEL[kind]} · ${cfg.model.preset} model · ${cfg.data.source} · ${hh}:${mm}`;
}

export function runCount(cfg: RunConfig, settings: ModelSetting[]): number {
  return (
    settings.length * cfg.train.seeds.length * (cfg.missing.protocol === 'per-rate' ? cfg.missing.testRates.length : 1)
  );
}

export function initialProgress(cfg: RunConfig, settings: ModelSetting[]): LiveProgress {
  return {
    runIndex: 0,
    runTotal: runCount(cfg, settings),
    setting: settings[0] ?? null,
    seed: cfg.train.seeds[0] ?? null,
    epoch: 0,
    step: 0,
    stepsPerEpoch: 0,
    maxEpochs: cfg.train.epochs,
    stepsPerSecond: 0,
    etaSeconds: null,
    losses: [],
  };
}

/**
 * Seconds left if every remaining run trains to the max-epochs cap (early stopping makes the real
 * figure smaller); validation time is not counted. null until a rate is known.
 */
export function estimateEta(
  p: Pick<LiveProgress, 'runIndex' | 'runTotal' | 'epoch' | 'step' | 'stepsPerEpoch' | 'maxEpochs' | 'stepsPerSecond'>,
): number | null {
  if (!(p.stepsPerSecond > 0) || p.stepsPerEpoch <= 0) return null;
  const perRun = p.maxEpochs * p.stepsPerEpoch;
  const done = Math.max(0, (p.epoch - 1) * p.stepsPerEpoch + p.step);
  const left = Math.max(0, perRun - done) + Math.max(0, p.runTotal - p.runIndex - 1) * perRun;
  return left / p.stepsPerSecond;
}

/**
 * Seconds left at the least: the current run stops as soon as early stopping allows (`patience`
 * epochs after its best epoch so far, or after the epoch in progress when none is known), and
 * every later run stops at its earliest (best at epoch 1). null until a rate is known.
 */
export function estimateEtaMin(
  p: Pick<
    LiveProgress,
    'runIndex' | 'runTotal' | 'epoch' | 'step' | 'stepsPerEpoch' | 'maxEpochs' | 'stepsPerSecond' | 'bestEpoch'
  >,
  patience: number,
): number | null {
  if (!(p.stepsPerSecond > 0) || p.stepsPerEpoch <= 0) return null;
  const current = Math.max(p.epoch, 1);
  const earliestBest = p.bestEpoch ?? current;
  const stopAt = Math.min(p.maxEpochs, Math.max(current, earliestBest + patience));
  const done = Math.max(0, (p.epoch - 1) * p.stepsPerEpoch + p.step);
  const later = Math.min(p.maxEpochs, 1 + patience) * p.stepsPerEpoch;
  const left = Math.max(0, stopAt * p.stepsPerEpoch - done) + Math.max(0, p.runTotal - p.runIndex - 1) * later;
  return left / p.stepsPerSecond;
}

/**
 * The steps/s shown and used for the ETA: an exponential moving average of the worker's windowed
 * figure, so one slow step (a GC pause, a validation pass) does not swing the ETA. 0 = no history.
 */
export const RATE_EMA_ALPHA = 0.15;
export function smoothRate(previous: number, measured: number): number {
  if (!(measured > 0)) return previous;
  if (!(previous > 0)) return measured;
  return previous + RATE_EMA_ALPHA * (measured - previous);
}

/** Start a job from the current config (used by startJob and, with its own config, by importWeights). */
export function beginJob(
  set: SetState,
  get: GetState,
  rt: Runtime,
  args: { kind: JobKind; config: RunConfig; settings: ModelSetting[]; name?: string },
): StoredJob {
  const id = newJobId();
  const created = new Date(rt.now());
  const job: StoredJob = {
    id,
    name: args.name ?? defaultJobName(args.kind, args.config, created),
    kind: args.kind,
    createdAt: created.toISOString(),
    status: 'running',
    config: structuredClone(args.config),
    settings: structuredClone(args.settings),
    epochs: [],
    runs: [],
    results: null,
    ...(get().backend.active ? { backend: get().backend.active! } : {}),
    // The described dataset, when it is the one the job runs on (files have no preset to look up later).
    ...(get().dataset?.source === args.config.data.source ? { dataset: datasetBlock(get().dataset!) } : {}),
  };
  set((s) => ({
    jobs: [job, ...s.jobs],
    currentJobId: id,
    status: 'running',
    progress: initialProgress(args.config, args.settings),
    selectedJobIds: [id, ...s.selectedJobIds.filter((x) => x !== id)],
  }));
  rt.adopt(id, true);
  rt.saveJob(id, true);
  return job;
}

/** Marks a job failed (keeping what it had) and the store idle-with-error. */
export function failJob(set: SetState, rt: Runtime, id: string, message: string): void {
  set((s) => ({
    jobs: s.jobs.map((j) => (j.id === id ? { ...j, status: 'error', message } : j)),
    ...(s.currentJobId === id && isActive(s.status) ? { status: 'error' as JobStatus } : {}),
  }));
  rt.saveJob(id, true);
}

/**
 * A job on a loaded feature file records the file's identity (name, size, SHA-256), so Resume after
 * a reload can ask for the same file again and refuse another. Hashed in the background.
 */
function rememberFile(set: SetState, get: GetState, rt: Runtime, jobId: string): void {
  const f = get().fileLoad;
  const job = get().jobs.find((j) => j.id === jobId);
  if (!job || !job.config.data.source.startsWith('file:') || !f.activeFile || !f.summary) return;
  if (`file:${f.summary.file}` !== job.config.data.source) return;
  fileIdentity(f.activeFile, f.summary.file).then(
    (file) => {
      set((s) => ({ jobs: s.jobs.map((j) => (j.id === jobId ? { ...j, file } : j)) }));
      rt.saveJob(jobId, true);
    },
    () => undefined, // no crypto.subtle (an insecure origin): Resume then asks for the file by name only
  );
}

export function jobSlice(set: SetState, get: GetState, rt: Runtime): JobSlice {
  return {
    status: 'idle',
    currentJobId: null,
    progress: null,

    startJob(kind, settings) {
      const s = get();
      if (isActive(s.status)) {
        set(errorNotice('A job is already running; stop it before starting another.'));
        return;
      }
      if (!['train', 'sweep', 'ablation'].includes(kind)) {
        set(errorNotice(`Unknown job kind "${kind}" (train, sweep, ablation)`));
        return;
      }
      const problem = configError(s.config);
      if (problem) {
        set(errorNotice(`Cannot start: ${problem}`));
        return;
      }
      const cfg = structuredClone(s.config);
      const chosen: ModelSetting[] = settings?.length
        ? structuredClone(settings)
        : kind === 'ablation'
          ? table5Settings()
          : [{ arch: cfg.model.arch, branches: { ...cfg.model.branches } }];
      for (const st of chosen) {
        try {
          validateModelConfig({ ...cfg.model, arch: st.arch, branches: st.branches });
        } catch (e) {
          set(errorNotice(`Cannot start: ${(e as Error).message}`));
          return;
        }
      }
      const job = beginJob(set, get, rt, { kind, config: cfg, settings: chosen });
      set({ notice: null });
      rememberFile(set, get, rt, job.id);
      if (!rt.post({ type: 'start', jobId: job.id, kind, config: cfg, settings: chosen })) {
        failJob(set, rt, job.id, 'the training worker could not be started');
      }
    },

    pause() {
      if (get().status !== 'running') return;
      rt.post({ type: 'pause' });
    },

    resume() {
      if (get().status !== 'paused') return;
      rt.post({ type: 'resume' });
    },

    stop() {
      const st = get().status;
      if (st !== 'running' && st !== 'paused') return;
      set({ status: 'stopping' });
      rt.post({ type: 'stop' });
    },
  };
}
