/**
 * What the browser benchmark page (bench/browser/index.html + main.ts + worker.ts), its Node driver
 * (bench/browser.ts) and the e2e test (e2e/tests/14-dispatches.spec.ts) share: the parameters (the
 * page's query string) and the result the page leaves in `window.__benchResult`.
 */

export type BenchBackend = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export type BenchModel = 'tiny' | 'small' | 'base';
export type BenchShape = 'aligned' | 'unaligned';

export const BENCH_BACKENDS: readonly BenchBackend[] = ['webgpu', 'webgl', 'wasm', 'cpu'];
export const BENCH_MODELS: readonly BenchModel[] = ['tiny', 'small', 'base'];
export const BENCH_SHAPES: readonly BenchShape[] = ['aligned', 'unaligned'];

export interface BenchParams {
  backend: BenchBackend;
  model: BenchModel;
  shape: BenchShape;
  /** Batch size (default 24, as `npm run bench`). */
  batch: number;
  /** Untimed training steps first (the first one compiles every GPU program). */
  warmup: number;
  /** Timed training steps. */
  steps: number;
  /** Timed inference batches (0: none). */
  infer: number;
  /** Branches switched on: 'all' (default), 'none', or a comma list of macro, micro, recon. */
  branches?: string;
  /** Time one more training step per kernel with tf.profile (kernelMsByName). */
  profile?: boolean;
  /** Fused WebGPU kernels to switch off for an A/B (comma list of webgpuFused's keys; webgpu only). */
  off?: string;
}

export const DEFAULT_PARAMS: BenchParams = {
  backend: 'webgpu',
  model: 'tiny',
  shape: 'aligned',
  batch: 24,
  warmup: 1,
  steps: 5,
  infer: 5,
};

export interface BenchResult {
  backend: BenchBackend;
  model: BenchModel;
  shape: BenchShape;
  batch: number;
  warmup: number;
  steps: number;
  params: number;
  /** 1000 / trainMs. */
  stepsPerSec: number;
  /** Median ms per training step (forward + backward + Adam, loss read back). */
  trainMs: number;
  /** Every timed training step, ms. */
  trainMsAll: number[];
  /** Median ms per inference batch (forward, prediction read back); null when none was run. */
  inferMs: number | null;
  /** The first (warm-up) step, ms: on a GPU backend it includes compiling every program. */
  firstStepMs: number | null;
  /** Backend initialisation, ms. */
  initMs: number;
  /**
   * Device work per training step, counted where the backend hands it to the device (median over
   * the timed steps): WebGPU compute dispatches, WebGL draw calls; null on wasm/cpu, which have no
   * GPU (see kernelsPerTrainStep).
   */
  dispatchesPerTrainStep: number | null;
  /** Each timed step's count (they should all be equal). */
  dispatchesPerTrainStepAll: number[];
  /**
   * WebGPU buffer-to-buffer copies per training step (median): no shader, but a command each (fused
   * kernels split a packed output with them; Adam gathers and scatters its flat buffer); null off webgpu.
   */
  copiesPerTrainStep: number | null;
  dispatchesPerInferStep: number | null;
  /** 'GPU dispatches' (webgpu), 'GPU draw calls' (webgl), 'kernels' (wasm, cpu). */
  dispatchUnit: string;
  /** tfjs kernel executions per training step (every backend). */
  kernelsPerTrainStep: number;
  kernelsPerInferStep: number | null;
  /**
   * Device work of the last timed training step by tfjs kernel name (each dispatch charged to the
   * innermost engine.runKernel running when it was issued; '(outside kernels)' for the rest, e.g.
   * custom-gradient forwards and variable writes), largest first.
   */
  dispatchesByKernel: [string, number][];
  /** `profile`: device ms of one more training step under tf.profile, by kernel name (null: not asked). */
  kernelMsByName: [string, number][] | null;
  /** Peak device memory: GPU bytes allocated by tfjs (pooled buffers/textures included), or the wasm heap size. */
  peakBytes: number;
  /** Where peakBytes comes from. */
  peakBytesSource: string;
  /** The most bytes held by live tfjs tensors at the end of any kernel during the timed steps. */
  peakTensorBytes: number;
  /** The adapter's name: WebGPU adapter info, WebGL's unmasked renderer, or the wasm build. */
  adapter: string;
  adapterInfo: Record<string, unknown>;
  /** Which counting hooks were installed. */
  hooks: string[];
  losses: number[];
  /** tf.memory().numTensors after each training step (warm-ups included): flat when nothing leaks. */
  tensorsAfterStep: number[];
  userAgent: string;
  tfjs: string;
}

const clampInt = (v: string | null, d: number, min: number): number => {
  const n = v === null ? NaN : Number(v);
  return Number.isInteger(n) && n >= min ? n : d;
};

export function paramsFromQuery(q: URLSearchParams): BenchParams {
  const pick = <T extends string>(name: string, list: readonly T[], d: T): T => {
    const v = q.get(name);
    if (v === null) return d;
    if (!(list as readonly string[]).includes(v)) throw new Error(`${name}=${v}: expected ${list.join(' | ')}`);
    return v as T;
  };
  return {
    backend: pick('backend', BENCH_BACKENDS, DEFAULT_PARAMS.backend),
    model: pick('model', BENCH_MODELS, DEFAULT_PARAMS.model),
    shape: pick('shape', BENCH_SHAPES, DEFAULT_PARAMS.shape),
    batch: clampInt(q.get('batch'), DEFAULT_PARAMS.batch, 1),
    warmup: clampInt(q.get('warmup'), DEFAULT_PARAMS.warmup, 0),
    steps: clampInt(q.get('steps'), DEFAULT_PARAMS.steps, 1),
    infer: clampInt(q.get('infer'), DEFAULT_PARAMS.infer, 0),
    ...(q.get('branches') ? { branches: parseBenchBranches(q.get('branches')!) } : {}),
    ...(q.get('off') ? { off: q.get('off')! } : {}),
    ...(q.get('profile') === 'true' ? { profile: true } : {}),
  };
}

const BRANCH_NAMES = ['macro', 'micro', 'recon'] as const;

/** 'all' | 'none' | a comma list of macro, micro, recon → the same string, checked. */
export function parseBenchBranches(v: string): string {
  if (v === 'all' || v === 'none') return v;
  for (const b of v.split(','))
    if (!(BRANCH_NAMES as readonly string[]).includes(b))
      throw new Error(`branches=${v}: expected all | none | a comma list of ${BRANCH_NAMES.join(', ')}`);
  return v;
}

/** The model's branch switches for a checked `branches` string. */
export function benchBranches(v: string | undefined): { macro: boolean; micro: boolean; recon: boolean } {
  const on = (b: string) => v === undefined || v === 'all' || (v !== 'none' && v.split(',').includes(b));
  return { macro: on('macro'), micro: on('micro'), recon: on('recon') };
}

export function queryFromParams(p: Partial<BenchParams>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) if (v !== undefined) q.set(k, String(v));
  return q.toString();
}

/** Messages from the bench worker to its page. */
export type WorkerMessage =
  { type: 'log'; text: string } | { type: 'result'; result: BenchResult } | { type: 'error'; message: string };
