/**
 * The typed messages between the page and the training worker. The page never imports tfjs: all
 * model work happens in the worker, which runs the same core as the CLI.
 */
import type { Architecture, Branches, RunConfig } from '../core/config/config.ts';
import type { ExperimentResume, ModelSetting } from '../core/eval/experiment.ts';
import type { Metrics } from '../core/eval/metrics.ts';
import type { TrainCheckpoint } from '../core/train/trainer.ts';
import type { SplitSizes, StepTiming } from '../core/eval/estimate.ts';
import type { EpochRecord, LossTerms, ResultsFile, RunResult } from '../core/eval/results.ts';
import type { FileSummary } from '../core/data/files/fileSummary.ts';
import type { LoadErrorKind } from '../core/data/files/load.ts';
import type {
  HubAttentionView,
  ReconErrorCurve,
  ReconstructionView,
  SampleRobustness,
  SplitRanking,
} from '../core/eval/inspect.ts';

export type { FileSummary, LoadErrorKind };

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** What kind of experiment a job is; it decides which tables the UI fills. */
export type JobKind = 'train' | 'sweep' | 'ablation';

export type ToWorker =
  // (Re)select the backend. 'auto' skips software-emulated GPUs, times the rest against wasm and keeps
  // the fastest (autoBackend.ts); `remembered` (page's localStorage, by fingerprint) skips the timing
  // unless `remeasure`.
  | { type: 'init'; backend: BackendName | 'auto'; remembered?: RememberedChoices; remeasure?: boolean }
  | { type: 'describe'; config: RunConfig } // dataset summary + parameter counts for the panels
  // `resume`: continue a job cut off by a reload: runs before resume.runIndex finished (their
  // results), run resume.runIndex from its last epoch checkpoint (or afresh when null).
  | {
      type: 'start';
      jobId: string;
      kind: JobKind;
      config: RunConfig;
      settings: ModelSetting[];
      resume?: ExperimentResume;
    }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'memory' } // reply with tf.memory()
  // --- additions (worker/state): trained weights out and back in
  // Reply 'weights' with the best-epoch weights of run `index` (default: the last finished run) of
  // the most recent job (`jobId` when given must match it); the worker keeps them until reload.
  | { type: 'export-weights'; requestId?: number; jobId?: string; index?: number }
  // Build `setting` under `config`, load the weights, test it at config.missing.testRates; answered
  // like a one-run job under `jobId`: run-start, run-end (epochs: [], bestEpoch: null), done.
  | {
      type: 'evaluate-weights';
      jobId: string;
      config: RunConfig;
      setting: ModelSetting;
      seed: number;
      names: string[];
      shapes: number[][];
      data: ArrayBuffer;
    }
  // --- feature files: read in the worker (the File is passed by reference, never copied to the page)
  // Answered by 'load-progress' messages, then 'file-loaded' or 'file-error'. A failed or cancelled
  // load leaves the previously loaded dataset in place.
  | {
      type: 'load-file';
      requestId: number;
      file: Blob;
      name: string;
      subset: number | null;
      maxBytes: number;
      standardize: boolean;
    }
  | { type: 'cancel-load'; requestId: number }
  // --- additions (views): look inside the model a finished run trained (src/worker/inspect.ts)
  // Rebuilds run `run` (default: the last finished) of job `jobId` — the most recent job, whose
  // weights the worker keeps — under `config` (that job's), and answers 'inspected' for test sample
  // `sample` at missing rate `rate`: reconstruction, hub attention, the sample's robustness over
  // config.missing.testRates with `seeds` mask seeds, and (`ranking`) every test sample's error at
  // r = 0 and its shift at `rateHigh`.
  | {
      type: 'inspect';
      requestId: number;
      jobId: string;
      run?: number;
      config: RunConfig;
      sample: number;
      rate: number;
      seeds: number;
      rateHigh: number;
      ranking: boolean;
    }
  // --- additions (presets): time one training step and one evaluation batch of `config`'s model
  // (its first setting) on the active backend, for a preset's "≈ N min here" (src/worker/estimate.ts).
  | { type: 'estimate'; requestId: number; config: RunConfig; settings: ModelSetting[] };

export interface DatasetSummary {
  source: string;
  sizes: { train: number; valid: number; test: number };
  dims: [number, number, number];
  lens: [number, number, number];
  labelHistogram: number[]; // counts for classes −3..3 (train split)
}

export interface ParamCount {
  arch?: Architecture; // absent: mfmb (older messages)
  branches: Branches;
  total: number;
  byBlock: Record<string, number>;
}

/** Auto's past decisions, by browser+GPU fingerprint (autoBackend.ts fingerprint()). */
export type RememberedChoices = Record<string, { name: BackendName; reason: string }>;

/** How the wasm backend runs: which binary was loaded and on how many threads. */
export interface WasmInfo {
  binary: 'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';
  threads: number;
  isolated: boolean; // crossOriginIsolated: SharedArrayBuffer, hence threads, available
  cores: number; // navigator.hardwareConcurrency (tfjs's pool: cores / 2)
}

/** Why 'auto' chose what it chose. */
export interface AutoInfo {
  fingerprint: string;
  reason: string;
  remembered: boolean; // taken from `remembered`, nothing timed
  timings?: Partial<Record<BackendName, number>>; // ms for one tiny training step
}

export type FromWorker =
  | {
      type: 'backend';
      name: BackendName;
      tried: { name: BackendName; ok: boolean; reason?: string }[];
      wasm?: WasmInfo; // when name is 'wasm'
      auto?: AutoInfo; // when 'auto' was asked for
    }
  | { type: 'described'; dataset: DatasetSummary; params: ParamCount[] }
  | {
      type: 'run-start';
      jobId: string;
      index: number;
      total: number;
      setting: ModelSetting;
      seed: number;
      trainRate: number | 'random';
      params: number;
    }
  | {
      type: 'step';
      jobId: string;
      index: number;
      epoch: number;
      step: number;
      stepsPerEpoch: number;
      loss: number;
      stepsPerSecond: number;
      terms?: LossTerms; // L_task and α_m·L_gen^m of this step (sum = loss)
    }
  | { type: 'epoch'; jobId: string; index: number; record: EpochRecord }
  | { type: 'run-end'; jobId: string; index: number; result: RunResult }
  | { type: 'done'; jobId: string; results: ResultsFile; aborted: boolean }
  | { type: 'paused'; jobId: string }
  | { type: 'resumed'; jobId: string }
  | { type: 'memory'; numTensors: number; numBytes: number }
  | {
      type: 'error';
      jobId?: string;
      message: string;
      recoverable: boolean;
      results?: ResultsFile;
      backendLost?: BackendName;
      requestId?: number;
    }
  // results: what finished before a job failed; backendLost: that backend died (WebGPU device
  // loss) and will be skipped by later inits — send 'init' again to move to the next one;
  // requestId: the 'export-weights' request this error answers.
  // --- additions (worker/state)
  | { type: 'load-progress'; requestId: number; bytesRead: number; totalBytes: number; stage: string }
  | { type: 'file-loaded'; requestId: number; summary: FileSummary; dataset: DatasetSummary }
  | { type: 'file-error'; requestId: number; message: string; kind: LoadErrorKind; maxSubset: number | null }
  | {
      type: 'weights';
      requestId?: number;
      jobId: string;
      index: number;
      setting: ModelSetting;
      seed: number;
      names: string[];
      shapes: number[][];
      data: ArrayBuffer;
    }
  // --- additions (views): the answer to 'inspect'; `error` instead of `result` when it failed
  | { type: 'inspected'; requestId: number; jobId: string; result: InspectResult | null; error?: string }
  // --- additions (presets): the answer to 'estimate'; `error` (e.g. a job is running) instead of figures
  | {
      type: 'estimated';
      requestId: number;
      backend: BackendName | null;
      timing: StepTiming | null;
      sizes: SplitSizes | null;
      error?: string;
    }
  // --- additions (checkpoints and progress): every finished epoch's resumable checkpoint (its
  // buffers transferred); each finished test rate as it happens; what the job is busy with.
  | {
      type: 'checkpoint';
      jobId: string;
      index: number;
      setting: ModelSetting;
      seed: number;
      checkpoint: TrainCheckpoint;
    }
  | { type: 'test-rate'; jobId: string; index: number; rate: number; metrics: Metrics }
  | { type: 'stage'; jobId: string; stage: JobStage; rate?: number };

/**
 * What a job is doing now: the backend starting, the first step (WebGPU compiles its shaders
 * then; it can take a minute), steps, validation, testing at `rate`, reading a checkpoint back.
 */
export type JobStage = 'starting-backend' | 'compiling' | 'training' | 'validating' | 'testing' | 'checkpoint';

/** Everything the "Look inside" views show for one test sample, as plain typed arrays. */
export interface InspectResult {
  jobId: string;
  run: number;
  setting: ModelSetting;
  n: number; // test samples
  sample: number;
  rate: number;
  reconstruction: ReconstructionView;
  curve: ReconErrorCurve | null; // null without the reconstruction branch
  attention: HubAttentionView | null; // null without the macro stream
  robustness: SampleRobustness;
  ranking: SplitRanking | null; // when asked for
  transcript: string | null; // the file's raw_text for this sample, when it has one
  ms: number; // worker time for this answer
}
