/**
 * The shape of the app's one zustand store (built from slices in src/state/store.ts). The UI reads
 * and calls only what is declared here; the store talks to the worker (src/worker/protocol.ts).
 */
import type { Branches, ModelPresetName, RunConfig } from '../core/config/config.ts';
import type { ModelSetting } from '../core/eval/experiment.ts';
import type { DatasetInfo, EpochRecord, LossTerms, ResultsFile, RunResult } from '../core/eval/results.ts';
import type { Metrics } from '../core/eval/metrics.ts';
import type { CheckpointInfo, FileIdentity } from './checkpoints.ts';
import type {
  AutoInfo,
  BackendName,
  DatasetSummary,
  FileSummary,
  JobKind,
  JobStage,
  LoadErrorKind,
  ParamCount,
  WasmInfo,
} from '../worker/protocol.ts';
import type { PresetId } from './presets.ts';
import type { EstimatesSlice } from './slices/estimates.ts';
import type { InspectSlice } from './slices/inspect.ts';

export type JobStatus = 'idle' | 'running' | 'paused' | 'stopping' | 'done' | 'error';

/** One stored run group (a job): what the runs list shows and IndexedDB keeps. */
export interface StoredJob {
  id: string;
  name: string; // user-editable
  kind: JobKind;
  createdAt: string;
  status: 'running' | 'done' | 'aborted' | 'interrupted' | 'error'; // 'interrupted' = cut off by a reload
  config: RunConfig;
  settings: ModelSetting[];
  epochs: { index: number; record: EpochRecord }[]; // per-run epoch history (index = run index in the job)
  runs: RunResult[];
  results: ResultsFile | null; // set when the job finished (or was stopped with finished runs)
  message?: string;
  backend?: BackendName; // addition: the backend the job ran on (for partial results of interrupted jobs)
  dataset?: DatasetInfo; // the data it ran on, as the worker described it (files have no preset to look up)
  heartbeatAt?: number; // ms since 1970: the owning tab was alive then (only where there are no Web Locks)
  tests?: { index: number; rate: number; metrics: Metrics }[]; // each test rate as it finished (run index)
  file?: FileIdentity; // the feature file it trained on (Resume asks for the same one)
}

export interface LiveProgress {
  runIndex: number;
  runTotal: number;
  setting: ModelSetting | null;
  seed: number | null;
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  maxEpochs: number;
  stepsPerSecond: number; // smoothed (EMA over recent step reports)
  etaSeconds: number | null; // at most this long: every remaining run to the max-epochs cap
  etaMinSeconds?: number | null; // at least this long, if early stopping ends each run as soon as it can
  stage?: JobStage; // what the job is doing now
  stageRate?: number; // the missing rate being tested (stage 'testing')
  bestEpoch?: number | null; // of the current run so far (1-based), for the early-stopping-aware ETA
  // per-step train loss of the current run and its terms (L_task, α_m·L_gen^m), for the loss chart
  losses: { step: number; loss: number; terms?: LossTerms }[];
}

export interface BackendState {
  requested: BackendName | 'auto';
  active: BackendName | null;
  tried: { name: BackendName; ok: boolean; reason?: string }[];
  wasm?: WasmInfo | null; // binary and thread count when active is 'wasm'
  auto?: AutoInfo | null; // why 'auto' chose `active` (requested 'auto' only)
}

/** Loading a feature file: what the Data panel shows while reading, after success, after failure. */
export interface FileLoadState {
  status: 'idle' | 'reading' | 'loaded' | 'failed' | 'cancelled';
  name: string | null; // the file being (or last) read
  requestId: number;
  progress: { bytesRead: number; totalBytes: number; stage: string } | null;
  error: { message: string; kind: LoadErrorKind; maxSubset: number | null } | null;
  summary: FileSummary | null; // the active file (the last one that loaded), kept across failures
  file: Blob | null; // the last file asked for, so a too-big file can be retried as a subset
  activeFile: Blob | null; // the file behind `summary`, re-read when its options change
  standardize: boolean; // the option the next load uses (z-score with train-split statistics)
}

/** The "Look inside" views' slice (src/state/slices/inspect.ts) is declared with it. */
export interface AppState extends InspectSlice, EstimatesSlice {
  // --- config slice: the whole RunConfig being edited (data, model, missing, train, eval)
  config: RunConfig;
  setConfig(patch: (c: RunConfig) => void): void; // immer-free: the slice clones, applies, validates
  setModelPreset(p: ModelPresetName): void;
  setBranches(b: Branches): void;
  /** Replaces the config from a shared URL or a preset button; invalid input → error message, old config kept (false). */
  loadConfig(c: RunConfig): boolean;

  // --- derived info from the worker for the panels
  dataset: DatasetSummary | null;
  paramCounts: ParamCount[]; // the four Table-5 settings for the current config

  // --- backend slice
  backend: BackendState;
  selectBackend(b: BackendName | 'auto'): void;
  /** Forget auto's remembered choice for this browser and time the candidates again. */
  remeasureBackend(): void;

  // --- job slice
  status: JobStatus;
  currentJobId: string | null;
  progress: LiveProgress | null;
  startJob(kind: JobKind, settings?: ModelSetting[]): void; // settings default: the config's branches
  pause(): void;
  resume(): void;
  stop(): void;

  // --- checkpoints (IndexedDB, src/state/checkpoints.ts): the latest epoch checkpoint per job
  checkpoints: Record<string, CheckpointInfo>; // by job id
  checkpointCapBytes: number;
  /** Continue an interrupted job from its stored checkpoint: same job id, seeds and data. */
  resumeInterrupted(jobId: string): Promise<void>;
  deleteCheckpoint(jobId: string): void;
  deleteAllCheckpoints(): void;

  // --- runs slice (persisted in IndexedDB)
  jobs: StoredJob[]; // newest first
  selectedJobIds: string[]; // for comparison in the charts
  renameJob(id: string, name: string): void;
  deleteJob(id: string): void;
  toggleSelected(id: string): void;
  importResults(file: ResultsFile, name?: string): void; // a results JSON made by the CLI or exported earlier

  // --- file slice: MMSA .pkl / .npz read in the worker
  fileLoad: FileLoadState;
  /** Reads `file` in the worker; on success the dataset switches to it and model sizes follow it. */
  loadFile(file: Blob, name: string, subset?: number | null, standardize?: boolean): void;
  cancelFileLoad(): void;
  /** Makes the loaded file the data source (config sizes follow it). */
  selectLoadedFile(): void;
  /** The standardise option: applies to the next load, and re-reads the loaded file. */
  setStandardize(on: boolean): void;

  // --- messages
  notice: { kind: 'info' | 'error'; text: string } | null;
  dismissNotice(): void;

  // --- additions (worker/state): lifecycle, memory, presets, weights
  /**
   * Call once when the app mounts (idempotent; returns the same promise): reads the URL
   * (`#config=1.…` shared config, `backend=webgpu|webgl|wasm|cpu|auto` in hash or query), starts
   * the worker (init + describe), and loads the saved jobs from IndexedDB (a job cut off by a
   * reload becomes 'interrupted'). `url` defaults to location.href.
   */
  init(opts?: { url?: string }): Promise<void>;
  jobsLoaded: boolean; // true once init() has read IndexedDB (or failed to, with a notice)
  memory: { numTensors: number; numBytes: number } | null; // last tf.memory() of the worker
  refreshMemory(): void; // asks the worker; the answer lands in `memory`
  /** Loads a one-click preset's config (src/state/presets.ts); `start` also starts its job. */
  applyPreset(id: PresetId, start?: boolean): void;
  /**
   * The trained (best-epoch) weights of run `runIndex` (default: the last finished run) of a job,
   * as a 'mfmb-weights/1' file (src/state/weightsFile.ts). Only the most recent job trained since
   * the page loaded has weights in the worker; otherwise null and a notice.
   */
  exportWeights(jobId: string, runIndex?: number): Promise<Blob | null>;
  /** Reads a weights file, rebuilds its model under its saved config and tests it on the rate grid: a new one-run job. */
  importWeights(file: ArrayBuffer | Uint8Array, name?: string): void;
  /** Resolves when every pending IndexedDB write has landed (tests; before a deliberate reload). */
  flush(): Promise<void>;
}
