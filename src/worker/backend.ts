/**
 * Backend selection inside the training worker. 'auto' never picks a software-emulated GPU
 * (SwiftShader, llvmpipe, a WebGPU fallback adapter): it probes the adapters, times one tiny
 * training step on each GPU candidate that looks real (or says nothing about itself) against wasm,
 * and keeps the fastest (the decision itself: autoBackend.ts). A named backend is tried alone (and
 * falls back along BACKEND_ORDER, then cpu, so the worker always has something to compute on).
 * tfjs itself comes only through src/core/tf.ts; the backend packages below only register
 * themselves with it.
 *
 * Threaded wasm. When the page is cross-origin isolated (COOP/COEP headers from the server or
 * public/coi-serviceworker.js) the wasm backend loads its threaded SIMD binary. tfjs-backend-wasm
 * starts each pthread worker from a Blob holding `factory.toString()` — the source of the
 * Emscripten factory function as it is in the bundle. Minified, that function refers to a variable
 * of its enclosing closure (Emscripten's `_scriptDir`: the minifier rewrites
 * `typeof _scriptDir !== "undefined" && _scriptDir` to `e !== void 0 && e`), which does not exist
 * in the pthread worker: every pthread throws a ReferenceError at start-up, never reports
 * "loaded", and `setBackend('wasm')` waits for it forever. The fix here: while the wasm backend
 * initialises, the Blob tfjs builds for that script is given the package's own, unminified
 * factory source instead (imported `?raw`), which is self-contained.
 */
import * as tf from '../core/tf.ts';
// The gradients training needs (tfjs-core registers none by itself; Node loads them in initNodeBackend).
import '../core/gradients.ts';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import threadedFactorySource from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?raw';
import { installFastWasmSlice } from '../core/wasmSlice.ts';
import { installFastWasmBatchMatMul } from '../core/wasmMatMul.ts';
import { installWasmFusedKernels } from '../core/wasmAttention.ts';
import {
  fingerprint,
  pickFastest,
  planAuto,
  webglSoftware,
  webgpuSoftware,
  type AutoProbe,
  type GpuAdapterInfo,
  type StepTimings,
} from './autoBackend.ts';
import { BACKEND_ORDER, type AutoInfo, type BackendName, type RememberedChoices, type WasmInfo } from './protocol.ts';

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  reason?: string;
}

export interface BackendChoice {
  name: BackendName;
  tried: BackendAttempt[];
  wasm?: WasmInfo;
  auto?: AutoInfo;
}

/** Called once if the WebGPU device behind the active backend is lost. */
export type DeviceLostHandler = (message: string) => void;

const INIT_TIMEOUT_MS = 30_000;

/** Backends that broke during this worker's life (e.g. a lost GPU device): skipped by 'auto'. */
const broken = new Map<BackendName, string>();

let wasmConfigured = false;
let webgpuFactory: ReturnType<typeof tf.findBackendFactory> | null = null;
const webgpuPriority = 3;
let webglFactory: ReturnType<typeof tf.findBackendFactory> | null = null;

/**
 * The GPU backends are imported when first tried, each into a chunk of its own (vite.config.ts):
 * a WebGPU user never downloads the WebGL kernels, and a page that falls back to wasm neither.
 * Importing a backend package registers its factory (webgpu's only when navigator.gpu exists).
 */
const gpuBackendModules: Record<'webgpu' | 'webgl', () => Promise<unknown>> = {
  // With it, the fused WebGPU kernels (attention, dropout, LayerNorm, Adam): WGSL only webgpu users load.
  webgpu: () =>
    import('@tensorflow/tfjs-backend-webgpu')
      .then(() => import('../core/model/webgpu/kernels.ts'))
      .then((k) => k.installWebGPUFusedKernels()),
  webgl: () => import('@tensorflow/tfjs-backend-webgl'),
};
const gpuBackendLoaded = new Map<'webgpu' | 'webgl', Promise<string | null>>();

/** Imports a GPU backend package once; the reason it could not be loaded, or null. */
function loadGpuBackend(name: 'webgpu' | 'webgl'): Promise<string | null> {
  let p = gpuBackendLoaded.get(name);
  if (!p) {
    p = gpuBackendModules[name]().then(
      () => {
        if (name === 'webgpu') webgpuFactory ??= tf.findBackendFactory('webgpu');
        else webglFactory ??= tf.findBackendFactory('webgl');
        return null;
      },
      (e: unknown) => `${name} unavailable: its tfjs backend did not load (${errorText(e)})`,
    );
    gpuBackendLoaded.set(name, p);
  }
  return p;
}

interface GpuLike {
  requestAdapter(opts?: unknown): Promise<unknown | null>;
}

interface AdapterLike {
  info?: GpuAdapterInfo;
  isFallbackAdapter?: boolean;
  requestAdapterInfo?(): Promise<GpuAdapterInfo>;
}

function gpu(): GpuLike | undefined {
  return (globalThis.navigator as unknown as { gpu?: GpuLike } | undefined)?.gpu;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Why a backend cannot even be attempted here; null when it is worth a try. */
async function precheck(name: BackendName): Promise<string | null> {
  if (broken.has(name)) return broken.get(name)!;
  if (name === 'webgpu') {
    const g = gpu();
    if (!g) return 'WebGPU unavailable: navigator.gpu missing';
    let adapter: unknown;
    try {
      adapter = await g.requestAdapter();
    } catch (e) {
      return `WebGPU unavailable: requestAdapter() failed (${errorText(e)})`;
    }
    if (!adapter) return 'WebGPU unavailable: no adapter';
    const notLoaded = await loadGpuBackend('webgpu');
    if (notLoaded) return notLoaded;
    if (!tf.findBackendFactory('webgpu')) {
      // The package registers its factory only when navigator.gpu existed at import; re-register after a device loss.
      if (webgpuFactory) tf.registerBackend('webgpu', webgpuFactory, webgpuPriority);
      else return 'WebGPU unavailable: the tfjs WebGPU backend did not register';
    }
    return null;
  }
  if (name === 'webgl') {
    if (typeof OffscreenCanvas === 'undefined') return 'WebGL unavailable: no OffscreenCanvas in this worker';
    // Right after a failed WebGPU attempt the first context request can fail transiently: retry.
    for (let i = 0; ; i++) {
      try {
        const canvas = new OffscreenCanvas(1, 1);
        const gl = canvas.getContext('webgl2') as WebGL2RenderingContext | null;
        if (gl) {
          gl.getExtension('WEBGL_lose_context')?.loseContext();
          return loadGpuBackend('webgl');
        }
      } catch (e) {
        if (i >= 2) return `WebGL unavailable: ${errorText(e)}`;
      }
      if (i >= 2) return 'WebGL unavailable: no WebGL 2 context on an OffscreenCanvas';
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  if (name === 'wasm') {
    if (typeof WebAssembly === 'undefined') return 'wasm unavailable: no WebAssembly';
    if (!wasmConfigured) {
      setWasmPaths({
        'tfjs-backend-wasm.wasm': wasmPlainUrl,
        'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
        'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
      });
      // Threads need SharedArrayBuffer, which only a cross-origin isolated page has.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', wasmThreadsPossible());
      installFastWasmSlice();
      installFastWasmBatchMatMul();
      installWasmFusedKernels();
      wasmConfigured = true;
    }
    return null;
  }
  return null;
}

/**
 * A tiny computation read back: proves the backend really computes before a job relies on it. The
 * core reads every value with the asynchronous data() (tfjs-webgpu's synchronous dataSync returns
 * zeros on some setups, e.g. headless Chromium with SwiftShader).
 */
async function smokeTest(): Promise<void> {
  const a = tf.tidy(() => tf.sum(tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([1, 0, 0, 1], [2, 2]))));
  try {
    const [v] = (await a.data()) as Float32Array;
    if (v !== 10) throw new Error(`a test computation gave ${v} instead of 10`);
  } finally {
    a.dispose();
  }
}

async function attempt(name: BackendName): Promise<string | null> {
  const pre = await precheck(name);
  if (pre) return pre;
  try {
    if (!tf.findBackendFactory(name)) return `${name} unavailable: backend not registered`;
    const init = () => withTimeout(tf.setBackend(name), INIT_TIMEOUT_MS, `${name} initialisation`);
    const ok = await (name === 'wasm' ? withSelfContainedThreadScript(init) : init());
    if (!ok) return `${name} failed to initialise (see the browser console for tfjs's warning)`;
    await tf.ready();
    await withTimeout(smokeTest(), INIT_TIMEOUT_MS, `${name} smoke test`);
    return null;
  } catch (e) {
    // Free what the failed backend holds (a GPU device, contexts) before trying the next one.
    if (name === 'webgpu') dropWebgpu();
    else if (name === 'webgl') {
      try {
        tf.removeBackend('webgl');
        tf.registerBackend('webgl', webglFactory!, 2);
      } catch {
        // nothing to free
      }
    }
    return `${name} failed: ${errorText(e)}`;
  }
}

/** crossOriginIsolated (and so SharedArrayBuffer): the threaded wasm binary can run. */
export function wasmThreadsPossible(): boolean {
  return (
    (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true &&
    typeof SharedArrayBuffer === 'function'
  );
}

const THREADED_SCRIPT_PREFIX = 'var WasmBackendModuleThreadedSimd = ';

/**
 * Runs `init` (the wasm backend's initialisation) while the Blob that tfjs-backend-wasm builds for
 * its pthread workers' main script (`'var WasmBackendModuleThreadedSimd = ' + factory.toString()`)
 * gets the package's unminified factory source instead; see this file's header for why.
 */
async function withSelfContainedThreadScript<T>(init: () => Promise<T>): Promise<T> {
  const g = globalThis as { Blob: typeof Blob };
  const Original = g.Blob;
  if (!wasmThreadsPossible() || typeof Original !== 'function') return init();
  const source = `${THREADED_SCRIPT_PREFIX}(function () {\n${threadedFactorySource}\n;return WasmBackendModuleThreadedSimd;\n})();\n`;
  class ThreadScriptBlob extends Original {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      const p0 = parts?.length === 1 ? parts[0] : null;
      super(typeof p0 === 'string' && p0.startsWith(THREADED_SCRIPT_PREFIX) ? [source] : parts, options);
    }
  }
  g.Blob = ThreadScriptBlob;
  try {
    return await init();
  } finally {
    g.Blob = Original;
  }
}

/** Which wasm binary is running and on how many threads (call with the wasm backend active). */
export function wasmInfo(): WasmInfo {
  const threaded = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') && tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  let threads: number;
  try {
    threads = getThreadsCount();
  } catch {
    threads = 1;
  }
  return {
    binary: threaded
      ? 'tfjs-backend-wasm-threaded-simd.wasm'
      : tf.env().getBool('WASM_HAS_SIMD_SUPPORT')
        ? 'tfjs-backend-wasm-simd.wasm'
        : 'tfjs-backend-wasm.wasm',
    threads: threaded ? threads : 1,
    isolated: wasmThreadsPossible(),
    cores: (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 1,
  };
}

function done(name: BackendName, tried: BackendAttempt[], onDeviceLost?: DeviceLostHandler): BackendChoice {
  if (name === 'webgpu' && onDeviceLost) watchDeviceLoss(onDeviceLost);
  return { name, tried, ...(name === 'wasm' ? { wasm: wasmInfo() } : {}) };
}

/** Tries `order` in turn (then cpu); the first that initialises wins. */
async function firstWorking(
  order: BackendName[],
  requested: BackendName | 'auto',
  tried: BackendAttempt[],
  onDeviceLost?: DeviceLostHandler,
): Promise<BackendChoice> {
  if (!order.includes('cpu')) order = [...order, 'cpu'];
  for (const name of order) {
    if (tried.some((t) => t.name === name && !t.ok)) continue; // already failed during probing
    // A user who names a backend gets a fresh try even if it broke before.
    if (requested === name) broken.delete(name);
    const reason = await attempt(name);
    if (reason === null) {
      tried.push({ name, ok: true });
      return done(name, tried, onDeviceLost);
    }
    tried.push({ name, ok: false, reason });
  }
  throw new BackendError(
    `no tfjs backend could be initialised: ${tried.map((t) => `${t.name}: ${t.reason}`).join('; ')}`,
    tried,
  );
}

export interface SelectOptions {
  remembered?: RememberedChoices;
  remeasure?: boolean;
  /** Longest a timed step may take (ms) before that candidate counts as too slow. */
  stepBudgetMs?: number;
}

/**
 * Selects a backend. 'auto': see this file's header; a named one is tried first and, if it fails,
 * the rest of the order after it (the failure is in `tried` with its reason).
 */
export async function selectBackend(
  requested: BackendName | 'auto',
  onDeviceLost?: DeviceLostHandler,
  opts: SelectOptions = {},
): Promise<BackendChoice> {
  if (requested !== 'auto') {
    const order = [requested, ...BACKEND_ORDER.slice(BACKEND_ORDER.indexOf(requested) + 1)];
    return firstWorking(order, requested, [], onDeviceLost);
  }
  return selectAuto(onDeviceLost, opts);
}

async function selectAuto(onDeviceLost: DeviceLostHandler | undefined, opts: SelectOptions): Promise<BackendChoice> {
  const probe = await probeGpus();
  const fp = fingerprint({
    userAgent: (globalThis.navigator as Navigator | undefined)?.userAgent ?? '',
    cores: (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 1,
    isolated: wasmThreadsPossible(),
    webgpu: probe.webgpu.info,
    webgl: probe.webgl.renderer,
  });
  const tried: BackendAttempt[] = [];
  // What the probe ruled out, for the tooltip and the fallback message.
  const soft = { webgpu: webgpuSoftware(probe.webgpu.info), webgl: webglSoftware(probe.webgl.renderer) };
  if (probe.webgpu.reason || soft.webgpu)
    tried.push({ name: 'webgpu', ok: false, reason: probe.webgpu.reason ?? soft.webgpu! });
  if (probe.webgl.reason || soft.webgl)
    tried.push({ name: 'webgl', ok: false, reason: probe.webgl.reason ?? soft.webgl! });
  const remembered = opts.remeasure ? undefined : opts.remembered?.[fp];
  if (remembered && BACKEND_ORDER.includes(remembered.name) && !broken.has(remembered.name)) {
    const reason = await attempt(remembered.name);
    if (reason === null) {
      tried.push({ name: remembered.name, ok: true });
      const auto: AutoInfo = { fingerprint: fp, reason: remembered.reason, remembered: true };
      return { ...done(remembered.name, tried, onDeviceLost), auto };
    }
    tried.push({ name: remembered.name, ok: false, reason });
  }
  const plan = planAuto(probe);
  if (plan.kind === 'pick') {
    const choice = await firstWorking(
      [plan.name, ...BACKEND_ORDER.slice(BACKEND_ORDER.indexOf(plan.name) + 1)],
      'auto',
      tried,
      onDeviceLost,
    );
    const reason = choice.name === plan.name ? plan.reason : `${plan.reason}; ${plan.name} failed`;
    return { ...choice, auto: { fingerprint: fp, reason, remembered: false } };
  }
  // In doubt: time one tiny training step on each candidate, keep the fastest.
  const timings: StepTimings = {};
  for (const name of plan.candidates) {
    if (broken.has(name)) continue;
    const reason = await attempt(name);
    if (reason !== null) {
      tried.push({ name, ok: false, reason });
      timings[name] = Infinity;
      continue;
    }
    try {
      timings[name] = await withTimeout(timeTinyStep(), opts.stepBudgetMs ?? 8_000, `${name} timed step`);
    } catch {
      timings[name] = Infinity;
    }
  }
  const pick = pickFastest(plan.candidates, timings, plan.excluded);
  const order = [pick.name, ...BACKEND_ORDER.filter((b) => b !== pick.name)];
  const choice = await firstWorking(order, 'auto', tried, onDeviceLost);
  // Drop the losers' GPU resources (a WebGPU device held for nothing).
  if (choice.name !== 'webgpu' && plan.candidates.includes('webgpu')) dropWebgpu();
  return { ...choice, auto: { fingerprint: fp, reason: pick.reason, remembered: false, timings } };
}

/** What the GPUs say about themselves; cheap (no tfjs backend is created). */
async function probeGpus(): Promise<AutoProbe> {
  const probe: AutoProbe = {
    webgpu: { info: null },
    webgl: { renderer: null },
    wasm: typeof WebAssembly !== 'undefined',
  };
  const g = gpu();
  if (!g) probe.webgpu.reason = 'WebGPU unavailable: navigator.gpu missing';
  else if (broken.has('webgpu')) probe.webgpu.reason = broken.get('webgpu');
  else {
    try {
      const adapter = (await g.requestAdapter()) as AdapterLike | null;
      if (!adapter) probe.webgpu.reason = 'WebGPU unavailable: no adapter';
      else {
        let info: GpuAdapterInfo = {};
        try {
          info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
        } catch {
          info = {};
        }
        probe.webgpu.info = {
          vendor: info.vendor,
          architecture: info.architecture,
          device: info.device,
          description: info.description,
          isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false,
        };
      }
    } catch (e) {
      probe.webgpu.reason = `WebGPU unavailable: requestAdapter() failed (${errorText(e)})`;
    }
  }
  if (typeof OffscreenCanvas === 'undefined')
    probe.webgl.reason = 'WebGL unavailable: no OffscreenCanvas in this worker';
  else {
    try {
      const gl = new OffscreenCanvas(1, 1).getContext('webgl2') as WebGL2RenderingContext | null;
      if (!gl) probe.webgl.reason = 'WebGL unavailable: no WebGL 2 context on an OffscreenCanvas';
      else {
        const ext = gl.getExtension('WEBGL_debug_renderer_info');
        probe.webgl.renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
        gl.getExtension('WEBGL_lose_context')?.loseContext();
      }
    } catch (e) {
      probe.webgl.reason = `WebGL unavailable: ${errorText(e)}`;
    }
  }
  return probe;
}

/**
 * One tiny training step on the active backend, in ms: a small recurrent net (8 steps, batch 16,
 * hidden 64) forward + backward, read back — dispatch-bound like the real model. Run once to
 * compile the kernels/shaders, then timed twice.
 */
async function timeTinyStep(): Promise<number> {
  const T = 8;
  const vars = [
    tf.variable(tf.randomNormal([32, 64], 0, 0.1, 'float32', 1)),
    tf.variable(tf.randomNormal([64, 64], 0, 0.1, 'float32', 2)),
  ];
  const x = tf.randomNormal([T * 16, 32], 0, 1, 'float32', 3);
  const step = async () => {
    const { value, grads } = tf.tidy(() =>
      tf.variableGrads(() => {
        let h = tf.zeros([16, 64]);
        for (let t = 0; t < T; t++) {
          const xt = tf.slice(x, [t * 16, 0], [16, 32]);
          h = tf.tanh(tf.add(tf.matMul(xt, vars[0]), tf.matMul(h, vars[1])));
        }
        return tf.mean(tf.square(h));
      }, vars),
    );
    try {
      await value.data();
      await Object.values(grads)[0].data();
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
    }
  };
  try {
    await step();
    const t0 = performance.now();
    await step();
    await step();
    return (performance.now() - t0) / 2;
  } finally {
    tf.dispose([x, ...vars]);
  }
}

export class BackendError extends Error {
  constructor(
    message: string,
    readonly tried: BackendAttempt[],
  ) {
    super(message);
    this.name = 'BackendError';
  }
}

interface LostInfo {
  reason?: string;
  message?: string;
}

let watchedDevice: unknown = null;

/** Listens to the WebGPU device's `lost` promise; on loss the backend is dropped and marked broken. */
function watchDeviceLoss(onLost: DeviceLostHandler): void {
  const backend = tf.backend() as unknown as { device?: { lost?: Promise<LostInfo> } };
  const device = backend.device;
  if (!device?.lost || watchedDevice === device) return;
  watchedDevice = device;
  device.lost.then(
    (info) => {
      if (watchedDevice !== device) return; // a device we replaced on purpose
      watchedDevice = null;
      const why = info?.message || info?.reason || 'unknown reason';
      const message = `WebGPU device lost (${why}); the next backend in the order will be used from now on`;
      broken.set('webgpu', `WebGPU device was lost earlier in this session (${why})`);
      dropWebgpu();
      onLost(message);
    },
    () => undefined,
  );
}

/** Removes the dead WebGPU backend instance so that a later init does not reuse it. */
function dropWebgpu(): void {
  try {
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  } catch {
    // disposing a backend whose device is gone may throw; it is unusable either way
  }
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
